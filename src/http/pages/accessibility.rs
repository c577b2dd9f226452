//! `GET /accessibility`: the accessibility statement (WCAG 2.1 AA / EN 301 549; the Dutch
//! toegankelijkheidsverklaring), from `[accessibility]` and from what the portal's own tests
//! check on every build.

use super::{Ctx, Layout, html, render};
use crate::config::Conformance;
use crate::http::i18n::Texts;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

/// `web/accessibility.html`
#[derive(Template)]
#[template(path = "accessibility.html")]
pub(super) struct AccessibilityPage<'a> {
    pub(super) t: Texts,
    pub(super) layout: Layout<'a>,
    /// The opening sentence, with the organisation's name.
    pub(super) intro: String,
    /// Every criterion met, as far as the organisation knows.
    pub(super) full: bool,
    /// The last check's date, if stated.
    pub(super) last_checked: &'a str,
    /// How it was done, if stated.
    pub(super) method: &'a str,
    /// Where to report a problem, and whether that is an e-mail address.
    pub(super) contact: &'a str,
    pub(super) contact_is_mail: bool,
    /// The problems known.
    pub(super) known_issues: &'a [String],
}

/// `GET /accessibility`
pub async fn accessibility(req: HttpRequest) -> HttpResponse {
    let ctx = Ctx::of(&req);
    let a = &ctx.config.accessibility;
    let contact = match a.contact.trim() {
        "" => ctx.config.org.contact_email.as_str(),
        c => c,
    };
    let t = Texts(ctx.lang);
    html(render(&AccessibilityPage {
        intro: crate::http::i18n::fill(&t["a11y_intro"], &[("org", &ctx.config.org.name)]),
        t,
        layout: ctx.layout(true),
        full: a.conformance == Conformance::Full,
        last_checked: &a.last_checked,
        method: &a.method,
        contact,
        contact_is_mail: !contact.starts_with("https://"),
        known_issues: &a.known_issues,
    }))
}
