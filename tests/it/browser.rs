//! The reporter's pages in real headless Chromium (Debian chromium + chromium-driver, through
//! WebDriver): upload with and without JavaScript, limits checked before any byte leaves the
//! browser, the language switch, the receipt's copy button, the status page, and an axe-core
//! accessibility check of every page. Screenshots land in target/screenshots/.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use crate::webdriver::{Driver, Session, screenshot_dir};
use serde_json::json;

/// The reference format: four groups of four Crockford base32 symbols and a check symbol.
pub fn well_formed_reference(r: &str) -> bool {
    let groups: Vec<&str> = r.split('-').collect();
    groups.len() == 5
        && groups[..4].iter().all(|g| {
            g.len() == 4
                && g.chars()
                    .all(|c| "0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(c))
        })
        && groups[4].len() == 1
}

/// Records every upload-progress event and progress text, before the form is sent.
const WATCH_PROGRESS: &str = r#"
window.__progress = { max: 0, texts: [] };
const send = XMLHttpRequest.prototype.send;
XMLHttpRequest.prototype.send = function (body) {
  this.upload.addEventListener('progress', function (e) {
    if (e.lengthComputable) {
      window.__progress.max = Math.max(window.__progress.max, Math.floor(e.loaded * 100 / e.total));
    }
  });
  return send.call(this, body);
};
new MutationObserver(function () {
  const t = document.getElementById('progress-text');
  if (t && t.textContent) { window.__progress.texts.push(t.textContent); }
}).observe(document.getElementById('progress-text'), { childList: true, characterData: true, subtree: true });
return true;
"#;

pub fn fill_report(s: &Session, category: &str, file: &std::path::Path) {
    s.click(&s.find(&format!("input[name=category][value={category}]")));
    s.type_text(&s.find("#message"), "Found an XSS in the search form.");
    s.type_text(&s.find("#contact"), "reporter@example.net");
    s.type_text(&s.find("#file"), file.to_str().unwrap());
}

#[test]
fn with_javascript_the_upload_shows_progress_and_a_receipt_whose_reference_works_on_the_status_page()
 {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let evidence = setup.dir.path().join("evidence-video.bin");
    std::fs::write(&evidence, bytes(24 << 20, 11)).unwrap();
    let driver = Driver::start();
    let s = driver.session(true, "en", setup.dir.path());
    s.goto(&format!("{}?lang=en", server.url));
    fill_report(&s, "vulnerability", &evidence);
    let chosen = s.text(&s.find("#chosen"));
    assert!(
        chosen.contains("evidence-video.bin") && chosen.contains("24.0 MiB"),
        "{chosen}"
    );
    s.screenshot(&screenshot_dir().join("upload-form-en.png"));
    assert_eq!(s.exec(WATCH_PROGRESS, json!([])), json!(true));
    s.click(&s.find("#send"));
    let reference = s.wait_for("#reference", 60);
    let reference = s.text(&reference);
    assert!(well_formed_reference(&reference), "{reference}");
    let progress = s.exec("return window.__progress || null;", json!([]));
    // The page was replaced by the receipt, but the window keeps what the watcher saw.
    assert_eq!(progress["max"], 100, "{progress}");
    let texts: Vec<String> = progress["texts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_owned())
        .collect();
    assert!(texts.iter().any(|t| t.contains("(100 %)")), "{texts:?}");
    assert!(
        texts.iter().any(|t| t.contains("Finishing and encrypting")),
        "{texts:?}"
    );
    assert!(s.text(&s.find("main")).contains("evidence-video.bin"));
    s.screenshot(&screenshot_dir().join("receipt-en.png"));

    // The copy button puts the reference on the clipboard.
    let origin = server.url.trim_end_matches('/').to_owned();
    s.cdp(
        "Browser.grantPermissions",
        json!({ "origin": origin, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"] }),
    );
    let copy = s.find("#copy");
    assert!(s.displayed(&copy), "the copy button shows with JavaScript");
    s.click(&copy);
    let start = std::time::Instant::now();
    while s.text(&copy) != "Copied" {
        assert!(
            start.elapsed().as_secs() < 10,
            "button says {}",
            s.text(&copy)
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let clip = s.exec_async(
        "const done = arguments[arguments.length - 1]; navigator.clipboard.readText().then(done, e => done('ERR ' + e));",
        json!([]),
    );
    assert_eq!(clip.as_str().unwrap(), reference);

    // The reference works on the status page.
    s.goto(&format!("{}status?lang=en", server.url));
    s.type_text(&s.find("#reference"), &reference.to_ascii_lowercase());
    s.click(&s.find("form[action^='/api/v1/status'] button"));
    let status = s.wait_for("section.status", 20);
    assert_eq!(
        s.attribute(&status, "data-status").as_deref(),
        Some("received")
    );
    assert!(
        s.text(&status).contains("Acknowledgement"),
        "{}",
        s.text(&status)
    );
    s.screenshot(&screenshot_dir().join("status-result-en.png"));
    assert_eq!(setup.record_count(), 1);
    drop(s);
    drop(server);
}

#[test]
fn without_javascript_the_plain_form_post_shows_the_receipt() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let evidence = setup.dir.path().join("screenshot.png");
    std::fs::write(&evidence, bytes(200_000, 12)).unwrap();
    let driver = Driver::start();
    let s = driver.session(false, "nl", setup.dir.path());
    s.goto(&server.url);
    assert_eq!(s.attribute(&s.find("html"), "lang").as_deref(), Some("nl"));
    fill_report(&s, "data-breach", &evidence);
    s.screenshot(&screenshot_dir().join("upload-form-nojs-nl.png"));
    s.click(&s.find("#send"));
    let reference = s.wait_for("#reference", 60);
    assert!(well_formed_reference(&s.text(&reference)));
    assert!(s.text(&s.find("h1")).contains("ontvangen"), "Dutch receipt");
    assert!(
        !s.displayed(&s.find("#copy")),
        "no copy button without JavaScript"
    );
    s.screenshot(&screenshot_dir().join("receipt-nojs-nl.png"));
    let v = show(&setup, &s.text(&s.find("#case")));
    assert_eq!(v["category"], "data-breach");
    assert_eq!(v["files"].as_array().unwrap().len(), 1);
    drop(s);
    drop(server);
}

#[test]
fn the_signed_receipt_downloads_from_the_receipt_page_and_ssh_keygen_verifies_it() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let evidence = setup.dir.path().join("evidence.txt");
    std::fs::write(&evidence, bytes(5000, 13)).unwrap();
    let downloads = setup.dir.path().join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let driver = Driver::start();
    let s = driver.session(false, "en", &downloads);
    s.goto(&format!("{}?lang=en", server.url));
    fill_report(&s, "vulnerability", &evidence);
    s.click(&s.find("#send"));
    let reference = s.text(&s.wait_for("#reference", 60));
    let shown = s.text(&s.find("#receipt-text"));
    assert!(shown.starts_with("sealdrop receipt v1") && !shown.contains(&reference));
    s.click(&s.find("#signed-receipt"));
    s.click(&s.find("#signed-receipt-sig"));
    let (text, sig) = (
        downloads.join("receipt-2026-0001.txt"),
        downloads.join("receipt-2026-0001.txt.sig"),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !(text.exists() && sig.exists()) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(
        text.exists() && sig.exists(),
        "the two downloads did not arrive"
    );
    s.screenshot(&screenshot_dir().join("receipt-signed-en.png"));
    let keys = crate::receipts::fetch_keys(&server, setup.dir.path(), "allowed_signers");
    let (ok, said) = crate::receipts::ssh_verify(&keys, &text, &sig, None);
    assert!(ok, "{said}");
    // One byte changed in the downloaded text: refused.
    let mut body = std::fs::read(&text).unwrap();
    let at = body.iter().position(|&c| c == b':').unwrap() + 2;
    body[at] ^= 0x01;
    std::fs::write(&text, body).unwrap();
    let (ok, said) = crate::receipts::ssh_verify(&keys, &text, &sig, None);
    assert!(!ok, "{said}");
    drop(s);
    drop(server);
}

#[test]
fn an_over_limit_file_is_refused_in_the_browser_before_any_byte_is_sent() {
    let setup = Setup::new(1, "[limits]\nmax_file_size = 1000\n");
    let server = setup.start();
    let big = setup.dir.path().join("too-big.bin");
    std::fs::write(&big, bytes(1001, 13)).unwrap();
    let driver = Driver::start();
    let s = driver.session(true, "en", setup.dir.path());
    s.goto(&format!("{}?lang=en", server.url));
    fill_report(&s, "incident", &big);
    let problems = s.find("#problems");
    assert!(s.displayed(&problems));
    let text = s.text(&problems);
    assert!(
        text.contains("too-big.bin") && text.contains("1000 B"),
        "{text}"
    );
    s.click(&s.find("#send"));
    assert!(s.displayed(&s.find("#problems")));
    assert!(!s.displayed(&s.find("#progress")), "no upload started");
    s.screenshot(&screenshot_dir().join("over-limit-en.png"));
    std::thread::sleep(std::time::Duration::from_millis(300));
    let log = server.stop();
    assert!(
        !log.contains("route=/api/v1/submissions"),
        "no request reached the server:\n{log}"
    );
    assert_eq!((setup.blob_count(), setup.tmp_count()), (0, 0));
}

#[test]
fn the_language_switch_and_accept_language_choose_dutch_or_english() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let driver = Driver::start();
    let s = driver.session(true, "nl", setup.dir.path());
    s.goto(&server.url);
    assert_eq!(s.attribute(&s.find("html"), "lang").as_deref(), Some("nl"));
    assert!(
        s.text(&s.find("h1")).contains("melden"),
        "{}",
        s.text(&s.find("h1"))
    );
    s.screenshot(&screenshot_dir().join("upload-form-nl.png"));
    s.click(&s.find("nav.langs a[lang=en]"));
    s.wait_for("html[lang=en]", 10);
    assert!(s.text(&s.find("h1")).contains("Report a security problem"));
    assert_eq!(
        s.attribute(&s.find("nav.langs a[lang=en]"), "aria-current")
            .as_deref(),
        Some("true")
    );
    // The form posts in the chosen language: its error page is English too.
    let action = s.attribute(&s.find("#report"), "action").unwrap();
    assert!(action.ends_with("?lang=en"), "{action}");
    s.goto(&format!("{}policy?lang=en", server.url));
    let policy = s.text(&s.find("main"));
    assert!(
        policy.contains("within 1 working day") && policy.contains("90 days"),
        "{policy}"
    );
    s.screenshot(&screenshot_dir().join("policy-en.png"));
    s.goto(&format!("{}policy", server.url));
    assert!(s.text(&s.find("main")).contains("binnen 1 werkdag"));
    drop(s);
    drop(server);
}

#[test]
fn every_page_passes_an_axe_core_accessibility_check() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let reference = {
        let r = post_form(server.addr, &form(vec![file("a.txt", bytes(100, 1))]), "");
        r.json()["reference"].as_str().unwrap().to_owned()
    };
    let invite = admin_ok(&setup, &["invite"]).trim().to_owned();
    let invite_path = invite.split_once("/u/").unwrap().1.to_owned();
    let evidence = setup.dir.path().join("a11y.txt");
    std::fs::write(&evidence, b"hello").unwrap();
    let driver = Driver::start();
    let s = driver.session(true, "nl", setup.dir.path());
    let check = |name: &str| s.assert_accessible(&format!("a11y-{name}"));
    for (name, path) in [
        ("index-nl", String::new()),
        ("index-en", "?lang=en".to_owned()),
        ("status", "status".to_owned()),
        ("policy", "policy".to_owned()),
        ("accessibility", "accessibility".to_owned()),
        ("invite", format!("u/{invite_path}")),
        (
            "error-gone",
            "u/0000000000000000000000000000000z".to_owned(),
        ),
    ] {
        s.goto(&format!("{}{path}", server.url));
        check(name);
    }
    s.goto(&format!("{}status", server.url));
    s.type_text(&s.find("#reference"), &reference);
    s.click(&s.find("form[action^='/api/v1/status'] button"));
    s.wait_for("section.status", 20);
    check("status-result");
    s.goto(&server.url);
    fill_report(&s, "vulnerability", &evidence);
    s.click(&s.find("#send"));
    s.wait_for("#reference", 60);
    check("receipt");
    // The client-side error summary, too.
    s.goto(&server.url);
    s.click(&s.find("#send"));
    check("form-with-errors");
    drop(s);
    drop(server);
}
