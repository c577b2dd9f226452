//! The reporter's status page: the case as the reporter may see it (state, every promise with
//! its due date and whether it was kept, the expected fix date, credit, publication and the
//! timeline with the team's messages), then the forms to look up a case or add files to it.

use super::{Ctx, Layout, PromiseRow, html, promise_rows, render};
use crate::http::i18n::{self, Lang, Texts};
use crate::workflow::{Happened, ReporterStatus};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

/// `web/status.html`
#[derive(Template)]
#[template(path = "status.html")]
pub(super) struct StatusPage<'a> {
    pub(super) t: Texts,
    pub(super) layout: Layout<'a>,
    pub(super) result: Option<StatusResult>,
    /// Offer the form for follow-up files (not once a looked-up case is closed).
    pub(super) add_files: bool,
    /// After a lookup: the reference, so that files can be added without typing it again.
    pub(super) reference: Option<&'a str>,
}

/// A lookup's result on the status page.
pub(super) struct StatusResult {
    status: &'static str,
    /// The state in the page's language.
    state: String,
    promises: Vec<PromiseRow>,
    /// "Expected fix date: …", beside the resolution promise.
    expected_fix: Option<String>,
    /// What becomes of the reporter's name.
    credit: String,
    /// Whether the credit sentence links to the acknowledgments page.
    credited: bool,
    /// The agreed publication, and its link once the date has come.
    publication: Option<(String, Option<String>)>,
    timeline: Vec<TimelineRow>,
}

/// One entry of the timeline, newest first.
pub(in crate::http) struct TimelineRow {
    /// RFC 3339, for `<time datetime>`.
    at: String,
    /// In the policy's time zone.
    pub(in crate::http) local: String,
    /// What happened, in the page's language.
    pub(in crate::http) text: String,
    /// A message from the team (shown as written, line breaks kept).
    message: Option<String>,
}

/// `GET /status`: look up a report's status, or add files to it.
pub async fn status_form(req: HttpRequest) -> HttpResponse {
    html(status_page(&req, None, None))
}

/// The status page, with a lookup's result (and the reference it was found with) above the
/// forms.
pub fn status_page(
    req: &HttpRequest,
    result: Option<&ReporterStatus>,
    reference: Option<&str>,
) -> String {
    render(&status_page_of(&Ctx::of(req), result, reference))
}

fn state_text(lang: Lang, status: crate::record::Status) -> String {
    i18n::t(
        lang,
        &format!("state_{}", status.as_str().replace('-', "_")),
    )
}

pub(in crate::http) fn timeline_row(lang: Lang, e: &crate::workflow::TimelineEntry) -> TimelineRow {
    let t = Texts(lang);
    let (text, message) = match &e.what {
        Happened::Received => (t["timeline_received"].to_owned(), None),
        Happened::Status { status } => (
            i18n::fill(
                &t["timeline_status"],
                &[("state", &state_text(lang, *status))],
            ),
            None,
        ),
        Happened::Message { text } => (t["timeline_message"].to_owned(), Some(text.clone())),
        Happened::FilesAdded { files: 0 } => (t["timeline_added_message"].to_owned(), None),
        Happened::FilesAdded { files: 1 } => (t["timeline_added_file"].to_owned(), None),
        Happened::FilesAdded { files } => (
            i18n::fill(&t["timeline_added_files"], &[("files", &files.to_string())]),
            None,
        ),
        Happened::ExpectedFix { date } => (
            i18n::fill(&t["timeline_expected_fix"], &[("date", date)]),
            None,
        ),
        Happened::Credited { name } => {
            (i18n::fill(&t["timeline_credited"], &[("name", name)]), None)
        }
        Happened::CreditWithdrawn => (t["timeline_credit_withdrawn"].to_owned(), None),
        Happened::Publication { date } => (
            i18n::fill(&t["timeline_publication"], &[("date", date)]),
            None,
        ),
    };
    TimelineRow {
        at: e.at.clone(),
        local: e.local.clone(),
        text,
        message,
    }
}

fn result_of(lang: Lang, s: &ReporterStatus) -> StatusResult {
    let t = Texts(lang);
    let resolve_due = s
        .promises
        .iter()
        .find(|p| p.kind == crate::deadlines::ClockKind::Resolve)
        .map(|p| p.due.clone())
        .unwrap_or_default();
    let credit = s.credit.as_ref();
    let credit_text = match credit {
        Some(c) if c.published.is_some() => i18n::fill(
            &t["status_credit_published"],
            &[("name", c.published.as_deref().unwrap_or_default())],
        ),
        Some(c) if c.requested => t["status_credit_requested"].to_owned(),
        _ => t["status_credit_anonymous"].to_owned(),
    };
    StatusResult {
        status: s.status.as_str(),
        state: state_text(lang, s.status),
        promises: promise_rows(lang, s),
        expected_fix: s.expected_fix.as_ref().map(|d| {
            i18n::fill(
                &t["status_expected_fix"],
                &[("date", d), ("resolve_due", &resolve_due)],
            )
        }),
        credited: credit.is_some_and(|c| c.published.is_some()),
        credit: credit_text,
        publication: s.publication.as_ref().map(|p| {
            (
                i18n::fill(&t["status_publication"], &[("date", &p.date)]),
                p.url.clone(),
            )
        }),
        timeline: s.timeline.iter().map(|e| timeline_row(lang, e)).collect(),
    }
}

pub(super) fn status_page_of<'a>(
    ctx: &Ctx<'a>,
    result: Option<&ReporterStatus>,
    reference: Option<&'a str>,
) -> StatusPage<'a> {
    let lang = ctx.lang;
    let open = !result.is_some_and(|s| s.status.is_final());
    StatusPage {
        t: Texts(lang),
        layout: ctx.layout(result.is_none()),
        result: result.map(|s| result_of(lang, s)),
        add_files: open,
        reference: reference.filter(|_| open && result.is_some()),
    }
}
