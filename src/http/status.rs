//! `POST /api/v1/status`: a reporter's reference → the case as the reporter may see it (state,
//! promises, expected fix date, credit, publication, timeline with the team's messages opened
//! with the reference). Every kind of miss (malformed, unknown, deleted) is the same 404, and
//! lookups are rate-limited per client address.

use super::{pages, respond};
use crate::error::ApiError;
use crate::portal::Portal;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

/// The lookup's body (form or JSON).
#[derive(Deserialize)]
pub struct Lookup {
    reference: String,
}

/// `POST /api/v1/status`
pub async fn lookup(req: HttpRequest, body: web::Bytes, portal: web::Data<Portal>) -> HttpResponse {
    let portal = portal.into_inner();
    let result = async {
        portal
            .lookups()
            .check(super::client_ip(&req))
            .map_err(ApiError::RateLimited)?;
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        let lookup: Lookup = if is_json {
            serde_json::from_slice(&body).map_err(|_| ApiError::MissingReference)?
        } else {
            serde_urlencoded_reference(&body).ok_or(ApiError::MissingReference)?
        };
        // A malformed reference is the same miss as an unknown one.
        let reference = crate::reference::Reference::parse(&lookup.reference)
            .map_err(|_| ApiError::UnknownReference)?;
        let shown = reference.to_string();
        let found = portal
            .case_by_reference(&reference)
            .await?
            .ok_or(ApiError::UnknownReference)?;
        let status = portal
            .blocking(move |p| p.reporter_status_blocking(found).map_err(ApiError::from))
            .await?;
        Ok::<_, ApiError>((status, shown))
    }
    .await;
    match result {
        Ok((status, shown)) if respond::wants_html(&req) => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(pages::status_page(&req, Some(&status), Some(&shown))),
        Ok((status, _)) => HttpResponse::Ok().json(status),
        Err(e) => {
            portal.metrics().rejected(e.code());
            respond::error(&req, &e)
        }
    }
}

/// The `reference` field of an `application/x-www-form-urlencoded` body (other fields ignored).
fn serde_urlencoded_reference(body: &[u8]) -> Option<Lookup> {
    serde_urlencoded::from_bytes(body).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_bodies_yield_the_decoded_reference() {
        let l = serde_urlencoded_reference(b"x=1&reference=ab%2Dcd+ef").unwrap();
        assert_eq!(l.reference, "ab-cd ef");
        assert!(serde_urlencoded_reference(b"other=1").is_none());
    }
}
