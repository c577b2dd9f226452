//! The team's workflow against the real server: state changes and their clocks, filters, the
//! breach register, reporter status with its rate limit, follow-up files, one-time invitations,
//! purging with tombstones (on demand and by the retention rule) and metrics.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use serde_json::{Value, json};

fn submit(server: &Server, category: &str, files: Vec<Part>) -> Value {
    let mut parts = vec![
        text("category", category),
        text("message", "workflow test"),
        text("contact", "tester@example.org"),
    ];
    parts.extend(files);
    let r = post_form(server.addr, &parts, "");
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()
}

fn admin_err(setup: &Setup, args: &[&str]) -> String {
    let out = setup.admin(args);
    assert!(!out.status.success(), "admin {args:?} should fail");
    String::from_utf8(out.stderr).unwrap()
}

fn clock<'a>(view: &'a Value, kind: &str) -> &'a Value {
    view["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} clock in {view}"))
}

#[test]
fn states_move_forward_with_history_and_stop_their_clocks() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let case = submit(&server, "vulnerability", vec![file("a.txt", bytes(100, 1))])["case"]
        .as_str()
        .unwrap()
        .to_owned();
    let v = show(&setup, &case);
    assert_eq!(v["status"], "received");
    for kind in ["acknowledge", "assess", "resolve"] {
        assert_eq!(clock(&v, kind)["state"], "running");
    }
    assert!(
        v["clocks"].as_array().unwrap().len() == 3,
        "no breach clock: {v}"
    );

    let out = admin_ok(
        &setup,
        &["status", &case, "acknowledged", "--note", "mailed back"],
    );
    assert!(out.contains("now acknowledged"), "{out}");
    let v = show(&setup, &case);
    assert_eq!(v["status"], "acknowledged");
    assert_eq!(v["history"][0]["status"], "acknowledged");
    assert_eq!(v["history"][0]["note"], "mailed back");
    assert_eq!(clock(&v, "acknowledge")["state"], "met");
    assert_eq!(clock(&v, "assess")["state"], "running");

    // Backwards and repeated changes are refused with a hint; skipping ahead is allowed. No
    // case goes back to received, so the command line does not offer it.
    let err = admin_err(&setup, &["status", &case, "received"]);
    assert!(
        err.contains("invalid value 'received'") && err.contains("possible values"),
        "{err}"
    );
    let err = admin_err(&setup, &["status", &case, "acknowledged"]);
    assert!(err.contains("already acknowledged"), "{err}");
    let err = admin_err(&setup, &["status", &case, "fixed"]);
    assert!(err.contains("invalid value 'fixed'"), "{err}");
    admin_ok(&setup, &["status", &case, "in-progress"]);
    let err = admin_err(&setup, &["status", &case, "assessed"]);
    assert!(
        err.contains("cannot go back") && err.contains("hint:"),
        "{err}"
    );
    let v = show(&setup, &case);
    assert_eq!(
        clock(&v, "assess")["state"],
        "met",
        "in-progress implies assessed"
    );
    admin_ok(&setup, &["status", &case, "resolved", "--note", "patched"]);
    let v = show(&setup, &case);
    assert_eq!(clock(&v, "resolve")["state"], "met");
    assert!(
        v["delete_after"].is_string(),
        "closing sets the deletion date: {v}"
    );
    let err = admin_err(&setup, &["status", &case, "rejected"]);
    assert!(err.contains("closed case"), "{err}");

    // A note with a line break or of 501 characters is refused; 500 passes.
    let other = submit(&server, "incident", vec![])["case"]
        .as_str()
        .unwrap()
        .to_owned();
    admin_err(
        &setup,
        &["status", &other, "acknowledged", "--note", "two\nlines"],
    );
    admin_err(
        &setup,
        &["status", &other, "acknowledged", "--note", &"n".repeat(501)],
    );
    admin_ok(
        &setup,
        &["status", &other, "acknowledged", "--note", &"n".repeat(500)],
    );
    admin_ok(
        &setup,
        &["status", &other, "rejected", "--note", "out of scope"],
    );

    let audit = admin_ok(&setup, &["audit"]);
    assert!(audit.contains("in-progress → resolved"), "{audit}");
    drop(server);
}

#[test]
fn a_data_breach_needs_its_authority_decision_before_it_closes_and_is_in_the_register() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let breach = submit(&server, "data-breach", vec![file("x.eml", bytes(50, 2))])["case"]
        .as_str()
        .unwrap()
        .to_owned();
    let vuln = submit(&server, "vulnerability", vec![])["case"]
        .as_str()
        .unwrap()
        .to_owned();
    let v = show(&setup, &breach);
    let notify = clock(&v, "notify-authority");
    assert_eq!(notify["state"], "running");
    let received: jiff::Timestamp = v["received_at"].as_str().unwrap().parse().unwrap();
    let due: jiff::Timestamp = notify["due"].as_str().unwrap().parse().unwrap();
    assert_eq!(due.duration_since(received).as_secs(), 72 * 3600);

    let err = admin_err(&setup, &["status", &breach, "resolved"]);
    assert!(
        err.contains("authority decision") && err.contains("admin authority"),
        "{err}"
    );
    let err = admin_err(&setup, &["authority", &vuln, "notified"]);
    assert!(err.contains("not a data breach"), "{err}");
    admin_ok(
        &setup,
        &[
            "authority",
            &breach,
            "notified",
            "--note",
            "AP ref 12345, \"meldloket\"",
        ],
    );
    let err = admin_err(&setup, &["authority", &breach, "not-required"]);
    assert!(
        err.contains("already recorded") && err.contains("admin note"),
        "{err}"
    );
    admin_ok(
        &setup,
        &["note", &breach, "affected people informed by letter"],
    );
    assert_eq!(
        clock(&show(&setup, &breach), "notify-authority")["state"],
        "met"
    );
    admin_ok(&setup, &["status", &breach, "resolved"]);

    let csv = admin_ok(&setup, &["register"]);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("case,received_at,status,notify_due"),
        "{csv}"
    );
    assert_eq!(
        lines.len(),
        2,
        "only the data breach is in the register: {csv}"
    );
    assert!(lines[1].starts_with(&format!("{breach},")), "{csv}");
    assert!(lines[1].contains(",met,notified,"), "{csv}");
    assert!(
        lines[1].contains("(affected people informed by letter)"),
        "notes in the history: {csv}"
    );
    assert!(
        lines[1].contains("\"AP ref 12345, \"\"meldloket\"\"\""),
        "quoted: {csv}"
    );
    let json: Value =
        serde_json::from_str(&admin_ok(&setup, &["register", "--format", "json"])).unwrap();
    assert_eq!(json[0]["case"], breach.as_str());
    assert_eq!(json[0]["status"], "resolved");
    assert_eq!(json[0]["authority_decision"], "notified");
    drop(server);
}

#[test]
fn list_filters_by_status_category_key_and_due_time() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let a = submit(&server, "vulnerability", vec![])["case"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = submit(&server, "data-breach", vec![])["case"]
        .as_str()
        .unwrap()
        .to_owned();
    let c = submit(&server, "incident", vec![])["case"]
        .as_str()
        .unwrap()
        .to_owned();
    admin_ok(&setup, &["status", &c, "rejected"]);
    let cases = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["list", "--json"];
        all.extend_from_slice(args);
        let v: Value = serde_json::from_str(&admin_ok(&setup, &all)).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r["case"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(cases(&[]), vec![a.clone(), b.clone(), c.clone()]);
    assert_eq!(cases(&["--status", "received"]), vec![a.clone(), b.clone()]);
    assert_eq!(cases(&["--status", "rejected"]), vec![c.clone()]);
    assert_eq!(cases(&["--category", "data-breach"]), vec![b.clone()]);
    assert!(cases(&["--overdue"]).is_empty(), "nothing is overdue yet");
    // The breach's 72-hour clock is due within 3 days; the working-day clocks of the others
    // are due within 3 working days, which may be more than 3 calendar days away.
    let soon = cases(&["--due-within", "73h"]);
    assert!(soon.contains(&b) && !soon.contains(&c), "{soon:?}");
    assert!(cases(&["--due-within", "1m"]).is_empty());
    let table = admin_ok(&setup, &["list"]);
    assert!(
        table.contains(&a) && table.contains("acknowledge"),
        "{table}"
    );
    let err = admin_err(&setup, &["list", "--status", "done"]);
    assert!(err.contains("possible values"), "{err}");
    let err = admin_err(&setup, &["list", "--due-within", "soon"]);
    assert!(err.contains("hint:"), "{err}");
    let err = admin_err(&setup, &["list", "--due-within", "2"]);
    assert!(err.contains("needs a unit"), "{err}");
    drop(server);
}

#[test]
fn reporters_see_state_and_promised_dates_and_misses_all_look_the_same() {
    let setup = Setup::new(1, "[limits]\nlookups_per_minute = 4\n");
    let server = setup.start();
    let receipt = submit(&server, "vulnerability", vec![]);
    let reference = receipt["reference"].as_str().unwrap();
    assert_eq!(receipt["status"]["status"], "received");
    assert_eq!(receipt["status"]["promises"].as_array().unwrap().len(), 3);

    admin_ok(
        &setup,
        &["status", receipt["case"].as_str().unwrap(), "acknowledged"],
    );
    let r = post_json(
        server.addr,
        "/api/v1/status",
        &json!({ "reference": reference.lower() }),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["status"], "acknowledged");
    assert_eq!(v["promises"][0]["kind"], "acknowledge");
    assert_eq!(v["promises"][0]["done"], true);
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    // Without an expected date or publication: the state, the dates, the credit flag and the
    // timeline; never what the reporter wrote.
    assert_eq!(
        keys,
        vec!["credit", "promises", "status", "timeline"],
        "state and dates, nothing else"
    );
    assert!(!r.text().contains("workflow test"), "{}", r.text());
    assert!(!r.text().contains(receipt["case"].as_str().unwrap()));

    // Unknown, mistyped (bad check symbol) and malformed references: one answer.
    let mut wrong = reference.to_owned();
    let last = wrong.pop().unwrap();
    wrong.push(if last == '0' { '1' } else { '0' });
    let bodies: Vec<(u16, String)> = ["K7QD-M2XP-9FHT-3WZA-7", wrong.as_str(), "nonsense"]
        .iter()
        .map(|r| {
            let resp = post_json(server.addr, "/api/v1/status", &json!({ "reference": r }));
            (resp.status, resp.text())
        })
        .collect();
    assert_eq!(bodies[0].0, 404);
    assert!(bodies.iter().all(|b| b == &bodies[0]), "{bodies:?}");

    // Four lookups per minute from one address: the fifth waits.
    let r = post_json(
        server.addr,
        "/api/v1/status",
        &json!({ "reference": reference }),
    );
    assert_eq!(r.status, 429, "{}", r.text());
    assert_eq!(r.error_code(), "too-many-requests");
    assert!(r.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);

    // A case closed without action does not claim its promises were kept.
    let other = submit(&server, "incident", vec![]);
    admin_ok(
        &setup,
        &["status", other["case"].as_str().unwrap(), "rejected"],
    );
    let v = post_json(
        server.addr,
        "/api/v1/status",
        &json!({ "reference": other["reference"] }),
    )
    .json();
    if v["status"] == "rejected" {
        assert!(
            v["promises"]
                .as_array()
                .unwrap()
                .iter()
                .all(|p| p["done"] == false),
            "{v}"
        );
    } else {
        assert_eq!(v["error"]["code"], "too-many-requests", "{v}");
    }

    // The browser form gets a page.
    let page = get(server.addr, "/status", "");
    assert_eq!(page.status, 200);
    assert!(page.text().contains("action=\"/api/v1/status?lang="));
    drop(server);
}

trait Lower {
    fn lower(&self) -> String;
}
impl Lower for &str {
    fn lower(&self) -> String {
        self.to_ascii_lowercase()
    }
}

#[test]
fn follow_up_files_join_their_case_durably_and_stop_when_it_is_closed() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let receipt = submit(
        &server,
        "vulnerability",
        vec![file("first.txt", bytes(1000, 3))],
    );
    let case = receipt["case"].as_str().unwrap().to_owned();
    let reference = receipt["reference"].as_str().unwrap().to_owned();
    let extra = bytes(300_000, 4);
    let r = post_form_to(
        server.addr,
        "/api/v1/submissions/files",
        &[
            text("reference", &reference),
            text("message", "one more screenshot"),
            file("second.png", extra.clone()),
        ],
        "",
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let v = r.json();
    let follow_up = v["case"].as_str().unwrap().to_owned();
    assert_eq!(follow_up, format!("{case}-2"));
    assert_eq!(v["follow_up_to"], case.as_str());
    assert!(
        v.get("reference").is_none(),
        "the case keeps its one reference"
    );

    // Acknowledged means durable: SIGKILL right after the 201, then restart.
    server.kill();
    let server = setup.start();
    let parent = show(&setup, &case);
    assert_eq!(parent["addenda"], json!([follow_up]));
    let child = show(&setup, &follow_up);
    assert_eq!(child["parent"], case.as_str());
    assert!(
        child["clocks"].as_array().unwrap().is_empty(),
        "clocks belong to the case"
    );
    let bundle = setup.export(&follow_up);
    let out = setup.dir.path().join("opened");
    let o = open(&bundle, &[&setup.identities[0]], &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let opened: Vec<_> = all_files(&out);
    let data = opened
        .iter()
        .find(|p| p.to_string_lossy().ends_with("second.png"))
        .map(|p| std::fs::read(p).unwrap())
        .expect("the follow-up file opens");
    assert_eq!(data, extra);

    // Wrong order, wrong reference, fields of the other form.
    let (blobs, records) = (setup.blob_count(), setup.record_count());
    let r = post_form_to(
        server.addr,
        "/api/v1/submissions/files",
        &[file("x", bytes(10, 5)), text("reference", &reference)],
        "",
    );
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (400, "reference-first")
    );
    let r = post_form_to(
        server.addr,
        "/api/v1/submissions/files",
        &[
            text("reference", "K7QD-M2XP-9FHT-3WZA-7"),
            file("x", bytes(10, 5)),
        ],
        "",
    );
    assert_eq!((r.status, r.error_code().as_str()), (404, "not-found"));
    let r = post_form_to(
        server.addr,
        "/api/v1/submissions/files",
        &[text("reference", &reference), text("category", "incident")],
        "",
    );
    assert_eq!((r.status, r.error_code().as_str()), (400, "unknown-field"));
    assert!(
        r.text().contains("category"),
        "the field is named: {}",
        r.text()
    );
    let r = post_form_to(
        server.addr,
        "/api/v1/submissions/files",
        &[text("message", "hi")],
        "",
    );
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (400, "missing-reference")
    );

    admin_ok(&setup, &["status", &case, "resolved"]);
    let r = post_form_to(
        server.addr,
        "/api/v1/submissions/files",
        &[
            text("reference", &reference),
            file("late.txt", bytes(10, 6)),
        ],
        "",
    );
    assert_eq!((r.status, r.error_code().as_str()), (409, "case-closed"));
    setup.assert_no_trace(blobs, records);
    // The status page no longer offers to add files to the closed case.
    let body = format!("reference={reference}");
    let page = request(
        server.addr,
        &format!(
            "POST /api/v1/status HTTP/1.1\r\nHost: x\r\nAccept: text/html\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        ),
        body.into_bytes(),
    )
    .text();
    assert!(page.contains("data-status=\"resolved\""), "{page}");
    assert!(!page.contains("/api/v1/submissions/files"), "{page}");
    drop(server);
}

#[test]
fn an_invitation_takes_exactly_one_report_and_then_answers_gone() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let out = setup.admin(&["invite", "--expires", "7d", "--note", "reply to mail 17"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let url = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let path = url
        .split_once("/u/")
        .map(|(_, t)| format!("/u/{t}"))
        .unwrap();
    let token = path.trim_start_matches("/u/");
    assert_eq!(token.len(), 32, "160 bits in base32: {url}");
    for f in all_files(&setup.data()) {
        let raw = std::fs::read(&f).unwrap_or_default();
        assert!(
            !raw.windows(token.len()).any(|w| w == token.as_bytes()),
            "the token is stored only hashed, found in {f:?}"
        );
    }

    let page = get(server.addr, &path, "");
    assert_eq!(page.status, 200);
    assert!(
        page.text().contains(&format!("action=\"{path}?lang=")),
        "the form posts back to the link"
    );

    // Two uploads race for the link: exactly one is stored.
    let (a1, a2) = (server.addr, server.addr);
    let (p1, p2) = (path.clone(), path.clone());
    let t1 = std::thread::spawn(move || {
        post_form_to(a1, &p1, &form(vec![file("a", bytes(2_000_000, 7))]), "")
    });
    let t2 = std::thread::spawn(move || {
        post_form_to(a2, &p2, &form(vec![file("b", bytes(2_000_000, 8))]), "")
    });
    let mut statuses = [t1.join().unwrap(), t2.join().unwrap()];
    statuses.sort_by_key(|r| r.status);
    assert_eq!(statuses[0].status, 201, "{}", statuses[0].text());
    assert_eq!(statuses[1].status, 410, "{}", statuses[1].text());
    assert_eq!(statuses[1].error_code(), "invite-gone");
    let case = statuses[0].json()["case"].as_str().unwrap().to_owned();
    assert_eq!(setup.record_count(), 1);
    assert_eq!(setup.blob_count(), 1, "the loser's ciphertext is gone");

    let v = show(&setup, &case);
    let invites: Value = serde_json::from_str(&admin_ok(&setup, &["invites", "--json"])).unwrap();
    assert_eq!(v["invite"], invites[0]["id"]);
    assert_eq!(invites[0]["case"], case.as_str());
    assert_eq!(get(server.addr, &path, "").status, 410);
    let r = post_form_to(server.addr, &path, &form(vec![]), "");
    assert_eq!(r.status, 410);

    // Expiry, and unknown or malformed tokens, answer the same.
    let out = admin_ok(&setup, &["invite", "--expires", "1s"]);
    let short = out.trim().split_once("/u/").unwrap().1.to_owned();
    std::thread::sleep(std::time::Duration::from_millis(2100));
    assert_eq!(get(server.addr, &format!("/u/{short}"), "").status, 410);
    assert_eq!(
        get(server.addr, &format!("/u/{}", "a".repeat(32)), "").status,
        410
    );
    assert_eq!(get(server.addr, "/u/short", "").status, 410);
    drop(server);
}

#[test]
fn purging_deletes_ciphertext_but_keeps_a_tombstone_in_lists_and_the_register() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let receipt = submit(&server, "data-breach", vec![file("p.txt", bytes(5000, 9))]);
    let case = receipt["case"].as_str().unwrap().to_owned();
    let reference = receipt["reference"].as_str().unwrap().to_owned();
    let r = post_form_to(
        server.addr,
        "/api/v1/submissions/files",
        &[text("reference", &reference), file("q.txt", bytes(10, 1))],
        "",
    );
    assert_eq!(r.status, 201);
    assert_eq!(setup.blob_count(), 2);
    let out = admin_ok(&setup, &["purge", &case, "--reason", "reporter asked"]);
    assert!(out.contains(&case), "{out}");
    assert_eq!(
        setup.blob_count(),
        0,
        "case and follow-up ciphertext deleted"
    );
    let v = show(&setup, &case);
    assert!(v["purged_at"].is_string());
    assert!(v["clocks"].as_array().unwrap().is_empty());
    let err = admin_err(
        &setup,
        &[
            "export",
            &case,
            "-o",
            setup.dir.path().join("x.tar").to_str().unwrap(),
        ],
    );
    assert!(err.contains("deleted"), "{err}");
    let csv = admin_ok(&setup, &["register"]);
    assert!(csv.contains(&case), "the register stays complete: {csv}");
    let audit = admin_ok(&setup, &["audit"]);
    assert!(
        audit.contains("purged") && audit.contains("reporter asked"),
        "{audit}"
    );
    let r = post_json(
        server.addr,
        "/api/v1/status",
        &json!({ "reference": reference }),
    );
    assert_eq!(r.status, 404, "a deleted case's reference is forgotten");
    let err = admin_err(&setup, &["purge", &case, "--reason", "again"]);
    assert!(err.contains("deleted"), "{err}");
    let err = admin_err(&setup, &["purge", &case]);
    assert!(err.contains("--reason"), "a deletion needs a reason: {err}");
    // A restart keeps the tombstone and does not mistake it for a missing file.
    drop(server);
    let server = setup.start();
    assert!(
        !server.log().contains("RECORD WITHOUT ITS FILES"),
        "{}",
        server.log()
    );
    drop(server);
}

#[test]
fn old_cases_show_overdue_clocks_and_closed_ones_are_purged_by_the_retention_rule() {
    let setup = Setup::new(1, "[retention]\ndelete_after_days = 30\nwarn_days = 14\n");
    let server = setup.start();
    let old = submit(&server, "data-breach", vec![file("o.txt", bytes(10, 1))])["case"]
        .as_str()
        .unwrap()
        .to_owned();
    let closed = submit(&server, "incident", vec![file("c.txt", bytes(10, 2))])["case"]
        .as_str()
        .unwrap()
        .to_owned();
    let soon = submit(&server, "incident", vec![])["case"]
        .as_str()
        .unwrap()
        .to_owned();
    admin_ok(&setup, &["status", &closed, "rejected"]);
    admin_ok(&setup, &["status", &soon, "rejected"]);
    let (old2, closed2, soon2) = (old.clone(), closed.clone(), soon.clone());
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::get("Europe/Amsterdam").unwrap())
        .date();
    rewrite_history(&setup, server, move |r| {
        let case = r["case"].as_str().unwrap().to_owned();
        if case == old2 {
            r["received_at"] = json!("2026-03-02T09:00:00Z");
        } else if case == closed2 {
            r["delete_after"] = json!(today.yesterday().unwrap().to_string());
        } else if case == soon2 {
            r["delete_after"] = json!(today.tomorrow().unwrap().tomorrow().unwrap().to_string());
        }
    });
    let server = setup.start();
    // The purge runs at start-up (the tombstone is flushed first, then the folder goes).
    let mut purged = false;
    for _ in 0..50 {
        if show(&setup, &closed)["purged_at"].is_string() && setup.blob_count() == 2 {
            purged = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(purged, "{}", server.log());
    // The tombstone is flushed before the folder goes: the folder may still be there a moment.
    for _ in 0..50 {
        if setup.blob_count() == 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(
        setup.blob_count(),
        2,
        "the purged case lost its folder, the others kept theirs"
    );
    let v = show(&setup, &old);
    for kind in ["acknowledge", "assess", "resolve", "notify-authority"] {
        assert_eq!(clock(&v, kind)["state"], "overdue", "{kind}: {v}");
    }
    let overdue: Value =
        serde_json::from_str(&admin_ok(&setup, &["list", "--overdue", "--json"])).unwrap();
    assert_eq!(overdue.as_array().unwrap().len(), 1);
    assert_eq!(overdue[0]["case"], old.as_str());
    let table = admin_ok(&setup, &["list"]);
    assert!(table.contains("OVERDUE"), "{table}");
    assert!(
        table.contains(&format!("warning: case {soon} will be deleted"))
            && table.contains("in 2 days"),
        "{table}"
    );
    let show_text = admin_ok(&setup, &["show", &old]);
    assert!(
        show_text.contains("OVERDUE") && show_text.contains("24:00"),
        "{show_text}"
    );
    drop(server);
}

#[test]
fn metrics_count_submissions_rejections_states_and_overdue_clocks() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    submit(&server, "vulnerability", vec![file("m", bytes(1234, 1))]);
    let case = submit(&server, "data-breach", vec![])["case"]
        .as_str()
        .unwrap()
        .to_owned();
    admin_ok(&setup, &["status", &case, "acknowledged"]);
    let r = post_form(server.addr, &[text("category", "gossip")], "");
    assert_eq!(r.status, 400);
    let m = admin_ok(&setup, &["metrics"]);
    for line in [
        "sealdrop_submissions_total{category=\"vulnerability\"} 1",
        "sealdrop_submissions_total{category=\"data-breach\"} 1",
        "sealdrop_submissions_total{category=\"incident\"} 0",
        "sealdrop_received_bytes_total 1234",
        "sealdrop_rejections_total{code=\"invalid-category\"} 1",
        "sealdrop_upload_duration_seconds_count 2",
        "sealdrop_cases{status=\"received\"} 1",
        "sealdrop_cases{status=\"acknowledged\"} 1",
        "sealdrop_overdue_clocks{clock=\"acknowledge\"} 0",
        "# TYPE sealdrop_upload_duration_seconds histogram",
    ] {
        assert!(m.lines().any(|l| l == line), "missing {line:?} in\n{m}");
    }
    drop(server);
}
