//! Faults in the durability steps: failed fsyncs (libfiu) and a full disk (a small tmpfs).
//! Nothing is acknowledged that is not durable, nothing unacknowledged remains, and the portal
//! serves again once the fault is gone.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use std::process::Command;

/// Every stored submission opens, blob folders match records, and tmp/ is empty.
fn assert_consistent(setup: &Setup, acknowledged: &[(String, u64)]) {
    let listed: serde_json::Value =
        serde_json::from_slice(&setup.admin(&["list", "--json"]).stdout).unwrap();
    let records = listed.as_array().unwrap();
    assert_eq!(setup.tmp_count(), 0, "tmp/ is not empty");
    assert_eq!(
        setup.blob_count(),
        records.len(),
        "blob folders and records disagree"
    );
    for r in records {
        let case = r["case"].as_str().unwrap();
        let out = setup.dir.path().join(format!("open-{case}"));
        let o = open(&setup.export(case), &[&setup.identities[0]], &out);
        assert!(
            o.status.success(),
            "{case}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        if let Some((_, seed)) = acknowledged.iter().find(|(c, _)| c == case) {
            assert!(
                std::fs::read(out.join(format!("files/{seed}.bin"))).unwrap()
                    == bytes(50_000, *seed)
            );
        }
    }
    for (case, _) in acknowledged {
        assert!(
            records.iter().any(|r| r["case"] == case.as_str()),
            "acknowledged {case} is missing"
        );
    }
}

#[test]
fn failed_fsyncs_are_never_acknowledged_and_leave_nothing_behind() {
    let setup = Setup::new(1, "");
    let ctl = setup.dir.path().join("fiu-ctl");
    let ctl = ctl.to_str().unwrap().to_owned();
    let server = Server::try_start_wrapped(&setup, &[], &["fiu-run", "-x", "-f", &ctl])
        .unwrap_or_else(|log| {
            panic!("fiu-run (Debian package fiu-utils) could not start the server:\n{log}")
        });
    let pid = server.pid().to_string();
    let fiu = |command: &str| {
        let st = Command::new("fiu-ctrl")
            .args(["-f", &ctl, "-c", command, &pid])
            .status()
            .expect("fiu-ctrl");
        assert!(st.success(), "fiu-ctrl {command}");
    };
    let upload = |seed: u64| {
        post_form(
            server.addr,
            &form(vec![file(&format!("{seed}.bin"), bytes(50_000, seed))]),
            "",
        )
    };

    fiu("enable name=posix/io/sync/fsync");
    for seed in 0..3 {
        let r = upload(seed);
        assert!(
            r.status == 500 || r.status == 507,
            "a failed fsync answered {}",
            r.status
        );
    }
    fiu("disable name=posix/io/sync/fsync");
    setup.assert_no_trace(0, 0);

    fiu("enable_random name=posix/io/sync/*,probability=0.15");
    let mut acknowledged = Vec::new();
    let mut failed = 0;
    for seed in 100..140 {
        let r = upload(seed);
        match r.status {
            201 => acknowledged.push((r.json()["case"].as_str().unwrap().to_owned(), seed)),
            500 | 507 => failed += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    fiu("disable name=posix/io/sync/*");
    assert!(
        !acknowledged.is_empty() && failed > 0,
        "{} acknowledged, {failed} failed",
        acknowledged.len()
    );
    assert_eq!(upload(999).status, 201, "the portal did not recover");
    server.kill();
    let _server = setup.start();
    assert_consistent(&setup, &acknowledged);
}

#[test]
fn a_full_disk_answers_507_corrupts_nothing_and_serving_resumes_when_space_returns() {
    let setup = Setup::new(1, "");
    let _mount = Tmpfs::mount(setup.data(), "24m");
    let server = Server::start(&setup, &[("SEALDROP_STORAGE_MIN_FREE_BYTES", "0")]);
    let mut acknowledged = Vec::new();
    for seed in 0..3 {
        let r = post_form(
            server.addr,
            &form(vec![file(&format!("{seed}.bin"), bytes(50_000, seed))]),
            "",
        );
        assert_eq!(r.status, 201);
        acknowledged.push((r.json()["case"].as_str().unwrap().to_owned(), seed));
    }
    // Bigger than what is left: the disk fills up in the middle of the upload.
    let r = post_form(
        server.addr,
        &form(vec![file("huge.bin", bytes(40 << 20, 7))]),
        "",
    );
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (507, "insufficient-storage"),
        "{}",
        r.text()
    );
    setup.assert_no_trace(3, 3);
    // The space came back when the refused upload was removed.
    let r = post_form(
        server.addr,
        &form(vec![file("100.bin", bytes(50_000, 100))]),
        "",
    );
    assert_eq!(r.status, 201, "{}", r.text());
    acknowledged.push((r.json()["case"].as_str().unwrap().to_owned(), 100));
    server.kill();
    let _server = setup.start();
    assert_consistent(&setup, &acknowledged);
}
