//! `admin securitytxt render | install FILE | status | remove`: the signed security.txt. The
//! portal renders the file, the team signs it on its own machine (`gpg --clearsign`: the
//! portal holds no OpenPGP private key), and `install` checks the signature against
//! `org.security_txt_signing_key`, the fields against the rendering and the `Expires`, then
//! stores it with its audit entry; `/.well-known/security.txt` serves it byte for byte until
//! its `Expires`, and the unsigned rendering after that.

use super::{Call, Execute};
use crate::adminapi::SecurityTxtText;
use crate::adminapi::op::{
    InstallSecurityTxt, RemoveSecurityTxt, RenderSecurityTxt, SecurityTxtStatus,
};
use crate::adminapi::{NoQuery, SecurityTxtInstall, SecurityTxtRender, SecurityTxtState};
use crate::portal::{Portal, PortalError};
use crate::record::{Actor, AuditEvent, AuditKind};
use crate::securitytxt::{self, Facts, Refused, Signed};
use crate::store::{Refusal, StoreError};

/// What `/.well-known/security.txt` answers at `now`.
pub struct Served {
    /// The body.
    pub body: String,
    /// Seconds it may be cached: until the signed file's `Expires` at most.
    pub max_age: u64,
}

/// The body of `/.well-known/security.txt` at `now`: the signed file while it is in force,
/// else the rendering.
pub fn served(portal: &Portal, now: jiff::Timestamp) -> Result<Served, PortalError> {
    if let Some(signed) = portal.store().security_txt()?
        && let Some(expires) = signed.expires_at().filter(|e| *e > now)
    {
        return Ok(Served {
            body: signed.file,
            max_age: (expires - now).as_secs().max(0).unsigned_abs(),
        });
    }
    Ok(Served {
        body: render(portal, securitytxt::default_expires(now))?,
        max_age: 3600,
    })
}

/// The rendering with `expires`, from the configuration and the published credits.
fn render(portal: &Portal, expires: jiff::Timestamp) -> Result<String, PortalError> {
    let credits = !portal.published_credits_blocking()?.is_empty();
    let base = portal.public_url();
    let facts = Facts {
        org: &portal.config().org,
        base: &base,
        credits,
        csaf: super::csaf_folder::any_published(portal)?,
    };
    Ok(securitytxt::render(&facts, expires))
}

/// The state the team sees (`status`, `health`).
pub fn state(portal: &Portal, now: jiff::Timestamp) -> Result<SecurityTxtState, PortalError> {
    let Some(signed) = portal.store().security_txt()? else {
        return Ok(SecurityTxtState {
            serving: "unsigned".into(),
            expires: None,
            signer: None,
            installed_at: None,
            attention: (!portal
                .config()
                .org
                .security_txt_signing_key
                .as_os_str()
                .is_empty())
            .then(|| "no signed security.txt is installed: render, sign and install one".into()),
        });
    };
    let in_force = signed.in_force(now);
    let days_left = signed
        .expires_at()
        .map(|e| (e - now).as_hours().div_euclid(24))
        .unwrap_or(0);
    // A change of configuration (a contact, the first published credit) since signing.
    let rendered = render(portal, securitytxt::default_expires(now))?;
    let outdated = crate::openpgp::signed_text(&signed.file)
        .is_none_or(|text| !securitytxt::field_differences(&text, &rendered).is_empty());
    let attention = if !in_force {
        Some(format!(
            "the signed security.txt expired at {}: the unsigned rendering is served; render, \
             sign and install a new one",
            signed.expires
        ))
    } else if outdated {
        Some(
            "the signed security.txt no longer matches what the portal renders (the \
             configuration changed since it was signed): render, sign and install a new one"
                .into(),
        )
    } else if days_left < securitytxt::WARN_DAYS[0] {
        Some(format!(
            "the signed security.txt expires in {days_left} day(s): render, sign and install a \
             new one"
        ))
    } else {
        None
    };
    Ok(SecurityTxtState {
        serving: if in_force { "signed" } else { "unsigned" }.into(),
        expires: Some(signed.expires),
        signer: Some(signed.signer),
        installed_at: Some(signed.installed_at),
        attention,
    })
}

impl Execute for RenderSecurityTxt {
    fn execute(
        portal: &Portal,
        call: Call<SecurityTxtRender>,
    ) -> Result<SecurityTxtText, PortalError> {
        let now = portal.now();
        let expires = match call.request.expires.as_deref() {
            Some(text) => securitytxt::chosen_expires(text, now)?,
            None => securitytxt::default_expires(now),
        };
        Ok(SecurityTxtText {
            text: render(portal, expires)?,
            expires: crate::clock::rfc3339(expires),
        })
    }
}

impl Execute for InstallSecurityTxt {
    fn execute(
        portal: &Portal,
        call: Call<SecurityTxtInstall>,
    ) -> Result<SecurityTxtState, PortalError> {
        let now = portal.now();
        let path = &portal.config().org.security_txt_signing_key;
        if path.as_os_str().is_empty() {
            return Err(Refused::NoKey("org.security_txt_signing_key is not set".into()).into());
        }
        let keys = std::fs::read_to_string(path)
            .map_err(|e| Refused::NoKey(format!("cannot read {}: {e}", path.display())))?;
        let rendered = render(portal, securitytxt::default_expires(now))?;
        let signed = securitytxt::check(&call.request.file, &keys, &rendered, now)?;
        let detail = format!("signed by {}, expires {}", signed.signer, signed.expires);
        swap(
            portal,
            Some(&signed),
            AuditKind::SecurityTxtInstalled,
            detail,
            &call.actor,
        )?;
        tracing::info!(expires = %signed.expires, "signed security.txt installed");
        state(portal, now)
    }
}

impl Execute for SecurityTxtStatus {
    fn execute(portal: &Portal, _: Call<NoQuery>) -> Result<SecurityTxtState, PortalError> {
        state(portal, portal.now())
    }
}

impl Execute for RemoveSecurityTxt {
    fn execute(portal: &Portal, call: Call<NoQuery>) -> Result<SecurityTxtState, PortalError> {
        swap(
            portal,
            None,
            AuditKind::SecurityTxtRemoved,
            String::new(),
            &call.actor,
        )?;
        state(portal, portal.now())
    }
}

/// Replaces the stored file (compare-and-swap with its audit entry; retried when another
/// install came first).
fn swap(
    portal: &Portal,
    new: Option<&Signed>,
    event: AuditKind,
    detail: String,
    actor: &Actor,
) -> Result<(), PortalError> {
    let entry = AuditEvent {
        at: portal.store().clock().text(),
        event,
        key_id: None,
        case: None,
        detail,
        actor: Some(actor.as_str().to_owned()),
    };
    for _ in 0..8 {
        let old = portal.store().security_txt()?;
        if portal
            .store()
            .swap_security_txt(old.as_ref(), new, &entry)?
        {
            return Ok(());
        }
    }
    Err(StoreError::Refused(Refusal::Replaced).into())
}
