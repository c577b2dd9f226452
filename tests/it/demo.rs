//! `sealdrop demo` as a new user meets it: the commands it prints work as printed, and a demo
//! restarted later gets a certificate that is still in date.

use crate::common::*;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A running demo, stopped when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port `p` such that `p` and `p + 1` (the demo's console) were both free a moment ago.
fn free_port_pair() -> u16 {
    free_ports(2)
}

/// Starts `sealdrop demo --dir DIR` (on a free port unless `DIR` holds an earlier demo) and
/// returns it with everything it printed up to `listening on`. Another test may take one of the
/// two ports between the check and the demo's bind: then a fresh demo starts again on others.
fn start_demo(dir: &Path) -> (Running, String) {
    let fresh = !dir.exists();
    let mut last = String::new();
    for _ in 0..3 {
        match try_start_demo(dir) {
            Ok(started) => return started,
            Err(why) if why.contains("in use") && fresh => {
                // A fresh demo's folder remembers its ports: start from nothing again.
                std::fs::remove_dir_all(dir).unwrap();
                last = why;
            }
            Err(why) => panic!("{why}"),
        }
    }
    panic!("the demo found no free ports three times:\n{last}");
}

fn try_start_demo(dir: &Path) -> Result<(Running, String), String> {
    let errors = dir.with_extension("stderr");
    let mut child = Command::new(bin())
        .args(["demo", "--dir", dir.to_str().unwrap()])
        .args(["--listen", &format!("127.0.0.1:{}", free_port_pair())])
        .env_remove("SEALDROP_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&errors).unwrap())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let running = Running(child);
    // Read on to the end in a thread: a demo whose output nobody reads would die of SIGPIPE.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut printed = String::new();
    while let Ok(line) = rx.recv_timeout(std::time::Duration::from_secs(60)) {
        if line.starts_with("sealdrop: listening on ") {
            return Ok((running, printed));
        }
        printed.push_str(&line);
        printed.push('\n');
    }
    drop(running);
    let said = std::fs::read_to_string(&errors).unwrap_or_default();
    Err(format!(
        "the demo stopped before listening:\n{printed}\nit said:\n{said}"
    ))
}

/// The `send` command the banner prints, its continuation lines joined.
fn printed_send_command(banner: &str) -> String {
    let mut lines = banner
        .lines()
        .skip_while(|l| !l.contains(" send --portal "));
    let mut command = String::new();
    for line in lines.by_ref() {
        let line = line.trim();
        match line.strip_suffix('\\') {
            Some(part) => command.push_str(part),
            None => {
                command.push_str(line);
                break;
            }
        }
    }
    assert!(!command.is_empty(), "no send command in:\n{banner}");
    command
}

#[test]
fn the_demo_prints_a_send_command_that_works_as_printed() {
    let root = TempDir::new("demo-send");
    let demo = root.path().join("demo");
    let (_running, banner) = start_demo(&demo);
    let command = printed_send_command(&banner);
    assert!(
        command.contains(&format!(
            "--ca-file {}",
            demo.canonicalize().unwrap().join("cert.pem").display()
        )),
        "{command}"
    );
    let o = run_printed(&command, root.path());
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("reference: "),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

/// A self-signed certificate and key for the demo's names that ran out ten days ago.
fn expired_pair() -> (String, String) {
    let mut params =
        rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    params.not_before = rcgen::date_time_ymd(2025, 1, 1);
    params.not_after = rcgen::date_time_ymd(2025, 4, 1);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem())
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_demo_restarted_after_its_certificate_expired_makes_a_fresh_one() {
    let root = TempDir::new("demo-expired");
    let demo = root.path().join("demo");
    // A demo that ran once (on its own port) and was stopped; since then its certificate ran out.
    drop(start_demo(&demo));
    let (old_cert, old_key) = expired_pair();
    std::fs::write(demo.join("cert.pem"), &old_cert).unwrap();
    std::fs::write(demo.join("key.pem"), &old_key).unwrap();
    let identity = std::fs::read(demo.join("identity.txt")).unwrap();

    let (_running, banner) = start_demo(&demo);
    assert!(banner.contains("fresh certificate"), "{banner}");
    let cert = std::fs::read_to_string(demo.join("cert.pem")).unwrap();
    assert_ne!(cert, old_cert, "the expired certificate was kept");
    assert_ne!(
        std::fs::read_to_string(demo.join("key.pem")).unwrap(),
        old_key
    );
    for f in ["cert.pem", "key.pem"] {
        assert_eq!(mode(&demo.join(f)), 0o600, "{f}");
    }
    assert_eq!(std::fs::read(demo.join("identity.txt")).unwrap(), identity);
    // The portal serves the fresh pair, and the printed command trusts it.
    let command = printed_send_command(&banner);
    run_printed(&command, root.path());
}

#[test]
fn a_restarted_demo_keeps_a_certificate_still_in_date_and_other_folders_are_refused() {
    let root = TempDir::new("demo-restart");
    let demo = root.path().join("demo");
    assert!(demo_setup_only(&demo).status.success());
    let cert = std::fs::read_to_string(demo.join("cert.pem")).unwrap();
    let o = demo_setup_only(&demo);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("Restarted the earlier demo"));
    assert_eq!(
        std::fs::read_to_string(demo.join("cert.pem")).unwrap(),
        cert
    );

    let other = root.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("notes.txt"), "mine").unwrap();
    let o = demo_setup_only(&other);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("holds no earlier demo") && err.contains("hint: "),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(&other).unwrap().count(), 1);
}

/// Runs a command line as the demo printed it, from `dir`, failing the test when it fails.
fn run_printed(command: &str, dir: &std::path::Path) -> std::process::Output {
    let o = Command::new("sh")
        .args(["-c", command])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{command}\n{}", stderr(&o));
    o
}

#[test]
fn the_demo_starts_the_console_over_https_and_prints_a_sign_in_link_that_works_once() {
    let root = TempDir::new("demo-console");
    let demo = root.path().join("demo");
    let (_running, printed) = start_demo(&demo);
    assert!(printed.contains("team's console"), "{printed}");
    let link = printed
        .lines()
        .find_map(|l| l.strip_prefix("sealdrop: console sign-in link (once, for 10 minutes): "))
        .unwrap_or_else(|| panic!("no sign-in link in:\n{printed}"));
    assert!(link.starts_with("https://127.0.0.1:"), "{link}");
    let (origin, token) = link.split_once("/sign-in/link/").unwrap();
    let cert = demo.join("cert.pem");
    let jar = root.path().join("cookies");
    let post = |jar: &Path| {
        Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert"])
            .arg(&cert)
            .arg("-c")
            .arg(jar)
            .args(["-d", &format!("token={token}")])
            .arg(format!("{origin}/sign-in/link"))
            .output()
            .unwrap()
    };
    assert_eq!(String::from_utf8_lossy(&post(&jar).stdout), "303");
    let inbox = Command::new("curl")
        .args(["-s", "--cacert"])
        .arg(&cert)
        .arg("-b")
        .arg(&jar)
        .arg(format!("{origin}/?lang=en"))
        .output()
        .unwrap();
    let page = String::from_utf8_lossy(&inbox.stdout);
    assert!(
        page.contains("demo (admin)") && page.contains("Open cases"),
        "{page}"
    );
    let again = post(&root.path().join("cookies2"));
    assert_eq!(
        String::from_utf8_lossy(&again.stdout),
        "410",
        "the link works once"
    );
}
