//! `POST /api/v1/status`: a reporter's reference → the case's state and promised dates, nothing
//! else. Every kind of miss (malformed, unknown, deleted) is the same 404, and lookups are
//! rate-limited per client address.

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
        portal
            .blocking(move |p| {
                p.reporter_status_blocking(&lookup.reference)
                    .map_err(ApiError::from)
            })
            .await?
            .ok_or(ApiError::UnknownReference)
    }
    .await;
    match result {
        Ok(status) if respond::wants_html(&req) => HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(pages::status_page(&req, Some(&status))),
        Ok(status) => HttpResponse::Ok().json(status),
        Err(e) => {
            portal.metrics().rejected(e.code());
            respond::error(&req, &e)
        }
    }
}

/// The `reference` field of an `application/x-www-form-urlencoded` body.
fn serde_urlencoded_reference(body: &[u8]) -> Option<Lookup> {
    let text = std::str::from_utf8(body).ok()?;
    text.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == "reference").then(|| Lookup {
            reference: percent_decode(v),
        })
    })
}

fn percent_decode(v: &str) -> String {
    let bytes = v.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(v.get(i + 1..i + 3).unwrap_or(""), 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_bodies_yield_the_decoded_reference() {
        let l = serde_urlencoded_reference(b"x=1&reference=ab%2Dcd+ef").unwrap();
        assert_eq!(l.reference, "ab-cd ef");
        assert!(serde_urlencoded_reference(b"other=1").is_none());
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }
}
