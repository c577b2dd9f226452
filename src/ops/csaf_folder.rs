//! What `/.well-known/csaf/` serves (CSAF 2.0 §7, a trusted provider's directory-based
//! distribution): the provider metadata, the TLP:WHITE folder with its index, change list,
//! documents, digests and signatures, and the organisation's public OpenPGP key. Everything
//! comes from the published advisories; nothing is served until the first one is published.

use crate::csaf::Advisory;
use crate::csaf::provider::{self, Entry, Part};
use crate::portal::{Portal, PortalError};
use std::sync::Arc;

/// One file of the folder.
pub struct File {
    /// Its media type.
    pub content_type: &'static str,
    /// Its bytes.
    pub body: String,
}

/// How long the public routes answer from what was read before: they are open to anyone, so
/// a flood of requests reads the store at most once per this.
const FRESH: std::time::Duration = std::time::Duration::from_secs(5);

/// The published advisories, read at most once per [`FRESH`] (and at once after a
/// publication on this portal, which forgets them).
fn published(portal: &Portal) -> Result<Arc<Vec<Advisory>>, PortalError> {
    let cache = portal.advisories_cache();
    if let Some((at, all)) = cache.lock().unwrap_or_else(|p| p.into_inner()).as_ref()
        && at.elapsed() < FRESH
    {
        return Ok(Arc::clone(all));
    }
    let all: Arc<Vec<Advisory>> = Arc::new(
        portal
            .store()
            .advisories()?
            .into_iter()
            .map(|a| a.value)
            .collect(),
    );
    *cache.lock().unwrap_or_else(|p| p.into_inner()) =
        Some((std::time::Instant::now(), Arc::clone(&all)));
    Ok(all)
}

/// Forgets the cached advisories (after a publication).
pub fn forget(portal: &Portal) {
    *portal
        .advisories_cache()
        .lock()
        .unwrap_or_else(|p| p.into_inner()) = None;
}

/// Whether any advisory is published (security.txt then names the provider metadata).
pub fn any_published(portal: &Portal) -> Result<bool, PortalError> {
    Ok(!published(portal)?.is_empty())
}

/// The organisation's public keys (their fingerprints and their armour, re-made from what was
/// parsed), if a key file is configured and usable.
fn public_keys(portal: &Portal) -> Option<(Vec<String>, String)> {
    let path = &portal.config().org.security_txt_signing_key;
    if path.as_os_str().is_empty() {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    crate::openpgp::public_keys_to_serve(&text).ok()
}

/// `provider-metadata.json`; `None` until an advisory is published.
pub fn metadata(portal: &Portal) -> Result<Option<File>, PortalError> {
    let all = published(portal)?;
    if all.is_empty() {
        return Ok(None);
    }
    let fingerprints = public_keys(portal).map(|(f, _)| f).unwrap_or_default();
    let org = &portal.config().org;
    Ok(Some(File {
        content_type: "application/json",
        body: provider::metadata(
            &all,
            &portal.config().csaf,
            &org.name,
            &org.contact_email,
            &portal.public_url(),
            &fingerprints,
        ),
    }))
}

/// `openpgp/FINGERPRINT.asc`: the organisation's public keys.
pub fn key(portal: &Portal, name: &str) -> Option<File> {
    let (fingerprints, armour) = public_keys(portal)?;
    let asked = name.strip_suffix(".asc")?;
    fingerprints.iter().any(|f| f == asked).then_some(File {
        content_type: "application/pgp-keys",
        body: armour,
    })
}

/// A file below `white/`; `None` when there is no such file.
pub fn folder_file(portal: &Portal, path: &str) -> Result<Option<File>, PortalError> {
    let Some(entry) = provider::entry(path) else {
        return Ok(None);
    };
    let all = published(portal)?;
    if all.is_empty() {
        return Ok(None);
    }
    let text = |body: String| File {
        content_type: "text/plain; charset=utf-8",
        body,
    };
    Ok(match entry {
        Entry::Listing(year) => {
            let html = provider::listing(&all, year);
            // A year nobody published in has no folder.
            (year.is_none() || html.contains("<li>")).then_some(File {
                content_type: "text/html; charset=utf-8",
                body: html,
            })
        }
        Entry::Index => Some(text(provider::index(&all))),
        Entry::Changes => Some(File {
            content_type: "text/csv; charset=utf-8",
            body: provider::changes(&all),
        }),
        Entry::Document(doc, part) => {
            let Some(a) = all.iter().find(|a| a.path() == doc) else {
                return Ok(None);
            };
            match part {
                Part::Json => Some(File {
                    content_type: "application/json",
                    body: a.document.clone(),
                }),
                Part::Sha256 => Some(text(provider::digest_file(a, false))),
                Part::Sha512 => Some(text(provider::digest_file(a, true))),
                Part::Signature => a.signature.clone().map(|body| File {
                    content_type: "application/pgp-signature",
                    body,
                }),
            }
        }
    })
}
