//! Server-rendered pages from `web/` (embedded in the binary): the upload form, receipt, status,
//! invitation, policy and error pages in the request's language, plus the static files. Every
//! value is HTML-escaped; texts come from `web/i18n/`.

use super::i18n::{self, Lang};
use crate::config::ByteSize;
use crate::error::ApiError;
use crate::intake::Receipt;
use crate::portal::Portal;
use crate::workflow::ReporterStatus;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

const LAYOUT: &str = include_str!("../../web/layout.html");
const INDEX: &str = include_str!("../../web/index.html");
const RECEIPT: &str = include_str!("../../web/receipt.html");
const ERROR: &str = include_str!("../../web/error.html");
const STATUS: &str = include_str!("../../web/status.html");
const POLICY: &str = include_str!("../../web/policy.html");
const STYLE: &str = include_str!("../../web/style.css");
const APP_JS: &str = include_str!("../../web/app.js");

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Braces too, so a value can never form a `{{slot}}` for a later fill.
            '{' => out.push_str("&#123;"),
            c => out.push(c),
        }
    }
    out
}

/// Fills `{{name}}` slots; values must already be escaped.
fn fill(template: &str, slots: &[(&str, String)]) -> String {
    let mut out = template.to_owned();
    for (name, value) in slots {
        out = out.replace(&format!("{{{{{name}}}}}"), value);
    }
    out
}

fn portal_of(req: &HttpRequest) -> Option<&Portal> {
    req.app_data::<web::Data<Portal>>().map(|p| p.get_ref())
}

/// The language of `req` among the configured ones.
pub fn lang_of(req: &HttpRequest) -> Lang {
    match portal_of(req) {
        Some(p) => i18n::negotiate(req, &p.config().org.languages),
        None => Lang::Nl,
    }
}

/// One page: `content` (a template with `{{t.…}}` and `{{…}}` slots) inside the layout.
struct Page<'a> {
    req: &'a HttpRequest,
    lang: Lang,
    title: &'a str,
    content: &'a str,
    /// Offer the language switch (pages reached by GET only: a POST result cannot be re-asked).
    switch: bool,
}

impl Page<'_> {
    fn render(&self, values: &[(&str, String)]) -> String {
        let page = LAYOUT
            .replace("{{content}}", self.content)
            .replace("{{title}}", &format!("{{{{t.{}}}}}", self.title));
        let page = i18n::translate(&page, self.lang);
        let mut all: Vec<(&str, String)> = values.to_vec();
        all.extend(self.common());
        fill(&page, &all)
    }

    fn common(&self) -> Vec<(&'static str, String)> {
        let lang = self.lang.tag();
        let (org, contact, policy, languages, public) = match portal_of(self.req) {
            Some(p) => (
                p.config().org.name.clone(),
                p.config().org.contact_email.clone(),
                p.config().org.policy_url.clone(),
                p.config().org.languages.clone(),
                p.public_url(),
            ),
            None => Default::default(),
        };
        let sep = if policy.contains('?') { '&' } else { '?' };
        vec![
            ("lang_links", self.lang_links(&languages)),
            ("js_strings", i18n::js_strings(self.lang)),
            ("org", escape(&org)),
            ("contact_email", escape(&contact)),
            ("policy_url", escape(&format!("{policy}{sep}lang={lang}"))),
            ("public_url", escape(&public)),
            ("lang", lang.to_owned()),
        ]
    }

    fn lang_links(&self, languages: &[String]) -> String {
        if !self.switch || languages.len() < 2 {
            return String::new();
        }
        let path = escape(self.req.path());
        let items: String = languages
            .iter()
            .filter_map(|l| match l.as_str() {
                "nl" => Some(Lang::Nl),
                "en" => Some(Lang::En),
                _ => None,
            })
            .map(|l| {
                let current = if l == self.lang {
                    " aria-current=\"true\""
                } else {
                    ""
                };
                format!(
                    "<li><a href=\"{path}?lang={tag}\" lang=\"{tag}\" hreflang=\"{tag}\"{current}>{name}</a></li>",
                    tag = l.tag(),
                    name = escape(&i18n::t(l, "lang_name")),
                )
            })
            .collect();
        format!(
            "<nav class=\"langs\" aria-label=\"{}\"><ul>{items}</ul></nav>",
            escape(&i18n::t(self.lang, "lang_switch"))
        )
    }
}

/// A 200 HTML page.
pub fn html(page: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page)
}

/// `GET /`: the upload form.
pub async fn index(req: HttpRequest, portal: web::Data<Portal>) -> HttpResponse {
    html(upload_form(&req, &portal, "/api/v1/submissions", ""))
}

/// The upload form posting to `action`, with an optional banner above it (a trusted template:
/// it may hold `{{t.…}}` slots).
pub fn upload_form(req: &HttpRequest, portal: &Portal, action: &str, banner: &str) -> String {
    let lang = lang_of(req);
    let c = &portal.config();
    let l = &c.limits;
    let acknowledge = if portal.notifier().offers_acknowledgement() {
        "<label class=\"choice\"><input type=\"checkbox\" name=\"acknowledge\" value=\"yes\"> \
         {{t.acknowledge_label}}</label>\n"
    } else {
        ""
    };
    let content = INDEX
        .replace("{{acknowledge}}", acknowledge)
        .replace("{{invite_banner}}", banner);
    Page {
        req,
        lang,
        title: "index_title",
        content: &content,
        switch: true,
    }
    .render(&[
        ("action", escape(&format!("{action}?lang={}", lang.tag()))),
        ("max_files", l.max_files.to_string()),
        ("max_file_size", escape(&l.max_file_size.to_string())),
        ("max_file_bytes", l.max_file_size.0.to_string()),
        (
            "max_submission_size",
            escape(&l.max_submission_size.to_string()),
        ),
        ("max_submission_bytes", l.max_submission_size.0.to_string()),
        ("max_message_chars", l.max_message_bytes.to_string()),
        (
            "max_message_size",
            escape(&ByteSize(l.max_message_bytes as u64).to_string()),
        ),
        ("max_contact_chars", l.max_contact_bytes.to_string()),
        (
            "contact_required_for",
            escape(&c.org.contact_required_for.join(" ")),
        ),
    ])
}

/// `GET /status`: look up a report's status, or add files to it.
pub async fn status_form(req: HttpRequest) -> HttpResponse {
    html(status_page(&req, None))
}

/// The form for follow-up files (left out once a looked-up case is closed).
const ADD_FILES: &str = include_str!("../../web/add-files.html");

/// The status page, with a lookup's result above the forms.
pub fn status_page(req: &HttpRequest, result: Option<&ReporterStatus>) -> String {
    let lang = lang_of(req);
    let closed = result.is_some_and(|s| s.status.is_final());
    let content = STATUS.replace("{{add_files}}", if closed { "" } else { ADD_FILES });
    Page {
        req,
        lang,
        title: "status_title",
        content: &content,
        switch: result.is_none(),
    }
    .render(&[(
        "result",
        result.map(|s| status_result(lang, s)).unwrap_or_default(),
    )])
}

fn status_result(lang: Lang, s: &ReporterStatus) -> String {
    let state = i18n::t(
        lang,
        &format!("state_{}", s.status.as_str().replace('-', "_")),
    );
    format!(
        "<section class=\"status\" aria-live=\"polite\" data-status=\"{}\"><p>{}: <strong>{}</strong></p>\n{}</section>\n",
        escape(s.status.as_str()),
        escape(&i18n::t(lang, "status_current")),
        escape(&state),
        promises_html(lang, s)
    )
}

fn promises_html(lang: Lang, s: &ReporterStatus) -> String {
    let rows: String = s
        .promises
        .iter()
        .map(|p| {
            format!(
                "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td></tr>\n",
                escape(&i18n::t(lang, &format!("promise_{}", p.kind.as_str()))),
                escape(&p.due),
                escape(&i18n::t(
                    lang,
                    match (p.done, s.status) {
                        (true, _) => "status_done",
                        (false, crate::record::Status::Rejected) => "status_not_applicable",
                        (false, _) => "status_open",
                    }
                ))
            )
        })
        .collect();
    format!(
        "<table class=\"promises\"><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead>\n<tbody>\n{rows}</tbody></table>\n",
        escape(&i18n::t(lang, "status_promise")),
        escape(&i18n::t(lang, "status_by")),
        escape(&i18n::t(lang, "status_state")),
    )
}

/// The receipt page after a browser form post.
pub fn receipt_page(req: &HttpRequest, r: &Receipt) -> String {
    let lang = lang_of(req);
    let reference_block = match (&r.reference, &r.follow_up_to) {
        (Some(reference), _) => format!(
            "<h2 id=\"reference-label\">{{{{t.receipt_reference}}}}</h2>\n\
             <p class=\"reference\" id=\"reference\" aria-labelledby=\"reference-label\">{}</p>\n\
             <p class=\"actions\" hidden><button type=\"button\" id=\"copy\" data-copy=\"reference\">{{{{t.js_copy}}}}</button> \
             <button type=\"button\" id=\"download\" class=\"secondary\">{{{{t.js_download}}}}</button></p>\n\
             <p>{{{{t.receipt_shown_once}}}}</p>\n<p>{{{{t.receipt_next}}}}</p>\n",
            escape(reference)
        ),
        (None, Some(case)) => format!(
            "<p>{}</p>\n",
            i18n::t(lang, "receipt_followup").replace("{{parent}}", &escape(case))
        ),
        (None, None) => String::new(),
    };
    let files = if r.files.is_empty() {
        "<p>{{t.receipt_no_files}}</p>".to_owned()
    } else {
        let rows: String = r
            .files
            .iter()
            .map(|f| {
                format!(
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"hash\">{}</td></tr>\n",
                    f.index + 1,
                    escape(&f.name),
                    escape(&ByteSize(f.size).to_string()),
                    escape(&f.sha256)
                )
            })
            .collect();
        format!(
            "<table class=\"files\"><thead><tr><th scope=\"col\">#</th><th scope=\"col\">{{{{t.receipt_file_name}}}}</th>\
             <th scope=\"col\">{{{{t.receipt_file_size}}}}</th><th scope=\"col\">{{{{t.receipt_file_hash}}}}</th></tr></thead>\n<tbody>\n{rows}</tbody></table>"
        )
    };
    let content = RECEIPT
        .replace("{{reference_block}}", &reference_block)
        .replace("{{files}}", &files);
    let category_key = match r.category.as_str() {
        "data-breach" => "cat_data_breach".to_owned(),
        other => format!("cat_{other}"),
    };
    Page {
        req,
        lang,
        title: "receipt_title",
        content: &content,
        switch: false,
    }
    .render(&[
        ("case", escape(&r.case)),
        (
            "received_at",
            escape(
                &portal_of(req)
                    .zip(crate::workflow::parse_ts(&r.received_at))
                    .map(|(p, t)| p.policy().local(t))
                    .unwrap_or_else(|| r.received_at.clone()),
            ),
        ),
        ("category", escape(&i18n::t(lang, &category_key))),
        ("promises", promises_html(lang, &r.status)),
        (
            "mail_subject",
            escape(
                &i18n::t(lang, "mail_subject")
                    .replace("{{case}}", &r.case)
                    .replace(' ', "%20"),
            ),
        ),
        (
            "acknowledged",
            match r.acknowledgement {
                Some("queued") => format!(
                    "<p class=\"note\">{}</p>",
                    escape(&i18n::t(lang, "receipt_ack_sent"))
                ),
                Some(_) => format!(
                    "<p class=\"note\">{}</p>",
                    escape(&i18n::t(lang, "receipt_ack_none"))
                ),
                None => String::new(),
            },
        ),
    ])
}

/// An error page for browsers: the message in the page's language and the stable code.
pub fn error_page(req: &HttpRequest, err: &ApiError) -> String {
    let lang = lang_of(req);
    let path = req.path();
    let back =
        if path.starts_with("/api/v1/status") || path.starts_with("/api/v1/submissions/files") {
            "/status".to_owned()
        } else if path.starts_with("/u/") && *err != ApiError::InviteGone {
            path.to_owned()
        } else {
            "/".to_owned()
        };
    Page {
        req,
        lang,
        title: "error_title",
        content: ERROR,
        switch: false,
    }
    .render(&[
        ("message", escape(&i18n::error_message(lang, err))),
        ("code", escape(err.code())),
        ("back", escape(&format!("{back}?lang={}", lang.tag()))),
    ])
}

/// `GET /policy`: the disclosure policy (Markdown, rendered without raw HTML).
pub async fn policy(req: HttpRequest, portal: web::Data<Portal>) -> HttpResponse {
    let lang = lang_of(&req);
    let markdown = match super::markdown::policy_source(portal.config(), lang.tag()) {
        Ok(md) => md,
        Err(e) => {
            tracing::error!(error = %e, "cannot read org.policy_file");
            return super::respond::error(&req, &ApiError::Internal);
        }
    };
    let sla = &portal.config().sla;
    let period = |n: u32| match (lang, n) {
        (Lang::Nl, 1) => "1 werkdag".to_owned(),
        (Lang::Nl, n) => format!("{n} werkdagen"),
        (Lang::En, 1) => "1 working day".to_owned(),
        (Lang::En, n) => format!("{n} working days"),
    };
    let markdown = fill(
        &markdown,
        &[
            ("org", portal.config().org.name.clone()),
            ("contact_email", portal.config().org.contact_email.clone()),
            ("acknowledge_period", period(sla.acknowledge_working_days)),
            ("assess_period", period(sla.assess_working_days)),
            (
                "acknowledge_working_days",
                sla.acknowledge_working_days.to_string(),
            ),
            ("assess_working_days", sla.assess_working_days.to_string()),
            ("resolve_days", sla.resolve_days.to_string()),
            (
                "data_breach_notify_hours",
                sla.data_breach_notify_hours.to_string(),
            ),
        ],
    );
    let body = super::markdown::to_html(&markdown, lang.tag());
    html(
        Page {
            req: &req,
            lang,
            title: "policy_title",
            content: POLICY,
            switch: true,
        }
        .render(&[("policy", body)]),
    )
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
mod tests {
    use super::*;

    #[test]
    fn escaping_neutralises_markup() {
        assert_eq!(
            escape("<a href=\"x\">'&"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;"
        );
    }

    #[test]
    fn slots_are_filled_everywhere() {
        assert_eq!(
            fill("{{a}}-{{a}}-{{b}}", &[("a", "1".into()), ("b", "2".into())]),
            "1-1-2"
        );
    }
}
