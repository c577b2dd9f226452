//! Admin routes of the case workflow (Unix socket only): list with filters, show, status
//! changes, the authority decision, the expected fix date, messages to the reporter, credit,
//! publication, purge, the breach register, invitations and metrics.

use super::admin::{blocking, failure};
use crate::adminapi::{
    AuthorityRequest, CreditRequest, ExpectRequest, InviteRequest, ListFilter, NoteRequest,
    PublicationRequest, PurgeRequest, RegisterFormat, RegisterQuery, SharedRequest, StatusRequest,
    TellRequest, WithdrawCreditRequest,
};
use crate::portal::Portal;
use actix_web::{HttpResponse, web};
use std::time::Duration;

/// `GET /v1/submissions?key=&status=&category=&overdue=&due_within_secs=&addenda=`
pub async fn list(q: web::Query<ListFilter>, portal: web::Data<Portal>) -> HttpResponse {
    let filter = q.into_inner();
    blocking(portal, move |p| p.list_blocking(&filter)).await
}

/// `GET /v1/submissions/{case}`
pub async fn show(case: web::Path<String>, portal: web::Data<Portal>) -> HttpResponse {
    let case = case.into_inner();
    blocking(portal, move |p| p.show_blocking(&case)).await
}

/// `POST /v1/submissions/{case}/status`
pub async fn status(
    case: web::Path<String>,
    body: web::Json<StatusRequest>,
    portal: web::Data<Portal>,
) -> HttpResponse {
    let case = case.into_inner();
    let StatusRequest {
        status,
        note,
        expect,
    } = body.into_inner();
    blocking(portal, move |p| {
        p.set_status_blocking(&case, status, note.as_deref(), expect.as_deref())
    })
    .await
}

/// `POST /v1/submissions/{case}/expect`
pub async fn expect(
    case: web::Path<String>,
    body: web::Json<ExpectRequest>,
    portal: web::Data<Portal>,
) -> HttpResponse {
    let case = case.into_inner();
    let ExpectRequest { date, note } = body.into_inner();
    blocking(portal, move |p| {
        p.expect_blocking(&case, &date, note.as_deref())
    })
    .await
}

/// `POST /v1/submissions/{case}/tell`
pub async fn tell(
    case: web::Path<String>,
    body: web::Json<TellRequest>,
    portal: web::Data<Portal>,
) -> HttpResponse {
    let case = case.into_inner();
    let text = body.into_inner().text;
    blocking(portal, move |p| p.tell_blocking(&case, &text)).await
}

/// `POST /v1/submissions/{case}/credit`
pub async fn credit(
    case: web::Path<String>,
    body: web::Json<CreditRequest>,
    portal: web::Data<Portal>,
) -> HttpResponse {
    let case = case.into_inner();
    let name = body.into_inner().name;
    blocking(portal, move |p| p.credit_blocking(&case, &name)).await
}

/// `POST /v1/submissions/{case}/credit/withdraw`
pub async fn withdraw_credit(
    case: web::Path<String>,
    body: web::Json<WithdrawCreditRequest>,
    portal: web::Data<Portal>,
) -> HttpResponse {
    let case = case.into_inner();
    let note = body.into_inner().note;
    blocking(portal, move |p| {
        p.withdraw_credit_blocking(&case, note.as_deref())
    })
    .await
}

/// `POST /v1/submissions/{case}/publication`
pub async fn publication(
    case: web::Path<String>,
    body: web::Json<PublicationRequest>,
    portal: web::Data<Portal>,
) -> HttpResponse {
    let case = case.into_inner();
    let PublicationRequest { date, url, note } = body.into_inner();
    blocking(portal, move |p| {
        p.publish_blocking(&case, &date, url.as_deref(), note.as_deref())
    })
    .await
}

/// `POST /v1/submissions/{case}/note`
pub async fn note(
    case: web::Path<String>,
    body: web::Json<NoteRequest>,
    portal: web::Data<Portal>,
) -> HttpResponse {
    let case = case.into_inner();
    let note = body.into_inner().note;
    blocking(portal, move |p| p.add_note_blocking(&case, &note)).await
}

/// `POST /v1/submissions/{case}/shared`
pub async fn shared(
    case: web::Path<String>,
    body: web::Json<SharedRequest>,
    portal: web::Data<Portal>,
) -> HttpResponse {
    let case = case.into_inner();
    let SharedRequest { with, note } = body.into_inner();
    blocking(portal, move |p| {
        p.record_shared_blocking(&case, &with, note.as_deref())
    })
    .await
}

/// `POST /v1/submissions/{case}/authority`
pub async fn authority(
    case: web::Path<String>,
    body: web::Json<AuthorityRequest>,
    portal: web::Data<Portal>,
) -> HttpResponse {
    let case = case.into_inner();
    let AuthorityRequest { decision, note } = body.into_inner();
    blocking(portal, move |p| {
        p.decide_authority_blocking(&case, decision, note.as_deref())
    })
    .await
}

/// `POST /v1/submissions/{case}/purge`
pub async fn purge(
    case: web::Path<String>,
    body: web::Json<PurgeRequest>,
    portal: web::Data<Portal>,
) -> HttpResponse {
    let case = case.into_inner();
    let reason = body.into_inner().reason;
    let reason = if reason.trim().is_empty() {
        "deleted on request".to_owned()
    } else {
        reason.replace(['\n', '\r'], " ")
    };
    blocking(portal, move |p| p.purge_blocking(&case, &reason)).await
}

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

/// `POST /v1/invites` (the portal checks the validity before it computes the expiry)
pub async fn invite(body: web::Json<InviteRequest>, portal: web::Data<Portal>) -> HttpResponse {
    let InviteRequest { expires_secs, note } = body.into_inner();
    blocking(portal, move |p| {
        p.invite_blocking(Duration::from_secs(expires_secs), note.as_deref())
    })
    .await
}

/// `GET /v1/invites`
pub async fn invites(portal: web::Data<Portal>) -> HttpResponse {
    blocking(portal, |p| p.invites_blocking()).await
}

/// `GET /v1/metrics`: Prometheus text format.
pub async fn metrics(portal: web::Data<Portal>) -> HttpResponse {
    let text = portal
        .into_inner()
        .blocking(|p| {
            let cases = p.list_blocking(&ListFilter {
                addenda: true,
                ..ListFilter::default()
            })?;
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
