//! Hostile input to the offline tools and the team's terminal: archives whose headers declare
//! gigabytes, bundles or server answers whose case, id, dates and notes carry escape sequences,
//! and durations too long for any clock.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use sha2::Digest;
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

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

/// Characters a terminal acts on or that hide and reorder text.
const ESCAPES: [char; 5] = ['\u{1b}', '\u{9b}', '\u{7}', '\u{202e}', '\u{e0041}'];

fn assert_terminal_safe(what: &str, text: &str) {
    assert!(
        !text.contains(ESCAPES),
        "{what} passed an escape on: {text:?}"
    );
}

#[test]
fn escape_sequences_in_a_bundles_case_id_and_dates_never_reach_the_terminal() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let r = post_form(server.addr, &form(vec![file("a.txt", bytes(100, 1))]), "");
    let case = r.json()["case"].as_str().unwrap().to_owned();
    // Anyone can seal a manifest to the team's public keys: forge one with a hostile case.
    let mut entries = tar_entries(&std::fs::read(setup.export(&case)).unwrap());
    let identity: age::x25519::Identity = std::fs::read_to_string(&setup.identities[0])
        .unwrap()
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .unwrap()
        .parse()
        .unwrap();
    let recipient: age::x25519::Recipient = setup.recipients[0].parse().unwrap();
    let plain = age::decrypt(&identity, &entries[1].1).unwrap();
    let mut manifest: serde_json::Value = serde_json::from_slice(&plain).unwrap();
    let mut index: serde_json::Value = serde_json::from_slice(&entries[0].1).unwrap();
    let hostile_case = "2026-0001\u{1b}]0;owned\u{7}\u{1b}[2J\u{202e}";
    let hostile_id = "id\u{9b}31m\u{e0041}";
    for v in [&mut manifest, &mut index] {
        v["case"] = hostile_case.into();
        v["id"] = hostile_id.into();
        v["received_at"] = "2026-01-01T00:00:00Z\u{1b}[8m".into();
    }
    let sealed = age::encrypt(&recipient, &serde_json::to_vec(&manifest).unwrap()).unwrap();
    index["manifest"]["size"] = sealed.len().into();
    index["manifest"]["digest"] = hex(&sha2::Sha256::digest(&sealed)).into();
    entries[0].1 = serde_json::to_vec(&index).unwrap();
    entries[1].1 = sealed;
    let forged = setup.dir.path().join("forged.tar");
    std::fs::write(&forged, tar_build(&entries)).unwrap();

    let out = setup.dir.path().join("opened");
    let o = open(&forged, &[&setup.identities[0]], &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("Opened case 2026-0001"), "{stdout}");
    assert_terminal_safe("open", &stdout);
    assert_terminal_safe(
        "report.txt",
        &std::fs::read_to_string(out.join("report.txt")).unwrap(),
    );
    // report.json keeps what the bundle said, as JSON.
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["case"], hostile_case);

    let rekeyed = setup.dir.path().join("rekeyed.tar");
    let o = run(&[
        "rekey",
        forged.to_str().unwrap(),
        "-i",
        setup.identities[0].to_str().unwrap(),
        "-r",
        &setup.recipients[0],
        "-o",
        rekeyed.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("Re-keyed case 2026-0001"), "{stdout}");
    assert_terminal_safe("rekey", &stdout);
    // `admin import` names the bundle's case when it refuses it.
    let o = setup.admin(&["import", rekeyed.to_str().unwrap()]);
    assert!(!o.status.success());
    assert_terminal_safe("admin import", &String::from_utf8_lossy(&o.stderr));
}

#[test]
fn what_the_server_sends_reaches_the_terminal_defanged_and_its_json_intact() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let r = post_form(server.addr, &form(vec![file("a", bytes(10, 1))]), "");
    let case = r.json()["case"].as_str().unwrap().to_owned();
    // A note pasted from a reporter's mail: one line without controls (the server refuses
    // those), but with a bidi override and a tag character.
    let note = "see invoice\u{202e}fdp.exe\u{e0041}";
    admin_ok(&setup, &["note", &case, note]);
    admin_ok(&setup, &["invite", "--expires", "1d", "--note", note]);
    for args in [vec!["show", case.as_str()], vec!["invites"], vec!["audit"]] {
        assert_terminal_safe(&format!("{args:?}"), &admin_ok(&setup, &args));
    }
    for args in [
        vec!["show", case.as_str(), "--json"],
        vec!["invites", "--json"],
    ] {
        let text = admin_ok(&setup, &args);
        assert_terminal_safe(&format!("{args:?}"), &text);
        assert!(text.contains("\\u202e"), "{text}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(
            v.to_string().contains(note),
            "{args:?}: the JSON lost the note"
        );
    }
}

#[test]
fn an_invitation_or_deadline_filter_beyond_any_clock_is_refused_or_capped_not_a_crash() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    for expires in ["1000000000d", "99999999999999s", "91d", "0s"] {
        let o = setup.admin(&["invite", "--expires", expires]);
        assert!(!o.status.success(), "{expires} was accepted");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("out of range") && err.contains("hint: ") && err.contains("90 days"),
            "{expires}: {err}"
        );
    }
    // The server checks too: it computes now + validity, which no u64 of seconds may overflow.
    let socket = setup.data().join("admin.sock");
    for secs in [0u64, 90 * 86_400 + 1, 99_999_999_999_999, u64::MAX] {
        let body = serde_json::to_vec(&serde_json::json!({ "expires_secs": secs })).unwrap();
        let r = admin_request(
            &socket,
            "POST",
            "/v1/invites",
            Some(("application/json", &body)),
        );
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (400, "invite-validity-out-of-range"),
            "{secs}: {}",
            r.text()
        );
        assert!(
            r.json()["error"]["hint"]
                .as_str()
                .unwrap()
                .contains("90 days")
        );
    }
    assert!(admin_ok(&setup, &["invite", "--expires", "90d"]).contains("/u/"));
    // A deadline filter past the last representable time means "ever", not a crash.
    let r = post_form(server.addr, &form(vec![file("a", bytes(10, 1))]), "");
    let case = r.json()["case"].as_str().unwrap().to_owned();
    let listed = admin_ok(&setup, &["list", "--due-within", "99999999999999s"]);
    assert!(listed.contains(&case), "{listed}");
}
