//! Every limit at its edge: the exact limit passes, one more is refused with the right status
//! and code, and a refused or aborted upload leaves no file and no record.

#![allow(clippy::unwrap_used)]

use crate::common::*;
use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

const LIMITS: &str = "[limits]\nmax_file_size = 1000\nmax_submission_size = 2500\nmax_files = 3\n\
                      max_message_bytes = 100\nmax_contact_bytes = 50\nmax_credit_bytes = 20\nmax_part_header_bytes = \"4KiB\"\n\
                      body_idle_timeout = \"1s\"\n";

fn expect_refused(setup: &Setup, server: &Server, parts: Vec<Part>, status: u16, code: &str) {
    let (blobs, records) = (setup.blob_count(), setup.record_count());
    let resp = post_form(server.addr, &parts, "");
    assert_eq!(resp.status, status, "{}", resp.text());
    assert_eq!(resp.error_code(), code);
    let message = resp.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(message.len() > 10 && message.ends_with('.'), "{message}");
    setup.assert_no_trace(blobs, records);
}

fn expect_stored(server: &Server, parts: Vec<Part>) {
    let resp = post_form(server.addr, &parts, "");
    assert_eq!(resp.status, 201, "{}", resp.text());
}

#[test]
fn file_size_limit_is_exact() {
    let setup = Setup::new(1, LIMITS);
    let server = setup.start();
    expect_stored(&server, form(vec![file("a", bytes(1000, 1))]));
    expect_refused(
        &setup,
        &server,
        form(vec![file("a", bytes(1001, 1))]),
        413,
        "file-too-large",
    );
    // A large first file that fits, then one that does not: the first must vanish too.
    expect_refused(
        &setup,
        &server,
        form(vec![file("a", bytes(900, 1)), file("b", bytes(1001, 2))]),
        413,
        "file-too-large",
    );
}

#[test]
fn submission_size_limit_is_exact() {
    let setup = Setup::new(1, LIMITS);
    let server = setup.start();
    expect_stored(
        &server,
        form(vec![
            file("a", bytes(900, 1)),
            file("b", bytes(900, 2)),
            file("c", bytes(700, 3)),
        ]),
    );
    expect_refused(
        &setup,
        &server,
        form(vec![
            file("a", bytes(900, 1)),
            file("b", bytes(900, 2)),
            file("c", bytes(701, 3)),
        ]),
        413,
        "submission-too-large",
    );
}

#[test]
fn file_count_limit_is_exact() {
    let setup = Setup::new(1, LIMITS);
    let server = setup.start();
    expect_stored(
        &server,
        form((0..3).map(|i| file("f", bytes(10, i))).collect()),
    );
    expect_refused(
        &setup,
        &server,
        form((0..4).map(|i| file("f", bytes(10, i))).collect()),
        413,
        "too-many-files",
    );
}

#[test]
fn message_contact_and_credit_limits_are_exact() {
    let setup = Setup::new(1, LIMITS);
    let server = setup.start();
    let with = |message: usize, contact: usize| {
        vec![
            text("category", "data-breach"),
            text("message", &"m".repeat(message)),
            text("contact", &"c".repeat(contact)),
        ]
    };
    expect_stored(&server, with(100, 50));
    expect_refused(&setup, &server, with(101, 50), 413, "message-too-long");
    expect_refused(&setup, &server, with(100, 51), 413, "contact-too-long");
    let credit = |n: usize| {
        let mut parts = with(10, 10);
        parts.push(text("credit", &"é".repeat(n / 2)));
        parts
    };
    expect_stored(&server, credit(20));
    expect_refused(&setup, &server, credit(22), 413, "credit-too-long");
}

#[test]
fn part_headers_and_part_counts_are_bounded() {
    let setup = Setup::new(1, LIMITS);
    let server = setup.start();
    expect_refused(
        &setup,
        &server,
        form(vec![file(&"n".repeat(5000), bytes(10, 1))]),
        413,
        "part-header-too-large",
    );
    // max_files + 6 parts at most, even when every file part is an empty browser placeholder:
    // exactly 9 (three text fields, acknowledge, credit, four placeholders) pass, 10 do not.
    let mut parts = form(vec![text("acknowledge", "no"), text("credit", "")]);
    parts.extend((0..4).map(|_| file("", Vec::new())));
    assert_eq!(post_form(server.addr, &parts, "").status, 201);
    let mut parts = form(vec![]);
    parts.extend((0..7).map(|_| file("", Vec::new())));
    expect_refused(&setup, &server, parts, 413, "too-many-parts");
}

#[test]
fn bad_fields_get_clear_client_errors() {
    let setup = Setup::new(1, LIMITS);
    let server = setup.start();
    let missing = vec![text("message", "no category"), file("a", bytes(5, 1))];
    expect_refused(&setup, &server, missing, 400, "missing-category");
    let invalid = vec![text("category", "gossip"), text("message", "x")];
    expect_refused(&setup, &server, invalid, 400, "invalid-category");
    let empty = vec![text("category", "incident"), text("message", "  ")];
    expect_refused(&setup, &server, empty, 400, "empty-submission");
    let unknown = vec![text("category", "incident"), text("colour", "blue")];
    expect_refused(&setup, &server, unknown, 400, "unknown-field");
    let twice = vec![
        text("category", "incident"),
        text("message", "a"),
        text("message", "b"),
    ];
    expect_refused(&setup, &server, twice, 400, "duplicate-field");
    // A message-only report is fine.
    expect_stored(
        &server,
        vec![
            text("category", "incident"),
            text("message", "no files, just words"),
        ],
    );
}

#[test]
fn wrong_methods_media_types_and_encodings_are_refused() {
    let setup = Setup::new(1, LIMITS);
    let server = setup.start();
    let r = get(server.addr, "/api/v1/submissions", "");
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (405, "method-not-allowed")
    );
    let r = get(server.addr, "/nope", "");
    assert_eq!((r.status, r.error_code().as_str()), (404, "not-found"));
    let r = request(
        server.addr,
        "POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n",
        b"{}".to_vec(),
    );
    assert_eq!((r.status, r.error_code().as_str()), (415, "not-multipart"));
    let r = request(
        server.addr,
        "POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n",
        b"{}".to_vec(),
    );
    assert_eq!((r.status, r.error_code().as_str()), (415, "not-multipart"));
    let r = post_form(
        server.addr,
        &form(vec![file("a", bytes(5, 1))]),
        "Content-Encoding: gzip\r\n",
    );
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (415, "content-encoding-not-supported")
    );
    assert_eq!(setup.blob_count(), 0);
}

#[test]
fn cross_site_posts_are_refused_and_same_origin_posts_accepted() {
    let setup = Setup::new(1, LIMITS);
    let server = setup.start();
    let parts = form(vec![file("a", bytes(5, 1))]);
    let r = post_form(server.addr, &parts, "Sec-Fetch-Site: cross-site\r\n");
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (403, "cross-site-request")
    );
    let r = post_form(server.addr, &parts, "Origin: https://evil.example\r\n");
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (403, "cross-site-request")
    );
    let r = post_form(
        server.addr,
        &parts,
        &format!(
            "Origin: http://{}\r\nSec-Fetch-Site: same-origin\r\n",
            server.addr
        ),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        post_form(server.addr, &parts, "Sec-Fetch-Site: same-site\r\n").status,
        201
    );
    // A real browser posting this portal's own form under `Referrer-Policy: no-referrer` sends
    // `Origin: null` (found by the headless-Chromium test): accepted.
    let r = post_form(
        server.addr,
        &parts,
        "Origin: null\r\nSec-Fetch-Site: same-origin\r\n",
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let r = post_form(
        server.addr,
        &parts,
        "Origin: null\r\nSec-Fetch-Site: cross-site\r\n",
    );
    assert_eq!(r.status, 403);
}

/// Opens an upload and sends only half of its body.
fn half_upload(server: &Server, size: usize) -> TcpStream {
    let body = multipart_body(&form(vec![file("slow", bytes(size, 9))]));
    let mut s = TcpStream::connect(server.addr).unwrap();
    write!(
        s,
        "POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(&body[..body.len() / 2]).unwrap();
    s.flush().unwrap();
    s
}

#[test]
fn a_stalled_body_gets_408_and_leaves_no_trace() {
    let setup = Setup::new(1, LIMITS);
    let server = setup.start();
    let mut s = half_upload(&server, 800);
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let resp = read_response(&mut s);
    assert_eq!(resp.status, 408);
    assert_eq!(resp.error_code(), "body-timeout");
    setup.assert_no_trace(0, 0);
}

#[test]
fn an_aborted_upload_leaves_no_file_and_no_record() {
    let setup = Setup::new(1, "[limits]\nmax_file_size = \"64MiB\"\n");
    let server = setup.start();
    let s = half_upload(&server, 8 << 20);
    std::thread::sleep(Duration::from_millis(300));
    drop(s);
    setup.assert_no_trace(0, 0);
    // The server is unharmed.
    expect_stored(&server, form(vec![file("a", bytes(10, 1))]));
}

#[test]
fn the_concurrency_cap_answers_503_with_retry_after_and_recovers() {
    let setup = Setup::new(1, &format!("{LIMITS}max_concurrent_uploads = 1\n"));
    let server = setup.start();
    let mut first = half_upload(&server, 800);
    std::thread::sleep(Duration::from_millis(200));
    let r = post_form(server.addr, &form(vec![file("a", bytes(5, 1))]), "");
    assert_eq!((r.status, r.error_code().as_str()), (503, "busy"));
    assert!(r.header("retry-after").unwrap().parse::<u32>().unwrap() > 0);
    first
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    assert_eq!(read_response(&mut first).status, 408);
    expect_stored(&server, form(vec![file("a", bytes(5, 1))]));
}

#[test]
fn low_disk_space_answers_507_and_stores_nothing() {
    let setup = Setup::new(1, "");
    let server = Server::start(&setup, &[("SEALDROP_STORAGE_MIN_FREE_BYTES", "1000TiB")]);
    let r = post_form(server.addr, &form(vec![file("a", bytes(5, 1))]), "");
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (507, "insufficient-storage")
    );
    assert!(r.header("retry-after").is_some());
    assert_eq!(get(server.addr, "/healthz", "").status, 503);
    setup.assert_no_trace(0, 0);
}

#[test]
fn slow_request_headers_get_408() {
    let setup = Setup::new(1, "[limits]\nrequest_header_timeout = \"1s\"\n");
    let server = setup.start();
    let mut s = TcpStream::connect(server.addr).unwrap();
    s.write_all(b"POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let started = std::time::Instant::now();
    let resp = read_response(&mut s);
    assert_eq!(resp.status, 408);
    assert!(started.elapsed() >= Duration::from_millis(900));
}
