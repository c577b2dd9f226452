//! Hostile input to the offline tools and the team's terminal: archives whose headers declare
//! gigabytes.
#![allow(clippy::unwrap_used)]

mod common;
use common::*;
use std::time::{Duration, Instant};

/// A tar whose first header declares a 4 GiB GNU long name (`L`) or PAX extension (`x`),
/// followed by a few bytes of it and nothing else.
fn huge_extension(kind: u8) -> Vec<u8> {
    let mut raw = tar_header("././@LongLink", kind, "", 4 << 30);
    raw.extend_from_slice(&[b'a'; 100]);
    raw
}

/// Runs the binary, failing the test if it takes more than a few seconds.
fn run_quickly(args: &[&str]) -> std::process::Output {
    let started = Instant::now();
    let out = run(args);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{args:?} took {:?}",
        started.elapsed()
    );
    out
}

fn assert_refused_unread(out: &std::process::Output, what: &str) {
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(what) && err.contains("refused unread") && err.contains("hint: "),
        "{err}"
    );
}

#[test]
fn open_rekey_restore_and_import_refuse_a_4_gib_extension_header_unread() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let dir = setup.dir.path();
    let (pax, long) = (dir.join("pax.tar"), dir.join("long.tar"));
    std::fs::write(&pax, huge_extension(b'x')).unwrap();
    std::fs::write(&long, huge_extension(b'L')).unwrap();
    let identity = setup.identities[0].to_str().unwrap();
    for (bundle, what) in [
        (&pax, "PAX extension header of 4 GiB"),
        (&long, "GNU long name of 4 GiB"),
    ] {
        let bundle = bundle.to_str().unwrap();
        let out = dir.join("out");
        let o = run_quickly(&["open", bundle, "-i", identity, "-o", out.to_str().unwrap()]);
        assert_refused_unread(&o, what);
        let rekeyed = dir.join("rekeyed.tar");
        let o = run_quickly(&[
            "rekey",
            bundle,
            "-i",
            identity,
            "-r",
            &setup.recipients[0],
            "-o",
            rekeyed.to_str().unwrap(),
        ]);
        assert_refused_unread(&o, what);
        assert!(!rekeyed.exists());
        let restored = dir.join("restored");
        let o = run_quickly(&["restore", bundle, "--data-dir", restored.to_str().unwrap()]);
        assert!(!o.status.success());
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(what),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let o = setup.admin(&["import", bundle, "--case", "2026-0001"]);
        assert!(!o.status.success());
        assert!(String::from_utf8_lossy(&o.stderr).contains(what));
    }
    // The server reads an import itself: sent straight to the socket, it refuses it the same way.
    let case = post_form(server.addr, &form(vec![file("a", bytes(10, 1))]), "").json()["case"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = admin_request(
        &setup.data().join("admin.sock"),
        "POST",
        &format!("/v1/submissions/{case}/import"),
        Some(("application/x-tar", &huge_extension(b'x'))),
    );
    assert_eq!((r.status, r.error_code().as_str()), (422, "import-refused"));
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("PAX extension header of 4 GiB")
    );
    assert_eq!(show(&setup, &case)["files"].as_array().unwrap().len(), 1);
}
