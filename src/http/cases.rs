//! Admin routes of the case workflow that are not plain operations: the breach register (JSON
//! or CSV) and the metrics (Prometheus text). Every other team action is an operation
//! (`adminapi::op`), registered through `http::ops`.

use super::admin::{blocking, failure};
use crate::adminapi::op::List;
use crate::adminapi::{ListFilter, RegisterFormat, RegisterQuery};
use crate::ops::{Call, Execute};
use crate::portal::Portal;
use crate::record::Actor;
use actix_web::{HttpResponse, web};

/// `GET /v1/register[?format=csv|json]` (JSON when not asked)
pub async fn register(q: web::Query<RegisterQuery>, portal: web::Data<Portal>) -> HttpResponse {
    if q.format != Some(RegisterFormat::Csv) {
        return blocking(portal, |p| p.register_blocking()).await;
    }
    match portal
        .into_inner()
        .blocking(|p| p.register_blocking())
        .await
    {
        Ok(rows) => HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .body(crate::workflow::register_csv(&rows)),
        Err(e) => failure(e),
    }
}

/// `GET /v1/metrics`: Prometheus text format.
pub async fn metrics(portal: web::Data<Portal>) -> HttpResponse {
    let text = portal
        .into_inner()
        .blocking(|p| {
            let every = Call {
                actor: Actor::portal(),
                case: None,
                request: ListFilter {
                    addenda: true,
                    ..ListFilter::default()
                },
            };
            let cases = List::execute(p, every)?;
            let free = p.store().free_bytes()?;
            Ok::<_, crate::portal::PortalError>(p.metrics().render(
                &cases,
                free,
                p.uploads_running(),
            ))
        })
        .await;
    match text {
        Ok(t) => HttpResponse::Ok()
            .content_type("text/plain; version=0.0.4; charset=utf-8")
            .body(t),
        Err(e) => failure(e),
    }
}
