//! What the console's pages share: state, category and clock names in the page's language,
//! reads on the blocking pool, and a failed read as a page. The pages are `inbox`, `case` and
//! `tables`.

use super::view::{Frame, render};
use super::{lang, page};
use crate::console::Session;
use crate::deadlines::{ClockKind, ClockState};
use crate::i18n::{self, Lang, Texts};
use crate::portal::{Portal, PortalError};
use crate::record::{Category, Status};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use std::sync::Arc;

pub(super) fn state_text(lang: Lang, s: Status) -> String {
    i18n::t(lang, &format!("state_{}", s.as_str().replace('-', "_")))
}

pub(super) fn category_text(lang: Lang, c: Category) -> String {
    i18n::t(lang, &format!("cat_{}", c.as_str().replace('-', "_")))
}

pub(super) fn clock_text(lang: Lang, kind: ClockKind) -> &'static str {
    i18n::text(
        lang,
        match kind {
            ClockKind::Acknowledge => "promise_acknowledge",
            ClockKind::Assess => "promise_assess",
            ClockKind::Resolve => "promise_resolve",
            ClockKind::NotifyAuthority => "c_promise_authority",
        },
    )
}

pub(super) fn clock_state_text(lang: Lang, s: ClockState) -> &'static str {
    i18n::text(
        lang,
        match s {
            ClockState::Met => "c_clock_met",
            ClockState::Late => "c_clock_late",
            ClockState::Running => "c_clock_running",
            ClockState::Overdue => "c_clock_overdue",
        },
    )
}

/// Runs a read for `session`'s member on the blocking pool.
pub(super) async fn read<T: Send + 'static>(
    portal: &web::Data<Portal>,
    f: impl FnOnce(&Portal) -> Result<T, PortalError> + Send + 'static,
) -> Result<T, PortalError> {
    let p: Arc<Portal> = portal.clone().into_inner();
    p.blocking(f).await
}

/// A failed read as a page (the same codes as the admin protocol).
/// An operation's refusal as a page shows it: the status, the message with its hint, and the
/// stable code, exactly as the admin protocol answers it (an internal error's details go to the
/// log, never to the page).
pub(super) fn explain(e: &PortalError) -> (StatusCode, String, &'static str) {
    let body = crate::ops::error::body_of(e);
    let code = body.error.code;
    if code == crate::adminapi::ErrorCode::Internal {
        tracing::error!(error = %e, "console: an operation failed");
    }
    let text = match body.error.hint {
        Some(hint) => format!("{} ({hint})", body.error.message),
        None => body.error.message,
    };
    (
        StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        text,
        code.as_str(),
    )
}

pub(super) fn failed(
    req: &HttpRequest,
    portal: &Portal,
    session: &Session,
    e: &PortalError,
) -> HttpResponse {
    let (status, text, code) = explain(e);
    let l = lang(req);
    let t = Texts(l);
    let text = match code {
        "not-found" => t["c_no_such_case"].to_owned(),
        _ => text,
    };
    page(
        status,
        render(&super::view::MessagePage {
            frame: Frame::new(l, &portal.config().org.name, req.path(), Some(session)),
            t,
            title: t["c_refused"].to_owned(),
            text,
            error: true,
            code: Some(code),
            next: Some((format!("/?lang={l}"), t["c_back_inbox"].to_owned())),
        }),
    )
}
