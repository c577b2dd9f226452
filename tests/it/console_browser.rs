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
    s.goto(url.trim());
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
    let base = format!("http://{}", server.console());
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
            ("report", "/report".to_owned()),
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

#[test]
fn a_member_signs_in_at_the_provider_acts_on_a_case_and_signs_out_and_the_reporter_sees_the_message()
 {
    let port = free_port();
    let redirect = format!("http://127.0.0.1:{port}/sign-in/callback");
    let provider = crate::oidc::Provider::start(
        "provider.mjs",
        &redirect,
        &[("OIDC_GROUPS", "sam=security-team")],
    );
    let members = "[[console.members]]\nemail = \"alice@example.org\"\nrole = \"handler\"\n\
                   [[console.members]]\ngroup = \"security-team\"\nrole = \"admin\"\n";
    let setup = Setup::new(
        1,
        &crate::oidc::console_section(port, &provider.issuer, members, ""),
    );
    let server = setup.start();
    let (case, reference) = report(&server, "vulnerability");
    let base = format!("http://127.0.0.1:{port}");
    let driver = Driver::start();
    // Each member in a browser of their own (the provider remembers who signed in).
    let at_provider = |s: &Session, login: &str| {
        s.goto(&format!("{base}/sign-in?lang=en"));
        s.click(&s.find("a[href='/sign-in/start']"));
        s.type_text(&s.wait_for("input[name=login]", 20), login);
        s.type_text(&s.find("input[name=password]"), "any");
        s.click(&s.find("button[type=submit]"));
        // The provider asks for consent once per client and account; then it is back here.
        let start = std::time::Instant::now();
        loop {
            if s.try_find("input[name=prompt][value=consent]").is_some() {
                s.click(&s.find("button[type=submit]"));
                std::thread::sleep(std::time::Duration::from_millis(300));
            }
            let here = s.exec("return location.href", serde_json::json!([]));
            if here.as_str().unwrap_or_default().starts_with(&base) {
                break;
            }
            assert!(
                start.elapsed().as_secs() < 20,
                "stuck at {here}: {}",
                s.exec("return document.body.innerHTML", serde_json::json!([]))
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    };

    // Someone the organisation knows but the console does not: a clear page, nothing else.
    let s = driver.session(false, "en", setup.dir.path());
    at_provider(&s, "mallory@example.org");
    s.wait_for("main h1", 20);
    let refused = s.text(&s.find("main"));
    assert!(
        refused.contains("mallory@example.org") && refused.contains("not a member"),
        "{refused}"
    );
    assert!(s.try_find("a[href^='/cases/']").is_none());

    drop(s);
    let s = driver.session(false, "en", setup.dir.path());
    at_provider(&s, "alice@example.org");
    let row = s.wait_for(&format!("a[href^='/cases/{case}']"), 20);
    assert!(
        s.text(&s.find("header"))
            .contains("alice@example.org (handler)")
    );
    s.click(&row);
    s.wait_for("#status", 20);
    // The test picks the option through WebDriver; the page itself runs no script.
    s.exec(
        "document.getElementById('status').value = 'acknowledged'; return true;",
        serde_json::json!([]),
    );
    s.click(&s.find("section[aria-labelledby=a-status] button"));
    s.wait_for("p.notice", 20);
    s.type_text(&s.find("#tell-text"), "Thanks! We confirmed the issue.");
    s.click(&s.find("section[aria-labelledby=a-tell] button"));
    let letters = s.wait_for("table.letters", 20);
    assert!(s.text(&letters).contains("console:alice@example.org"));
    assert!(
        s.try_find("section[aria-labelledby=a-purge]").is_none(),
        "a handler has no purge"
    );
    s.click(&s.find("form[action^='/sign-out'] button"));
    let start = std::time::Instant::now();
    while !s.title().starts_with("Signed out") {
        assert!(
            start.elapsed().as_secs() < 20,
            "not signed out: {}",
            s.title()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    s.goto(&format!("{base}/"));
    s.wait_for("a[href='/sign-in/start']", 20);

    // A member of the admins' group is an admin.
    drop(s);
    let s = driver.session(false, "en", setup.dir.path());
    at_provider(&s, "sam");
    s.wait_for("table.cases", 20);
    assert!(
        s.text(&s.find("header"))
            .contains("sam@example.org (admin)")
    );

    let v = show(&setup, &case);
    assert_eq!(v["status"], "acknowledged");
    let audit = admin_ok(&setup, &["audit"]);
    assert!(audit.contains("console:alice@example.org"), "{audit}");
    let status = post_json(
        server.addr,
        "/api/v1/status",
        &serde_json::json!({ "reference": reference }),
    );
    assert!(
        status.text().contains("Thanks! We confirmed the issue."),
        "{}",
        status.text()
    );
}
