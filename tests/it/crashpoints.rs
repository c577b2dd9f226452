//! A crash at each step between receiving the last byte and answering 201 (built with the
//! `fault-points` feature, which `bash .ci/run` enables): after a restart the state is
//! consistent: before the flush nothing of the upload remains, after it the submission is whole.
#![cfg(feature = "fault-points")]
#![allow(clippy::unwrap_used)]

use crate::common::*;

#[test]
fn a_crash_between_any_two_durability_steps_leaves_a_consistent_state() {
    let steps = [
        ("file-fsynced", false),
        ("manifest-fsynced", false),
        ("folder-fsynced", false),
        ("renamed", false),
        ("parents-fsynced", false),
        ("inserted", false),
        ("acknowledging", true),
    ];
    for (step, survives) in steps {
        let setup = Setup::new(1, "");
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
