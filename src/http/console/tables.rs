//! The admins' tables (audit trail, keys, upload links), the register download and the
//! console's stylesheet.

use super::auth::require;
use super::pages::{failed, read};
use super::view::{Frame, TablePage, render};
use super::{lang, page};
use crate::adminapi::NoQuery;
use crate::adminapi::op::{Audit, Invites};
use crate::config::Role;
use crate::console::Session;
use crate::i18n::Texts;
use crate::ops::{Call, Execute};
use crate::portal::Portal;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};

/// Most audit entries the audit page shows (newest first; `admin audit` has them all).
const AUDIT_ROWS: usize = 500;

/// `GET /register.csv`: the register, as a download.
pub async fn register(req: HttpRequest, portal: web::Data<Portal>) -> HttpResponse {
    let session = match require(&req, &portal, Role::Handler) {
        Ok(s) => s,
        Err(answer) => return *answer,
    };
    match read(&portal, |p| p.register_blocking()).await {
        Ok(rows) => HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"register.csv\"",
            ))
            .body(crate::workflow::register_csv(&rows)),
        Err(e) => failed(&req, &portal, &session, &e),
    }
}

fn table(
    req: &HttpRequest,
    portal: &Portal,
    session: &Session,
    heading: &'static str,
    intro: &'static str,
    columns: &[&'static str],
    rows: Vec<Vec<String>>,
) -> HttpResponse {
    let l = lang(req);
    let t = Texts(l);
    page(
        StatusCode::OK,
        render(&TablePage {
            frame: Frame::new(l, &portal.config().org.name, req.path(), Some(session)),
            t,
            heading: t[heading].to_owned(),
            intro: t[intro].to_owned(),
            columns: columns.iter().map(|c| t[c].to_owned()).collect(),
            rows,
        }),
    )
}

/// `GET /audit` (admins): the audit trail, newest first.
pub async fn audit(req: HttpRequest, portal: web::Data<Portal>) -> HttpResponse {
    let session = match require(&req, &portal, Role::Admin) {
        Ok(s) => s,
        Err(answer) => return *answer,
    };
    let actor = session.member.actor();
    let events = read(&portal, move |p| {
        Audit::execute(
            p,
            Call {
                actor,
                case: None,
                request: NoQuery {},
            },
        )
    })
    .await;
    match events {
        Ok(events) => {
            let rows = events
                .iter()
                .rev()
                .take(AUDIT_ROWS)
                .map(|e| {
                    vec![
                        e.at.clone(),
                        e.actor.clone().unwrap_or_else(|| "–".into()),
                        e.event.as_str().to_owned(),
                        e.case.clone().unwrap_or_default(),
                        e.key_id.as_ref().map(|k| k.0.clone()).unwrap_or_default(),
                        e.detail.clone(),
                    ]
                })
                .collect();
            table(
                &req,
                &portal,
                &session,
                "c_audit",
                "c_audit_intro",
                &[
                    "c_when",
                    "c_who",
                    "c_what",
                    "c_col_case",
                    "c_key",
                    "c_detail",
                ],
                rows,
            )
        }
        Err(e) => failed(&req, &portal, &session, &e),
    }
}

/// `GET /keys` (admins): the keys and what each reads, read-only.
pub async fn keys(req: HttpRequest, portal: web::Data<Portal>) -> HttpResponse {
    let session = match require(&req, &portal, Role::Admin) {
        Ok(s) => s,
        Err(answer) => return *answer,
    };
    match read(&portal, |p| p.key_usage_blocking()).await {
        Ok(keys) => {
            let t = Texts(lang(&req));
            let rows = keys
                .iter()
                .map(|k| {
                    vec![
                        k.info.id.0.clone(),
                        k.info.label.clone().unwrap_or_default(),
                        if k.active {
                            t["c_key_active"].to_owned()
                        } else {
                            k.info.retired_at.clone().unwrap_or_default()
                        },
                        k.info.first_seen.clone(),
                        k.readable.to_string(),
                        k.sole.to_string(),
                    ]
                })
                .collect();
            table(
                &req,
                &portal,
                &session,
                "c_keys",
                "c_keys_intro",
                &[
                    "c_key",
                    "c_label",
                    "c_key_state",
                    "c_first_seen",
                    "c_readable",
                    "c_sole",
                ],
                rows,
            )
        }
        Err(e) => failed(&req, &portal, &session, &e),
    }
}

/// `GET /invites` (admins): every one-time upload link (never the link itself).
pub async fn invites(req: HttpRequest, portal: web::Data<Portal>) -> HttpResponse {
    let session = match require(&req, &portal, Role::Admin) {
        Ok(s) => s,
        Err(answer) => return *answer,
    };
    let actor = session.member.actor();
    let all = read(&portal, move |p| {
        Invites::execute(
            p,
            Call {
                actor,
                case: None,
                request: NoQuery {},
            },
        )
    })
    .await;
    match all {
        Ok(list) => {
            let rows = list
                .iter()
                .map(|i| {
                    vec![
                        i.id.clone(),
                        i.created_at.clone(),
                        i.expires_at.clone(),
                        i.consumed_at.clone().unwrap_or_default(),
                        i.case.clone().unwrap_or_default(),
                        i.note.clone().unwrap_or_default(),
                    ]
                })
                .collect();
            table(
                &req,
                &portal,
                &session,
                "c_invites",
                "c_invites_intro",
                &[
                    "c_invite",
                    "c_created",
                    "c_expires",
                    "c_used",
                    "c_col_case",
                    "c_note",
                ],
                rows,
            )
        }
        Err(e) => failed(&req, &portal, &session, &e),
    }
}

/// `GET /static/console.css`.
pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .body(include_str!("../../../web/console.css"))
}
