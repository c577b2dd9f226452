//! Every team action of the case page: one form handler that checks the member's role, the
//! same-origin rule and the CSRF token, reads the form into the operation's own request type
//! and runs the same typed operation as the CLI, with the signed-in member as the actor. A
//! refusal shows the case page again with the operation's message and stable code.

use super::auth::{check_change, require};
use super::case::case_page;
use super::pages::explain;
use super::view::{Frame, MessagePage, render};
use super::{Form, lang, page};
use crate::adminapi::InviteRequest;
use crate::adminapi::op;
use crate::config::Role;
use crate::console::Session;
use crate::i18n::{self, Texts};
use crate::ops::{Call, Execute};
use crate::portal::Portal;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};

/// The actions of the case page: the path segment, who may, and the text of "done".
const ACTIONS: [(&str, Role); 14] = [
    ("phase", Role::Handler),
    ("coordination", Role::Handler),
    ("status", Role::Handler),
    ("authority", Role::Handler),
    ("note", Role::Handler),
    ("expect", Role::Handler),
    ("tell", Role::Handler),
    ("credit", Role::Handler),
    ("credit-withdraw", Role::Handler),
    ("publication", Role::Handler),
    ("shared", Role::Handler),
    ("assign", Role::Handler),
    ("invite", Role::Handler),
    ("purge", Role::Admin),
];

/// `POST /cases/{case}/{action}`.
pub async fn act(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    form: Form,
    portal: web::Data<Portal>,
) -> HttpResponse {
    let (case, action) = path.into_inner();
    let Some((_, role)) = ACTIONS.iter().find(|(a, _)| *a == action) else {
        return super::not_found(req, portal).await;
    };
    let session = match require(&req, &portal, *role) {
        Ok(s) => s,
        Err(answer) => return *answer,
    };
    if let Err(refused) = check_change(&req, &portal, &session, &form) {
        return *refused;
    }
    let ctx = Ctx {
        req: &req,
        portal: &portal,
        session: &session,
        case: &case,
        action: &action,
    };
    match action.as_str() {
        "status" => ctx.run::<op::SetStatus>(form.fields(&[])).await,
        "authority" => ctx.run::<op::Authority>(form.fields(&[])).await,
        "note" => ctx.run::<op::Note>(form.fields(&[])).await,
        "expect" => ctx.run::<op::Expect>(form.fields(&[])).await,
        "tell" => ctx.run::<op::Tell>(form.fields(&[])).await,
        "credit" => ctx.run::<op::Credit>(form.fields(&[])).await,
        "credit-withdraw" => ctx.run::<op::WithdrawCredit>(form.fields(&[])).await,
        "publication" => ctx.run::<op::Publication>(form.fields(&[])).await,
        "shared" => ctx.run::<op::Shared>(form.fields(&[])).await,
        "phase" => ctx.run::<op::EnterPhase>(form.fields(&[])).await,
        "coordination" => ctx.run::<op::Coordinate>(form.fields(&[])).await,
        "assign" => {
            let to = form.get("to").unwrap_or_default().to_owned();
            ctx.run::<op::Assign>(vec![("to".into(), to)]).await
        }
        "invite" => ctx.invite(&form).await,
        _ => ctx.purge(&form).await,
    }
}

struct Ctx<'a> {
    req: &'a HttpRequest,
    portal: &'a web::Data<Portal>,
    session: &'a Session,
    case: &'a str,
    action: &'a str,
}

impl Ctx<'_> {
    /// Shows the case page again with an error.
    async fn refused(&self, status: StatusCode, text: String, code: &'static str) -> HttpResponse {
        case_page(
            self.req,
            self.portal,
            self.session,
            self.case,
            None,
            Some((status, text, code)),
        )
        .await
    }

    /// Runs `O` with `fields` as its request, for the case of the path.
    async fn run<O: Execute>(&self, fields: Vec<(String, String)>) -> HttpResponse {
        let request = serde_urlencoded::to_string(&fields)
            .ok()
            .and_then(|q| serde_urlencoded::from_str::<O::Request>(&q).ok());
        let Some(request) = request else {
            let t = Texts(lang(self.req));
            return self
                .refused(
                    StatusCode::BAD_REQUEST,
                    t["c_bad_form"].to_owned(),
                    "bad-request",
                )
                .await;
        };
        let call = Call {
            actor: self.session.member.actor(),
            case: Some(self.case.to_owned()),
            request,
        };
        let p = self.portal.clone().into_inner();
        match p.blocking(move |p| O::execute(p, call)).await {
            Ok(_) => self.done(),
            Err(e) => {
                let (status, text, code) = explain(&e);
                self.refused(status, text, code).await
            }
        }
    }

    /// After a change: back to the case page (a GET, so a reload changes nothing).
    fn done(&self) -> HttpResponse {
        let l = lang(self.req);
        HttpResponse::SeeOther()
            .insert_header((
                header::LOCATION,
                format!("/cases/{}?done={}&lang={l}", self.case, self.action),
            ))
            .finish()
    }

    /// A one-time upload link for the reporter of this case, shown once.
    async fn invite(&self, form: &Form) -> HttpResponse {
        let l = lang(self.req);
        let t = Texts(l);
        let days: u64 = match form.get("days").map(str::trim).map(str::parse) {
            Some(Ok(d)) if (1..=90).contains(&d) => d,
            _ => {
                return self
                    .refused(
                        StatusCode::BAD_REQUEST,
                        t["c_invite_days_bad"].to_owned(),
                        "invite-validity-out-of-range",
                    )
                    .await;
            }
        };
        let call = Call {
            actor: self.session.member.actor(),
            case: None,
            request: InviteRequest {
                expires_secs: days * 86_400,
                note: Some(format!("case {}", self.case)),
            },
        };
        let p = self.portal.clone().into_inner();
        match p
            .blocking(move |p| op::CreateInvite::execute(p, call))
            .await
        {
            Ok(new) => page(
                StatusCode::OK,
                render(&MessagePage {
                    frame: Frame::new(
                        l,
                        &self.portal.config().org.name,
                        self.req.path(),
                        Some(self.session),
                    ),
                    t,
                    title: t["c_invite_made"].to_owned(),
                    text: i18n::fill(
                        &t["c_invite_made_text"],
                        &[("url", &new.url), ("expires", &new.invite.expires_at)],
                    ),
                    error: false,
                    code: None,
                    next: Some((
                        format!("/cases/{}?lang={l}", self.case),
                        t["c_back_case"].to_owned(),
                    )),
                }),
            ),
            Err(e) => {
                let (status, text, code) = explain(&e);
                self.refused(status, text, code).await
            }
        }
    }

    /// Purge, confirmed by typing the case number.
    async fn purge(&self, form: &Form) -> HttpResponse {
        let t = Texts(lang(self.req));
        if form.get("confirm").map(str::trim) != Some(self.case) {
            return self
                .refused(
                    StatusCode::BAD_REQUEST,
                    t["c_purge_unconfirmed"].to_owned(),
                    "purge-unconfirmed",
                )
                .await;
        }
        let reason = form.get("reason").unwrap_or_default().trim().to_owned();
        self.run::<op::Purge>(vec![("reason".to_owned(), reason)])
            .await
    }
}
