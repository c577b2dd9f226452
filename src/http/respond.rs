//! Turns domain results into responses: JSON for programs, HTML for browsers, one error shape.

use super::pages;
use crate::error::ApiError;
use crate::intake::Receipt;
use actix_web::dev::ServiceResponse;
use actix_web::http::{StatusCode, header};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpRequest, HttpResponse};

/// True when the client prefers an HTML page (a browser form post).
pub fn wants_html(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

/// The response for an error: `{"error": {"code", "message"}}`, or an error page for browsers.
pub fn error(req: &HttpRequest, err: &ApiError) -> HttpResponse {
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut builder = HttpResponse::build(status);
    if let Some(secs) = err.retry_after() {
        builder.insert_header((header::RETRY_AFTER, secs.to_string()));
    }
    if wants_html(req) {
        builder
            .content_type("text/html; charset=utf-8")
            .body(pages::error_page(req, err))
    } else {
        builder.json(serde_json::json!({
            "error": { "code": err.code(), "message": err.to_string() }
        }))
    }
}

/// 201 with the receipt, as JSON or as the receipt page. Never cached.
pub fn receipt(req: &HttpRequest, receipt: &Receipt) -> HttpResponse {
    let mut builder = HttpResponse::Created();
    builder.insert_header((header::CACHE_CONTROL, "no-store"));
    if wants_html(req) {
        builder
            .content_type("text/html; charset=utf-8")
            .body(pages::receipt_page(req, receipt))
    } else {
        builder.json(receipt)
    }
}

/// Fallback for unknown paths.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    error(&req, &ApiError::NotFound)
}

/// Gives actix's 405 for a known path asked with another method (its `Allow` lists exactly the
/// methods the path has routes for) the portal's error body, keeping that `Allow`.
pub fn method_not_allowed<B>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let (req, refused) = res.into_parts();
    let mut answer = error(&req, &ApiError::MethodNotAllowed);
    if let Some(allow) = refused.headers().get(header::ALLOW) {
        answer.headers_mut().insert(header::ALLOW, allow.clone());
    }
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, answer).map_into_right_body(),
    ))
}
