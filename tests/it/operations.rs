//! Operations: the systemd unit verifies, uploads larger than nginx's default body limit pass
//! through the shipped nginx configuration, and an online backup restores into a working portal.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[test]
fn the_systemd_unit_is_hardened_and_passes_systemd_analyze_verify() {
    let unit = std::fs::read_to_string(repo("deploy/sealdrop.service")).unwrap();
    for directive in [
        "User=sealdrop",
        "StateDirectory=sealdrop",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "PrivateDevices=yes",
        "NoNewPrivileges=yes",
        "CapabilityBoundingSet=\n",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "SystemCallFilter=@system-service",
        "MemoryDenyWriteExecute=yes",
        "LimitCORE=0",
        "UMask=0077",
        "Restart=on-failure",
        "ExecReload=/bin/kill -HUP $MAINPID",
    ] {
        assert!(unit.contains(directive), "the unit lacks {directive:?}");
    }
    let dir = TempDir::new("systemd");
    let path = dir.path().join("sealdrop.service");
    std::fs::write(&path, unit.replace("/usr/local/bin/sealdrop", bin())).unwrap();
    // Documentation=man:sealdrop(1) must name the page `sealdrop manpage` writes; verify checks
    // it where man(1) is installed.
    let man = dir.path().join("man");
    let o = run(&["manpage", "-o", man.join("man1").to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let with_man = Command::new("man").arg("--version").output().is_ok();
    let out = Command::new("systemd-analyze")
        .args(["verify", if with_man { "--man=yes" } else { "--man=no" }])
        .arg(&path)
        .env("MANPATH", &man)
        .output()
        .expect("systemd-analyze is needed (Debian package systemd)");
    let err = String::from_utf8_lossy(&out.stderr);
    let ours: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("sealdrop.service"))
        .collect();
    assert!(
        out.status.success() && ours.is_empty(),
        "systemd-analyze verify: {err}"
    );
}

#[test]
fn an_upload_larger_than_nginx_default_limit_passes_through_the_shipped_nginx_config() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let nginx = Nginx::start(server.addr, "");
    let addr = nginx.addr;
    let content = bytes(5 << 20, 77);
    let resp = post_form(addr, &form(vec![file("big.bin", content.clone())]), "");
    let access = nginx.access_log(1);
    drop(nginx);
    assert_eq!(resp.status, 201, "{}", resp.text());
    assert_eq!(
        resp.headers
            .iter()
            .filter(|(k, _)| k == "content-security-policy")
            .count(),
        1
    );
    let case = resp.json()["case"].as_str().unwrap().to_owned();
    assert!(
        access.contains("POST /api/v1/submissions\" 201"),
        "{access}"
    );
    assert!(
        !access.contains("127.0.0.1"),
        "nginx logged a client address: {access}"
    );
    let out = setup.dir.path().join("opened");
    assert!(
        open(&setup.export(&case), &[&setup.identities[0]], &out)
            .status
            .success()
    );
    assert!(std::fs::read(out.join("files/big.bin")).unwrap() == content);
}

#[test]
fn an_online_backup_taken_during_uploads_restores_into_a_working_portal() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let stop = Arc::new(AtomicBool::new(false));
    let addr = server.addr;
    let clients: Vec<_> = (0..3u64)
        .map(|c| {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    let seed = c * 100_000 + n;
                    let r = post_form(
                        addr,
                        &form(vec![file(
                            &format!("{seed}.bin"),
                            bytes(70_000 + n as usize, seed),
                        )]),
                        "",
                    );
                    assert_eq!(r.status, 201);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(400));
    let backup = setup.dir.path().join("backup.tar");
    let o = setup.admin(&["backup", "-o", backup.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.join().unwrap();
    }
    let health: serde_json::Value =
        serde_json::from_slice(&setup.admin(&["health"]).stdout).unwrap();
    assert_eq!(health["status"], "ok");
    assert!(health["submissions"].as_u64().unwrap() > 0);

    let restored = Setup::new(0, "");
    std::fs::copy(
        setup.dir.path().join("keys/recipients.txt"),
        restored.dir.path().join("keys/recipients.txt"),
    )
    .unwrap();
    restore_into(&backup, &restored);
    let again = run(&[
        "restore",
        backup.to_str().unwrap(),
        "--data-dir",
        restored.data().to_str().unwrap(),
    ]);
    assert!(
        !again.status.success(),
        "restore wrote into a non-empty folder"
    );

    let second = restored.start();
    let list: serde_json::Value =
        serde_json::from_slice(&restored.admin(&["list", "--json"]).stdout).unwrap();
    let cases: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["case"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        cases.len() >= 3,
        "the backup holds only {} submissions",
        cases.len()
    );
    for case in &cases {
        let out = restored.dir.path().join(format!("open-{case}"));
        let o = open(&restored.export(case), &[&setup.identities[0]], &out);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let name = std::fs::read_dir(out.join("files"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .file_name();
        let seed: u64 = name
            .to_str()
            .unwrap()
            .trim_end_matches(".bin")
            .parse()
            .unwrap();
        let n = (seed % 100_000) as usize;
        assert!(
            std::fs::read(out.join("files").join(&name)).unwrap() == bytes(70_000 + n, seed),
            "case {case} differs"
        );
    }
    // The restored portal takes new submissions with fresh case numbers.
    let r = post_form(second.addr, &form(vec![file("new.bin", bytes(10, 1))]), "");
    assert_eq!(r.status, 201);
    assert!(!cases.contains(&r.json()["case"].as_str().unwrap().to_owned()));
    // A damaged backup is refused.
    let mut damaged = std::fs::read(&backup).unwrap();
    let len = damaged.len();
    damaged.truncate(len - 4096);
    let bad = setup.dir.path().join("damaged.tar");
    std::fs::write(&bad, &damaged).unwrap();
    let target = TempDir::new("restore-bad");
    let o = run(&[
        "restore",
        bad.to_str().unwrap(),
        "--data-dir",
        target.path().join("d").to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("hint: "));
}

fn restore(backup: &Path, data_dir: &Path) -> std::process::Output {
    run(&[
        "restore",
        backup.to_str().unwrap(),
        "--data-dir",
        data_dir.to_str().unwrap(),
    ])
}

#[test]
fn a_failed_restore_removes_what_it_created_so_a_retry_into_the_same_folder_works() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    for seed in 0..2 {
        let r = post_form(
            server.addr,
            &form(vec![
                file("a.bin", bytes(90_000, seed)),
                file("b.bin", bytes(20_000, seed + 10)),
            ]),
            "",
        );
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let backup = setup.dir.path().join("backup.tar");
    let o = setup.admin(&["backup", "-o", backup.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    drop(server);
    let good = std::fs::read(&backup).unwrap();

    let truncated = setup.dir.path().join("truncated.tar");
    std::fs::write(&truncated, &good[..good.len() - 4096]).unwrap();
    let mut entries = tar_entries(&good);
    let last = entries.last_mut().unwrap();
    assert!(last.0.starts_with("blobs/"), "{}", last.0);
    let at = last.1.len() / 2;
    last.1[at] ^= 0x55;
    let corrupt = setup.dir.path().join("corrupt.tar");
    std::fs::write(&corrupt, tar_build(&entries)).unwrap();

    let target = TempDir::new("restore-retry");
    // A folder restore creates (with a parent it creates) is removed again.
    let parent = target.path().join("new");
    let fresh = parent.join("data");
    for bad in [&truncated, &corrupt] {
        let o = restore(bad, &fresh);
        assert!(!o.status.success(), "a damaged backup was restored");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("hint: "), "{err}");
        assert!(!parent.exists(), "restore left {}", parent.display());
    }
    // A folder that was there (empty) stays, empty.
    let existing = target.path().join("existing");
    std::fs::create_dir(&existing).unwrap();
    for bad in [&truncated, &corrupt] {
        assert!(!restore(bad, &existing).status.success());
        assert!(existing.is_dir());
        let left: Vec<_> = std::fs::read_dir(&existing).unwrap().collect();
        assert!(left.is_empty(), "restore left {left:?}");
    }
    // The retries work.
    for dir in [&fresh, &existing] {
        let o = restore(&backup, dir);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(String::from_utf8_lossy(&o.stdout).contains("Restored 2 submission(s)"));
    }
    // A folder that holds anything is refused, with a way out.
    let o = restore(&backup, &existing);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("not empty")
            && err.contains("hint: ")
            && err.contains("choose a new or empty folder"),
        "{err}"
    );
    // The restored data directory serves the submissions.
    let restored = Setup::new(0, "");
    std::fs::copy(
        setup.dir.path().join("keys/recipients.txt"),
        restored.dir.path().join("keys/recipients.txt"),
    )
    .unwrap();
    std::fs::rename(&fresh, restored.data()).unwrap();
    let _second = restored.start();
    assert_eq!(restored.record_count(), 2);
}
