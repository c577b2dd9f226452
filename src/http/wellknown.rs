//! `/.well-known/security.txt` (RFC 9116, generated with an `Expires` that rolls forward and is
//! never more than a year ahead, and an `Acknowledgments` line once credits are published) and `/.well-known/age-recipients.txt` (the current recipients,
//! which the security.txt `Encryption` field points at).

use crate::portal::Portal;
use actix_web::http::header;
use actix_web::{HttpResponse, web};

/// How far ahead `Expires` lies: under a year, as RFC 9116 recommends.
const EXPIRES_DAYS: i64 = 180;

/// The security.txt text at `now`; `credits` says whether `/acknowledgments` lists anyone.
pub fn security_txt(portal: &Portal, now: jiff::Timestamp, credits: bool) -> String {
    let base = portal.public_url();
    let org = &portal.config().org;
    let policy = if org.policy_url.starts_with("http") {
        org.policy_url.clone()
    } else {
        format!("{base}{}", org.policy_url)
    };
    // Midnight UTC today + EXPIRES_DAYS: stable all day, so caches see one value per day.
    let midnight = now
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp())
        .unwrap_or(now);
    let expires = midnight + jiff::SignedDuration::from_hours(24 * EXPIRES_DAYS);
    let mut text = format!(
        "# {name}: report security problems here. Evidence: {base}/ (encrypted on arrival).\n\
         Contact: mailto:{email}\n\
         Contact: {base}/\n\
         Expires: {expires}\n\
         Encryption: {base}/.well-known/age-recipients.txt\n\
         Preferred-Languages: {langs}\n\
         Canonical: {base}/.well-known/security.txt\n\
         Policy: {policy}\n",
        name = org.name.replace(['\n', '\r'], " "),
        email = org.contact_email,
        expires = crate::workflow::rfc3339(expires),
        langs = org.languages.join(", "),
    );
    if credits {
        text.push_str(&format!("Acknowledgments: {base}/acknowledgments\n"));
    }
    text
}

/// `GET /.well-known/security.txt`
pub async fn security(portal: web::Data<Portal>) -> HttpResponse {
    let credits = portal
        .clone()
        .into_inner()
        .blocking(|p| {
            p.published_credits_blocking()
                .map(|c| !c.is_empty())
                .map_err(crate::portal::PortalError::from)
        })
        .await
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot list the published credits");
            false
        });
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(security_txt(&portal, portal.now(), credits))
}

/// `GET /.well-known/age-recipients.txt`: the current key ring in the recipients-file format.
pub async fn recipients(portal: web::Data<Portal>) -> HttpResponse {
    let ring = portal.keys().current();
    let mut body = format!(
        "# The age recipients (public keys) of {}'s security team. Reports sent to this\n\
         # portal are encrypted to all of them. Labels are kept private; ids are sealdrop key ids.\n",
        portal.config().org.name.replace(['\n', '\r'], " ")
    );
    for k in ring.keys() {
        body.push_str(&format!("# key id {}\n{}\n", k.id.0, k.recipient));
    }
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(body)
}

/// `GET /.well-known/sealdrop-receipt-keys`: every receipt key the portal ever signed with, as
/// an allowed-signers file for `ssh-keygen -Y verify` (rotated keys with their validity).
pub async fn receipt_keys(portal: web::Data<Portal>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(portal.receipt_keys().allowed_signers)
}
