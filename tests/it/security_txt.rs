//! The signed security.txt: the portal renders it, a real OpenPGP key (GnuPG) signs it as the
//! team would on its own machine, `admin securitytxt install` checks it and the portal serves
//! it byte for byte; `sectxt` finds no error and makes no recommendation. Tampered, unsigned,
//! wrongly signed, data-after-signature, changed-field and expired files are refused with what
//! is wrong; past its Expires the portal serves the unsigned rendering again and says so.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use crate::gpg::Gpg;
use crate::notify::{wait_for, webhook};
use std::path::{Path, PathBuf};
use std::process::Command;

const PUBLIC: &str = "https://portal.example.org";

fn setup(extra: &str) -> (Setup, Gpg) {
    let setup = Setup::new(
        1,
        &format!("[org]\nsecurity_txt_signing_key = \"keys/security-txt.asc\"\n\n{extra}"),
    );
    let gpg = Gpg::new("Example Security <security@example.org>");
    gpg.export(&setup.dir.path().join("keys/security-txt.asc"));
    (setup, gpg)
}

fn start(setup: &Setup, shift: Option<&str>) -> Server {
    let mut env = vec![("SEALDROP_SERVER_PUBLIC_URL", PUBLIC)];
    if let Some(shift) = shift {
        env.push(("SEALDROPTEST_CLOCK_SHIFT", shift));
    }
    Server::start(setup, &env)
}

fn render(setup: &Setup, extra: &[&str]) -> String {
    let mut args = vec!["securitytxt", "render"];
    args.extend_from_slice(extra);
    admin_ok(setup, &args)
}

/// Installs `file` (written next to the config); the command's output.
fn install(setup: &Setup, file: &str) -> std::process::Output {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let path: PathBuf = setup.dir.path().join(format!("security-{n}.txt.asc"));
    std::fs::write(&path, file).unwrap();
    setup.admin(&["securitytxt", "install", path.to_str().unwrap()])
}

fn refused(setup: &Setup, file: &str, why: &str) {
    let out = install(setup, file);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "installed: {why}");
    assert!(err.contains(why), "wanted {why:?} in: {err}");
    assert!(err.contains("security-txt-refused"), "{err}");
    assert!(err.contains("hint:"), "{err}");
}

/// `sectxt --show-recommendations` on `body`: its exit status and its lines of findings
/// (`[ERR] …`, `[REC] …`; its `--json` prints Python's repr, not JSON).
pub(crate) fn sectxt(dir: &Path, body: &[u8]) -> (bool, Vec<String>) {
    let file = dir.join("security.txt");
    std::fs::write(&file, body).unwrap();
    let out = Command::new("sectxt")
        .arg("--show-recommendations")
        .arg(&file)
        .output()
        .expect("sectxt is needed for this test (pip install sectxt; .ci/run installs it)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let findings = text
        .lines()
        .filter(|l| l.starts_with('['))
        .map(str::to_owned)
        .collect();
    (out.status.success(), findings)
}

#[test]
fn a_security_txt_signed_with_gpg_is_served_byte_for_byte_and_sectxt_has_nothing_to_say() {
    let (setup, gpg) = setup("");
    let server = start(&setup, None);
    let status = admin_ok(&setup, &["securitytxt", "status"]);
    assert!(status.contains("unsigned"), "{status}");

    let out = setup.dir.path().join("security.txt");
    let o = setup.admin(&["securitytxt", "render", "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{o:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("gpg --clearsign"));
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains(&format!("Canonical: {PUBLIC}/.well-known/security.txt")));
    let signed = gpg.clearsign(&text);
    let o = install(&setup, &signed);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let r = get(server.addr, "/.well-known/security.txt", "");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, signed.as_bytes(), "served byte for byte");
    let (valid, findings) = sectxt(setup.dir.path(), &r.body);
    assert!(
        valid && findings.is_empty(),
        "no errors, no recommendations: {findings:?}"
    );
    // The same check can fail: the unsigned rendering draws the recommendation to sign.
    let (_, unsigned) = sectxt(setup.dir.path(), text.as_bytes());
    assert!(
        unsigned.iter().any(|l| l.contains("not_signed")),
        "{unsigned:?}"
    );
    let health: serde_json::Value = serde_json::from_str(&admin_ok(&setup, &["health"])).unwrap();
    assert_eq!(health["security_txt"]["serving"], "signed", "{health}");
    let audit = admin_ok(&setup, &["audit"]);
    assert!(audit.contains("security-txt-installed"), "{audit}");
    // The cache never keeps it past its Expires.
    let cache = r.header("cache-control").unwrap_or_default().to_owned();
    assert_eq!(cache, "public, max-age=3600", "{cache}");

    // A changed configuration makes the signed file out of date: status says to re-sign.
    drop(server);
    let server = Server::start(
        &setup,
        &[
            ("SEALDROP_SERVER_PUBLIC_URL", PUBLIC),
            ("SEALDROP_ORG_CONTACT_EMAIL", "cert@example.org"),
        ],
    );
    let status = admin_ok(&setup, &["securitytxt", "status"]);
    assert!(status.contains("no longer matches"), "{status}");

    // A backup carries it: a restored portal serves the same bytes.
    let backup = setup.dir.path().join("backup.tar");
    admin_ok(&setup, &["backup", "-o", backup.to_str().unwrap()]);
    drop(server);
    let restored = Setup::new(
        1,
        "[org]\nsecurity_txt_signing_key = \"keys/security-txt.asc\"\n",
    );
    restore_into(&backup, &restored);
    let server = start(&restored, None);
    let r = get(server.addr, "/.well-known/security.txt", "");
    assert_eq!(r.body, signed.as_bytes());

    // Remove: the rendering again.
    admin_ok(&restored, &["securitytxt", "remove"]);
    let r = get(server.addr, "/.well-known/security.txt", "");
    assert!(!r.text().contains("BEGIN PGP"), "{}", r.text());
}

#[test]
fn tampered_unsigned_wrongly_signed_and_padded_files_are_refused_with_what_is_wrong() {
    let (setup, gpg) = setup("");
    let _server = start(&setup, None);
    let text = render(&setup, &[]);
    let signed = gpg.clearsign(&text);

    refused(&setup, &text, "it is not signed");
    let tampered = signed.replacen("Policy: ", "Policy:  ", 1).replacen(
        "mailto:security@example.org",
        "mailto:security@example.com",
        1,
    );
    refused(&setup, &tampered, "does not verify");
    let other = Gpg::new("Someone Else <else@example.net>");
    refused(&setup, &other.clearsign(&text), "does not verify");
    refused(
        &setup,
        &format!("{signed}Contact: mailto:attacker@example.net\n"),
        "data after",
    );
    refused(
        &setup,
        &format!("Contact: mailto:attacker@example.net\n{signed}"),
        "text before",
    );
    // Signed, but not what the portal renders.
    let changed = text.replace(
        "Contact: mailto:security@example.org",
        "Contact: mailto:other@example.org",
    );
    refused(&setup, &gpg.clearsign(&changed), "differ");
    let canonical = format!("Canonical: {PUBLIC}/.well-known/security.txt\n");
    refused(
        &setup,
        &gpg.clearsign(&text.replace(&canonical, "")),
        "no Canonical",
    );
    let expires_line = text.lines().find(|l| l.starts_with("Expires: ")).unwrap();
    let far = text.replace(expires_line, "Expires: 2031-01-01T00:00:00Z");
    refused(&setup, &gpg.clearsign(&far), "more than a year ahead");
    let o = setup.admin(&["securitytxt", "render", "--expires", "2031-01-01"]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("more than a year ahead"));
    // Nothing was installed by any of them.
    let state = admin_ok(&setup, &["securitytxt", "status", "--json"]);
    assert!(state.contains("\"serving\": \"unsigned\""), "{state}");
}

#[test]
fn past_its_expires_the_rendering_is_served_again_and_the_team_is_warned_before() {
    let (hook_port, hooks) = webhook();
    let (setup, gpg) = setup(&format!(
        "[notify]\nwebhook_url = \"http://127.0.0.1:{hook_port}/hook\"\ncheck_interval = \"1s\"\n"
    ));
    let server = start(&setup, None);
    let in_five_days = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 5))
        .strftime("%Y-%m-%d")
        .to_string();
    let text = render(&setup, &["--expires", &in_five_days]);
    let signed = gpg.clearsign(&text);
    let o = install(&setup, &signed);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Under a week left: one warning (the 7-day one), never repeated.
    wait_for("the expiry warning", || !hooks.lock().unwrap().is_empty());
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let events: Vec<serde_json::Value> = hooks.lock().unwrap().clone();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["event"], "security-txt-expiring");
    let status = admin_ok(&setup, &["securitytxt", "status"]);
    assert!(status.contains("expires in"), "{status}");
    assert_eq!(
        get(server.addr, "/.well-known/security.txt", "").body,
        signed.as_bytes()
    );
    drop(server);

    // A week later: never the expired file; the rendering, and health says why.
    let server = start(&setup, Some("7d"));
    let r = get(server.addr, "/.well-known/security.txt", "");
    assert!(
        !r.text().contains("BEGIN PGP SIGNED MESSAGE"),
        "{}",
        r.text()
    );
    let (valid, findings) = sectxt(setup.dir.path(), &r.body);
    assert!(valid, "{findings:?}");
    assert!(
        !findings.iter().any(|l| l.starts_with("[ERR]")),
        "{findings:?}"
    );
    let health: serde_json::Value = serde_json::from_str(&admin_ok(&setup, &["health"])).unwrap();
    assert_eq!(health["security_txt"]["serving"], "unsigned", "{health}");
    assert!(
        health["security_txt"]["attention"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{health}"
    );
    // And the expired file cannot be installed again.
    refused(&setup, &signed, "has passed");
}

#[test]
fn signatures_by_an_expired_or_revoked_key_are_refused_as_such() {
    // A key that expires after a day: good today, refused two days on.
    let setup = Setup::new(
        1,
        "[org]\nsecurity_txt_signing_key = \"keys/security-txt.asc\"\n",
    );
    let gpg = Gpg::expiring("Short Lived <security@example.org>", "1d");
    gpg.export(&setup.dir.path().join("keys/security-txt.asc"));
    let server = start(&setup, Some("2d"));
    let signed = gpg.clearsign(&render(&setup, &[]));
    refused(&setup, &signed, "revoked or has expired");
    drop(server);
    let _server = start(&setup, None);
    let o = install(&setup, &gpg.clearsign(&render(&setup, &[])));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    // A key revoked after a compromise: what it signs is refused, even before the revocation.
    let signed = gpg.clearsign(&render(&setup, &[]));
    gpg.revoke();
    gpg.export(&setup.dir.path().join("keys/security-txt.asc"));
    refused(&setup, &signed, "revoked or has expired");
}
