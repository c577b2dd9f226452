//! `/.well-known/csaf/`: the CSAF provider folder (`ops::csaf_folder`), read-only and public.
//! Nothing is served until the first advisory is published.

use super::respond;
use crate::ops::csaf_folder::{self, File};
use crate::portal::{Portal, PortalError};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

/// `GET /.well-known/csaf/provider-metadata.json`.
pub async fn metadata(req: HttpRequest, portal: web::Data<Portal>) -> HttpResponse {
    answer(req, portal, csaf_folder::metadata).await
}

/// `GET /.well-known/csaf/white/{path}`: the listings, the index, the change list, a
/// document or one of its companion files.
pub async fn folder(req: HttpRequest, portal: web::Data<Portal>) -> HttpResponse {
    let path = req.match_info().get("path").unwrap_or_default().to_owned();
    answer(req, portal, move |p| csaf_folder::folder_file(p, &path)).await
}

/// `GET /.well-known/csaf/openpgp/{name}`: the organisation's public OpenPGP key.
pub async fn key(
    req: HttpRequest,
    portal: web::Data<Portal>,
    name: web::Path<String>,
) -> HttpResponse {
    let name = name.into_inner();
    answer(req, portal, move |p| Ok(csaf_folder::key(p, &name))).await
}

async fn answer(
    req: HttpRequest,
    portal: web::Data<Portal>,
    read: impl FnOnce(&Portal) -> Result<Option<File>, PortalError> + Send + 'static,
) -> HttpResponse {
    match portal.into_inner().blocking(read).await {
        Ok(Some(file)) => HttpResponse::Ok()
            .content_type(file.content_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
            .insert_header(("Access-Control-Allow-Origin", "*"))
            .body(file.body),
        Ok(None) => respond::not_found(req).await,
        Err(e) => {
            tracing::error!(error = %e, "cannot answer from the CSAF folder");
            HttpResponse::ServiceUnavailable()
                .insert_header((header::RETRY_AFTER, "60"))
                .content_type("text/plain; charset=utf-8")
                .body("the advisories are unavailable for a moment; try again in a minute\n")
        }
    }
}
