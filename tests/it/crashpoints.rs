//! A crash at each step between receiving the last byte and answering 201 (built with the
//! `fault-points` feature, which `bash .ci/run` enables): after a restart the state is
//! consistent: before the flush nothing of the upload remains, after it the submission is whole.
#![cfg(feature = "fault-points")]
#![allow(clippy::unwrap_used)]

use crate::common::*;

#[test]
fn a_crash_between_any_two_durability_steps_leaves_a_consistent_state() {
    crash_at_each_step(&|| Setup::new(1, ""), false);
}

/// For each step between the last byte and the 201: a portal made by `make` crashes there and
/// restarts; its folders and records agree, and an upload either left nothing or opens whole.
/// `committed_at_insert`: the engine's insert is already durable (PostgreSQL commits), so
/// the upload survives a crash just after it; with sled it takes the flush after it.
pub fn crash_at_each_step(make: &dyn Fn() -> Setup, committed_at_insert: bool) {
    let steps = [
        ("file-fsynced", false),
        ("manifest-fsynced", false),
        ("folder-fsynced", false),
        ("renamed", false),
        ("parents-fsynced", false),
        ("inserted", committed_at_insert),
        ("acknowledging", true),
    ];
    for (step, survives) in steps {
        let setup = make();
        let server = Server::start(&setup, &[("SEALDROPTEST_CRASH_AT", step)]);
        let r = try_post(server.addr, &form(vec![file("a.bin", bytes(100_000, 1))]));
        assert!(
            r.is_none_or(|r| r.status != 201),
            "{step}: the upload was acknowledged"
        );
        server.kill();
        let _server = setup.start();
        assert_eq!(setup.tmp_count(), 0, "{step}: tmp/ not emptied");
        let records = setup.record_count();
        assert_eq!(
            setup.blob_count(),
            records,
            "{step}: folders and records disagree"
        );
        if survives {
            assert_eq!(records, 1, "{step}: the flushed submission was lost");
            let listed: serde_json::Value =
                serde_json::from_slice(&setup.admin(&["list", "--json"]).stdout).unwrap();
            let case = listed[0]["case"].as_str().unwrap().to_owned();
            let out = setup.dir.path().join("opened");
            let o = open(&setup.export(&case), &[&setup.identities[0]], &out);
            assert!(
                o.status.success(),
                "{step}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            assert!(std::fs::read(out.join("files/a.bin")).unwrap() == bytes(100_000, 1));
        } else {
            assert_eq!(records, 0, "{step}: an unacknowledged upload left a record");
        }
    }
}

/// A portal with one case, whose server crashes at `step` while `admin ARGS` runs (`{case}`
/// stands for the case number); restarted. The setup, the case and the running server.
fn crash_during(step: &str, args: &[&str]) -> (Setup, String, Server) {
    crash_during_on(Setup::new(1, ""), step, args)
}

/// [`crash_during`] on the portal `setup`.
pub fn crash_during_on(setup: Setup, step: &str, args: &[&str]) -> (Setup, String, Server) {
    let server = setup.start();
    let r = post_form(server.addr, &form(vec![file("a.bin", b"a".to_vec())]), "");
    assert_eq!(r.status, 201);
    let case = r.json()["case"].as_str().unwrap().to_owned();
    drop(server);
    let server = Server::start(&setup, &[("SEALDROPTEST_CRASH_AT", step)]);
    let args: Vec<String> = args.iter().map(|a| a.replace("{case}", &case)).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = setup.admin(&args);
    assert!(!o.status.success(), "{step}: the server did not crash");
    server.kill();
    let server = setup.start();
    (setup, case, server)
}

/// The audit entries of `case` of kind `kind`.
pub fn audited(setup: &Setup, case: &str, kind: &str) -> usize {
    let events: serde_json::Value =
        serde_json::from_slice(&setup.admin(&["audit", "--json"]).stdout).unwrap();
    events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["case"] == case && e["event"] == kind)
        .count()
}

#[test]
fn a_crash_around_a_team_action_leaves_its_change_and_its_audit_entry_both_or_neither() {
    for step in ["case-applied", "case-flushed"] {
        let (setup, case, _server) = crash_during(step, &["assign", "{case}", "--to", "alice"]);
        let assigned = show(&setup, &case)["assignee"] == "alice";
        let entries = audited(&setup, &case, "assigned");
        assert_eq!(
            (assigned, entries),
            if assigned { (true, 1) } else { (false, 0) },
            "{step}: the change and its audit entry disagree"
        );
        if step == "case-flushed" {
            assert!(assigned, "{step}: a flushed change was lost");
        }
        // The same action again goes through whole.
        admin_ok(&setup, &["assign", &case, "--to", "bob"]);
        assert_eq!(show(&setup, &case)["assignee"], "bob");
        assert_eq!(audited(&setup, &case, "assigned"), entries + 1);
    }
}

#[test]
fn a_crash_around_a_purge_leaves_the_tombstone_and_its_audit_entry_both_or_neither() {
    for step in ["case-applied", "case-flushed"] {
        let (setup, case, _server) = crash_during(step, &["purge", "{case}", "--reason", "asked"]);
        let purged = !show(&setup, &case)["purged_at"].is_null();
        let entries = audited(&setup, &case, "purged");
        assert_eq!(
            (purged, entries),
            if purged { (true, 1) } else { (false, 0) },
            "{step}: the tombstone and its audit entry disagree"
        );
        if step == "case-flushed" {
            assert!(purged, "{step}: a flushed purge was lost");
        }
    }
}
