//! `/.well-known/security.txt` (RFC 9116: the team's signed file while it is in force, else the
//! rendering of `securitytxt`), `/.well-known/age-recipients.txt` (the current recipients, which
//! the security.txt `Encryption` field points at) and the receipt keys.

use crate::portal::Portal;
use actix_web::http::header;
use actix_web::{HttpResponse, web};

/// `GET /.well-known/security.txt`: the installed signed file byte for byte while it is in
/// force, else the rendering (`ops::security_txt`).
pub async fn security(portal: web::Data<Portal>) -> HttpResponse {
    let served = portal
        .clone()
        .into_inner()
        .blocking(|p| crate::ops::security_txt::served(p, p.now()))
        .await;
    match served {
        Ok(served) => HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            // A signed file changes only when the team installs another; a rendering daily.
            // A signed file is never cached past its Expires.
            .insert_header((
                header::CACHE_CONTROL,
                format!("public, max-age={}", served.max_age.min(3600)),
            ))
            .body(served.body),
        Err(e) => {
            tracing::error!(error = %e, "cannot answer security.txt");
            HttpResponse::ServiceUnavailable()
                .insert_header((header::RETRY_AFTER, "60"))
                .content_type("text/plain; charset=utf-8")
                .body("security.txt is unavailable for a moment; try again in a minute\n")
        }
    }
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
