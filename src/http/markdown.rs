//! The disclosure policy page's Markdown: where it comes from (`org.policy_file` or the built-in
//! Dutch and English policy) and safe rendering (raw HTML is shown as text; only http(s),
//! mailto and relative links survive). The only module that uses pulldown-cmark.

use crate::config::Config;
use pulldown_cmark::{CowStr, Event, Parser, Tag};

const POLICY_NL: &str = include_str!("../../web/policy/nl.md");
const POLICY_EN: &str = include_str!("../../web/policy/en.md");

/// The policy's Markdown in language `lang` (a configured file is used for every language).
pub fn policy_source(config: &Config, lang: &str) -> std::io::Result<String> {
    if !config.org.policy_file.as_os_str().is_empty() {
        return std::fs::read_to_string(&config.org.policy_file);
    }
    Ok(match lang {
        "en" => POLICY_EN,
        _ => POLICY_NL,
    }
    .to_owned())
}

fn safe_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    match lower.split_once(':') {
        Some((scheme, _)) if !scheme.contains('/') && !scheme.contains('?') => {
            matches!(scheme, "http" | "https" | "mailto")
        }
        _ => true,
    }
}

/// Renders Markdown to HTML without letting the source inject markup or scripts. Links within
/// the portal (`/…` without a query) keep the page language `lang`.
pub fn to_html(markdown: &str, lang: &str) -> String {
    let events = Parser::new(markdown).map(|event| match event {
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) if dest_url.starts_with('/')
            && !dest_url.starts_with("//")
            && !dest_url.contains('?') =>
        {
            Event::Start(Tag::Link {
                link_type,
                dest_url: CowStr::from(format!("{dest_url}?lang={lang}")),
                title,
                id,
            })
        }
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) if !safe_url(&dest_url) => Event::Start(Tag::Link {
            link_type,
            dest_url: CowStr::Borrowed("#"),
            title,
            id,
        }),
        Event::Start(Tag::Image { .. }) => Event::Text(CowStr::Borrowed("")),
        other => other,
    });
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, events);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_html_and_script_links_are_neutralised() {
        let html = to_html(
            "# Hi\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1)) [y](https://a.example/) [z](/status) {{slot}}",
            "en",
        );
        assert!(html.contains("<h1>Hi</h1>"), "{html}");
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("href=\"#\""), "{html}");
        assert!(html.contains("href=\"https://a.example/\""));
        assert!(html.contains("href=\"/status?lang=en\""));
    }

    #[test]
    fn the_built_in_policies_mention_every_promise() {
        for md in [POLICY_NL, POLICY_EN] {
            for slot in [
                "{{acknowledge_period}}",
                "{{assess_period}}",
                "{{resolve_days}}",
                "{{data_breach_notify_hours}}",
                "{{contact_email}}",
            ] {
                assert!(md.contains(slot), "{slot}");
            }
        }
    }
}
