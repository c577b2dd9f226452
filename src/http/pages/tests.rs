//! Every page type escapes what a reporter controls; the script texts cannot end their element.

use super::*;
use crate::config::Config;
use crate::deadlines::ClockKind;
use crate::intake::ReceiptFile;
use crate::record::{Category, Status};
use crate::workflow::{CreditView, Happened, PublicationView, ReporterPromise, TimelineEntry};
use status::status_page_of;
use std::collections::BTreeMap;

/// What a reporter might type or name a file, and how askama writes it.
const HOSTILE: &str = "<script>alert(\"x\")</script> 'q' & co";
const ESCAPED: &str = "&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#39;q&#39; &#38; co";

fn ctx<'a>(config: &'a Config, lang: Lang, path: &'a str) -> Ctx<'a> {
    Ctx {
        config,
        public_url: "https://meldpunt.example".into(),
        policy: None,
        offers_acknowledgement: true,
        lang,
        path,
    }
}

fn assert_escaped(page: &str) {
    assert!(page.contains(ESCAPED), "{page}");
    assert!(!page.contains("<script>alert"), "{page}");
}

fn status(status: Status) -> ReporterStatus {
    ReporterStatus {
        status,
        promises: vec![ReporterPromise {
            kind: ClockKind::Acknowledge,
            due: "2026-12-03 17:00 CET".into(),
            done: false,
            on_time: None,
        }],
        expected_fix: None,
        credit: None,
        publication: None,
        timeline: Vec::new(),
    }
}

#[test]
fn the_receipt_escapes_the_reporters_file_names() {
    let receipt = Receipt {
        reference: Some("ABCD-EFGH-JKMN-PQRS-T".into()),
        follow_up_to: None,
        case: "2026-0001".into(),
        category: Category::DataBreach,
        received_at: "2026-12-01T10:00:00Z".into(),
        files: vec![ReceiptFile {
            index: 0,
            name: HOSTILE.into(),
            size: 10,
            ciphertext_size: 200,
            sha256: "ab".repeat(32),
            ciphertext_digest: format!("blake3:{}", "cd".repeat(32)),
        }],
        key_ids: Vec::new(),
        status: status(Status::Received),
        acknowledgement: Some("queued"),
        signed_receipt: crate::receipt::SignedReceipt {
            text: format!(
                "sealdrop receipt v1\nportal: https://x.example\ncase: 2026-0001\nreceived: x\nname={HOSTILE}\n"
            ),
            signature: "-----BEGIN SSH SIGNATURE-----\nAA==\n-----END SSH SIGNATURE-----\n".into(),
            key: String::new(),
        },
    };
    let config = Config::default();
    for lang in [Lang::Nl, Lang::En] {
        let page = render(&receipt_page_of(&ctx(&config, lang, "/"), &receipt));
        assert_escaped(&page);
        assert!(page.contains("<td>1</td><td>&#60;script"), "{page}");
        assert!(page.contains("?subject=") && page.contains("%202026-0001\""));
        assert!(page.contains("href=\"data:text/plain;charset=utf-8,sealdrop%20receipt%20v1%0A"));
        assert!(page.contains("download=\"receipt-2026-0001.txt.sig\""));
        assert!(page.contains("-I x.example -n sealdrop-receipt"), "{page}");
    }
}

#[test]
fn the_upload_form_escapes_the_organisation_and_its_action() {
    let mut config = Config::default();
    config.org.name = HOSTILE.into();
    for lang in [Lang::Nl, Lang::En] {
        let page = render(&index_page(&ctx(&config, lang, "/u/x"), HOSTILE, true));
        assert_escaped(&page);
        assert!(page.contains(&format!("action=\"{ESCAPED}?lang={lang}\"")));
        assert!(page.contains("class=\"invite\"") && page.contains("name=\"acknowledge\""));
    }
}

#[test]
fn the_status_page_escapes_the_path_in_its_language_switch() {
    let config = Config::default();
    let path = format!("/status{HOSTILE}");
    for lang in [Lang::Nl, Lang::En] {
        let page = render(&status_page_of(&ctx(&config, lang, &path), None, None));
        assert_escaped(&page);
        assert!(page.contains(&format!("href=\"/status{ESCAPED}?lang=en\"")));
        let found = status(Status::Resolved);
        let page = render(&status_page_of(
            &ctx(&config, lang, &path),
            Some(&found),
            Some("ABCD-EFGH-JKMN-PQRS-T"),
        ));
        assert!(page.contains("data-status=\"resolved\""), "{page}");
        assert!(
            !page.contains("/api/v1/submissions/files"),
            "closed: no file form"
        );
    }
}

#[test]
fn the_status_page_escapes_messages_names_and_links_and_keeps_the_reference_for_more_files() {
    let config = Config::default();
    let mut found = status(Status::InProgress);
    found.expected_fix = Some("2027-02-15".into());
    found.credit = Some(CreditView {
        requested: true,
        published: Some(HOSTILE.into()),
    });
    found.publication = Some(PublicationView {
        date: "2027-03-01".into(),
        url: Some(format!("https://x.example/{HOSTILE}")),
    });
    found.timeline = vec![
        TimelineEntry {
            at: "2026-12-02T10:00:00Z".into(),
            local: "2026-12-02 11:00 CET".into(),
            what: Happened::Message {
                text: format!("line one\n{HOSTILE}"),
            },
        },
        TimelineEntry {
            at: "2026-12-01T10:00:00Z".into(),
            local: "2026-12-01 11:00 CET".into(),
            what: Happened::FilesAdded { files: 2 },
        },
    ];
    for lang in [Lang::Nl, Lang::En] {
        let page = render(&status_page_of(
            &ctx(&config, lang, "/api/v1/status"),
            Some(&found),
            Some("ABCD-EFGH-JKMN-PQRS-T"),
        ));
        assert_escaped(&page);
        assert!(!page.contains("<script>alert"));
        assert!(
            page.contains("2027-02-15") && page.contains("2027-03-01"),
            "{page}"
        );
        assert!(
            page.contains(
                "<input type=\"hidden\" name=\"reference\" value=\"ABCD-EFGH-JKMN-PQRS-T\">"
            ),
            "{page}"
        );
        assert!(!page.contains("id=\"fu-reference\""));
        let added = if lang == Lang::En {
            "You added 2 files."
        } else {
            "U hebt 2 bestanden toegevoegd."
        };
        assert!(page.contains(added), "{page}");
        let message = page.find("line one").unwrap();
        assert!(message < page.find(added).unwrap(), "newest first");
    }
}

#[test]
fn the_error_page_escapes_the_path_it_leads_back_to() {
    let config = Config::default();
    let path = format!("/u/{HOSTILE}");
    for lang in [Lang::Nl, Lang::En] {
        let page = render(&error_page_of(
            &ctx(&config, lang, &path),
            &ApiError::RateLimited(7),
        ));
        assert_escaped(&page);
        assert!(page.contains(&format!("<a href=\"/u/{ESCAPED}?lang={lang}\"")));
        assert!(
            page.contains("data-error-code=\"too-many-requests\""),
            "{page}"
        );
    }
}

#[test]
fn the_policy_page_shows_raw_html_and_quotes_in_the_markdown_as_text() {
    let mut config = Config::default();
    config.org.name = HOSTILE.into();
    let markdown = format!("# Policy\n\n{HOSTILE}\n\n<b onclick=\"x()\">bold</b>\n");
    let page = render(&policy_page_of(
        &ctx(&config, Lang::En, "/policy"),
        &markdown,
    ));
    assert!(page.contains("<h1>Policy</h1>"), "{page}");
    assert!(
        !page.contains("<script>alert") && !page.contains("<b onclick"),
        "{page}"
    );
    assert!(
        page.contains("&lt;b onclick"),
        "pulldown-cmark escapes the raw HTML"
    );
    assert!(page.contains(&format!("<p class=\"org\">{ESCAPED}</p>")));
}

#[test]
fn no_text_can_close_the_script_element_that_carries_the_js_texts() {
    let config = Config::default();
    let ctx = ctx(&config, Lang::En, "/");
    let mut page = error_page_of(&ctx, &ApiError::NotFound);
    let hostile = "</script><script>alert('x')</script><!-- & --!>";
    page.layout.js.insert("copy", hostile);
    let html = render(&page);
    assert_eq!(html.matches("</script>").count(), 2, "{html}");
    assert!(!html.contains("<!--"));
    let json = html
        .split("<script type=\"application/json\" id=\"sealdrop-i18n\">")
        .nth(1)
        .and_then(|rest| rest.split("</script>").next())
        .unwrap();
    let texts: BTreeMap<String, String> = serde_json::from_str(json).unwrap();
    assert_eq!(texts["copy"], hostile);
    assert_eq!(texts["cancel"], "Cancel upload");
}

#[test]
fn every_text_a_template_names_exists_in_both_languages() {
    let templates = [
        include_str!("../../../web/layout.html"),
        include_str!("../../../web/index.html"),
        include_str!("../../../web/status.html"),
        include_str!("../../../web/add-files.html"),
        include_str!("../../../web/promises.html"),
        include_str!("../../../web/receipt.html"),
        include_str!("../../../web/error.html"),
        include_str!("../../../web/policy.html"),
        include_str!("../../../web/acknowledgments.html"),
        include_str!("../../../web/accessibility.html"),
        include_str!("status.rs"),
    ];
    let (nl, en) = (i18n::keys(Lang::Nl), i18n::keys(Lang::En));
    let mut named = 0;
    for template in templates {
        for part in template.split("t[\"").skip(1) {
            let key = part.split('"').next().unwrap();
            assert!(nl.iter().any(|k| k == key), "{key} missing in nl.toml");
            assert!(en.iter().any(|k| k == key), "{key} missing in en.toml");
            named += 1;
        }
    }
    assert!(named >= 60, "{named}");
}
