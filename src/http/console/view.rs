//! The console's pages as askama templates (`web/console/`): the frame every page shares and one
//! type per page. Values are plain text here; the templates escape them.

use crate::console::Session;
use crate::i18n::{Lang, Texts};
use askama::Template;

/// What every console page shows around its content.
pub struct Frame {
    pub lang: Lang,
    pub org: String,
    pub member: Option<String>,
    pub role: &'static str,
    pub admin: bool,
    pub csrf: String,
    pub path: String,
    pub other_lang: Lang,
    pub other_lang_name: &'static str,
    pub refresh: Option<String>,
}

impl Frame {
    /// The frame of a page at `path` in `lang`, for `session` (if signed in).
    pub fn new(lang: Lang, org: &str, path: &str, session: Option<&Session>) -> Frame {
        let other = match lang {
            Lang::Nl => Lang::En,
            Lang::En => Lang::Nl,
        };
        Frame {
            lang,
            org: org.to_owned(),
            member: session.map(|s| s.member.name.clone()),
            role: session.map_or("", |s| s.member.role.as_str()),
            admin: session.is_some_and(|s| s.member.may(crate::config::Role::Admin)),
            csrf: session.map(|s| s.csrf.clone()).unwrap_or_default(),
            path: path.to_owned(),
            other_lang: other,
            other_lang_name: crate::i18n::text(other, "lang_name"),
            refresh: None,
        }
    }
}

/// An option of a `<select>`.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// A message: signed out, refused, an error.
#[derive(Template)]
#[template(path = "console/message.html")]
pub struct MessagePage {
    pub frame: Frame,
    pub t: Texts,
    pub title: String,
    pub text: String,
    pub error: bool,
    pub code: Option<&'static str>,
    pub next: Option<(String, String)>,
}

/// The sign-in page.
#[derive(Template)]
#[template(path = "console/signin.html")]
pub struct SignInPage {
    pub frame: Frame,
    pub t: Texts,
    pub provider: bool,
}

/// The page a one-time link opens (the link is used only by its button: a link scanner that
/// fetches it uses nothing).
#[derive(Template)]
#[template(path = "console/link.html")]
pub struct LinkPage {
    pub frame: Frame,
    pub t: Texts,
    pub token: String,
}

/// One row of the inbox.
pub struct InboxRow {
    pub case: String,
    pub category: String,
    pub state: String,
    pub received: String,
    pub next_due: String,
    pub overdue: bool,
    pub due_today: bool,
    pub assignee: String,
}

/// The inbox.
#[derive(Template)]
#[template(path = "console/inbox.html")]
pub struct InboxPage {
    pub frame: Frame,
    pub t: Texts,
    pub heading: String,
    pub caption: String,
    pub summary: String,
    pub notice: Option<String>,
    pub find: String,
    pub assignee: String,
    pub states: Vec<Choice>,
    pub categories: Vec<Choice>,
    pub rows: Vec<InboxRow>,
    pub more: Option<String>,
}

/// One promise on the case page.
pub struct PromiseRow {
    pub what: String,
    pub due: String,
    pub state: String,
    pub overdue: bool,
}

/// One line of the case's history.
pub struct HistoryRow {
    pub at: String,
    pub who: String,
    pub what: String,
}

/// The case as its page shows it.
pub struct CaseFacts {
    pub case: String,
    pub category: String,
    pub state: String,
    pub overdue: bool,
    pub received: String,
    pub assignee: String,
    pub assignee_value: String,
    /// ISO/IEC 30111: (phase, when entered or "–"), in order.
    pub phases: Vec<(String, String)>,
    /// The phases still to come, as choices of the phase form.
    pub next_phases: Vec<Choice>,
    pub coordinator: String,
    pub embargo: String,
    pub embargo_value: String,
    pub expected_fix: String,
    pub credit: String,
    pub publication: String,
    pub shares: String,
    pub authority: String,
    pub files: String,
    pub keys: String,
    pub breach: bool,
    pub purged: bool,
    pub promises: Vec<PromiseRow>,
    pub history: Vec<HistoryRow>,
    /// (when, what) as the reporter sees it.
    pub timeline: Vec<(String, String)>,
    /// (when, by whom, size) of the team's messages.
    pub letters: Vec<(String, String, String)>,
    pub states: Vec<Choice>,
}

/// The yearly account page.
#[derive(Template)]
#[template(path = "console/report.html")]
pub struct ReportPage {
    pub frame: Frame,
    pub t: Texts,
    pub report: crate::adminapi::YearReport,
    /// The chart, SVG markup made by `report::chart` (numbers and fixed texts only).
    pub chart: String,
    pub previous: i16,
    pub next: i16,
}

/// The case page.
#[derive(Template)]
#[template(path = "console/case.html")]
pub struct CasePage {
    pub frame: Frame,
    pub t: Texts,
    pub c: CaseFacts,
    pub notice: Option<String>,
    pub error: Option<String>,
    pub error_code: Option<&'static str>,
}

/// A page of one table (audit trail, keys, invitations).
#[derive(Template)]
#[template(path = "console/table.html")]
pub struct TablePage {
    pub frame: Frame,
    pub t: Texts,
    pub heading: String,
    pub intro: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Renders a page (a template that fails to render is a bug: an empty page says so).
pub fn render(page: &impl Template) -> String {
    page.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "a console page failed to render");
        String::new()
    })
}
