//! The store keeps its promises under concurrency, recovery and hostile backups: backups after
//! purges restore, tampered backups are refused without writing outside their folder, imports
//! lose no concurrent change, a reset after the last byte never leaves a record without its
//! files, reservations keep `min_free_bytes` free, and the injected clock drives retention and
//! expiry.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn submit(server: &Server, seed: u64) -> (String, String) {
    let r = post_form(
        server.addr,
        &form(vec![file(&format!("{seed}.bin"), bytes(30_000, seed))]),
        "",
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let v = r.json();
    (
        v["case"].as_str().unwrap().to_owned(),
        v["reference"].as_str().unwrap().to_owned(),
    )
}

fn follow_up(server: &Server, reference: &str, seed: u64) -> Response {
    post_form_to(
        server.addr,
        "/api/v1/submissions/files",
        &[
            text("reference", reference),
            file(&format!("{seed}.bin"), bytes(20_000, seed)),
        ],
        "",
    )
}

fn restore(backup: &Path, data: &Path) -> std::process::Output {
    run(&[
        "restore",
        backup.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ])
}

/// Opens `case` with identity 0 and checks that its file is `bytes(len, seed)`.
fn opens_identical(setup: &Setup, case: &str, seed: u64, len: usize) {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let out = setup.dir.path().join(format!("opened-{case}-{seed}-{n}"));
    let o = open(&setup.export(case), &[&setup.identities[0]], &out);
    assert!(
        o.status.success(),
        "{case}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        std::fs::read(out.join(format!("files/{seed}.bin"))).unwrap() == bytes(len, seed),
        "{case}: the file differs"
    );
}

#[test]
fn a_backup_taken_after_purges_restores_and_every_surviving_case_opens_byte_identical() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let (kept, kept_ref) = submit(&server, 1);
    let (gone, gone_ref) = submit(&server, 2);
    let (other, _) = submit(&server, 3);
    let r = follow_up(&server, &gone_ref, 20);
    assert_eq!(r.status, 201, "{}", r.text());
    let r = follow_up(&server, &kept_ref, 10);
    assert_eq!(r.status, 201, "{}", r.text());
    let kept_follow_up = r.json()["case"].as_str().unwrap().to_owned();
    let first = setup.dir.path().join("before-purge.tar");
    admin_ok(&setup, &["backup", "-o", first.to_str().unwrap()]);
    admin_ok(&setup, &["purge", &gone, "--reason", "test"]);
    let second = setup.dir.path().join("after-purge.tar");
    admin_ok(&setup, &["backup", "-o", second.to_str().unwrap()]);
    drop(server);

    for backup in [&first, &second] {
        let restored = setup.dir.path().join("restored");
        let _ = std::fs::remove_dir_all(&restored);
        let o = restore(backup, &restored);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::remove_dir_all(setup.data()).unwrap();
        std::fs::rename(&restored, setup.data()).unwrap();
        let server = setup.start();
        opens_identical(&setup, &kept, 1, 30_000);
        opens_identical(&setup, &other, 3, 30_000);
        opens_identical(&setup, &kept_follow_up, 10, 20_000);
        let purged = show(&setup, &gone)["purged_at"].is_string();
        assert_eq!(
            purged,
            backup == &second,
            "the tombstone is in the second backup only"
        );
        if !purged {
            opens_identical(&setup, &gone, 2, 30_000);
        }
        drop(server);
    }
}

/// `backup.json` of `raw`, edited, as a new archive; `extra` entries are appended.
fn tampered(raw: &[u8], edit: impl Fn(&mut Value), extra: Vec<(String, Vec<u8>)>) -> Vec<u8> {
    let mut entries = tar_entries(raw);
    let meta = entries
        .iter_mut()
        .find(|(n, _)| n == "backup.json")
        .unwrap();
    let mut v: Value = serde_json::from_slice(&meta.1).unwrap();
    edit(&mut v);
    meta.1 = serde_json::to_vec(&v).unwrap();
    entries.extend(extra);
    tar_build(&entries)
}

#[test]
fn a_restore_of_a_tampered_backup_refuses_names_the_entry_and_writes_nothing_outside_its_folder() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let (case, reference) = submit(&server, 1);
    assert_eq!(follow_up(&server, &reference, 5).status, 201);
    let backup = setup.dir.path().join("good.tar");
    admin_ok(&setup, &["backup", "-o", backup.to_str().unwrap()]);
    drop(server);
    let raw = std::fs::read(&backup).unwrap();
    let id = show_offline_id(&raw, &case);
    let folder = format!("blobs/{id}/000.age");
    let payload = tar_entries(&raw)
        .into_iter()
        .find(|(n, _)| n == &folder)
        .unwrap()
        .1;

    type Edit = Box<dyn Fn(&mut Value)>;
    type Tamper = (&'static str, Edit, Vec<(String, Vec<u8>)>, &'static str);
    let first =
        |f: fn(&mut Value)| -> Edit { Box::new(move |v: &mut Value| f(&mut v["records"][0])) };
    let cases: Vec<Tamper> = vec![
        (
            "id-escapes",
            first(|r| r["id"] = json!("../../escaped")),
            vec![],
            "not one this server makes",
        ),
        (
            "folder-escapes",
            first(|r| r["blob_dir"] = json!("../../../escaped")),
            vec![],
            "folder name",
        ),
        (
            "other-folder",
            first(|r| r["blob_dir"] = json!("0123456789abcdef0123456789abcdef")),
            vec![],
            "folder name",
        ),
        (
            "case-escapes",
            first(|r| r["case"] = json!("../x")),
            vec![],
            "not a case number",
        ),
        (
            "bad-index",
            first(|r| r["files"][0]["index"] = json!(7)),
            vec![],
            "file list",
        ),
        (
            "dangling-parent",
            Box::new(|v: &mut Value| {
                let rs = v["records"].as_array_mut().unwrap();
                rs.retain(|r| r["parent"].is_null());
            }),
            vec![],
            "is not in the backup",
        ),
        (
            "dangling-reference",
            Box::new(|v: &mut Value| {
                v["refs"][0][1] = json!("ffffffffffffffffffffffffffffffff");
            }),
            vec![],
            "reference entry",
        ),
        (
            "unlisted-entry",
            Box::new(|_: &mut Value| {}),
            vec![(
                format!("blobs/{id}/../../../../escaped.age"),
                payload.clone(),
            )],
            "unexpected",
        ),
        (
            "extra-file",
            Box::new(|_: &mut Value| {}),
            vec![(format!("blobs/{id}/999.age"), payload.clone())],
            "unexpected",
        ),
        (
            "listed-but-missing",
            Box::new(|v: &mut Value| {
                let extra = v["records"][0]["files"][0].clone();
                let mut extra = extra;
                extra["index"] = json!(1);
                v["records"][0]["files"].as_array_mut().unwrap().push(extra);
            }),
            vec![],
            "truncated",
        ),
    ];
    let outside = setup.dir.path().join("restore-area");
    std::fs::create_dir_all(&outside).unwrap();
    for (name, edit, extra, expect) in cases {
        let file = setup.dir.path().join(format!("{name}.tar"));
        std::fs::write(&file, tampered(&raw, edit, extra)).unwrap();
        let target = outside.join("a/b/c/data");
        let o = restore(&file, &target);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(!o.status.success(), "{name}: restored");
        assert!(err.contains(expect), "{name}: {err}");
        assert!(err.contains("hint: "), "{name}: {err}");
        let left: Vec<_> = all_files(&outside);
        assert!(left.is_empty(), "{name}: left {left:?}");
        assert_eq!(
            std::fs::read_dir(&outside).unwrap().count(),
            0,
            "{name}: a folder was left in the restore area"
        );
        assert!(!setup.dir.path().join("escaped").exists(), "{name}");
        assert!(!setup.dir.path().join("escaped.age").exists(), "{name}");
    }
}

/// The id of `case` in a backup archive.
fn show_offline_id(raw: &[u8], case: &str) -> String {
    let entries = tar_entries(raw);
    let meta: Value = serde_json::from_slice(&entries[0].1).unwrap();
    meta["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["case"] == case)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn an_import_racing_a_purge_a_status_change_and_a_follow_up_loses_none_of_them() {
    let setup = Setup::new(2, "");
    let server = setup.start();
    for round in 0..8u64 {
        let (case, reference) = submit(&server, round);
        let bundle = setup.export(&case);
        let rekeyed = setup.dir.path().join(format!("rekeyed-{round}.tar"));
        rekey_to(
            &bundle,
            &setup.identities[0],
            &setup.recipients[1],
            &rekeyed,
        );
        let purge = round % 2 == 1;
        let mut changes = Vec::new();
        let (imported, follow) = std::thread::scope(|s| {
            let import = s.spawn(|| setup.admin(&["import", rekeyed.to_str().unwrap()]));
            let status =
                s.spawn(|| setup.admin(&["status", &case, "acknowledged", "--note", "seen"]));
            let note = s.spawn(|| setup.admin(&["note", &case, "racing note"]));
            let follow = s.spawn(|| follow_up(&server, &reference, 100 + round));
            let purged =
                purge.then(|| s.spawn(|| setup.admin(&["purge", &case, "--reason", "race"])));
            // A change is either kept or refused because the purge came first: never lost.
            for (what, change) in [
                ("status", status.join().unwrap()),
                ("note", note.join().unwrap()),
            ] {
                let err = String::from_utf8_lossy(&change.stderr).into_owned();
                assert!(
                    change.status.success() || purge && err.contains("deleted"),
                    "round {round}: {what} refused: {err}"
                );
                changes.push((what, change.status.success()));
            }
            let follow = follow.join().unwrap();
            if let Some(p) = purged {
                let p = p.join().unwrap();
                assert!(p.status.success(), "{}", String::from_utf8_lossy(&p.stderr));
            }
            (import.join().unwrap(), follow)
        });
        let v = show(&setup, &case);
        let history = v["history"].to_string();
        for (what, kept) in changes {
            let text = if what == "status" {
                "acknowledged"
            } else {
                "racing note"
            };
            assert_eq!(
                history.contains(text),
                kept,
                "round {round}: {what} lost: {v}"
            );
        }
        if follow.status == 201 {
            let fc = follow.json()["case"].as_str().unwrap().to_owned();
            assert!(
                v["addenda"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|a| a == fc.as_str()),
                "round {round}: follow-up {fc} lost: {v}"
            );
            if purge {
                assert!(
                    show(&setup, &fc)["purged_at"].is_string(),
                    "round {round}: follow-up survived its case's purge"
                );
            }
        } else {
            assert!(
                purge,
                "round {round}: follow-up refused without a purge: {}",
                follow.text()
            );
        }
        if purge {
            assert!(
                v["purged_at"].is_string(),
                "round {round}: a purged case came back: {v}"
            );
        } else {
            assert!(
                imported.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&imported.stderr)
            );
            let out = setup.dir.path().join(format!("open-new-{round}"));
            let o = open(&setup.export(&case), &[&setup.identities[1]], &out);
            assert!(
                o.status.success(),
                "round {round}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
    }
    // Every folder belongs to a live record, and every live record has its folder.
    let records: Value =
        serde_json::from_str(&admin_ok(&setup, &["list", "--json", "--follow-ups"])).unwrap();
    let live = records
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["purged_at"].is_null())
        .count();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        setup.blob_count(),
        live,
        "folders and live records disagree"
    );
    drop(server);
}

#[test]
fn a_connection_reset_after_the_last_byte_never_leaves_a_record_without_its_files() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let body = multipart_body(&form(vec![file("reset.bin", bytes(200_000, 9))]));
    let body_file = setup.dir.path().join("body.bin");
    std::fs::write(&body_file, &body).unwrap();
    // A client that sends everything, then resets the connection (SO_LINGER 0) at once or
    // after a few milliseconds, without reading the answer.
    let script = r#"
import socket, struct, sys, time
host, port, path, rounds = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
body = open(path, 'rb').read()
head = ("POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=XBOUNDARYX\r\nContent-Length: %d\r\n\r\n" % len(body)).encode()
for i in range(rounds):
    s = socket.create_connection((host, port))
    s.sendall(head + body)
    time.sleep((i % 6) * 0.002)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    s.close()
"#;
    let boundary = std::str::from_utf8(&body[2..40])
        .unwrap()
        .split("\r\n")
        .next()
        .unwrap()
        .to_owned();
    let script = script.replace("XBOUNDARYX", &boundary);
    let st = Command::new("python3")
        .args([
            "-c",
            &script,
            &server.addr.ip().to_string(),
            &server.addr.port().to_string(),
        ])
        .arg(&body_file)
        .arg("60")
        .status()
        .unwrap();
    assert!(st.success());
    std::thread::sleep(Duration::from_secs(2));
    let check = |when: &str| {
        let records: Value =
            serde_json::from_str(&admin_ok(&setup, &["list", "--json", "--follow-ups"])).unwrap();
        for r in records.as_array().unwrap() {
            let case = r["case"].as_str().unwrap();
            opens_identical(&setup, case, 9, 200_000);
        }
        assert_eq!(
            setup.blob_count(),
            records.as_array().unwrap().len(),
            "{when}: folders and records disagree"
        );
    };
    check("running");
    assert_eq!(setup.tmp_count(), 0, "an upload was left in tmp/");
    server.kill();
    let server = setup.start();
    assert!(
        !server.log().contains("RECORD WITHOUT ITS FILES"),
        "{}",
        server.log()
    );
    check("after restart");
}

#[test]
fn concurrent_uploads_never_take_free_space_below_min_free_bytes() {
    let setup = Setup::new(1, "");
    let _mount = Tmpfs::mount(setup.data(), "96m");
    let min_free: u64 = 40 << 20;
    let server = Server::start(&setup, &[("SEALDROP_STORAGE_MIN_FREE_BYTES", "40MiB")]);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (lowest, answers) = std::thread::scope(|s| {
        let watcher = s.spawn(|| {
            let mut lowest = u64::MAX;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                lowest = lowest.min(sealdrop::os::free_bytes(&setup.data()).unwrap());
                std::thread::sleep(Duration::from_millis(2));
            }
            lowest
        });
        let uploads: Vec<_> = (0..8u64)
            .map(|seed| {
                let addr = server.addr;
                s.spawn(move || {
                    post_form(
                        addr,
                        &form(vec![file("big.bin", bytes(12 << 20, seed))]),
                        "",
                    )
                })
            })
            .collect();
        let answers: Vec<Response> = uploads.into_iter().map(|u| u.join().unwrap()).collect();
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        (watcher.join().unwrap(), answers)
    });
    let stored = answers.iter().filter(|r| r.status == 201).count();
    let refused = answers.iter().filter(|r| r.status == 507).count();
    assert_eq!(
        stored + refused,
        8,
        "{:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(
        stored >= 1 && refused >= 1,
        "stored {stored}, refused {refused}"
    );
    for r in answers.iter().filter(|r| r.status == 507) {
        assert_eq!(r.error_code(), "insufficient-storage");
    }
    assert!(
        lowest >= min_free - (1 << 20),
        "free space fell to {lowest} bytes, below min_free_bytes {min_free}"
    );
    drop(server);
}

#[test]
fn the_injected_clock_makes_retention_due_and_invitations_expire() {
    let setup = Setup::new(1, "[retention]\ndelete_after_days = 30\n");
    let server = setup.start();
    let (closed, _) = submit(&server, 1);
    let (open_case, _) = submit(&server, 2);
    admin_ok(&setup, &["status", &closed, "resolved", "--note", "fixed"]);
    let url = admin_ok(&setup, &["invite", "--expires", "2h"]);
    let path = url.trim().split_once("/u/").unwrap().1.to_owned();
    assert_eq!(get(server.addr, &format!("/u/{path}"), "").status, 200);
    drop(server);

    // Three hours later: the invitation has expired, nothing is due yet.
    let server = Server::start(&setup, &[("SEALDROPTEST_CLOCK_SHIFT", "3h")]);
    assert_ne!(get(server.addr, &format!("/u/{path}"), "").status, 200);
    assert!(show(&setup, &closed)["purged_at"].is_null());
    drop(server);

    // Forty days later the resolved case is purged at start-up; the open one stays.
    let server = Server::start(&setup, &[("SEALDROPTEST_CLOCK_SHIFT", "40d")]);
    let mut purged = false;
    for _ in 0..50 {
        if show(&setup, &closed)["purged_at"].is_string() && setup.blob_count() == 1 {
            purged = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(purged, "{}", server.log());
    assert!(show(&setup, &open_case)["purged_at"].is_null());
    assert_eq!(setup.blob_count(), 1);
    drop(server);
}

#[test]
fn a_slow_upload_declaring_a_large_size_holds_only_a_step_of_the_free_space() {
    let setup = Setup::new(1, "");
    let _mount = Tmpfs::mount(setup.data(), "96m");
    let server = Server::start(&setup, &[("SEALDROP_STORAGE_MIN_FREE_BYTES", "30MiB")]);
    // Declares 48 MiB (it fits), then sends almost nothing.
    let mut slow = std::net::TcpStream::connect(server.addr).unwrap();
    use std::io::Write;
    write!(
        slow,
        "POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\n\r\n--{BOUNDARY}\r\n",
        48 << 20
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // Another reporter's 20 MiB still fits beside it.
    let r = post_form(
        server.addr,
        &form(vec![file("other.bin", bytes(20 << 20, 4))]),
        "",
    );
    assert_eq!(r.status, 201, "{}", r.text());
    drop(slow);
}

#[test]
fn a_purge_interrupted_after_its_first_mark_is_finished_when_run_again() {
    let setup = Setup::new(1, "");
    let server = Server::start(&setup, &[("SEALDROPTEST_CRASH_AT", "purge-marked")]);
    let (case, reference) = submit(&server, 1);
    assert_eq!(follow_up(&server, &reference, 2).status, 201);
    assert_eq!(setup.blob_count(), 2);
    let o = setup.admin(&["purge", &case, "--reason", "test"]);
    assert!(
        !o.status.success(),
        "the server was to crash during the purge"
    );
    drop(server);
    let server = setup.start();
    assert!(
        show(&setup, &case)["purged_at"].is_string(),
        "the case was marked"
    );
    // The purge loop at start-up finishes what the crash interrupted.
    let mut finished = false;
    for _ in 0..50 {
        if setup.blob_count() == 0 {
            finished = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        finished,
        "the follow-up's files are still there: {}",
        server.log()
    );
    let follow = show(&setup, &case)["addenda"][0]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(show(&setup, &follow)["purged_at"].is_string());
    let o = setup.admin(&["purge", &case, "--reason", "again"]);
    assert!(!o.status.success(), "a finished purge is refused");
    drop(server);
}
