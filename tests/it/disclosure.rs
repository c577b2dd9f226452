//! The policy's promises beyond the clocks, against the real server and the real team CLI: the
//! expected fix date, messages to the reporter (readable only with the reference), credit with
//! the public acknowledgments page and security.txt, and the agreed publication.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use serde_json::{Value, json};

const CREDIT_NAME: &str = "Zephyrine Quibblesworth";
const FIRST: &str = "We reproduced the weakness: thank you. Fix planned for February.";
const SECOND: &str = "The fix is in testing.\nWe will tell you when it is live.";

fn submit_with_credit(server: &Server, credit: Option<&str>) -> Value {
    let mut parts = vec![
        text("category", "vulnerability"),
        text("message", "the login form leaks"),
        text("contact", "finder@example.org"),
        file("poc.txt", bytes(300, 5)),
    ];
    if let Some(name) = credit {
        parts.push(text("credit", name));
    }
    let r = post_form(server.addr, &parts, "");
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()
}

fn new_case(server: &Server) -> String {
    submit_with_credit(server, None)["case"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn admin_fails(setup: &Setup, args: &[&str], code_words: &[&str]) -> String {
    let out = setup.admin(args);
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!out.status.success(), "admin {args:?} should fail");
    for w in code_words {
        assert!(err.contains(w), "{w:?} not in: {err}");
    }
    assert!(err.contains("hint:"), "{err}");
    err
}

fn lookup(server: &Server, reference: &str) -> Response {
    post_json(
        server.addr,
        "/api/v1/status",
        &json!({ "reference": reference }),
    )
}

/// Every file under `dir`, read whole (sled's log and the blobs included).
fn everything_under(dir: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    for f in all_files(dir) {
        if let Ok(b) = std::fs::read(&f) {
            all.extend_from_slice(&b);
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn messages_and_the_credit_name_are_never_readable_at_rest_and_only_the_reference_opens_them() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let receipt = submit_with_credit(&server, Some(CREDIT_NAME));
    let case = receipt["case"].as_str().unwrap().to_owned();
    let reference = receipt["reference"].as_str().unwrap().to_owned();
    assert!(
        reference
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-'),
        "{reference}"
    );

    let v = show(&setup, &case);
    assert_eq!(v["disclosure"]["credit_requested"], true, "{v}");
    assert!(
        v["disclosure"]["letterbox"]
            .as_str()
            .unwrap()
            .starts_with("age1")
    );
    admin_ok(
        &setup,
        &["status", &case, "assessed", "--expect", "2027-02-15"],
    );
    admin_ok(&setup, &["tell", &case, FIRST]);
    // The second from standard input (`--file -`), so it never stands in a shell history.
    let mut child = std::process::Command::new(bin())
        .args(["admin", "--config", setup.config.to_str().unwrap()])
        .args(["tell", &case, "--file", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(SECOND.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("message 2 left"));

    // Nothing readable: not the messages, not the credit name, not in the data directory, not
    // in the server's log, not in what the team's CLI shows.
    let shown = admin_ok(&setup, &["show", &case]);
    assert!(
        shown.contains("messages:") && shown.contains("2 to the reporter"),
        "{shown}"
    );
    assert!(
        shown.contains("credit requested") || shown.contains("requested"),
        "{shown}"
    );
    assert!(
        shown.contains("expected fix:") && shown.contains("2027-02-15"),
        "{shown}"
    );
    let at_rest = everything_under(&setup.data());
    // The scan reads the database: what is stored in the clear is found.
    assert!(contains(&at_rest, &case) && contains(&at_rest, "2027-02-15"));
    for secret in [FIRST, "The fix is in testing", CREDIT_NAME, "Quibblesworth"] {
        assert!(
            !contains(&at_rest, secret),
            "{secret:?} is readable in the data directory"
        );
        assert!(!server.log().contains(secret), "{secret:?} is in the log");
        assert!(!shown.contains(secret), "{secret:?} in admin show");
    }

    // The reporter reads both, newest first, with the expected date beside the promise.
    let r = lookup(&server, &reference);
    assert_eq!(r.status, 200, "{}", r.text());
    let s = r.json();
    assert_eq!(s["expected_fix"], "2027-02-15");
    assert_eq!(s["credit"]["requested"], true);
    let messages: Vec<&str> = s["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "message")
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert_eq!(messages, vec![SECOND, FIRST], "{s}");
    let kinds: Vec<&str> = s["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.last(), Some(&"received"), "{kinds:?}");
    assert!(
        kinds.contains(&"expected-fix") && kinds.contains(&"status"),
        "{kinds:?}"
    );

    // A wrong reference opens nothing: another valid reference is simply unknown, and the
    // record's letter does not open with another reference's letterbox (unit-tested in
    // letterbox.rs with a real age identity).
    let other = submit_with_credit(&server, None)["reference"]
        .as_str()
        .unwrap()
        .to_owned();
    let o = lookup(&server, &other).json();
    assert!(
        o["timeline"]
            .as_array()
            .is_none_or(|t| t.iter().all(|e| e["kind"] != "message")),
        "{o}"
    );
    // A purge leaves a tombstone without the letterbox (it follows from the reference) and
    // without the letters.
    admin_ok(&setup, &["status", &case, "resolved"]);
    admin_ok(&setup, &["purge", &case, "--reason", "test"]);
    let v = show(&setup, &case);
    assert!(v["disclosure"].get("letterbox").is_none(), "{v}");
    assert!(v["disclosure"].get("letters").is_none(), "{v}");
    let mut typo: Vec<char> = reference.chars().collect();
    typo[0] = if typo[0] == 'A' { 'B' } else { 'A' };
    assert_eq!(
        lookup(&server, &typo.into_iter().collect::<String>()).status,
        404
    );
}

#[test]
fn credit_and_publication_follow_the_policy_and_reach_the_public_pages() {
    let setup = Setup::new(
        1,
        "[limits]\nmax_letter_bytes = 40\nmax_letters = 2\nmax_credit_bytes = 24\n",
    );
    let server = setup.start();
    let asked = submit_with_credit(&server, Some(CREDIT_NAME))["case"]
        .as_str()
        .unwrap()
        .to_owned();
    let anonymous = submit_with_credit(&server, None)["case"]
        .as_str()
        .unwrap()
        .to_owned();

    // Limits at their edges: 40 bytes pass, 41 do not; two messages, not three.
    let forty = "x".repeat(40);
    admin_ok(&setup, &["tell", &asked, &forty]);
    admin_fails(
        &setup,
        &["tell", &asked, &"x".repeat(41)],
        &["longer than 40"],
    );
    admin_ok(&setup, &["tell", &asked, "two"]);
    admin_fails(
        &setup,
        &["tell", &asked, "three"],
        &["already has 2 messages"],
    );

    // Credit only after resolution, only when asked, and a published name fits the limit.
    admin_fails(
        &setup,
        &["credit", &asked, "--as", "Z. Q."],
        &["is received", "resolved"],
    );
    admin_fails(
        &setup,
        &["publish", &asked, "--date", "2027-03-01"],
        &["resolved"],
    );
    for case in [&asked, &anonymous] {
        admin_ok(&setup, &["status", case, "resolved"]);
    }
    admin_fails(
        &setup,
        &["credit", &anonymous, "--as", "Somebody"],
        &["did not ask"],
    );
    admin_fails(
        &setup,
        &["credit", &asked, "--as", &"n".repeat(25)],
        &["1 to 24 bytes"],
    );
    let ack = get(server.addr, "/acknowledgments?lang=en", "");
    assert!(ack.text().contains("id=\"no-credits\""), "{}", ack.text());
    let txt = get(server.addr, "/.well-known/security.txt", "").text();
    assert!(!txt.contains("Acknowledgments:"), "{txt}");

    admin_ok(&setup, &["credit", &asked, "--as", "Z. Quibblesworth"]);
    for lang in ["en", "nl"] {
        let page = get(server.addr, &format!("/acknowledgments?lang={lang}"), "");
        assert_eq!(page.status, 200);
        assert!(
            page.text().contains("<li>Z. Quibblesworth</li>"),
            "{}",
            page.text()
        );
        assert!(
            page.header("content-security-policy")
                .unwrap()
                .contains("default-src 'none'")
        );
    }
    let txt = get(server.addr, "/.well-known/security.txt", "").text();
    assert!(txt.contains("Acknowledgments: http://"), "{txt}");
    assert!(txt.contains("/acknowledgments\n"), "{txt}");

    // Publication: a bad link and a date before the report are refused; the register and
    // `admin show` carry the agreed one.
    admin_fails(
        &setup,
        &[
            "publish",
            &asked,
            "--date",
            "2027-03-01",
            "--url",
            "javascript:alert(1)",
        ],
        &["https://"],
    );
    admin_fails(
        &setup,
        &["publish", &asked, "--date", "2001-01-01"],
        &["YYYY-MM-DD"],
    );
    admin_ok(
        &setup,
        &[
            "publish",
            &asked,
            "--date",
            "2027-03-01",
            "--url",
            "https://example.org/adv/1",
        ],
    );
    let shown = admin_ok(&setup, &["show", &asked]);
    assert!(
        shown.contains("publication:   2027-03-01 https://example.org/adv/1"),
        "{shown}"
    );
    assert!(
        shown.contains("credit published as \"Z. Quibblesworth\""),
        "{shown}"
    );
    let v = show(&setup, &asked);
    assert_eq!(v["disclosure"]["publication"]["date"], "2027-03-01");

    admin_ok(
        &setup,
        &["credit", &asked, "--withdraw", "--note", "reporter asked"],
    );
    let page = get(server.addr, "/acknowledgments?lang=en", "").text();
    assert!(!page.contains("Quibblesworth"), "{page}");
    // A withdrawn name is gone from the record's history too.
    let v = show(&setup, &asked);
    assert!(!v.to_string().contains("Quibblesworth"), "{v}");
    assert!(v.to_string().contains("credit-withdrawn"), "{v}");
    admin_fails(
        &setup,
        &["credit", &asked, "--withdraw"],
        &["no published credit"],
    );
}

#[test]
fn a_passed_expected_date_warns_the_team_and_a_due_publication_reminds_it() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let case = new_case(&server);
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    let soon = today
        .checked_add(jiff::Span::new().days(2))
        .unwrap()
        .to_string();
    // Closing a case with an expected date is refused whole: the case stays open.
    admin_fails(
        &setup,
        &["status", &case, "resolved", "--expect", &soon],
        &["is closed"],
    );
    assert_eq!(show(&setup, &case)["status"], "received");
    admin_ok(&setup, &["expect", &case, &soon, "--note", "vendor patch"]);
    let list = admin_ok(&setup, &["list"]);
    assert!(!list.contains("after its expected fix date"), "{list}");
    let v = show(&setup, &case);
    assert_eq!(v["disclosure"]["events"][0]["note"], "vendor patch");
    server.stop();

    // Five days later the date has passed while the case is open.
    let later = Server::start(&setup, &[("SEALDROPTEST_CLOCK_SHIFT", "5d")]);
    let list = admin_ok(&setup, &["list"]);
    assert!(
        list.contains(&format!(
            "warning: case {case} is still received after its expected fix date {soon}"
        )),
        "{list}"
    );
    // A date that has passed is refused: a new expected date lies ahead.
    admin_fails(
        &setup,
        &["expect", &case, &soon],
        &["has passed", "bad-date"],
    );
    admin_ok(&setup, &["status", &case, "resolved"]);
    let list = admin_ok(&setup, &["list"]);
    assert!(
        !list.contains("after its expected fix date"),
        "closed: {list}"
    );
    admin_ok(&setup, &["publish", &case, "--date", &soon]);
    let list = admin_ok(&setup, &["list"]);
    assert!(
        list.contains(&format!(
            "reminder: the publication agreed for case {case} is due ({soon})"
        )),
        "{list}"
    );
    later.stop();
}

#[test]
fn a_case_from_before_messages_existed_gets_a_clear_refusal() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let case = new_case(&server);
    rewrite_history(&setup, server, |r| {
        r.as_object_mut().unwrap().remove("disclosure");
    });
    let _server = setup.start();
    let err = admin_fails(
        &setup,
        &["tell", &case, "hello"],
        &["before messages", "e-mail"],
    );
    assert!(!err.contains("hello"), "{err}");
    let shown = admin_ok(&setup, &["show", &case]);
    assert!(shown.contains("none possible"), "{shown}");
}

/// A resolved case whose reporter asked for credit, published as [`CREDIT_NAME`].
fn credited_case(setup: &Setup, server: &Server) -> String {
    let case = submit_with_credit(server, Some(CREDIT_NAME))["case"]
        .as_str()
        .unwrap()
        .to_owned();
    admin_ok(setup, &["status", &case, "resolved"]);
    admin_ok(setup, &["credit", &case, "--as", CREDIT_NAME]);
    case
}

fn acknowledgments(server: &Server) -> String {
    get(server.addr, "/acknowledgments?lang=en", "").text()
}

/// Waits (up to 5 s) until `case` is a tombstone without the credit name.
fn wait_for_a_bare_tombstone(setup: &Setup, server: &Server, case: &str) -> Value {
    for _ in 0..50 {
        let v = show(setup, case);
        if v["purged_at"].is_string() && !v.to_string().contains(CREDIT_NAME) {
            return v;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("{}\n{}", show(setup, case), server.log());
}

#[test]
fn a_purge_takes_the_published_credit_off_the_tombstone_and_the_public_pages_at_once() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let case = credited_case(&setup, &server);
    // Read once, so the public list is in memory when the purge comes.
    assert!(acknowledgments(&server).contains(CREDIT_NAME));
    let txt = get(server.addr, "/.well-known/security.txt", "").text();
    assert!(txt.contains("Acknowledgments:"), "{txt}");

    admin_ok(
        &setup,
        &["purge", &case, "--reason", "reporter asked to be forgotten"],
    );
    let page = acknowledgments(&server);
    assert!(!page.contains(CREDIT_NAME), "{page}");
    assert!(page.contains("id=\"no-credits\""), "{page}");
    let txt = get(server.addr, "/.well-known/security.txt", "").text();
    assert!(!txt.contains("Acknowledgments:"), "{txt}");

    // The tombstone keeps that a credit was asked for and published, not to whom.
    let v = show(&setup, &case);
    assert!(!v.to_string().contains(CREDIT_NAME), "{v}");
    assert!(v["disclosure"].get("credit").is_none(), "{v}");
    assert_eq!(v["disclosure"]["credit_requested"], true, "{v}");
    assert_eq!(v["disclosure"]["events"][0]["event"], "credit-published");
    assert_eq!(v["disclosure"]["events"][0]["name"], "(purged)");
    for args in [&["show", case.as_str()][..], &["register"], &["list"]] {
        let out = admin_ok(&setup, args);
        assert!(!out.contains(CREDIT_NAME), "{args:?}: {out}");
    }
    // Withdrawing is not refused for being purged: it says nothing is left to take off.
    let err = admin_fails(
        &setup,
        &["credit", &case, "--withdraw"],
        &["was purged", "keeps no published credit name"],
    );
    assert!(err.contains("nothing is left to withdraw"), "{err}");
}

#[test]
fn a_retention_purge_takes_the_published_credit_name_off_too() {
    let setup = Setup::new(1, "[retention]\ndelete_after_days = 30\n");
    let server = setup.start();
    let case = credited_case(&setup, &server);
    server.stop();

    // Forty days later the case is purged at start-up.
    let later = Server::start(&setup, &[("SEALDROPTEST_CLOCK_SHIFT", "40d")]);
    let v = wait_for_a_bare_tombstone(&setup, &later, &case);
    assert_eq!(v["disclosure"]["events"][0]["name"], "(purged)");
    let page = acknowledgments(&later);
    assert!(!page.contains(CREDIT_NAME), "{page}");
    later.stop();
}

#[test]
fn a_tombstone_that_kept_its_credit_name_loses_it_at_the_next_start() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let case = credited_case(&setup, &server);
    admin_ok(&setup, &["purge", &case, "--reason", "retention"]);
    // What a purge left before tombstones dropped the name: the credit and the name in the
    // history.
    rewrite_history(&setup, server, |r| {
        if r["case"] == case.as_str() {
            let published_at = r["disclosure"]["events"][0]["at"].clone();
            r["disclosure"]["credit"] =
                json!({ "name": CREDIT_NAME, "published_at": published_at });
            r["disclosure"]["events"][0]["name"] = json!(CREDIT_NAME);
        }
    });
    let server = setup.start();
    let v = wait_for_a_bare_tombstone(&setup, &server, &case);
    assert!(v["disclosure"].get("credit").is_none(), "{v}");
    let page = acknowledgments(&server);
    assert!(!page.contains(CREDIT_NAME), "{page}");
}
