//! The team's console in headless Chromium: sign-in at the certified OpenID provider
//! (`oidc-provider`), the inbox, a change of state and a message to the reporter through the
//! forms (no script needed), sign-out; and axe-core on every console page in Dutch and English.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use crate::console::{Member, console_config, report};
use crate::webdriver::{Driver, Session};

/// Signs the browser in with a one-time link (the page's button).
fn sign_in_with_link(s: &Session, setup: &Setup, name: &str, role: &str) {
    let url = admin_ok(setup, &["console-link", "--as", name, "--role", role]);
    // Browsers keep `Secure` cookies from plain http only for `localhost`.
    s.goto(&url.trim().replace("127.0.0.1", "localhost"));
    s.click(&s.find("form[action^='/sign-in/link'] button"));
    s.wait_for("table.cases, p.notice, main h1", 20);
}

#[test]
fn every_console_page_passes_axe_core_in_dutch_and_english() {
    let (_, console) = console_config("");
    let setup = Setup::new(1, &console);
    let server = setup.start();
    let (breach, _) = report(&server, "data-breach");
    let (vuln, _) = report(&server, "vulnerability");
    let m = Member::by_link(&setup, &server, "axe", "admin");
    m.act(&breach, "status", &[("status", "acknowledged")]);
    m.act(&breach, "tell", &[("text", "Thank you.")]);
    m.act(&vuln, "assign", &[("to", "axe")]);
    let base = format!("http://localhost:{}", server.console().port());
    let driver = Driver::start();
    for lang in ["nl", "en"] {
        let s = driver.session(true, lang, setup.dir.path());
        s.goto(&format!("{base}/sign-in?lang={lang}"));
        s.assert_accessible(&format!("console-sign-in-{lang}"));
        sign_in_with_link(&s, &setup, "reviewer@example.org", "admin");
        for (name, path) in [
            ("inbox", "/".to_owned()),
            ("closed", "/?state=closed".to_owned()),
            ("case-breach", format!("/cases/{breach}")),
            ("case-vulnerability", format!("/cases/{vuln}")),
            ("audit", "/audit".to_owned()),
            ("keys", "/keys".to_owned()),
            ("invites", "/invites".to_owned()),
            ("no-such-case", "/cases/2026-9999".to_owned()),
        ] {
            s.goto(&format!(
                "{base}{path}{}lang={lang}",
                if path.contains('?') { '&' } else { '?' }
            ));
            let html = s.exec(
                "return document.documentElement.lang",
                serde_json::json!([]),
            );
            assert_eq!(html, lang, "{name}");
            assert!(
                s.try_find("form[action^='/sign-out']").is_some(),
                "{name}: signed in"
            );
            s.assert_accessible(&format!("console-{name}-{lang}"));
        }
        // A refused action shows the case page with its error.
        s.goto(&format!("{base}/cases/{breach}?lang={lang}"));
        s.type_text(&s.find("#expect-date"), "01-01-2020");
        s.click(&s.find("section[aria-labelledby=a-expect] button"));
        s.wait_for("div.error", 20);
        s.assert_accessible(&format!("console-case-error-{lang}"));
    }
}
