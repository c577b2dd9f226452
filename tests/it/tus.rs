//! The resumable path (tus 1.0.0) spoken by hand on raw connections: every status the protocol
//! names, each new limit at its edge, a cut connection kept up to its last byte, a SIGKILL
//! during pieces, expiry, and the report that names finished uploads opening byte-identical.

use crate::common::*;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Sends one tus request (with `Tus-Resumable: 1.0.0` unless `headers` has another).
pub fn tus(addr: SocketAddr, method: &str, path: &str, headers: &str, body: &[u8]) -> Response {
    let version = if headers.to_ascii_lowercase().contains("tus-resumable") {
        ""
    } else {
        "Tus-Resumable: 1.0.0\r\n"
    };
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{version}{headers}Content-Length: {}\r\n\r\n",
        body.len()
    );
    request(addr, &head, body.to_vec())
}

/// Creates an upload of `len` bytes named `name`; returns its path.
pub fn create(addr: SocketAddr, len: usize, name: &str) -> String {
    let r = tus(
        addr,
        "POST",
        "/api/v1/uploads",
        &format!(
            "Upload-Length: {len}\r\nUpload-Metadata: filename {},filetype dGV4dC9wbGFpbg==\r\n",
            b64(name.as_bytes())
        ),
        b"",
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert!(r.header("upload-expires").unwrap().ends_with(" GMT"));
    assert_eq!(r.header("tus-resumable"), Some("1.0.0"));
    r.header("location").unwrap().to_owned()
}

/// Creates an upload of `len` bytes from the local address `from`: status and body.
pub fn create_from(from: &str, addr: SocketAddr, len: usize) -> (u16, String) {
    curl_from(
        from,
        &[
            "-X",
            "POST",
            "-H",
            "Tus-Resumable: 1.0.0",
            "-H",
            &format!("Upload-Length: {len}"),
            "-D",
            "-",
            &format!("http://{addr}/api/v1/uploads"),
        ],
    )
}

/// Sends one piece from `offset`.
pub fn patch(addr: SocketAddr, path: &str, offset: usize, data: &[u8]) -> Response {
    tus(
        addr,
        "PATCH",
        path,
        &format!("Content-Type: application/offset+octet-stream\r\nUpload-Offset: {offset}\r\n"),
        data,
    )
}

pub fn offset_of(addr: SocketAddr, path: &str) -> Option<usize> {
    let r = tus(addr, "HEAD", path, "", b"");
    if r.status != 200 {
        return None;
    }
    assert_eq!(r.header("cache-control"), Some("no-store"));
    r.header("upload-offset").map(|v| v.parse().unwrap())
}

pub fn b64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Starts a PATCH that sends `sent` of `declared` bytes and then closes the connection.
fn cut_patch(addr: SocketAddr, path: &str, offset: usize, declared: usize, sent: &[u8]) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "PATCH {path} HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\nUpload-Offset: {offset}\r\nContent-Length: {declared}\r\n\r\n"
    )
    .unwrap();
    s.write_all(sent).unwrap();
    s.flush().unwrap();
    std::thread::sleep(Duration::from_millis(100));
}

/// Waits until HEAD shows an offset other than `not`.
fn settled_offset(addr: SocketAddr, path: &str, not: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let o = offset_of(addr, path).unwrap();
        if o != not || Instant::now() > deadline {
            return o;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Commits a report naming `uploads`.
pub fn commit(addr: SocketAddr, uploads: &[&str], message: &str) -> Response {
    let mut parts = vec![text("category", "incident"), text("message", message)];
    for u in uploads {
        parts.push(text("upload", u));
    }
    post_form(addr, &parts, "")
}

#[test]
fn a_file_sent_in_pieces_and_cut_mid_piece_resumes_from_what_arrived_and_opens_byte_identical() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let addr = server.addr;
    let content = bytes(1_000_000, 5);

    let o = tus(addr, "OPTIONS", "/api/v1/uploads", "", b"");
    assert_eq!(o.status, 204);
    assert_eq!(o.header("tus-version"), Some("1.0.0"));
    assert!(o.header("tus-extension").unwrap().contains("termination"));
    assert_eq!(o.header("tus-max-size"), Some("10737418240"));

    let path = create(addr, content.len(), "disk image.img");
    assert!(
        path.starts_with("/api/v1/uploads/") && path.len() == 16 + 40,
        "{path}"
    );
    assert_eq!(offset_of(addr, &path), Some(0));
    let r = patch(addr, &path, 0, &content[..300_000]);
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(r.header("upload-offset"), Some("300000"));

    // The connection drops after 200 000 of 400 000 bytes: exactly those are kept.
    cut_patch(addr, &path, 300_000, 400_000, &content[300_000..500_000]);
    let at = settled_offset(addr, &path, 300_000);
    assert_eq!(at, 500_000);
    let r = patch(addr, &path, at, &content[at..]);
    assert_eq!(r.status, 204);
    assert_eq!(r.header("upload-offset"), Some("1000000"));

    let small = create(addr, 5, "b.txt");
    assert_eq!(patch(addr, &small, 0, b"hello").status, 204);
    let empty = create(addr, 0, "empty");
    let receipt = commit(addr, &[&path, &small[16..], &empty], "in pieces");
    assert_eq!(receipt.status, 201, "{}", receipt.text());
    let v = receipt.json();
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), 3);
    assert_eq!(files[0]["name"], "disk image.img");
    assert_eq!(files[0]["size"], 1_000_000);
    assert_eq!(files[0]["sha256"], sha256_hex(&content));
    assert_eq!(files[1]["sha256"], sha256_hex(b"hello"));
    assert_eq!(files[2]["size"], 0);
    // Finished into a report, the uploads are gone.
    assert_eq!(offset_of(addr, &path), None);
    assert_eq!(
        commit(addr, &[&small], "again").error_code(),
        "upload-not-found"
    );
    setup.assert_no_trace(1, 1);

    let case = v["case"].as_str().unwrap();
    let out = setup.dir.path().join("opened");
    let o = open(&setup.export(case), &[&setup.identities[0]], &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(std::fs::read(out.join("files/disk image.img")).unwrap() == content);
    assert_eq!(std::fs::read(out.join("files/b.txt")).unwrap(), b"hello");
    assert_eq!(std::fs::read(out.join("files/empty")).unwrap(), b"");

    // The stock-age recipe: decrypt the pieces in order and concatenate them.
    let dir = setup.data().join("blobs").join(
        std::fs::read_dir(setup.data().join("blobs"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .file_name(),
    );
    let mut joined = Vec::new();
    for n in 0..3 {
        joined.extend(age_decrypt(
            &setup.identities[0],
            &dir.join(format!("{n:03}.age")),
        ));
    }
    assert!(joined == content);
}

#[test]
fn the_protocol_answers_412_400_413_415_409_460_and_termination_removes_the_pieces() {
    let setup = Setup::new(
        1,
        "[limits]\nmax_file_size = \"1MiB\"\nmin_piece_size = \"1B\"\n",
    );
    let server = setup.start();
    let addr = server.addr;
    let old = tus(
        addr,
        "POST",
        "/api/v1/uploads",
        "Tus-Resumable: 0.2.2\r\nUpload-Length: 5\r\n",
        b"",
    );
    assert_eq!(old.status, 412);
    assert_eq!(old.header("tus-version"), Some("1.0.0"));
    let none = tus(addr, "POST", "/api/v1/uploads", "", b"");
    assert_eq!(
        (none.status, none.error_code().as_str()),
        (400, "upload-length-required")
    );
    let deferred = tus(
        addr,
        "POST",
        "/api/v1/uploads",
        "Upload-Defer-Length: 1\r\n",
        b"",
    );
    assert_eq!(deferred.status, 400);
    let edge = tus(
        addr,
        "POST",
        "/api/v1/uploads",
        "Upload-Length: 1048576\r\n",
        b"",
    );
    assert_eq!(edge.status, 201);
    let over = tus(
        addr,
        "POST",
        "/api/v1/uploads",
        "Upload-Length: 1048577\r\n",
        b"",
    );
    assert_eq!(
        (over.status, over.error_code().as_str()),
        (413, "file-too-large")
    );
    let cross = tus(
        addr,
        "POST",
        "/api/v1/uploads",
        "Upload-Length: 5\r\nSec-Fetch-Site: cross-site\r\n",
        b"",
    );
    assert_eq!(cross.status, 403);

    let path = create(addr, 10, "x");
    let wrong_type = tus(
        addr,
        "PATCH",
        &path,
        "Content-Type: application/octet-stream\r\nUpload-Offset: 0\r\n",
        b"abc",
    );
    assert_eq!(
        (wrong_type.status, wrong_type.error_code().as_str()),
        (415, "not-offset-octet-stream")
    );
    let ahead = patch(addr, &path, 3, b"abc");
    assert_eq!(
        (ahead.status, ahead.error_code().as_str()),
        (409, "upload-offset-mismatch")
    );
    let long = patch(addr, &path, 0, b"abcdefghijk");
    assert_eq!(
        (long.status, long.error_code().as_str()),
        (413, "upload-beyond-length")
    );
    assert_eq!(offset_of(addr, &path), Some(0));

    // Checksum: a mismatch is 460 and the piece is dropped whole.
    let sum = |d: &[u8]| {
        use sha2::Digest;
        b64(&sha2::Sha256::digest(d))
    };
    let bad = tus(
        addr,
        "PATCH",
        &path,
        &format!(
            "Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\nUpload-Checksum: sha256 {}\r\n",
            sum(b"other")
        ),
        b"abcde",
    );
    assert_eq!(
        (bad.status, bad.error_code().as_str()),
        (460, "checksum-mismatch")
    );
    assert_eq!(offset_of(addr, &path), Some(0));
    let good = tus(
        addr,
        "PATCH",
        &path,
        &format!(
            "Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\nUpload-Checksum: sha256 {}\r\n",
            sum(b"abcde")
        ),
        b"abcde",
    );
    assert_eq!(good.status, 204);
    assert_eq!(offset_of(addr, &path), Some(5));

    // An unfinished upload cannot be committed, and stays usable after the refusal.
    let early = commit(addr, &[&path], "too early");
    assert_eq!(
        (early.status, early.error_code().as_str()),
        (409, "upload-unfinished")
    );
    assert_eq!(offset_of(addr, &path), Some(5));
    assert_eq!(setup.record_count(), 0);

    let gone = tus(addr, "DELETE", &path, "", b"");
    assert_eq!(gone.status, 204);
    assert_eq!(offset_of(addr, &path), None);
    let head = tus(
        addr,
        "PATCH",
        &path,
        "Content-Type: application/offset+octet-stream\r\nUpload-Offset: 5\r\n",
        b"x",
    );
    assert_eq!(
        (head.status, head.error_code().as_str()),
        (404, "upload-not-found")
    );
    let guessed = tus(
        addr,
        "HEAD",
        "/api/v1/uploads/0123456789abcdef0123456789abcdef01234567",
        "",
        b"",
    );
    assert_eq!(guessed.status, 404);
}

#[test]
fn a_second_patch_of_the_same_upload_is_refused_while_the_first_runs() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let addr = server.addr;
    let path = create(addr, 100_000, "x");
    let mut first = TcpStream::connect(addr).unwrap();
    write!(
        first,
        "PATCH {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\nContent-Length: 100000\r\n\r\n"
    )
    .unwrap();
    first.write_all(&[7u8; 50_000]).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let second = patch(addr, &path, 0, &[7u8; 10]);
    assert_eq!(
        (second.status, second.error_code().as_str()),
        (423, "upload-locked")
    );
    assert_eq!(tus(addr, "DELETE", &path, "", b"").status, 423);
    first.write_all(&[7u8; 50_000]).unwrap();
    let done = read_response(&mut first);
    assert_eq!(done.status, 204);
    assert_eq!(done.header("upload-offset"), Some("100000"));
}

#[test]
fn unfinished_uploads_are_capped_per_client_and_in_all_and_pieces_by_size_and_count() {
    let setup = Setup::new(
        1,
        "[limits]\nmax_unfinished_uploads_per_client = 2\nmax_piece_size = \"4KiB\"\nbrowser_piece_size = \"4KiB\"\nmax_upload_pieces = 2\n",
    );
    let server = setup.start();
    let addr = server.addr;
    let a = create(addr, 10_000, "a");
    let _b = create(addr, 10, "b");
    let third = tus(addr, "POST", "/api/v1/uploads", "Upload-Length: 1\r\n", b"");
    assert_eq!(
        (third.status, third.error_code().as_str()),
        (429, "too-many-unfinished-uploads")
    );
    // Terminating one frees its place.
    assert_eq!(tus(addr, "DELETE", &_b, "", b"").status, 204);
    let _c = create(addr, 1, "c");

    let over = patch(addr, &a, 0, &[1u8; 4097]);
    assert_eq!(
        (over.status, over.error_code().as_str()),
        (413, "piece-too-large")
    );
    assert_eq!(patch(addr, &a, 0, &[1u8; 4096]).status, 204);
    assert_eq!(patch(addr, &a, 4096, &[1u8; 4096]).status, 204);
    let more = patch(addr, &a, 8192, &[1u8; 100]);
    assert_eq!(
        (more.status, more.error_code().as_str()),
        (413, "too-many-pieces")
    );
    drop(server);

    // A pool of one: its one place is taken, and another client finds it full.
    let setup = Setup::new(1, "[limits]\nmax_unfinished_uploads = 1\n");
    let server = setup.start();
    let _one = create(server.addr, 3, "one");
    let (status, body) = create_from("127.0.0.2", server.addr, 1);
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("\"busy\""), "{body}");
}

#[test]
fn an_abandoned_upload_leaves_no_trace_after_its_expiry() {
    let setup = Setup::new(
        1,
        "[limits]\nupload_expiry = \"2s\"\nmin_piece_size = \"1KiB\"\n",
    );
    let server = setup.start();
    let addr = server.addr;
    let path = create(addr, 10_000, "abandoned");
    assert_eq!(patch(addr, &path, 0, &bytes(4000, 1)).status, 204);
    assert_eq!(setup.tmp_count(), 1);
    let kept = create(addr, 10, "kept");
    std::thread::sleep(Duration::from_millis(1200));
    // Still there before its expiry (the other one).
    assert_eq!(offset_of(addr, &path), Some(4000));
    let deadline = Instant::now() + Duration::from_secs(10);
    while setup.tmp_count() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(setup.tmp_count(), 0, "expired pieces were left in tmp/");
    assert_eq!(offset_of(addr, &path), None);
    assert_eq!(offset_of(addr, &kept), None);
    assert_eq!(setup.record_count(), 0);
}

#[test]
fn a_sigkill_during_pieces_yields_no_record_and_restart_removes_the_pieces() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let addr = server.addr;
    let path = create(addr, 600_000, "killed");
    assert_eq!(patch(addr, &path, 0, &bytes(200_000, 2)).status, 204);
    let finished = create(addr, 3, "done");
    assert_eq!(patch(addr, &finished, 0, b"abc").status, 204);
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "PATCH {path} HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\nUpload-Offset: 200000\r\nContent-Length: 400000\r\n\r\n"
    )
    .unwrap();
    s.write_all(&bytes(100_000, 3)).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    server.kill();
    drop(s);

    let server = setup.start();
    assert_eq!(setup.record_count(), 0);
    assert_eq!(setup.tmp_count(), 0);
    assert_eq!(setup.blob_count(), 0);
    // The client is told to start again (tus clients do so on 404).
    assert_eq!(offset_of(server.addr, &path), None);
    assert_eq!(
        commit(server.addr, &[&finished], "after restart").error_code(),
        "upload-not-found"
    );
    assert_eq!(setup.record_count(), 0);
}
