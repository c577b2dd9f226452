//! The crash loop: SIGKILL at random moments while clients upload, restart, 50 times. Every
//! submission that got a 201 must be there and open byte-identical; nothing half-done remains.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const CYCLES: u64 = 50;

#[test]
fn sigkill_at_random_moments_loses_no_acknowledged_submission_and_leaves_nothing_half_done() {
    let setup = Setup::new(1, "");
    let acknowledged: Arc<Mutex<HashMap<String, (u64, usize)>>> = Arc::default();
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    for cycle in 0..CYCLES {
        let server = setup.start();
        let clients: Vec<_> = (0..3u64)
            .map(|c| {
                let (addr, acknowledged) = (server.addr, Arc::clone(&acknowledged));
                let sizes = [next() % 300_000, next() % 300_000, next() % 300_000];
                std::thread::spawn(move || {
                    for (n, size) in sizes.into_iter().enumerate() {
                        let seed = cycle * 1000 + c * 10 + n as u64;
                        let parts = form(vec![file(
                            &format!("{seed}.bin"),
                            bytes(size as usize, seed),
                        )]);
                        let Some(r) = try_post(addr, &parts) else {
                            return;
                        };
                        if r.status == 201 {
                            let case = r.json()["case"].as_str().unwrap().to_owned();
                            acknowledged
                                .lock()
                                .unwrap()
                                .insert(case, (seed, size as usize));
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(20 + next() % 150));
        server.kill();
        for c in clients {
            c.join().unwrap();
        }
    }

    let _server = setup.start();
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= CYCLES as usize,
        "only {} uploads were acknowledged",
        acknowledged.len()
    );
    assert_eq!(
        setup.tmp_count(),
        0,
        "an unfinished upload survived a restart"
    );
    let listed: serde_json::Value =
        serde_json::from_slice(&setup.admin(&["list", "--json"]).stdout).unwrap();
    let records = listed.as_array().unwrap();
    assert_eq!(
        setup.blob_count(),
        records.len(),
        "blob folders and records disagree"
    );
    let cases: Vec<&str> = records
        .iter()
        .map(|r| r["case"].as_str().unwrap())
        .collect();
    for (case, (seed, size)) in &acknowledged {
        assert!(
            cases.contains(&case.as_str()),
            "acknowledged case {case} is missing"
        );
        let out = setup.dir.path().join(format!("open-{case}"));
        let o = open(&setup.export(case), &[&setup.identities[0]], &out);
        assert!(
            o.status.success(),
            "{case}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let got = std::fs::read(out.join(format!("files/{seed}.bin"))).unwrap();
        assert!(
            got == bytes(*size, *seed),
            "case {case} differs after the crash loop"
        );
    }
    eprintln!(
        "crash loop: {CYCLES} SIGKILLs, {} acknowledged, {} stored (committed before the kill but not yet answered: {})",
        acknowledged.len(),
        records.len(),
        records.len() - acknowledged.len()
    );
}
