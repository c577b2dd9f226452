//! Key rotation without downtime: reload, add, retire under load; key usage counts; offline
//! re-keying and import; bad files on reload keep the old keys and certificate.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

fn keys(setup: &Setup, args: &[&str]) -> Output {
    let mut all = vec!["keys", "--config", setup.config.to_str().unwrap()];
    all.extend_from_slice(args);
    run(&all)
}

fn ok(o: Output) -> Output {
    assert!(
        o.status.success(),
        "command failed:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn json(o: Output) -> serde_json::Value {
    serde_json::from_slice(&ok(o).stdout).unwrap()
}

/// key id of each of the setup's identities, from `keys list`.
fn ids_by_recipient(setup: &Setup) -> HashMap<String, String> {
    json(keys(setup, &["list", "--json"]))
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["recipient"].as_str().unwrap().to_owned(),
                k["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn records(setup: &Setup) -> Vec<serde_json::Value> {
    json(setup.admin(&["list", "--json"]))
        .as_array()
        .unwrap()
        .clone()
}

fn manifest_path(setup: &Setup, record: &serde_json::Value) -> PathBuf {
    let dir = record["blob_dir"]
        .as_str()
        .or(record["id"].as_str())
        .unwrap();
    setup.data().join("blobs").join(dir).join("manifest.age")
}

fn age_can_decrypt(identity: &Path, file: &Path) -> bool {
    Command::new("age")
        .args(["-d", "-i"])
        .arg(identity)
        .arg(file)
        .output()
        .unwrap()
        .status
        .success()
}

fn only_first_key(setup: &Setup) {
    std::fs::write(
        setup.dir.path().join("keys/recipients.txt"),
        format!("# first\n{}\n", setup.recipients[0]),
    )
    .unwrap();
}

fn upload(server: &Server) -> String {
    let r = post_form(server.addr, &form(vec![file("a.bin", bytes(2048, 7))]), "");
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["case"].as_str().unwrap().to_owned()
}

#[test]
fn rotation_under_load_loses_no_upload_and_every_submission_reads_with_exactly_its_keys() {
    let setup = Setup::new(4, "");
    only_first_key(&setup);
    let server = setup.start();
    let stop = Arc::new(AtomicBool::new(false));
    let (done, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let addr = server.addr;
    let clients: Vec<_> = (0..4)
        .map(|c| {
            let (stop, done, failed) = (Arc::clone(&stop), Arc::clone(&done), Arc::clone(&failed));
            std::thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    let r = post_form(
                        addr,
                        &form(vec![file("x.bin", bytes(4096, c * 1000 + n))]),
                        "",
                    );
                    if r.status == 201 {
                        done.fetch_add(1, Ordering::SeqCst)
                    } else {
                        failed.fetch_add(1, Ordering::SeqCst)
                    };
                    std::thread::sleep(Duration::from_millis(10));
                }
            })
        })
        .collect();

    let r = |i: usize| setup.recipients[i].clone();
    let id_of = |i: usize| sealdrop_key_id(&setup.recipients[i]);
    for round in 0..3 {
        let (next, prev) = ((round + 1) % 4, round % 4);
        ok(keys(
            &setup,
            &["add", &r(next), "--label", &format!("generation {round}")],
        ));
        std::thread::sleep(Duration::from_millis(60));
        ok(keys(&setup, &["reload"]));
        ok(keys(
            &setup,
            &["retire", &id_of(prev), "--reason", "rotation test"],
        ));
        std::thread::sleep(Duration::from_millis(60));
        // An edit by hand, then SIGHUP.
        let path = setup.dir.path().join("keys/recipients.txt");
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str(&format!("# by hand\n{}\n", r(prev)));
        std::fs::write(&path, text).unwrap();
        Command::new("kill")
            .args(["-HUP", &server.pid().to_string()])
            .status()
            .unwrap();
        std::thread::sleep(Duration::from_millis(60));
        ok(keys(&setup, &["retire", &id_of(prev), "--reason", "again"]));
    }
    std::thread::sleep(Duration::from_millis(100));
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.join().unwrap();
    }
    assert_eq!(
        failed.load(Ordering::SeqCst),
        0,
        "uploads failed during rotation"
    );
    let stored = done.load(Ordering::SeqCst);
    assert!(
        stored >= 20,
        "only {stored} uploads ran during the rotation"
    );

    let ids = ids_by_recipient(&setup);
    let all = records(&setup);
    assert_eq!(all.len(), stored);
    let mut key_sets = std::collections::HashSet::new();
    for rec in &all {
        let key_ids: Vec<String> = rec["key_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap().to_owned())
            .collect();
        assert!(!key_ids.is_empty(), "a submission was encrypted to no key");
        key_sets.insert(key_ids.clone());
        let manifest = manifest_path(&setup, rec);
        for (i, identity) in setup.identities.iter().enumerate() {
            let listed = key_ids.contains(&ids[&setup.recipients[i]]);
            assert_eq!(
                age_can_decrypt(identity, &manifest),
                listed,
                "case {} key {i}",
                rec["case"]
            );
        }
    }
    assert!(
        key_sets.len() >= 3,
        "the rotation produced only {} key sets",
        key_sets.len()
    );
}

/// The key id as documented (first 12 hex digits of the recipient's SHA-256), computed with
/// the system's sha256sum so the test does not reuse the crate's code.
fn sealdrop_key_id(recipient: &str) -> String {
    // sha256 through the system tool keeps the test independent of the crate's code.
    let out = Command::new("sha256sum")
        .arg("-")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    out.stdin
        .as_ref()
        .unwrap()
        .write_all(recipient.as_bytes())
        .unwrap();
    let o = out.wait_with_output().unwrap();
    String::from_utf8(o.stdout).unwrap()[..12].to_owned()
}

#[test]
fn after_retire_new_submissions_are_unreadable_with_the_retired_identity_and_old_ones_still_are() {
    let setup = Setup::new(2, "");
    let server = setup.start();
    let before = upload(&server);
    let k0 = sealdrop_key_id(&setup.recipients[0]);
    ok(keys(&setup, &["retire", &k0, "--reason", "laptop lost"]));
    let after = upload(&server);
    let all = records(&setup);
    let find = |case: &str| all.iter().find(|r| r["case"] == case).unwrap().clone();
    assert!(age_can_decrypt(
        &setup.identities[0],
        &manifest_path(&setup, &find(&before))
    ));
    assert!(age_can_decrypt(
        &setup.identities[1],
        &manifest_path(&setup, &find(&before))
    ));
    assert!(!age_can_decrypt(
        &setup.identities[0],
        &manifest_path(&setup, &find(&after))
    ));
    assert!(age_can_decrypt(
        &setup.identities[1],
        &manifest_path(&setup, &find(&after))
    ));
    let listed = json(setup.admin(&["list", "--key", &k0, "--json"]));
    let cases: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["case"].as_str().unwrap())
        .collect();
    assert_eq!(cases, vec![before.as_str()]);
    let text = std::fs::read_to_string(setup.dir.path().join("keys/recipients.txt")).unwrap();
    assert!(text.contains("(laptop lost): age1"), "{text}");
    // The last active key cannot be retired.
    let k1 = sealdrop_key_id(&setup.recipients[1]);
    let o = keys(&setup, &["retire", &k1]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("last active key"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let audit = json(setup.admin(&["audit", "--json"]));
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event"] == "key-retired" && e["key_id"] == k0.as_str())
    );
}

fn usage(setup: &Setup) -> HashMap<String, (bool, u64, u64)> {
    json(keys(setup, &["list", "--json"]))
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["id"].as_str().unwrap().to_owned(),
                (
                    k["active"].as_bool().unwrap(),
                    k["readable"].as_u64().unwrap(),
                    k["sole"].as_u64().unwrap(),
                ),
            )
        })
        .collect()
}

#[test]
fn key_usage_counts_are_right_across_three_generations_and_after_rekeying() {
    let setup = Setup::new(3, "");
    only_first_key(&setup);
    let server = setup.start();
    let [a, b, c] = [0, 1, 2].map(|i| sealdrop_key_id(&setup.recipients[i]));
    let gen1: Vec<String> = (0..2).map(|_| upload(&server)).collect();
    ok(keys(
        &setup,
        &["add", &setup.recipients[1], "--label", "bob"],
    ));
    for _ in 0..3 {
        upload(&server);
    }
    ok(keys(&setup, &["retire", &a]));
    ok(keys(
        &setup,
        &["add", &setup.recipients[2], "--label", "carol"],
    ));
    upload(&server);
    let u = usage(&setup);
    assert_eq!(u[&a], (false, 5, 2));
    assert_eq!(u[&b], (true, 4, 0));
    assert_eq!(u[&c], (true, 1, 0));

    // Re-key generation 1 to B: then nothing needs A any more.
    for case in &gen1 {
        let bundle = setup.export(case);
        let new = setup.dir.path().join(format!("rekeyed-{case}.tar"));
        ok(run(&[
            "rekey",
            bundle.to_str().unwrap(),
            "-i",
            setup.identities[0].to_str().unwrap(),
            "-r",
            &setup.recipients[1],
            "-o",
            new.to_str().unwrap(),
        ]));
        ok(setup.admin(&["import", new.to_str().unwrap()]));
    }
    let u = usage(&setup);
    assert_eq!(u[&a], (false, 3, 0));
    assert_eq!(u[&b], (true, 6, 2));
}

#[test]
fn a_rekeyed_submission_opens_with_the_new_identity_only_and_imports_refuse_bad_bundles() {
    let setup = Setup::new(2, "");
    only_first_key(&setup);
    let server = setup.start();
    let contents = [bytes(150_000, 1), bytes(65536, 2)];
    let r = post_form(
        server.addr,
        &form(vec![
            file("one.bin", contents[0].clone()),
            file("two.bin", contents[1].clone()),
        ]),
        "",
    );
    let case = r.json()["case"].as_str().unwrap().to_owned();
    let other = upload(&server);
    let bundle = setup.export(&case);
    let new = setup.dir.path().join("new.tar");
    let id = |i: usize| setup.identities[i].to_str().unwrap().to_owned();
    let o = ok(run(&[
        "rekey",
        bundle.to_str().unwrap(),
        "-i",
        &id(0),
        "-r",
        &setup.recipients[1],
        "-o",
        new.to_str().unwrap(),
    ]));
    assert!(String::from_utf8_lossy(&o.stdout).contains("admin import"));
    // rekey never overwrites.
    assert!(
        !run(&[
            "rekey",
            bundle.to_str().unwrap(),
            "-i",
            &id(0),
            "-r",
            &setup.recipients[1],
            "-o",
            new.to_str().unwrap()
        ])
        .status
        .success()
    );

    // The server must use the new key before it accepts a bundle encrypted only to it.
    ok(keys(
        &setup,
        &["add", &setup.recipients[1], "--label", "second"],
    ));

    // Refusals change nothing.
    let refused = |path: &Path, extra: &[&str], words: &str| {
        let mut args = vec!["import", path.to_str().unwrap()];
        args.extend_from_slice(extra);
        let o = setup.admin(&args);
        assert!(!o.status.success(), "import accepted a bad bundle");
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(err.contains(words) && err.contains("hint: "), "{err}");
    };
    refused(&new, &["--case", &other], "for case");
    let good = std::fs::read(&new).unwrap();
    let truncated = setup.dir.path().join("truncated.tar");
    std::fs::write(&truncated, &good[..good.len() - 1024 - 512]).unwrap();
    refused(&truncated, &[], "truncated");
    let mut entries = tar_entries(&good);
    let mut index: serde_json::Value = serde_json::from_slice(&entries[0].1).unwrap();
    index["files"].as_array_mut().unwrap().pop();
    entries[0].1 = serde_json::to_vec(&index).unwrap();
    entries.pop();
    let fewer = setup.dir.path().join("fewer.tar");
    std::fs::write(&fewer, tar_build(&entries)).unwrap();
    refused(&fewer, &[], "files");
    let still_old = setup.export(&case);
    assert!(ok_open(
        &still_old,
        &setup.identities[0],
        &setup.dir.path().join("still-old")
    ));

    ok(setup.admin(&["import", new.to_str().unwrap()]));
    let after = setup.export(&case);
    let out_new = setup.dir.path().join("with-new");
    assert!(ok_open(&after, &setup.identities[1], &out_new));
    assert!(std::fs::read(out_new.join("files/one.bin")).unwrap() == contents[0]);
    assert!(std::fs::read(out_new.join("files/two.bin")).unwrap() == contents[1]);
    assert!(!ok_open(
        &after,
        &setup.identities[0],
        &setup.dir.path().join("with-old")
    ));
    let rec = json(setup.admin(&["show", &case, "--json"]));
    assert_eq!(
        rec["key_ids"],
        serde_json::json!([sealdrop_key_id(&setup.recipients[1])])
    );
    // Only the new ciphertext remains, and it survives a restart.
    assert_eq!(setup.blob_count(), 2);
    server.kill();
    let _server = setup.start();
    assert_eq!(setup.blob_count(), 2);
    assert!(ok_open(
        &setup.export(&case),
        &setup.identities[1],
        &setup.dir.path().join("after-restart")
    ));
    let audit = json(setup.admin(&["audit", "--json"]));
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event"] == "rekeyed" && e["case"] == case.as_str())
    );
}

fn ok_open(bundle: &Path, identity: &Path, out: &Path) -> bool {
    open(bundle, &[identity], out).status.success()
}

#[test]
fn a_bad_recipients_file_on_reload_keeps_the_old_keys() {
    let setup = Setup::new(2, "");
    let server = setup.start();
    let path = setup.dir.path().join("keys/recipients.txt");
    let good = std::fs::read_to_string(&path).unwrap();
    for bad in [
        "",
        "age1notarealkey\n",
        &format!("{good}AGE-SECRET-KEY-1XYZ\n"),
    ] {
        std::fs::write(&path, bad).unwrap();
        let o = keys(&setup, &["reload"]);
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(
            err.contains("recipients.txt") && err.contains("hint"),
            "{err}"
        );
        assert!(
            err.contains("keys: refused") && err.contains("TLS: not in use"),
            "{err}"
        );
        let r = post_form(server.addr, &form(vec![file("a", bytes(10, 1))]), "");
        assert_eq!(r.status, 201);
        assert_eq!(
            r.json()["key_ids"].as_array().unwrap().len(),
            2,
            "the old keys must stay in force"
        );
    }
    // SIGHUP with a bad file: the server keeps running with the old keys.
    Command::new("kill")
        .args(["-HUP", &server.pid().to_string()])
        .status()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(upload(&server).len(), 9);
    assert!(
        server.log().contains("key reload refused"),
        "{}",
        server.log()
    );
    let audit = json(setup.admin(&["audit", "--json"]));
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["event"] == "reload-refused")
            .count()
            >= 4
    );
}

fn served_cert(url: &str) -> String {
    let o = Command::new("curl")
        .args(["-sk", "-o", "/dev/null", "-w", "%{certs}"])
        .arg(format!("{url}healthz"))
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn base64_body(pem: &str) -> String {
    pem.lines()
        .filter(|l| !l.starts_with("-----") && !l.contains(':') && !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("")
}

#[test]
fn tls_certificates_reload_without_dropping_uploads_and_a_bad_one_is_refused() {
    let dir = TempDir::new("tlsreload");
    let demo = dir.path().join("demo");
    ok(demo_setup_only(&demo));
    let spare = dir.path().join("spare");
    ok(demo_setup_only(&spare));
    let setup = Setup::of_demo(dir, &demo);
    let server = setup.start();
    let first = std::fs::read_to_string(demo.join("cert.pem")).unwrap();
    assert_eq!(base64_body(&served_cert(&server.url)), base64_body(&first));

    // A slow upload over the old certificate keeps going across the reload.
    let evidence = setup.dir.path().join("slow.bin");
    std::fs::write(&evidence, bytes(400_000, 5)).unwrap();
    let url = server.url.clone();
    let slow = std::thread::spawn(move || {
        Command::new("curl")
            .args([
                "-sk",
                "--limit-rate",
                "200K",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "-F",
                "category=incident",
            ])
            .arg("-F")
            .arg(format!("file=@{}", evidence.display()))
            .arg(format!("{url}api/v1/submissions"))
            .output()
            .unwrap()
    });
    std::thread::sleep(Duration::from_millis(500));
    std::fs::copy(spare.join("cert.pem"), demo.join("cert.pem")).unwrap();
    std::fs::copy(spare.join("key.pem"), demo.join("key.pem")).unwrap();
    ok(run(&[
        "keys",
        "--config",
        setup.config.to_str().unwrap(),
        "reload",
    ]));
    let second = std::fs::read_to_string(demo.join("cert.pem")).unwrap();
    assert_eq!(base64_body(&served_cert(&server.url)), base64_body(&second));
    let o = slow.join().unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), "201");

    std::fs::write(
        demo.join("cert.pem"),
        "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let o = run(&["keys", "--config", setup.config.to_str().unwrap(), "reload"]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("cert.pem"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        base64_body(&served_cert(&server.url)),
        base64_body(&second),
        "a bad certificate replaced the good one"
    );
}

#[test]
fn an_import_that_would_undo_a_rotation_or_change_nothing_is_refused() {
    let setup = Setup::new(3, "");
    only_first_key(&setup);
    let server = setup.start();
    let case = upload(&server);
    let [a, b, c] = [0, 1, 2].map(|i| sealdrop_key_id(&setup.recipients[i]));
    ok(keys(&setup, &["add", &setup.recipients[1], "--label", "b"]));
    ok(keys(&setup, &["add", &setup.recipients[2], "--label", "c"]));
    ok(keys(&setup, &["retire", &a, "--reason", "rotated"]));
    ok(keys(&setup, &["retire", &c, "--reason", "rotated"]));
    let bundle = setup.export(&case);
    let blobs_before = setup.blob_count();

    let refused = |recipient: &str, name: &str| -> String {
        let out = setup.dir.path().join(name);
        rekey_to(&bundle, &setup.identities[0], recipient, &out);
        let o = setup.admin(&["import", out.to_str().unwrap()]);
        assert!(!o.status.success(), "{name}: import accepted");
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    // Only a retired key: importing it would undo the rotation.
    let err = refused(&setup.recipients[2], "to-retired.tar");
    assert!(
        err.contains(&c) && err.contains("none of which is active"),
        "{err}"
    );
    assert!(
        err.contains("hint: ")
            && err.contains("at least one active key")
            && err.contains("sealdrop keys list"),
        "{err}"
    );
    // Exactly the keys it already has: nothing to import.
    let err = refused(&setup.recipients[0], "to-same.tar");
    assert!(
        err.contains("already encrypted to exactly these keys")
            && err.contains("nothing to import")
            && err.contains(&a),
        "{err}"
    );
    assert!(err.contains("hint: "), "{err}");

    // Nothing changed: same keys, same ciphertext, still readable with the old identity.
    let rec = json(setup.admin(&["show", &case, "--json"]));
    assert_eq!(rec["key_ids"], serde_json::json!([a]));
    assert_eq!(setup.blob_count(), blobs_before);
    assert!(ok_open(
        &setup.export(&case),
        &setup.identities[0],
        &setup.dir.path().join("still-old")
    ));

    // An active key is accepted.
    let good = setup.dir.path().join("to-active.tar");
    rekey_to(&bundle, &setup.identities[0], &setup.recipients[1], &good);
    ok(setup.admin(&["import", good.to_str().unwrap()]));
    let rec = json(setup.admin(&["show", &case, "--json"]));
    assert_eq!(rec["key_ids"], serde_json::json!([b]));
}

#[test]
fn retiring_a_key_records_its_reason_in_the_audit_trail_and_refuses_a_multi_line_reason() {
    let setup = Setup::new(2, "");
    only_first_key(&setup);
    let _server = setup.start();
    let [a, b] = [0, 1].map(|i| sealdrop_key_id(&setup.recipients[i]));
    ok(keys(
        &setup,
        &["add", &setup.recipients[1], "--label", "bob"],
    ));
    let path = setup.dir.path().join("keys/recipients.txt");
    let file_before = std::fs::read_to_string(&path).unwrap();

    for reason in ["laptop lost\nsee ticket 7", "two\r\nlines"] {
        let o = keys(&setup, &["retire", &a, "--reason", reason]);
        assert!(!o.status.success(), "a multi-line reason was accepted");
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(
            err.starts_with("error: ") && err.contains("single line"),
            "{err}"
        );
        assert!(err.contains("hint: "), "{err}");
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap(), file_before);
    assert!(usage(&setup)[&a].0, "the key was retired anyway");

    ok(keys(&setup, &["retire", &a, "--reason", "laptop lost"]));
    let audit = json(setup.admin(&["audit", "--json"]));
    let retired: Vec<&serde_json::Value> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "key-retired")
        .collect();
    assert_eq!(retired.len(), 1, "{audit}");
    assert_eq!(retired[0]["key_id"], a.as_str());
    assert_eq!(retired[0]["detail"], "reason: laptop lost (label: first)");
    assert!(usage(&setup)[&b].0);
}

#[test]
fn a_reload_says_for_keys_and_for_tls_separately_what_took_effect() {
    let dir = TempDir::new("partialreload");
    let [demo, spare] = ["demo", "spare"].map(|n| dir.path().join(n));
    for d in [&demo, &spare] {
        ok(demo_setup_only(d));
    }
    let setup = Setup::of_demo(dir, &demo);
    let server = setup.start();
    let recipients = demo.join("keys/recipients.txt");
    let good_keys = std::fs::read_to_string(&recipients).unwrap();
    let reload = || {
        let o = keys(&setup, &["reload"]);
        assert!(!o.status.success(), "a refused reload reported success");
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        let hint = err
            .lines()
            .find_map(|l| l.strip_prefix("hint: "))
            .unwrap_or_else(|| panic!("no hint: {err}"))
            .to_owned();
        (err, hint)
    };

    // Keys refused, certificate reloaded.
    std::fs::write(&recipients, "age1notarealkey\n").unwrap();
    std::fs::copy(spare.join("cert.pem"), demo.join("cert.pem")).unwrap();
    std::fs::copy(spare.join("key.pem"), demo.join("key.pem")).unwrap();
    let (err, hint) = reload();
    assert!(
        err.contains("keys: refused") && err.contains("the previous keys stay in force"),
        "{err}"
    );
    assert!(err.contains("TLS: reloaded"), "{err}");
    assert!(!hint.contains("certificate stay"), "{hint}");
    assert!(hint.contains("recipients"), "{hint}");
    let second = std::fs::read_to_string(demo.join("cert.pem")).unwrap();
    assert_eq!(base64_body(&served_cert(&server.url)), base64_body(&second));

    // Keys reloaded, certificate refused.
    std::fs::write(&recipients, &good_keys).unwrap();
    std::fs::write(
        demo.join("cert.pem"),
        "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let (err, hint) = reload();
    assert!(err.contains("keys: reloaded"), "{err}");
    assert!(
        err.contains("TLS: refused") && err.contains("the previous certificate stays in force"),
        "{err}"
    );
    assert!(!hint.contains("previous keys"), "{hint}");
    assert!(
        hint.contains("cert.pem") || hint.contains("certificate"),
        "{hint}"
    );
    assert_eq!(base64_body(&served_cert(&server.url)), base64_body(&second));

    // Both refused.
    std::fs::write(&recipients, "").unwrap();
    let (err, hint) = reload();
    assert!(
        err.contains("keys: refused") && err.contains("TLS: refused"),
        "{err}"
    );
    assert!(
        hint.contains("previous keys and certificate stay in force"),
        "{hint}"
    );
}

#[test]
fn a_key_added_between_two_patches_then_the_runbook_followed_to_the_letter_opens_the_case_byte_identical()
 {
    let setup = Setup::new(2, "[limits]\nmin_piece_size = \"1KiB\"\n");
    only_first_key(&setup);
    let server = setup.start();
    let addr = server.addr;
    let [a, b] = [0, 1].map(|i| sealdrop_key_id(&setup.recipients[i]));
    let content = bytes(300_000, 9);
    let path = crate::tus::create(addr, content.len(), "evidence.bin");
    assert_eq!(
        crate::tus::patch(addr, &path, 0, &content[..150_000]).status,
        204
    );
    // The keys README, step 2, between two pieces of one upload.
    ok(keys(
        &setup,
        &["add", &setup.recipients[1], "--label", "new"],
    ));
    let r = crate::tus::patch(addr, &path, 150_000, &content[150_000..]);
    assert_eq!(r.status, 204, "{}", r.text());
    let receipt = crate::tus::commit(addr, &[&path], "a key added mid-upload");
    assert_eq!(receipt.status, 201, "{}", receipt.text());
    let v = receipt.json();
    let case = v["case"].as_str().unwrap().to_owned();
    // The receipt and the record name the keys that really read every object: the upload's.
    assert_eq!(v["key_ids"], serde_json::json!([a.clone()]));
    // Step 3: retire the old key. Step 4: keep an identity while it alone reads something;
    // step 5: re-key that.
    ok(keys(&setup, &["retire", &a, "--reason", "rotation"]));
    let u = usage(&setup);
    assert_eq!(
        u[&a].2, 1,
        "keys list hides that only the old key reads the case"
    );
    let new = setup.dir.path().join("rekeyed.tar");
    rekey_to(
        &setup.export(&case),
        &setup.identities[0],
        &setup.recipients[1],
        &new,
    );
    ok(setup.admin(&["import", new.to_str().unwrap()]));
    assert_eq!(
        usage(&setup)[&a].2,
        0,
        "the old key still reads something alone"
    );
    assert_eq!(usage(&setup)[&b].2, 1);
    // Step 6: the old identity is destroyed; the new one opens everything.
    std::fs::remove_file(&setup.identities[0]).unwrap();
    let out = setup.dir.path().join("opened");
    let o = open(&setup.export(&case), &[&setup.identities[1]], &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(std::fs::read(out.join("files/evidence.bin")).unwrap() == content);
}

#[test]
fn a_key_retired_between_two_patches_takes_no_more_bytes_and_the_upload_starts_again_with_the_new_keys()
 {
    let setup = Setup::new(2, "[limits]\nmin_piece_size = \"1KiB\"\n");
    only_first_key(&setup);
    let server = setup.start();
    let addr = server.addr;
    let [a, b] = [0, 1].map(|i| sealdrop_key_id(&setup.recipients[i]));
    let content = bytes(300_000, 10);
    let path = crate::tus::create(addr, content.len(), "evidence.bin");
    assert_eq!(
        crate::tus::patch(addr, &path, 0, &content[..150_000]).status,
        204
    );
    // The keys README, steps 2 and 3, between two pieces: the old key may have leaked.
    ok(keys(
        &setup,
        &["add", &setup.recipients[1], "--label", "new"],
    ));
    ok(keys(&setup, &["retire", &a, "--reason", "leaked"]));
    let r = crate::tus::patch(addr, &path, 150_000, &content[150_000..]);
    assert_eq!((r.status, r.error_code().as_str()), (409, "keys-rotated"));
    // The upload is gone (a tus client starts again on the 404) and no report takes it.
    assert_eq!(crate::tus::offset_of(addr, &path), None);
    assert_eq!(
        setup.tmp_count(),
        0,
        "the retired key's pieces were left behind"
    );
    let again = crate::tus::create(addr, content.len(), "evidence.bin");
    assert_eq!(crate::tus::patch(addr, &again, 0, &content).status, 204);
    let receipt = crate::tus::commit(addr, &[&again], "started again");
    assert_eq!(receipt.status, 201, "{}", receipt.text());
    let v = receipt.json();
    assert_eq!(v["key_ids"], serde_json::json!([b.clone()]));
    // Steps 4 and 6: the old key reads nothing alone, its identity goes; the case opens.
    assert_eq!(usage(&setup)[&a].2, 0);
    std::fs::remove_file(&setup.identities[0]).unwrap();
    let out = setup.dir.path().join("opened");
    let case = v["case"].as_str().unwrap().to_owned();
    let o = open(&setup.export(&case), &[&setup.identities[1]], &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(std::fs::read(out.join("files/evidence.bin")).unwrap() == content);
}

#[test]
fn a_report_naming_uploads_sealed_to_different_keys_is_refused_and_loses_nothing() {
    let setup = Setup::new(2, "");
    only_first_key(&setup);
    let server = setup.start();
    let addr = server.addr;
    let before = crate::tus::create(addr, 5, "before.txt");
    assert_eq!(crate::tus::patch(addr, &before, 0, b"first").status, 204);
    ok(keys(
        &setup,
        &["add", &setup.recipients[1], "--label", "new"],
    ));
    let after = crate::tus::create(addr, 5, "after.txt");
    assert_eq!(crate::tus::patch(addr, &after, 0, b"later").status, 204);
    let r = crate::tus::commit(addr, &[&before, &after], "two rings");
    assert_eq!((r.status, r.error_code().as_str()), (409, "keys-rotated"));
    // Each on its own is still there and goes through.
    let r = crate::tus::commit(addr, &[&before], "old ring");
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["key_ids"].as_array().unwrap().len(), 1);
    let r = crate::tus::commit(addr, &[&after], "new ring");
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["key_ids"].as_array().unwrap().len(), 2);
}
