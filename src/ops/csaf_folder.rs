//! What `/.well-known/csaf/` serves (CSAF 2.0 §7, a trusted provider's directory-based
//! distribution): the provider metadata, the TLP:WHITE folder with its index, change list,
//! documents, digests and signatures, and the organisation's public OpenPGP key. Everything
//! comes from the published advisories; nothing is served until the first one is published.

use crate::csaf::Advisory;
use crate::csaf::provider::{self, Entry, Part};
use crate::portal::{Portal, PortalError};

/// One file of the folder.
pub struct File {
    /// Its media type.
    pub content_type: &'static str,
    /// Its bytes.
    pub body: String,
}

fn published(portal: &Portal) -> Result<Vec<Advisory>, PortalError> {
    Ok(portal
        .store()
        .advisories()?
        .into_iter()
        .map(|a| a.value)
        .collect())
}

/// Whether any advisory is published (security.txt then names the provider metadata).
pub fn any_published(portal: &Portal) -> Result<bool, PortalError> {
    Ok(!portal.store().advisories()?.is_empty())
}

/// The organisation's public key file and its primary fingerprint, if one is configured and
/// readable.
fn public_key(portal: &Portal) -> Option<(String, String)> {
    let path = &portal.config().org.security_txt_signing_key;
    if path.as_os_str().is_empty() {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    let fingerprint = crate::openpgp::primary_fingerprint(&text).ok()?;
    Some((text, fingerprint))
}

/// `provider-metadata.json`; `None` until an advisory is published.
pub fn metadata(portal: &Portal) -> Result<Option<File>, PortalError> {
    let all = published(portal)?;
    if all.is_empty() {
        return Ok(None);
    }
    let fingerprint = public_key(portal).map(|(_, f)| f);
    let org = &portal.config().org;
    Ok(Some(File {
        content_type: "application/json",
        body: provider::metadata(
            &all,
            &portal.config().csaf,
            &org.name,
            &org.contact_email,
            &portal.public_url(),
            fingerprint.as_deref(),
        ),
    }))
}

/// `openpgp/FINGERPRINT.asc`: the organisation's public key.
pub fn key(portal: &Portal, name: &str) -> Option<File> {
    let (text, fingerprint) = public_key(portal)?;
    (name.strip_suffix(".asc")? == fingerprint).then_some(File {
        content_type: "application/pgp-keys",
        body: text,
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
        Entry::Index => Some(text(provider::index(&all))),
        Entry::Changes => Some(File {
            content_type: "text/csv; charset=utf-8",
            body: provider::changes(&all),
        }),
        Entry::Document(doc, part) => {
            let Some(a) = all.into_iter().find(|a| a.path() == doc) else {
                return Ok(None);
            };
            match part {
                Part::Json => Some(File {
                    content_type: "application/json",
                    body: a.document,
                }),
                Part::Sha256 => Some(text(provider::digest_file(&a, false))),
                Part::Sha512 => Some(text(provider::digest_file(&a, true))),
                Part::Signature => a.signature.map(|body| File {
                    content_type: "application/pgp-signature",
                    body,
                }),
            }
        }
    })
}
