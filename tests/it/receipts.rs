//! Signed receipts: stock `ssh-keygen -Y verify` accepts the receipt of the JSON answer with the
//! keys published at /.well-known/sealdrop-receipt-keys and refuses it with one byte changed;
//! a receipt signed before a receipt-key rotation still verifies after it (and after a
//! restart); `sealdrop verify-receipt` agrees offline; follow-ups get one too.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The identity the test portal's keys are published for (the host of its address).
const PRINCIPAL: &str = "127.0.0.1";

/// Writes `receipt-CASE.txt` and its `.sig` from a JSON answer; their paths.
pub fn save_receipt(dir: &Path, answer: &serde_json::Value) -> (PathBuf, PathBuf) {
    let signed = &answer["signed_receipt"];
    let case = answer["case"].as_str().unwrap();
    let text = dir.join(format!("receipt-{case}.txt"));
    let sig = dir.join(format!("receipt-{case}.txt.sig"));
    std::fs::write(&text, signed["text"].as_str().unwrap()).unwrap();
    std::fs::write(&sig, signed["signature"].as_str().unwrap()).unwrap();
    (text, sig)
}

/// The published allowed-signers file, saved.
pub fn fetch_keys(server: &Server, dir: &Path, name: &str) -> PathBuf {
    let r = get(server.addr, "/.well-known/sealdrop-receipt-keys", "");
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    let path = dir.join(name);
    std::fs::write(&path, r.body).unwrap();
    path
}

/// `ssh-keygen -Y verify`, optionally at a given time (`YYYYMMDDHHMMSSZ`); its exit status and
/// output.
pub fn ssh_verify(keys: &Path, text: &Path, sig: &Path, at: Option<&str>) -> (bool, String) {
    let mut cmd = Command::new("ssh-keygen");
    cmd.args(["-Y", "verify", "-f"])
        .arg(keys)
        .args(["-I", PRINCIPAL, "-n", "sealdrop-receipt", "-s"])
        .arg(sig)
        .stdin(std::fs::File::open(text).unwrap());
    if let Some(at) = at {
        cmd.arg(format!("-Overify-time={at}"));
    }
    let out = cmd
        .output()
        .expect("ssh-keygen is needed (Debian package openssh-client)");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), said)
}

fn verify_receipt(text: &Path, keys: &Path) -> std::process::Output {
    run(&[
        "verify-receipt",
        text.to_str().unwrap(),
        "--allowed-signers",
        keys.to_str().unwrap(),
    ])
}

/// `received: …` of a receipt, as ssh-keygen's time.
fn received_ssh_time(text: &Path) -> String {
    let t = std::fs::read_to_string(text).unwrap();
    let at = t
        .lines()
        .find_map(|l| l.strip_prefix("received: "))
        .unwrap();
    at.replace(['-', ':', 'T'], "")
}

#[test]
fn ssh_keygen_accepts_the_json_receipt_and_refuses_it_with_one_byte_changed() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let evidence = bytes(300_000, 5);
    let resp = post_form(
        server.addr,
        &form(vec![file("poc.html", evidence.clone())]),
        "",
    );
    assert_eq!(resp.status, 201, "{}", resp.text());
    let answer = resp.json();
    let dir = setup.dir.path();
    let (text, sig) = save_receipt(dir, &answer);
    let keys = fetch_keys(&server, dir, "allowed_signers");

    let body = std::fs::read_to_string(&text).unwrap();
    let reference = answer["reference"].as_str().unwrap();
    assert!(
        !body.contains(reference),
        "the receipt never holds the reference"
    );
    let case = answer["case"].as_str().unwrap();
    assert!(
        body.contains(&format!("case: {case}\n")) && body.contains("category: vulnerability\n")
    );
    // The plaintext SHA-256 in the signed text is what the reporter's sha256sum prints.
    let local = dir.join("poc.html");
    std::fs::write(&local, &evidence).unwrap();
    let out = Command::new("sha256sum").arg(&local).output().unwrap();
    let theirs = String::from_utf8_lossy(&out.stdout);
    let theirs = theirs.split_whitespace().next().unwrap();
    assert!(
        body.contains(&format!(
            "file 1: size=300000 sha256={theirs} name=\"poc.html\"\n"
        )),
        "{body}"
    );
    assert!(body.contains(&format!(
        "message-sha256: {}\n",
        sha256_hex(b"test message")
    )));

    let (ok, said) = ssh_verify(&keys, &text, &sig, None);
    assert!(ok, "{said}");
    assert!(
        said.contains("Good \"sealdrop-receipt\" signature"),
        "{said}"
    );
    let o = verify_receipt(&text, &keys);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains(&format!("Good receipt: case {case}")));

    // One byte changed: a digit of the file size.
    let forged = body.replacen("size=300000", "size=300001", 1);
    assert_eq!(forged.len(), body.len());
    std::fs::write(&text, forged).unwrap();
    let (ok, said) = ssh_verify(&keys, &text, &sig, None);
    assert!(!ok, "ssh-keygen accepted a changed receipt: {said}");
    let o = verify_receipt(&text, &keys);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("signature is not valid") && err.contains("hint: "),
        "{err}"
    );
    drop(server);
}

#[test]
fn a_receipt_signed_before_a_key_rotation_still_verifies_after_it() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let dir = setup.dir.path();
    let first = post_form(server.addr, &form(vec![file("a.txt", b"one".to_vec())]), "");
    assert_eq!(first.status, 201);
    let first = first.json();
    let (old_text, old_sig) = save_receipt(dir, &first);
    let before = fetch_keys(&server, dir, "keys-before");
    let key_mode = std::fs::metadata(setup.data().join("receipt-key/signing.key"))
        .unwrap()
        .permissions();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&key_mode) & 0o777,
        0o600
    );

    // Rotation lands on a later second than the first receipt.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let rotated = admin_ok(&setup, &["receipt-key", "--rotate"]);
    assert!(rotated.matches("ssh-ed25519").count() == 2, "{rotated}");
    assert!(rotated.contains("valid-before="), "{rotated}");
    let listed = admin_ok(&setup, &["receipt-key"]);
    assert_eq!(listed, rotated);
    let second = post_form(server.addr, &form(vec![file("b.txt", b"two".to_vec())]), "");
    let second = second.json();
    assert_ne!(
        first["signed_receipt"]["key"], second["signed_receipt"]["key"],
        "a new key signs after the rotation"
    );
    drop(server);
    // And after a restart the keys are the same ones.
    let server = setup.start();
    let after = fetch_keys(&server, dir, "keys-after");
    assert_eq!(std::fs::read_to_string(&after).unwrap(), rotated);
    assert_ne!(
        std::fs::read(&before).unwrap(),
        std::fs::read(&after).unwrap()
    );

    let at = received_ssh_time(&old_text);
    let (ok, said) = ssh_verify(&after, &old_text, &old_sig, Some(&at));
    assert!(ok, "old receipt after rotation: {said}");
    let o = verify_receipt(&old_text, &after);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (new_text, new_sig) = save_receipt(dir, &second);
    let (ok, said) = ssh_verify(&after, &new_text, &new_sig, None);
    assert!(ok, "new receipt: {said}");
    // The old key is not valid today: ssh-keygen without the receipt's time refuses it.
    // ssh-keygen compares whole seconds: make sure one has passed since the rotation.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (ok, said) = ssh_verify(&after, &old_text, &old_sig, None);
    assert!(
        !ok,
        "a retired key verified a receipt dated now: {said}\n{rotated}"
    );
    let log = server.stop();
    assert!(
        !log.contains("PRIVATE KEY"),
        "the private key never reaches the log"
    );
}

#[test]
fn a_follow_up_gets_a_signed_receipt_naming_its_case() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let dir = setup.dir.path();
    let first = post_form(server.addr, &form(vec![file("a.txt", b"one".to_vec())]), "").json();
    let reference = first["reference"].as_str().unwrap();
    let parts = vec![
        text("reference", reference),
        text("message", "and one more"),
        file("more.txt", b"more".to_vec()),
    ];
    let resp = post_form_to(server.addr, "/api/v1/submissions/files", &parts, "");
    assert_eq!(resp.status, 201, "{}", resp.text());
    let answer = resp.json();
    let (text_path, sig) = save_receipt(dir, &answer);
    let body = std::fs::read_to_string(&text_path).unwrap();
    let case = answer["case"].as_str().unwrap();
    let parent = answer["follow_up_to"].as_str().unwrap();
    assert!(case.starts_with(&format!("{parent}-")), "{case}");
    assert!(
        body.contains(&format!("case: {case}\nfollow-up-to: {parent}\n")),
        "{body}"
    );
    assert!(!body.contains(reference));
    let keys = fetch_keys(&server, dir, "allowed_signers");
    let (ok, said) = ssh_verify(&keys, &text_path, &sig, None);
    assert!(ok, "{said}");
    drop(server);
}
