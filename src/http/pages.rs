//! Server-rendered pages from `web/`: the upload form, receipt, status, invitation, policy and
//! error pages in the request's language, plus the static files. The pages are askama templates,
//! compiled into the binary, that extend `web/layout.html` and escape every value; their texts
//! come from `web/i18n/`.

use super::i18n::{self, Lang, Texts};
use super::layout::{Ctx, Layout};
use crate::config::ByteSize;
use crate::error::ApiError;
use crate::intake::Receipt;
use crate::portal::Portal;
use crate::workflow::ReporterStatus;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

pub use super::layout::lang_of;

const STYLE: &str = include_str!("../../web/style.css");
const APP_JS: &str = include_str!("../../web/app.js");

/// Renders a page. The templates hold only strings and numbers, so rendering cannot fail;
/// should it ever, the reporter gets a short text rather than half a page.
fn render(page: &impl Template) -> String {
    page.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "cannot render a page");
        "Internal error".to_owned()
    })
}

/// A 200 HTML page.
pub fn html(page: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page)
}

/// `web/index.html`
#[derive(Template)]
#[template(path = "index.html")]
struct IndexPage<'a> {
    t: Texts,
    layout: Layout<'a>,
    heading: String,
    message_help: String,
    limits: String,
    /// Where the form posts, in the page's language.
    action: String,
    max_files: usize,
    max_file_bytes: u64,
    max_submission_bytes: u64,
    max_message_chars: usize,
    max_contact_chars: usize,
    max_credit_chars: usize,
    contact_required_for: String,
    /// The piece size the script sends a resumable upload in (`limits.browser_piece_size`).
    piece_bytes: u64,
    /// Offer the acknowledgement e-mail.
    acknowledge: bool,
    /// The form of a one-time invitation.
    invite: bool,
}

/// `GET /`: the upload form.
pub async fn index(req: HttpRequest) -> HttpResponse {
    html(upload_form(&req, "/api/v1/submissions", false))
}

/// The upload form posting to `action`; `invite` says it is a one-time invitation's.
pub fn upload_form(req: &HttpRequest, action: &str, invite: bool) -> String {
    render(&index_page(&Ctx::of(req), action, invite))
}

fn index_page<'a>(ctx: &Ctx<'a>, action: &str, invite: bool) -> IndexPage<'a> {
    let t = Texts(ctx.lang);
    let l = &ctx.config.limits;
    IndexPage {
        t,
        layout: ctx.layout(true),
        heading: i18n::fill(&t["index_heading"], &[("org", &ctx.config.org.name)]),
        message_help: i18n::fill(
            &t["message_help"],
            &[(
                "max_message_size",
                &ByteSize(l.max_message_bytes as u64).to_string(),
            )],
        ),
        limits: i18n::fill(
            &t["limits"],
            &[
                ("max_files", &l.max_files.to_string()),
                ("max_file_size", &l.max_file_size.to_string()),
                ("max_submission_size", &l.max_submission_size.to_string()),
            ],
        ),
        action: format!("{action}?lang={}", ctx.lang),
        max_files: l.max_files,
        max_file_bytes: l.max_file_size.0,
        max_submission_bytes: l.max_submission_size.0,
        max_message_chars: l.max_message_bytes,
        max_contact_chars: l.max_contact_bytes,
        max_credit_chars: l.max_credit_bytes,
        contact_required_for: ctx.config.org.contact_required_for.join(" "),
        piece_bytes: l.browser_piece_size.0,
        acknowledge: ctx.offers_acknowledgement,
        invite,
    }
}

mod accessibility;
mod acknowledgments;
pub(in crate::http) mod status;
pub use accessibility::accessibility;
pub use acknowledgments::acknowledgments;
pub use status::{status_form, status_page};

/// One row of `web/promises.html`.
struct PromiseRow {
    what: String,
    due: String,
    state: &'static str,
}

fn promise_rows(lang: Lang, s: &ReporterStatus) -> Vec<PromiseRow> {
    s.promises
        .iter()
        .map(|p| PromiseRow {
            what: i18n::t(lang, &format!("promise_{}", p.kind.as_str())),
            due: p.due.clone(),
            state: i18n::text(
                lang,
                match (p.done, p.on_time, s.status) {
                    (true, Some(false), _) => "status_done_late",
                    (true, _, _) => "status_done",
                    (false, _, crate::record::Status::Rejected) => "status_not_applicable",
                    (false, _, _) => "status_open",
                },
            ),
        })
        .collect()
}

/// `web/receipt.html`
#[derive(Template)]
#[template(path = "receipt.html")]
struct ReceiptPage<'a> {
    t: Texts,
    layout: Layout<'a>,
    /// The secret reference, shown this once.
    reference: Option<&'a str>,
    /// For follow-up files: the sentence naming the case they were added to.
    follow_up: Option<String>,
    case: &'a str,
    received_at: String,
    category: String,
    /// The subject the reporter's e-mail should carry (URL-encoded by the template).
    mail_subject: String,
    /// What became of the acknowledgement e-mail, when one was asked for.
    acknowledgement: Option<&'static str>,
    promises: Vec<PromiseRow>,
    files: Vec<FileRow<'a>>,
    /// The signed receipt, offered as two `data:` downloads (nothing kept on the server: the
    /// page is shown once) and shown as text.
    signed: &'a crate::receipt::SignedReceipt,
    /// `receipt-CASE.txt`.
    signed_file: String,
    /// Where the receipt keys are published.
    keys_url: String,
    /// The identity to verify against.
    principal: String,
}

/// One row of the receipt's file table.
struct FileRow<'a> {
    number: u32,
    /// The name the reporter's client sent.
    name: &'a str,
    size: String,
    hash: &'a str,
}

/// The receipt page after a browser form post.
pub fn receipt_page(req: &HttpRequest, r: &Receipt) -> String {
    render(&receipt_page_of(&Ctx::of(req), r))
}

fn receipt_page_of<'a>(ctx: &Ctx<'a>, r: &'a Receipt) -> ReceiptPage<'a> {
    let parsed = crate::receipt::document::parse(&r.signed_receipt.text).ok();
    let portal = parsed.map(|p| p.portal).unwrap_or_default();
    let lang = ctx.lang;
    let t = Texts(lang);
    let category = match r.category.as_str() {
        "data-breach" => "cat_data_breach".to_owned(),
        other => format!("cat_{other}"),
    };
    ReceiptPage {
        t,
        layout: ctx.layout(false),
        reference: r.reference.as_deref(),
        follow_up: match (&r.reference, &r.follow_up_to) {
            (None, Some(case)) => Some(i18n::fill(&t["receipt_followup"], &[("parent", case)])),
            _ => None,
        },
        case: &r.case,
        received_at: ctx
            .policy
            .zip(crate::workflow::parse_ts(&r.received_at))
            .map(|(p, at)| p.local(at))
            .unwrap_or_else(|| r.received_at.clone()),
        category: i18n::t(lang, &category),
        mail_subject: i18n::fill(&t["mail_subject"], &[("case", &r.case)]),
        acknowledgement: r.acknowledgement.map(|a| match a {
            "queued" => i18n::text(lang, "receipt_ack_sent"),
            _ => i18n::text(lang, "receipt_ack_none"),
        }),
        promises: promise_rows(lang, &r.status),
        files: r
            .files
            .iter()
            .map(|f| FileRow {
                number: f.index + 1,
                name: &f.name,
                size: ByteSize(f.size).to_string(),
                hash: &f.sha256,
            })
            .collect(),
        signed: &r.signed_receipt,
        signed_file: format!("receipt-{}.txt", r.case),
        keys_url: format!("{portal}/.well-known/sealdrop-receipt-keys"),
        principal: crate::receipt::document::principal(&portal),
    }
}

/// `web/error.html`
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    t: Texts,
    layout: Layout<'a>,
    message: String,
    code: &'static str,
    /// Where the reporter goes back to.
    back: String,
}

/// An error page for browsers: the message in the page's language and the stable code.
pub fn error_page(req: &HttpRequest, err: &ApiError) -> String {
    render(&error_page_of(&Ctx::of(req), err))
}

/// The answer of a page (a GET a browser made) that failed: the error page with the error's
/// status. (API routes answer through `respond::error`, which also speaks JSON.)
fn page_error(req: &HttpRequest, err: &ApiError) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(err.status())
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(error_page(req, err))
}

fn error_page_of<'a>(ctx: &Ctx<'a>, err: &ApiError) -> ErrorPage<'a> {
    let path = ctx.path;
    let back =
        if path.starts_with("/api/v1/status") || path.starts_with("/api/v1/submissions/files") {
            "/status"
        } else if path.starts_with("/u/") && *err != ApiError::InviteGone {
            path
        } else {
            "/"
        };
    ErrorPage {
        t: Texts(ctx.lang),
        layout: ctx.layout(false),
        message: i18n::error_message(ctx.lang, err),
        code: err.code(),
        back: format!("{back}?lang={}", ctx.lang),
    }
}

/// `web/policy.html`
#[derive(Template)]
#[template(path = "policy.html")]
struct PolicyPage<'a> {
    t: Texts,
    layout: Layout<'a>,
    /// The policy as HTML from `http::markdown::to_html`, which neutralises raw HTML and
    /// unsafe links: the template inserts it unescaped.
    policy: String,
}

/// `GET /policy`: the disclosure policy (Markdown, rendered without raw HTML).
pub async fn policy(req: HttpRequest, portal: web::Data<Portal>) -> HttpResponse {
    let ctx = Ctx::of(&req);
    let lang = ctx.lang;
    // A configured policy file is read on the blocking pool, never on a network worker.
    let source = {
        let (portal, tag) = (portal.clone().into_inner(), lang.tag());
        tokio::task::spawn_blocking(move || super::markdown::policy_source(portal.config(), tag))
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)))
    };
    let markdown = match source {
        Ok(md) => md,
        Err(e) => {
            tracing::error!(error = %e, "cannot read org.policy_file");
            return page_error(&req, &ApiError::Internal);
        }
    };
    let sla = &portal.config().sla;
    let period = |n: u32| match (lang, n) {
        (Lang::Nl, 1) => "1 werkdag".to_owned(),
        (Lang::Nl, n) => format!("{n} werkdagen"),
        (Lang::En, 1) => "1 working day".to_owned(),
        (Lang::En, n) => format!("{n} working days"),
    };
    let markdown = i18n::fill(
        &markdown,
        &[
            ("org", &portal.config().org.name),
            ("contact_email", &portal.config().org.contact_email),
            ("acknowledge_period", &period(sla.acknowledge_working_days)),
            ("assess_period", &period(sla.assess_working_days)),
            (
                "acknowledge_working_days",
                &sla.acknowledge_working_days.to_string(),
            ),
            ("assess_working_days", &sla.assess_working_days.to_string()),
            ("resolve_days", &sla.resolve_days.to_string()),
            (
                "data_breach_notify_hours",
                &sla.data_breach_notify_hours.to_string(),
            ),
        ],
    );
    html(render(&policy_page_of(&ctx, &markdown)))
}

fn policy_page_of<'a>(ctx: &Ctx<'a>, markdown: &str) -> PolicyPage<'a> {
    PolicyPage {
        t: Texts(ctx.lang),
        layout: ctx.layout(true),
        policy: super::markdown::to_html(markdown, ctx.lang.tag()),
    }
}

fn asset(content_type: &str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(body)
}

/// `GET /static/style.css`
pub async fn stylesheet() -> HttpResponse {
    asset("text/css; charset=utf-8", STYLE)
}

/// `GET /static/app.js`
pub async fn script() -> HttpResponse {
    asset("text/javascript; charset=utf-8", APP_JS)
}

/// `GET /healthz`: 200 while the portal can take uploads.
pub async fn healthz(portal: web::Data<Portal>) -> HttpResponse {
    match portal.store().free_bytes() {
        Ok(free) if free >= portal.config().storage.min_free_bytes.0 => {
            HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
        }
        _ => HttpResponse::ServiceUnavailable()
            .json(serde_json::json!({ "status": "low-disk-space" })),
    }
}

#[cfg(test)]
mod tests;
