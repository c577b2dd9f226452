//! Abuse of the public endpoints: clients behind a proxy keep their own limits (and cannot
//! spoof them), slow uploads cannot hold the slots, one client cannot flood new reports or run
//! many uploads, HSTS reaches reporters behind a TLS proxy, and invitation tokens stay out of the
//! proxy's access log.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use std::io::Write;
use std::time::{Duration, Instant};

const LOOKUP: &str = r#"{"reference":"K7QD-M2XP-9FHT-3WZA-0"}"#;

/// A status lookup through `base` (http://host:port) from local address `from`.
fn lookup(from: &str, base: &str, extra: &[&str]) -> u16 {
    let url = format!("{base}/api/v1/status");
    let mut args = vec!["-H", "Content-Type: application/json", "--data", LOOKUP];
    args.extend_from_slice(extra);
    args.push(&url);
    curl_from(from, &args).0
}

#[test]
fn two_clients_behind_the_shipped_nginx_get_two_buckets_and_cannot_spoof_the_header() {
    let setup = Setup::new(1, "");
    let server = Server::start(
        &setup,
        &[
            ("SEALDROP_SERVER_TRUSTED_PROXIES", r#"["127.0.0.1"]"#),
            ("SEALDROP_LIMITS_LOOKUPS_PER_MINUTE", "3"),
        ],
    );
    let nginx = Nginx::start(server.addr, "");
    let proxy = format!("http://{}", nginx.addr);
    // Client A uses up its lookups, even when it claims to be someone else each time.
    for i in 0..3 {
        let spoof = format!("X-Forwarded-For: 198.51.100.{i}");
        assert_eq!(lookup("127.0.0.2", &proxy, &["-H", &spoof]), 404);
    }
    assert_eq!(
        lookup("127.0.0.2", &proxy, &["-H", "X-Forwarded-For: 203.0.113.9"]),
        429
    );
    // Client B, behind the same proxy, still has its own.
    assert_eq!(lookup("127.0.0.3", &proxy, &[]), 404);
    // Straight to sealdrop, a forwarding header from a peer that is not a trusted proxy is
    // ignored: A stays limited.
    let direct = format!("http://{}", server.addr);
    assert_eq!(
        lookup(
            "127.0.0.2",
            &direct,
            &["-H", "X-Forwarded-For: 203.0.113.7"]
        ),
        429
    );
    drop(nginx);
    drop(server);
}

#[test]
fn a_forwarding_header_without_trusted_proxies_is_refused_at_start_up() {
    let setup = Setup::new(1, "");
    let log = Server::try_start(
        &setup,
        &[("SEALDROP_SERVER_CLIENT_IP_HEADER", "X-Forwarded-For")],
    )
    .err()
    .expect("the server started with a spoofable client header");
    assert!(log.contains("server.trusted_proxies"), "{log}");
    let log = Server::try_start(
        &setup,
        &[("SEALDROP_SERVER_TRUSTED_PROXIES", r#"["10.0.0.0/33"]"#)],
    )
    .err()
    .expect("the server started with a bad CIDR block");
    assert!(log.contains("10.0.0.0/33"), "{log}");
}

#[test]
fn invitation_tokens_stay_out_of_the_shipped_proxy_access_log() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let url = admin_ok(&setup, &["invite", "--expires", "1h"]);
    let token = url.trim().rsplit('/').next().unwrap().to_owned();
    let nginx = Nginx::start(server.addr, "");
    let r = get(nginx.addr, &format!("/u/{token}"), "");
    assert_eq!(r.status, 200);
    let log = nginx.access_log(1);
    assert!(log.contains("\"GET /u/-\" 200"), "{log}");
    assert!(
        !log.contains(&token),
        "the token is in the access log: {log}"
    );
    assert!(!log.contains("127.0.0.1"), "{log}");
}

#[test]
fn resumable_uploads_pass_the_shipped_proxy_and_their_ids_stay_out_of_its_access_log() {
    let setup = Setup::new(1, "[limits]\nmin_piece_size = \"1B\"\n");
    let server = setup.start();
    let nginx = Nginx::start(server.addr, "");
    let path = crate::tus::create(nginx.addr, 6, "through nginx");
    assert_eq!(crate::tus::offset_of(nginx.addr, &path), Some(0));
    assert_eq!(crate::tus::patch(nginx.addr, &path, 0, b"abc").status, 204);
    assert_eq!(crate::tus::offset_of(nginx.addr, &path), Some(3));
    let o = crate::tus::tus(nginx.addr, "OPTIONS", "/api/v1/uploads", "", b"");
    assert_eq!(o.header("tus-version"), Some("1.0.0"));
    assert_eq!(
        crate::tus::tus(nginx.addr, "DELETE", &path, "", b"").status,
        204
    );
    let log = nginx.access_log(6);
    assert!(log.contains("\"PATCH /api/v1/uploads/-\" 204"), "{log}");
    assert!(
        !log.contains(&path[16..]),
        "an upload id is in the access log: {log}"
    );
}

#[test]
fn hsts_reaches_reporters_behind_a_tls_terminating_proxy() {
    let setup = Setup::new(1, "");
    let plain = setup.start();
    assert!(
        get(plain.addr, "/", "")
            .header("strict-transport-security")
            .is_none()
    );
    drop(plain);
    let proxied = Server::start(
        &setup,
        &[("SEALDROP_SERVER_PUBLIC_URL", "https://portal.example.org")],
    );
    let r = get(proxied.addr, "/", "");
    assert_eq!(
        r.header("strict-transport-security"),
        Some("max-age=63072000; includeSubDomains")
    );
}

/// Sends a multipart upload of `len` file bytes at about `rate` bytes per second; the answer,
/// read while sending (the server may answer before the body is complete).
fn paced_upload(addr: std::net::SocketAddr, len: usize, rate: usize) -> Response {
    let body = multipart_body(&form(vec![file("slow.bin", bytes(len, 3))]));
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let mut writer = s.try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        let head = format!(
            "POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        writer.write_all(head.as_bytes()).unwrap();
        let start = Instant::now();
        let piece = (rate / 20).max(1);
        for (n, chunk) in body.chunks(piece).enumerate() {
            if writer.write_all(chunk).is_err() {
                return;
            }
            let due = start + Duration::from_secs_f64(((n + 1) * piece) as f64 / rate as f64);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
        }
    });
    let r = read_response(&mut s);
    let _ = sender.join();
    r
}

#[test]
fn an_upload_below_the_minimum_rate_is_cut_off_after_the_grace_period_and_a_faster_one_passes() {
    let setup = Setup::new(
        1,
        "[limits]\nmin_upload_rate = \"32KiB\"\nmin_upload_rate_grace = \"1s\"\n",
    );
    let server = setup.start();
    // Twice the minimum for three seconds: passes.
    let r = paced_upload(server.addr, 190_000, 64 << 10);
    assert_eq!(r.status, 201, "{}", r.text());
    // A quarter of the minimum: cut off once the grace period is over, nothing stored.
    let started = Instant::now();
    let r = paced_upload(server.addr, 60_000, 8 << 10);
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (408, "upload-too-slow"),
        "{}",
        r.text()
    );
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "cut off late: {:?}",
        started.elapsed()
    );
    setup.assert_no_trace(1, 1);
}

#[test]
fn one_client_cannot_run_more_than_max_uploads_per_client_while_another_still_can() {
    let setup = Setup::new(1, "");
    let server = Server::start(&setup, &[("SEALDROP_LIMITS_MAX_UPLOADS_PER_CLIENT", "2")]);
    let body = multipart_body(&form(vec![file("held.bin", bytes(100_000, 1))]));
    let head = format!(
        "POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    // Two uploads held open half-way.
    let held: Vec<_> = (0..2)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(server.addr).unwrap();
            s.write_all(head.as_bytes()).unwrap();
            s.write_all(&body[..50_000]).unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let r = post_form(
        server.addr,
        &form(vec![file("third.bin", bytes(1000, 2))]),
        "",
    );
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (429, "too-many-uploads"),
        "{}",
        r.text()
    );
    assert!(r.header("retry-after").is_some());
    // Another client is not affected.
    let form_file = setup.dir.path().join("other.bin");
    std::fs::write(&form_file, bytes(1000, 4)).unwrap();
    let (code, text) = curl_from(
        "127.0.0.2",
        &[
            "-F",
            "category=incident",
            "-F",
            "message=from another client",
            "-F",
            &format!("file=@{}", form_file.display()),
            &format!("http://{}/api/v1/submissions", server.addr),
        ],
    );
    assert_eq!(code, 201, "{text}");
    // Finishing the held uploads frees the slots.
    for mut s in held {
        s.write_all(&body[50_000..]).unwrap();
        assert_eq!(read_response(&mut s).status, 201);
    }
    let r = post_form(
        server.addr,
        &form(vec![file("fourth.bin", bytes(1000, 5))]),
        "",
    );
    assert_eq!(r.status, 201, "{}", r.text());
}

#[test]
fn new_reports_are_limited_per_client_per_hour_and_others_still_get_through() {
    let setup = Setup::new(1, "");
    let server = Server::start(&setup, &[("SEALDROP_LIMITS_SUBMISSIONS_PER_HOUR", "3")]);
    for seed in 0..3 {
        let r = post_form(
            server.addr,
            &form(vec![file("a.bin", bytes(100, seed))]),
            "",
        );
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let r = post_form(server.addr, &form(vec![file("a.bin", bytes(100, 9))]), "");
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (429, "too-many-submissions"),
        "{}",
        r.text()
    );
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!(
        (1..=1200).contains(&wait),
        "one report per 20 minutes comes back: {wait}"
    );
    setup.assert_no_trace(3, 3);
    let (code, text) = curl_from(
        "127.0.0.2",
        &[
            "-F",
            "category=incident",
            "-F",
            "message=another network",
            &format!("http://{}/api/v1/submissions", server.addr),
        ],
    );
    assert_eq!(code, 201, "{text}");
}
