//! `sealdrop send` against real portals where something is off: an address that would send the
//! report in clear, a portal whose answers point elsewhere, a certificate it cannot trust, a
//! portal that never answers, and one whose line drops after it did.

use crate::common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `sealdrop send --portal PORTAL --category vulnerability EXTRA… note.txt` from `dir`, with how
/// long it took.
fn send(dir: &Path, portal: &str, extra: &[&str]) -> (Output, Duration) {
    std::fs::write(dir.join("note.txt"), "what I found").unwrap();
    let started = Instant::now();
    let o = Command::new(bin())
        .current_dir(dir)
        .args(["send", "--portal", portal, "--category", "vulnerability"])
        .args(["--contact", "me@example.org"])
        .args(extra)
        .arg("note.txt")
        .output()
        .unwrap();
    (o, started.elapsed())
}

/// An HTTP front for the real server, one request per connection (it asks both sides to close
/// after it). `drop(n)` closes the n-th connection (from 0) unread, as a broken line does;
/// `edit` may change the head of each answer on its way back.
struct Front {
    addr: SocketAddr,
}

impl Front {
    fn start(
        upstream: SocketAddr,
        drop: impl Fn(usize) -> bool + Send + Sync + 'static,
        edit: impl Fn(&str) -> String + Send + Sync + 'static,
    ) -> Front {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (drop, edit) = (Arc::new(drop), Arc::new(edit));
        std::thread::spawn(move || {
            for (n, client) in listener.incoming().enumerate() {
                let Ok(client) = client else { return };
                if drop(n) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let edit = Arc::clone(&edit);
                std::thread::spawn(move || Front::relay(client, upstream, &*edit));
            }
        });
        Front { addr }
    }

    fn relay(client: TcpStream, upstream: SocketAddr, edit: &dyn Fn(&str) -> String) {
        let mut reader = BufReader::new(client.try_clone().unwrap());
        let mut head = String::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            let lower = line.to_ascii_lowercase();
            assert!(!lower.starts_with("transfer-encoding"), "{line}");
            if !lower.starts_with("connection:") {
                head.push_str(&line);
            }
        }
        let length: usize = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().unwrap())
            })
            .unwrap_or(0);
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let mut server = TcpStream::connect(upstream).unwrap();
        server
            .write_all(format!("{head}Connection: close\r\n\r\n").as_bytes())
            .unwrap();
        server.write_all(&body).unwrap();
        let mut answer = Vec::new();
        let _ = server.read_to_end(&mut answer);
        let split = answer
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map_or(answer.len(), |i| i + 4);
        let (answer_head, answer_body) = answer.split_at(split);
        let mut client = client;
        let _ = client.write_all(edit(&String::from_utf8_lossy(answer_head)).as_bytes());
        let _ = client.write_all(answer_body);
        let _ = client.shutdown(Shutdown::Both);
    }
}

/// `head` with its `Location` header's value replaced by `to(old value)`.
fn with_location(head: &str, to: impl Fn(&str) -> String) -> String {
    head.split_inclusive("\r\n")
        .map(|line| match line.split_once(':') {
            Some((k, v)) if k.eq_ignore_ascii_case("location") => {
                format!("location: {}\r\n", to(v.trim()))
            }
            _ => line.to_owned(),
        })
        .collect()
}

#[test]
fn send_refuses_plain_http_to_a_host_that_is_not_this_computer_before_connecting() {
    let dir = TempDir::new("send-http");
    for portal in [
        "http://sealdrop-portal.invalid",
        "http://127.0.0.1.sealdrop-portal.invalid:8080",
    ] {
        let (o, took) = send(dir.path(), portal, &[]);
        let err = stderr(&o);
        assert!(!o.status.success(), "{err}");
        assert!(
            err.contains(&format!(
                "error: {} is not encrypted",
                portal.trim_end_matches(":8080")
            )),
            "{err}"
        );
        assert!(err.contains("hint: use https://"), "{err}");
        // Refused before any connection or name lookup, so nothing to retry.
        assert!(!err.contains("trying again"), "{err}");
        assert!(took < Duration::from_secs(5), "{took:?}");
    }
}

#[test]
fn send_never_follows_a_location_off_the_portals_origin() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    // Another origin on this computer that counts who knocks.
    let elsewhere = TcpListener::bind("127.0.0.1:0").unwrap();
    let other = elsewhere.local_addr().unwrap();
    let knocks = Arc::new(AtomicUsize::new(0));
    let k = Arc::clone(&knocks);
    std::thread::spawn(move || {
        for c in elsewhere.incoming() {
            k.fetch_add(1, Ordering::SeqCst);
            drop(c);
        }
    });
    let front = Front::start(
        server.addr,
        |_| false,
        move |head| with_location(head, |path| format!("http://{other}{path}")),
    );
    let (o, _) = send(
        setup.dir.path(),
        &format!("http://{}", front.addr),
        &["--retries", "1"],
    );
    let err = stderr(&o);
    assert!(!o.status.success(), "{err}");
    assert!(
        err.contains(&format!(
            "which is not on http://{}; nothing of the file was sent there",
            front.addr
        )),
        "{err}"
    );
    assert!(err.contains("hint: "), "{err}");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(knocks.load(Ordering::SeqCst), 0, "send went elsewhere");
    assert_eq!(setup.record_count(), 0);
}

#[test]
fn send_follows_an_absolute_location_on_the_portals_own_origin() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let front_addr = Arc::new(std::sync::OnceLock::<SocketAddr>::new());
    let a = Arc::clone(&front_addr);
    let front = Front::start(
        server.addr,
        |_| false,
        move |head| {
            with_location(head, |path| {
                format!("HTTP://127.0.0.1:{}{path}", a.get().unwrap().port())
            })
        },
    );
    front_addr.set(front.addr).unwrap();
    let (o, _) = send(setup.dir.path(), &format!("http://{}", front.addr), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("reference: "));
    assert_eq!(setup.record_count(), 1);
}

#[test]
fn send_without_ca_file_to_a_self_signed_portal_stops_at_once_and_names_ca_file() {
    let dir = TempDir::new("send-ca");
    let demo = dir.path().join("demo");
    assert!(demo_setup_only(&demo).status.success());
    let setup = Setup::of_demo(dir, &demo);
    let server = setup.start();
    let portal = format!("https://{}", server.addr);
    let (o, took) = send(setup.dir.path(), &portal, &[]);
    let err = stderr(&o);
    assert!(!o.status.success(), "{err}");
    let error = err.lines().find(|l| l.starts_with("error: ")).unwrap();
    assert!(
        error.contains("certificate is not trusted") && error.contains("--ca-file"),
        "{err}"
    );
    assert!(err.contains("hint: ") && err.contains("pass that certificate with --ca-file"));
    assert!(
        !err.contains("trying again"),
        "a certificate was retried: {err}"
    );
    assert!(took < Duration::from_secs(10), "{took:?}");

    let cert = demo.join("cert.pem");
    let (o, _) = send(
        setup.dir.path(),
        &portal,
        &["--ca-file", cert.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(setup.record_count(), 1);
}

/// A portal that never answers ends after three tries, each retry announced.
fn assert_three_tries_then_a_hint(o: &Output, took: Duration, portal: &str) {
    let err = stderr(o);
    assert!(!o.status.success(), "{err}");
    assert!(err.contains("(try 2 of 3)"), "retried silently: {err}");
    assert!(err.contains("(try 3 of 3)"), "{err}");
    assert!(!err.contains("(try 4 of"), "{err}");
    assert!(
        err.contains(&format!(
            "error: cannot reach the portal at {portal} (3 tries)"
        )),
        "{err}"
    );
    assert!(err.contains("hint: check the host name and port"), "{err}");
    assert!(took < Duration::from_secs(60), "{took:?}");
}

#[test]
fn send_to_a_host_name_that_does_not_resolve_gives_up_after_three_tries_and_says_so() {
    let dir = TempDir::new("send-dns");
    let portal = "https://sealdrop-portal.invalid";
    let (o, took) = send(dir.path(), portal, &[]);
    assert_three_tries_then_a_hint(&o, took, portal);
}

#[test]
fn send_to_a_portal_that_is_not_running_gives_up_after_three_tries_and_says_so() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let portal = format!("http://{}", server.addr);
    server.kill();
    let (o, took) = send(setup.dir.path(), &portal, &[]);
    assert_three_tries_then_a_hint(&o, took, &portal);
}

#[test]
fn a_line_that_drops_after_the_portal_answered_is_retried_past_the_first_contact_limit() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    // Connection 0 creates the upload, 1 sends the first piece; then eight connections drop
    // (four rounds of piece and offset query), more than a portal that never answered gets.
    let front = Front::start(server.addr, |n| (2..10).contains(&n), str::to_owned);
    let content = bytes(600_000, 31);
    std::fs::write(setup.dir.path().join("big.bin"), &content).unwrap();
    let (o, _) = send(
        setup.dir.path(),
        &format!("http://{}", front.addr),
        &["--piece-size", "256KiB", "big.bin"],
    );
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("(try 5 of 9)"), "{err}");
    let stdout = String::from_utf8_lossy(&o.stdout);
    let case = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Report stored: case "))
        .unwrap();
    let out = setup.dir.path().join("opened");
    let opened = open(&setup.export(case), &[&setup.identities[0]], &out);
    assert!(opened.status.success(), "{}", stderr(&opened));
    assert!(std::fs::read(out.join("files/big.bin")).unwrap() == content);
}
