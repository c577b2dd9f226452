//! Server-rendered pages from `web/` (embedded in the binary): the upload form, the receipt,
//! error pages, the stylesheet and the health check. Every value is HTML-escaped.

use crate::config::ByteSize;
use crate::error::ApiError;
use crate::intake::Receipt;
use crate::portal::Portal;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

const INDEX: &str = include_str!("../../web/index.html");
const RECEIPT: &str = include_str!("../../web/receipt.html");
const ERROR: &str = include_str!("../../web/error.html");
const STYLE: &str = include_str!("../../web/style.css");
const STATUS: &str = include_str!("../../web/status.html");

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

fn org(req: &HttpRequest) -> (String, String) {
    req.app_data::<web::Data<Portal>>()
        .map(|p| {
            (
                escape(&p.config.org.name),
                escape(&p.config.org.contact_email),
            )
        })
        .unwrap_or_default()
}

/// `GET /`: the upload form.
pub async fn index(portal: web::Data<Portal>) -> HttpResponse {
    html(upload_form(&portal, "/api/v1/submissions", ""))
}

fn html(page: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(page)
}

/// The upload form posting to `action`, with an optional banner above it.
pub fn upload_form(portal: &Portal, action: &str, banner: &str) -> String {
    let c = &portal.config;
    let l = &c.limits;
    let acknowledge = if portal.notifier.offers_acknowledgement() {
        "<label><input type=\"checkbox\" name=\"acknowledge\" value=\"yes\"> E-mail me an \
         acknowledgement with my reference (your address is used once and not stored)</label>\n"
    } else {
        ""
    };
    fill(
        INDEX,
        &[
            ("action", escape(action)),
            ("invite_banner", banner.to_owned()),
            ("acknowledge", acknowledge.to_owned()),
            ("org", escape(&c.org.name)),
            ("contact_email", escape(&c.org.contact_email)),
            ("policy_url", escape(&c.org.policy_url)),
            ("max_files", l.max_files.to_string()),
            ("max_file_size", escape(&l.max_file_size.to_string())),
            (
                "max_submission_size",
                escape(&l.max_submission_size.to_string()),
            ),
            ("max_message_chars", l.max_message_bytes.to_string()),
            ("max_contact_chars", l.max_contact_bytes.to_string()),
        ],
    )
}

/// `GET /status`: look up a report's status, or add files to it.
pub async fn status_form(req: HttpRequest) -> HttpResponse {
    html(status_page(&req, ""))
}

/// The status page with `result` (already HTML) above the forms.
pub fn status_page(req: &HttpRequest, result: &str) -> String {
    let (org, _) = org(req);
    fill(STATUS, &[("org", org), ("result", result.to_owned())])
}

/// The HTML of a reporter's status.
pub fn status_result(s: &crate::workflow::ReporterStatus) -> String {
    format!(
        "<section class=\"status\" aria-live=\"polite\"><p>Current state: <strong>{}</strong></p>\n{}</section>\n",
        escape(s.status.as_str()),
        promises_html(s)
    )
}

fn promises_html(s: &crate::workflow::ReporterStatus) -> String {
    let rows: String = s
        .promises
        .iter()
        .map(|p| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                escape(p.kind.describe()),
                escape(&p.due),
                if p.done { "done" } else { "open" }
            )
        })
        .collect();
    format!(
        "<table class=\"promises\"><thead><tr><th>Our promise</th><th>By</th><th>State</th></tr></thead>\n<tbody>\n{rows}</tbody></table>\n"
    )
}

/// The receipt page after a browser form post.
pub fn receipt_page(req: &HttpRequest, r: &Receipt) -> String {
    let (org, contact) = org(req);
    let rows: String = r
        .files
        .iter()
        .map(|f| {
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"hash\">{}</td></tr>\n",
                f.index + 1,
                escape(&f.name),
                escape(&ByteSize(f.size).to_string()),
                escape(&f.ciphertext_sha256)
            )
        })
        .collect();
    let reference = match (&r.reference, &r.follow_up_to) {
        (Some(reference), _) => escape(reference),
        (None, Some(case)) => format!("(unchanged: added to case {})", escape(case)),
        (None, None) => String::new(),
    };
    fill(
        RECEIPT,
        &[
            ("org", org),
            ("contact_email", contact),
            ("promises", promises_html(&r.status)),
            (
                "acknowledged",
                if r.acknowledgement_sent {
                    "<p>An acknowledgement with this reference is on its way to your e-mail address.</p>".into()
                } else {
                    String::new()
                },
            ),
            ("reference", reference),
            ("case", escape(&r.case)),
            ("received_at", escape(&r.received_at)),
            ("category", escape(r.category.as_str())),
            ("files", rows),
        ],
    )
}

/// An error page for browsers.
pub fn error_page(req: &HttpRequest, err: &ApiError) -> String {
    let (org, _) = org(req);
    fill(
        ERROR,
        &[
            ("org", org),
            ("message", escape(&err.to_string())),
            ("code", escape(err.code())),
        ],
    )
}

/// `GET /static/style.css`
pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(STYLE)
}

/// `GET /healthz`: 200 while the portal can take uploads.
pub async fn healthz(portal: web::Data<Portal>) -> HttpResponse {
    match portal.blobs.free_bytes() {
        Ok(free) if free >= portal.config.storage.min_free_bytes.0 => {
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
