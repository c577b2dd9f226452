//! The reporter's pages over plain HTTP: languages, the policy page, security.txt (RFC 9116) and
//! the recipients it points at, page weight, translated error pages, and the contact rule.
#![allow(clippy::unwrap_used)]

use crate::common::*;

#[test]
fn security_txt_is_valid_rfc_9116_and_points_at_the_current_recipients() {
    let setup = Setup::new(2, "");
    let server = Server::start(
        &setup,
        &[("SEALDROP_SERVER_PUBLIC_URL", "https://meldpunt.example.org")],
    );
    let r = get(server.addr, "/.well-known/security.txt", "");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    let text = r.text();
    let field = |name: &str| -> Vec<String> {
        text.lines()
            .filter_map(|l| l.strip_prefix(&format!("{name}: ")))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(field("Contact")[0], "mailto:security@example.org");
    assert!(field("Contact").contains(&"https://meldpunt.example.org/".to_owned()));
    assert_eq!(field("Expires").len(), 1, "exactly one Expires");
    let expires: jiff::Timestamp = field("Expires")[0].parse().unwrap();
    let ahead = expires.duration_since(jiff::Timestamp::now()).as_secs();
    assert!(
        ahead > 30 * 86_400 && ahead < 365 * 86_400,
        "Expires {ahead} s ahead"
    );
    assert_eq!(
        field("Encryption"),
        vec!["https://meldpunt.example.org/.well-known/age-recipients.txt"]
    );
    assert_eq!(field("Preferred-Languages"), vec!["nl, en"]);
    assert_eq!(
        field("Canonical"),
        vec!["https://meldpunt.example.org/.well-known/security.txt"]
    );
    assert_eq!(field("Policy"), vec!["https://meldpunt.example.org/policy"]);
    for line in text.lines() {
        assert!(
            line.starts_with('#') || line.contains(": "),
            "not a field or comment: {line:?}"
        );
    }

    let keys = get(server.addr, "/.well-known/age-recipients.txt", "").text();
    for r in &setup.recipients {
        assert!(keys.lines().any(|l| l == r), "{r} missing from\n{keys}");
    }
    // The file is the standard recipients format: the stock age CLI encrypts to it.
    let file = setup.dir.path().join("served-recipients.txt");
    std::fs::write(&file, &keys).unwrap();
    let out = std::process::Command::new("age")
        .args(["-R", file.to_str().unwrap(), "-o"])
        .arg(setup.dir.path().join("x.age"))
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(server);
}

#[test]
fn pages_follow_accept_language_and_the_query_and_stay_small() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let nl = get(server.addr, "/", "Accept-Language: de, nl;q=0.5\r\n").text();
    assert!(nl.contains("<html lang=\"nl\">") && nl.contains("Versleuteld verzenden"));
    let en = get(
        server.addr,
        "/",
        "Accept-Language: en-GB,en;q=0.9,nl;q=0.8\r\n",
    )
    .text();
    assert!(en.contains("<html lang=\"en\">") && en.contains("Send encrypted"));
    let forced = get(server.addr, "/?lang=en", "Accept-Language: nl\r\n").text();
    assert!(forced.contains("<html lang=\"en\">"));
    assert!(forced.contains("action=\"/api/v1/submissions?lang=en\""));
    let css = get(server.addr, "/static/style.css", "").body.len();
    let js = get(server.addr, "/static/app.js", "").body.len();
    for page in ["/", "/status", "/policy"] {
        let html = get(server.addr, page, "").body.len();
        let total = html + css + js;
        assert!(total < 60_000, "{page}: {total} bytes with its assets");
    }
    let r = get(server.addr, "/static/app.js", "");
    assert_eq!(
        r.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert!(
        !nl.contains("<script>") && !nl.contains("style=\""),
        "nothing inline"
    );
    drop(server);
}

#[test]
fn the_policy_page_fills_in_the_configured_promises_and_never_renders_raw_html() {
    let setup = Setup::new(
        1,
        "[sla]\nacknowledge_working_days = 2\nresolve_days = 60\n",
    );
    let server = setup.start();
    let nl = get(server.addr, "/policy", "").text();
    assert!(nl.contains("binnen <strong>2 werkdagen</strong>"), "{nl}");
    assert!(nl.contains("<strong>3 werkdagen</strong>"), "{nl}");
    assert!(nl.contains("<strong>60 dagen</strong>"));
    let en = get(server.addr, "/policy?lang=en", "").text();
    assert!(en.contains("within <strong>60 days</strong>"));
    assert!(
        en.contains("href=\"/status?lang=en\""),
        "links keep the language"
    );
    drop(server);

    let custom = setup.dir.path().join("policy.md");
    std::fs::write(
        &custom,
        "# Our policy\n\nWe answer within {{assess_working_days}} days.\n\n<script>alert(1)</script>\n\n[bad](javascript:alert(1))\n",
    )
    .unwrap();
    let server = Server::start(
        &setup,
        &[("SEALDROP_ORG_POLICY_FILE", custom.to_str().unwrap())],
    );
    let page = get(server.addr, "/policy", "").text();
    assert!(
        page.contains("<h1>Our policy</h1>") && page.contains("within 3 days"),
        "{page}"
    );
    assert!(page.contains("&lt;script&gt;") && !page.contains("<script>alert"));
    assert!(!page.contains("javascript:"));
    drop(server);
}

#[test]
fn error_pages_speak_the_reporters_language_and_json_keeps_the_stable_code() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let nl = post_form_to(
        server.addr,
        "/api/v1/submissions?lang=nl",
        &[text("category", "gossip")],
        "Accept: text/html\r\n",
    );
    assert_eq!(nl.status, 400);
    let page = nl.text();
    assert!(
        page.contains("Onbekende soort melding") && page.contains("invalid-category"),
        "{page}"
    );
    assert!(page.contains("<html lang=\"nl\">"));
    let json = post_form(server.addr, &[text("category", "gossip")], "");
    assert_eq!(json.error_code(), "invalid-category");
    assert!(
        json.json()["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Unknown category")
    );
    drop(server);
}

#[test]
fn vulnerability_reports_need_contact_details_and_the_rule_is_configurable() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let (blobs, records) = (setup.blob_count(), setup.record_count());
    let r = post_form(
        server.addr,
        &[
            text("category", "vulnerability"),
            text("message", "x"),
            text("contact", "  "),
            file("a", bytes(10, 1)),
        ],
        "",
    );
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (400, "contact-required")
    );
    // Contact after the files: refused at the end, nothing kept.
    let r = post_form(
        server.addr,
        &[
            text("category", "vulnerability"),
            file("a", bytes(10, 1)),
            text("message", "x"),
        ],
        "",
    );
    assert_eq!(r.error_code(), "contact-required");
    setup.assert_no_trace(blobs, records);
    let r = post_form(
        server.addr,
        &[text("category", "incident"), text("message", "x")],
        "",
    );
    assert_eq!(r.status, 201, "optional elsewhere");
    drop(server);
    let server = Server::start(&setup, &[("SEALDROP_ORG_CONTACT_REQUIRED_FOR", "[]")]);
    let r = post_form(
        server.addr,
        &[text("category", "vulnerability"), text("message", "x")],
        "",
    );
    assert_eq!(r.status, 201, "{}", r.text());
    drop(server);
}

#[test]
fn head_requests_answer_like_get_without_a_body() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    for path in [
        "/",
        "/status",
        "/policy",
        "/healthz",
        "/.well-known/security.txt",
        "/static/app.js",
    ] {
        let r = request(
            server.addr,
            &format!("HEAD {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
            Vec::new(),
        );
        assert_eq!(r.status, 200, "{path}");
        assert!(r.body.is_empty(), "{path}: HEAD has no body");
    }
    drop(server);
}

#[test]
fn quotes_in_file_names_arrive_as_the_reporter_wrote_them() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    // Browsers encode `"` in a multipart file name as %22.
    let r = post_form(
        server.addr,
        &form(vec![file("lijst van %22klanten%22.xlsx", bytes(10, 1))]),
        "",
    );
    assert_eq!(r.status, 201);
    assert_eq!(r.json()["files"][0]["name"], "lijst van \"klanten\".xlsx");
    drop(server);
}

#[test]
fn the_accessibility_statement_is_filled_from_the_config_in_both_languages_and_in_every_footer() {
    let setup = Setup::new(
        1,
        "[accessibility]\nconformance = \"partial\"\nlast_checked = \"2026-11-20\"\n\
         method = \"an audit by an accredited inspector\"\n\
         contact = \"https://example.org/toegankelijkheid\"\n\
         known_issues = [\"The downloaded receipt is a text file without headings.\"]\n",
    );
    let server = setup.start();
    let nl = get(server.addr, "/accessibility", "Accept-Language: nl\r\n");
    assert_eq!(nl.status, 200);
    let nl = nl.text();
    for want in [
        "<html lang=\"nl\"",
        "Toegankelijkheidsverklaring",
        "Example Organisation wil dat iedereen",
        "data-conformance=\"partial\"",
        "<time datetime=\"2026-11-20\">",
        "an audit by an accredited inspector",
        "<li>The downloaded receipt is a text file without headings.</li>",
        "href=\"https://example.org/toegankelijkheid\"",
        "axe-core",
    ] {
        assert!(nl.contains(want), "{want} in {nl}");
    }
    let en = get(server.addr, "/accessibility?lang=en", "").text();
    assert!(
        en.contains("Accessibility statement") && en.contains("Known problems"),
        "{en}"
    );
    for path in [
        "/",
        "/status",
        "/policy",
        "/acknowledgments",
        "/accessibility",
    ] {
        let page = get(server.addr, path, "").text();
        assert!(
            page.contains("href=\"/accessibility?lang="),
            "{path} links the statement"
        );
    }
    let head = request(
        server.addr,
        "HEAD /accessibility HTTP/1.1\r\nHost: x\r\n\r\n",
        vec![],
    );
    assert_eq!(head.status, 200);
    drop(server);

    // The defaults: the organisation's address, no check stated, no list of problems.
    let plain = Setup::new(1, "");
    let server = plain.start();
    let page = get(server.addr, "/accessibility?lang=en", "").text();
    assert!(
        page.contains("href=\"mailto:security@example.org\""),
        "{page}"
    );
    assert!(page.contains("has not been done yet"), "{page}");
    assert!(!page.contains("known-issues"), "{page}");
}

#[test]
fn the_accessibility_settings_are_checked_at_their_edges() {
    let issues = |n: usize| {
        let list: Vec<String> = (0..n).map(|i| format!("\"problem {i}\"")).collect();
        format!("[accessibility]\nknown_issues = [{}]\n", list.join(", "))
    };
    let ok = Setup::new(1, &issues(20));
    drop(ok.start());
    for (extra, key) in [
        (issues(21), "accessibility.known_issues"),
        (
            "[accessibility]\nconformance = \"full\"\nknown_issues = [\"x\"]\n".to_owned(),
            "accessibility.conformance",
        ),
        (
            "[accessibility]\nlast_checked = \"20-11-2026\"\n".to_owned(),
            "accessibility.last_checked",
        ),
        (
            "[accessibility]\ncontact = \"http://example.org\"\n".to_owned(),
            "accessibility.contact",
        ),
        (
            format!(
                "[accessibility]\nknown_issues = [\"{}\"]\n",
                "x".repeat(501)
            ),
            "accessibility.known_issues",
        ),
    ] {
        let setup = Setup::new(1, &extra);
        let log = Server::try_start(&setup, &[]).err().expect("refused");
        assert!(log.contains(key), "{key}: {log}");
    }
    let edge = Setup::new(
        1,
        &format!(
            "[accessibility]\nknown_issues = [\"{}\"]\n",
            "x".repeat(500)
        ),
    );
    drop(edge.start());
}
