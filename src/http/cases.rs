//! Admin routes of the case workflow (Unix socket only): list with filters, show, status
//! changes, the authority decision, purge, the breach register, invitations and metrics.

use super::admin::{blocking, failure, refusal};
use crate::portal::Portal;
use crate::record::{AuthorityDecision, Status};
use crate::workflow::{ListFilter, MAX_INVITE_DAYS};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use std::time::Duration;

/// `GET /v1/submissions?key=&status=&category=&overdue=&due_within_secs=&addenda=`
pub async fn list(
    req: HttpRequest,
    q: web::Query<ListFilter>,
    portal: web::Data<Portal>,
) -> HttpResponse {
    let filter = q.into_inner();
    blocking(&req, portal, move |p| p.list_blocking(&filter)).await
}

/// `GET /v1/submissions/{case}`
pub async fn show(
    req: HttpRequest,
    case: web::Path<String>,
    portal: web::Data<Portal>,
) -> HttpResponse {
    let case = case.into_inner();
    blocking(&req, portal, move |p| p.show_blocking(&case)).await
}

/// Body of a status change.
#[derive(Deserialize)]
pub struct StatusChange {
    status: Status,
    #[serde(default)]
    note: Option<String>,
}

/// `POST /v1/submissions/{case}/status`
pub async fn status(
    req: HttpRequest,
    case: web::Path<String>,
    body: web::Json<StatusChange>,
    portal: web::Data<Portal>,
) -> HttpResponse {
    let case = case.into_inner();
    let StatusChange { status, note } = body.into_inner();
    blocking(&req, portal, move |p| {
        p.set_status_blocking(&case, status, note.as_deref())
    })
    .await
}

/// Body of a note.
#[derive(Deserialize)]
pub struct Note {
    note: String,
}

/// `POST /v1/submissions/{case}/note`
pub async fn note(
    req: HttpRequest,
    case: web::Path<String>,
    body: web::Json<Note>,
    portal: web::Data<Portal>,
) -> HttpResponse {
    let case = case.into_inner();
    let note = body.into_inner().note;
    blocking(&req, portal, move |p| p.add_note_blocking(&case, &note)).await
}

/// Body of an authority decision.
#[derive(Deserialize)]
pub struct Decision {
    decision: AuthorityDecision,
    #[serde(default)]
    note: Option<String>,
}

/// `POST /v1/submissions/{case}/authority`
pub async fn authority(
    req: HttpRequest,
    case: web::Path<String>,
    body: web::Json<Decision>,
    portal: web::Data<Portal>,
) -> HttpResponse {
    let case = case.into_inner();
    let Decision { decision, note } = body.into_inner();
    blocking(&req, portal, move |p| {
        p.decide_authority_blocking(&case, decision, note.as_deref())
    })
    .await
}

/// Body of a purge.
#[derive(Deserialize)]
pub struct Purge {
    #[serde(default)]
    reason: String,
}

/// `POST /v1/submissions/{case}/purge`
pub async fn purge(
    req: HttpRequest,
    case: web::Path<String>,
    body: web::Json<Purge>,
    portal: web::Data<Portal>,
) -> HttpResponse {
    let case = case.into_inner();
    let reason = body.into_inner().reason;
    let reason = if reason.trim().is_empty() {
        "deleted on request".to_owned()
    } else {
        reason.replace(['\n', '\r'], " ")
    };
    blocking(&req, portal, move |p| p.purge_blocking(&case, &reason)).await
}

/// Query of the register.
#[derive(Deserialize)]
pub struct RegisterQuery {
    #[serde(default)]
    format: Option<String>,
}

/// `GET /v1/register[?format=csv]`
pub async fn register(
    req: HttpRequest,
    q: web::Query<RegisterQuery>,
    portal: web::Data<Portal>,
) -> HttpResponse {
    if q.format.as_deref() == Some("csv") {
        return match portal
            .into_inner()
            .blocking(|p| p.register_blocking())
            .await
        {
            Ok(rows) => HttpResponse::Ok()
                .content_type("text/csv; charset=utf-8")
                .body(crate::workflow::register_csv(&rows)),
            Err(e) => failure(&req, e),
        };
    }
    blocking(&req, portal, |p| p.register_blocking()).await
}

/// Body of a new invitation.
#[derive(Deserialize)]
pub struct NewInvite {
    expires_secs: u64,
    #[serde(default)]
    note: Option<String>,
}

/// `POST /v1/invites`
pub async fn invite(
    req: HttpRequest,
    body: web::Json<NewInvite>,
    portal: web::Data<Portal>,
) -> HttpResponse {
    let NewInvite { expires_secs, note } = body.into_inner();
    // Checked here: the expiry is computed as now + validity, which cannot hold any u64.
    if !(1..=MAX_INVITE_DAYS * 86_400).contains(&expires_secs) {
        return refusal(
            400,
            "invite-validity-out-of-range",
            &format!("an invitation cannot be valid for {expires_secs} seconds"),
            Some(format!(
                "invitations are valid between 1 second and {MAX_INVITE_DAYS} days (--expires 7d)"
            )),
        );
    }
    blocking(&req, portal, move |p| {
        p.invite_blocking(Duration::from_secs(expires_secs), note.as_deref())
    })
    .await
}

/// `GET /v1/invites`
pub async fn invites(req: HttpRequest, portal: web::Data<Portal>) -> HttpResponse {
    blocking(&req, portal, |p| p.invites_blocking()).await
}

/// `GET /v1/metrics`: Prometheus text format.
pub async fn metrics(req: HttpRequest, portal: web::Data<Portal>) -> HttpResponse {
    let portal = portal.into_inner();
    let text = tokio::task::spawn_blocking(move || {
        let cases = portal.list_blocking(&ListFilter {
            addenda: true,
            ..ListFilter::default()
        })?;
        let free = portal.store().free_bytes()?;
        Ok::<_, crate::portal::PortalError>(portal.metrics().render(
            &cases,
            free,
            portal.uploads_running(),
        ))
    })
    .await;
    match text {
        Ok(Ok(t)) => HttpResponse::Ok()
            .content_type("text/plain; version=0.0.4; charset=utf-8")
            .body(t),
        Ok(Err(e)) => failure(&req, e),
        Err(e) => failure(&req, crate::portal::PortalError::Export(e.to_string())),
    }
}
