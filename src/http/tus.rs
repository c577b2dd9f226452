//! `/api/v1/uploads/`: the tus 1.0.0 handlers (OPTIONS, POST, HEAD, PATCH, DELETE). Thin: read
//! the headers, one call into `tus::uploads`, answer with the protocol's headers. Every answer
//! carries `Tus-Resumable`; the upload id appears only in `Location`, never in the log (the
//! request log records the route pattern).

use super::respond;
use crate::error::ApiError;
use crate::portal::Portal;
use crate::tus::{self, uploads};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use std::sync::Arc;

fn get<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

fn with_tus(mut res: HttpResponse) -> HttpResponse {
    res.headers_mut().insert(
        header::HeaderName::from_static("tus-resumable"),
        header::HeaderValue::from_static(tus::VERSION),
    );
    res
}

fn refuse(req: &HttpRequest, portal: &Portal, e: &ApiError) -> HttpResponse {
    tracing::info!(code = e.code(), "resumable upload request refused");
    portal.metrics().rejected(e.code());
    let mut res = respond::error(req, e);
    if *e == ApiError::TusVersion {
        res.headers_mut().insert(
            header::HeaderName::from_static("tus-version"),
            header::HeaderValue::from_static(tus::VERSION),
        );
    }
    with_tus(res)
}

fn expires(b: &mut HttpResponseBuilder, at: jiff::Timestamp) {
    b.insert_header(("Upload-Expires", tus::http_date(at)));
}

/// Checks what every request but OPTIONS needs: the version, and that it comes from this site.
fn check(req: &HttpRequest) -> Result<(), ApiError> {
    tus::check_version(get(req, "tus-resumable"))?;
    super::upload::check_same_site(req)
}

/// `OPTIONS /api/v1/uploads[/{id}]`: what the server offers.
pub async fn options(portal: web::Data<Portal>) -> HttpResponse {
    with_tus(
        HttpResponse::NoContent()
            .insert_header(("Tus-Version", tus::VERSION))
            .insert_header(("Tus-Extension", tus::EXTENSIONS))
            .insert_header(("Tus-Checksum-Algorithm", tus::CHECKSUM_ALGORITHMS))
            .insert_header((
                "Tus-Max-Size",
                portal.config().limits.max_file_size.0.to_string(),
            ))
            .finish(),
    )
}

/// `POST /api/v1/uploads`: creates an upload (`Upload-Length` required).
pub async fn create(req: HttpRequest, portal: web::Data<Portal>) -> HttpResponse {
    let portal = portal.into_inner();
    let result = async {
        check(&req)?;
        if get(&req, "upload-defer-length").is_some() {
            return Err(ApiError::UploadLengthRequired);
        }
        let length = tus::parse_u64("Upload-Length", get(&req, "upload-length"))?;
        let meta = tus::metadata::parse(get(&req, "upload-metadata"))?;
        uploads::create(&portal, length, meta, super::client_ip(&req)).await
    }
    .await;
    match result {
        Ok(created) => {
            tracing::info!("resumable upload created");
            let mut b = HttpResponse::Created();
            b.insert_header((
                header::LOCATION,
                format!("{}/{}", tus::BASE, created.id.as_str()),
            ));
            expires(&mut b, created.expires);
            with_tus(b.finish())
        }
        Err(e) => refuse(&req, &portal, &e),
    }
}

/// `HEAD /api/v1/uploads/{id}`: where the upload stands.
pub async fn head(
    req: HttpRequest,
    id: web::Path<String>,
    portal: web::Data<Portal>,
) -> HttpResponse {
    let portal = portal.into_inner();
    let result = match tus::check_version(get(&req, "tus-resumable")) {
        Ok(()) => uploads::progress(&portal, &id).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(p) => {
            let mut b = HttpResponse::Ok();
            b.insert_header(("Upload-Offset", p.offset.to_string()))
                .insert_header(("Upload-Length", p.length.to_string()))
                .insert_header((header::CACHE_CONTROL, "no-store"));
            expires(&mut b, p.expires);
            with_tus(b.finish())
        }
        Err(e) => refuse(&req, &portal, &e),
    }
}

/// `PATCH /api/v1/uploads/{id}`: one piece, from `Upload-Offset`.
pub async fn patch(
    req: HttpRequest,
    id: web::Path<String>,
    mut body: web::Payload,
    portal: web::Data<Portal>,
) -> HttpResponse {
    let portal: Arc<Portal> = portal.into_inner();
    let result = async {
        check(&req)?;
        let media = get(&req, "content-type")
            .and_then(|v| v.split(';').next())
            .map(str::trim);
        if !media.is_some_and(|m| m.eq_ignore_ascii_case(tus::OFFSET_STREAM)) {
            return Err(ApiError::NotOffsetStream);
        }
        if let Some(enc) = get(&req, "content-encoding")
            && !enc.eq_ignore_ascii_case("identity")
        {
            return Err(ApiError::ContentEncoding);
        }
        let offset = tus::parse_u64("Upload-Offset", get(&req, "upload-offset"))?
            .ok_or(ApiError::TusHeader("Upload-Offset"))?;
        let max_piece = portal.config().limits.max_piece_size;
        let declared = tus::parse_u64("Content-Length", get(&req, "content-length"))?;
        if declared.is_some_and(|len| len > max_piece.0) {
            return Err(ApiError::PieceTooLarge(max_piece));
        }
        let request = uploads::PatchRequest {
            offset,
            declared,
            checksum: tus::parse_checksum(get(&req, "upload-checksum"))?,
        };
        uploads::patch(&portal, &id, request, &mut body, super::client_ip(&req)).await
    }
    .await;
    match result {
        Ok((_, tus::piece::Ended::Stopped(e))) => refuse(&req, &portal, &e),
        Ok((p, ended)) => {
            if ended == tus::piece::Ended::Cut {
                tracing::info!("resumable upload piece cut short; kept what arrived");
            }
            let mut b = HttpResponse::NoContent();
            b.insert_header(("Upload-Offset", p.offset.to_string()));
            expires(&mut b, p.expires);
            with_tus(b.finish())
        }
        Err(e) => refuse(&req, &portal, &e),
    }
}

/// `DELETE /api/v1/uploads/{id}`: termination.
pub async fn delete(
    req: HttpRequest,
    id: web::Path<String>,
    portal: web::Data<Portal>,
) -> HttpResponse {
    let portal = portal.into_inner();
    let result = async {
        check(&req)?;
        uploads::terminate(&portal, &id).await
    }
    .await;
    match result {
        Ok(()) => with_tus(HttpResponse::NoContent().finish()),
        Err(e) => refuse(&req, &portal, &e),
    }
}
