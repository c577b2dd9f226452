//! The reporter's case page and the public acknowledgments in real headless Chromium: a
//! reporter asks for credit (with and without JavaScript), the team sets an expected date and
//! sends two messages, the reporter reads them on /status in English and in Dutch and adds a
//! file without typing the reference again, the team publishes the credit, and
//! /acknowledgments and security.txt show it. The portal wears an organisation's own logo,
//! accent colour and footer link; axe-core finds no violation.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use crate::webdriver::{Driver, Session};
use serde_json::json;

const FIRST: &str = "Thank you! We reproduced it and plan a fix for February.";
const SECOND: &str = "The fix is being tested now.";
const LOGO: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40" viewBox="0 0 120 40"><rect width="120" height="40" fill="#005a30"/><text x="10" y="26" fill="#fff" font-size="16">Gemeente</text></svg>"##;

fn look_up(s: &Session, server: &Server, lang: &str, reference: &str) -> String {
    s.goto(&format!("{}status?lang={lang}", server.url));
    s.type_text(&s.find("#reference"), reference);
    s.click(&s.find("form[action^='/api/v1/status'] button"));
    let section = s.wait_for("section.status", 20);
    s.text(&section)
}

#[test]
fn a_reporter_reads_the_teams_messages_and_sees_the_published_credit() {
    let setup = Setup::new(
        1,
        "[branding]\nlogo_file = \"logo.svg\"\nlogo_alt = \"Gemeente Voorbeeld\"\n\
         accent = \"#005a30\"\nfooter_links = [{ label = \"Privacy\", url = \"https://example.org/privacy\" }]\n",
    );
    std::fs::write(setup.dir.path().join("logo.svg"), LOGO).unwrap();
    let server = setup.start();
    let evidence = setup.dir.path().join("poc.txt");
    std::fs::write(&evidence, b"proof of concept").unwrap();
    let more = setup.dir.path().join("more.txt");
    std::fs::write(&more, b"a second screenshot").unwrap();
    let driver = Driver::start();

    // With JavaScript, in English, asking to be credited.
    let s = driver.session(true, "en", setup.dir.path());
    s.goto(&format!("{}?lang=en", server.url));
    let logo = s.find("header img.logo");
    assert_eq!(
        s.attribute(&logo, "alt").as_deref(),
        Some("Gemeente Voorbeeld")
    );
    let loaded = s.exec(
        "const i = document.querySelector('header img.logo'); return i.complete && i.naturalWidth > 0;",
        json!([]),
    );
    assert_eq!(loaded, json!(true), "the logo loads under the CSP");
    let accent = s.exec(
        "return getComputedStyle(document.getElementById('send')).backgroundColor;",
        json!([]),
    );
    assert_eq!(accent, json!("rgb(0, 90, 48)"));
    assert!(s.text(&s.find("footer")).contains("Privacy"));
    s.assert_accessible("branded-index-en");
    s.click(&s.find("input[name=category][value=vulnerability]"));
    s.type_text(&s.find("#message"), "The search form reflects input.");
    s.type_text(&s.find("#contact"), "finder@example.net");
    s.type_text(&s.find("#credit"), "Ada the Finder");
    s.type_text(&s.find("#file"), evidence.to_str().unwrap());
    s.click(&s.find("#send"));
    let reference = s.text(&s.wait_for("#reference", 60));
    let case = s.text(&s.find("#case"));
    assert!(s.text(&s.find("main")).contains("expected date for a fix"));
    let v = show(&setup, &case);
    assert_eq!(v["disclosure"]["credit_requested"], true, "{v}");

    // The team's side.
    admin_ok(
        &setup,
        &["status", &case, "assessed", "--expect", "2027-02-15"],
    );
    admin_ok(&setup, &["tell", &case, FIRST]);
    admin_ok(&setup, &["tell", &case, SECOND]);

    let page = look_up(&s, &server, "en", &reference.to_ascii_lowercase());
    assert!(page.contains("Expected fix date: 2027-02-15"), "{page}");
    assert!(
        page.contains("You asked to be named as the discoverer"),
        "{page}"
    );
    let (first, second) = (page.find(FIRST).unwrap(), page.find(SECOND).unwrap());
    assert!(second < first, "newest first: {page}");
    assert!(page.contains("Message from the security team"), "{page}");
    s.assert_accessible("case-page-en");

    // More files without typing the reference again.
    let hidden =
        s.find("form[action^='/api/v1/submissions/files'] input[type=hidden][name=reference]");
    assert_eq!(
        s.attribute(&hidden, "value").as_deref(),
        Some(reference.as_str())
    );
    assert!(s.try_find("#fu-reference").is_none());
    s.type_text(&s.find("#fu-file"), more.to_str().unwrap());
    s.click(&s.find("form[action^='/api/v1/submissions/files'] button"));
    s.wait_for("#case", 30);
    assert!(s.text(&s.find("main")).contains(&case), "added to the case");

    // In Dutch, the same case.
    let nl = driver.session(true, "nl", setup.dir.path());
    let page = look_up(&nl, &server, "nl", &reference);
    assert!(page.contains("Bericht van het securityteam"), "{page}");
    assert!(page.contains(FIRST) && page.contains(SECOND), "{page}");
    assert!(page.contains("U hebt 1 bestand toegevoegd."), "{page}");
    assert!(
        page.contains("Verwachte datum van herstel: 2027-02-15"),
        "{page}"
    );
    nl.assert_accessible("case-page-nl");

    // Resolved and credited: the public page and security.txt show it.
    admin_ok(&setup, &["status", &case, "resolved"]);
    admin_ok(&setup, &["credit", &case, "--as", "Ada the Finder"]);
    nl.goto(&format!("{}acknowledgments?lang=nl", server.url));
    assert!(nl.text(&nl.find("main")).contains("Ada the Finder"));
    nl.assert_accessible("acknowledgments-nl");
    s.goto(&format!("{}acknowledgments?lang=en", server.url));
    let listed = s.text(&s.find("main"));
    assert!(
        listed.contains("Acknowledgments") && listed.contains("Ada the Finder"),
        "{listed}"
    );
    let page = look_up(&s, &server, "en", &reference);
    assert!(page.contains("You are named as the discoverer"), "{page}");
    let txt = get(server.addr, "/.well-known/security.txt", "").text();
    assert!(
        txt.contains("Acknowledgments: ") && txt.contains("/acknowledgments"),
        "{txt}"
    );
    drop((s, nl));
}

#[test]
fn without_javascript_the_plain_form_asks_for_credit_too() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let driver = Driver::start();
    let s = driver.session(false, "nl", setup.dir.path());
    s.goto(&server.url);
    assert!(
        s.text(&s.find("label[for=credit]"))
            .contains("Noem mij als ontdekker")
    );
    s.click(&s.find("input[name=category][value=incident]"));
    s.type_text(&s.find("#message"), "Zonder JavaScript.");
    s.type_text(&s.find("#credit"), "Anoniem Niet");
    s.click(&s.find("#send"));
    let case = s.text(&s.wait_for("#case", 60));
    assert_eq!(show(&setup, &case)["disclosure"]["credit_requested"], true);
    drop(s);
}
