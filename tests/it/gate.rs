//! One gate for every upload path: a trickling resumable piece ends with 408 like a trickling
//! form, uploads that make no progress give their place up, tiny pieces are refused, an
//! abandoned piece never trips the next one, follow-ups count as submissions, a report's
//! manifest is measured as written, and references are kept only under a salted memory-hard
//! key (old cases still found).

use crate::common::*;
use crate::tus::{create, create_from, offset_of, patch};
use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// A PATCH that sends one byte every 500 ms of a declared 100 000 until the server answers.
fn trickle(addr: SocketAddr, path: String) -> std::thread::JoinHandle<Response> {
    std::thread::spawn(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        write!(
            s,
            "PATCH {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\nContent-Length: 100000\r\n\r\n"
        )
        .unwrap();
        s.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut peek = [0u8; 1];
        while Instant::now() < deadline {
            if matches!(s.peek(&mut peek), Ok(n) if n > 0) {
                break;
            }
            if s.write_all(b"x").is_err() {
                break;
            }
        }
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        read_response(&mut s)
    })
}

#[test]
fn trickling_resumable_pieces_end_with_408_and_a_form_upload_then_gets_through() {
    let setup = Setup::new(
        1,
        "[limits]\nmax_concurrent_uploads = 2\nmin_upload_rate = \"32KiB\"\n\
         min_upload_rate_grace = \"1s\"\nbody_idle_timeout = \"20s\"\n",
    );
    let server = setup.start();
    let addr = server.addr;
    let started = Instant::now();
    let paths: Vec<String> = (0..2)
        .map(|i| create(addr, 100_000, &format!("slow{i}")))
        .collect();
    let slow: Vec<_> = paths.iter().map(|p| trickle(addr, p.clone())).collect();
    std::thread::sleep(Duration::from_millis(400));
    // While the two trickles are in their grace period, they hold both slots.
    let busy = post_form(addr, &form(vec![file("a.txt", b"evidence".to_vec())]), "");
    assert_eq!((busy.status, busy.error_code().as_str()), (503, "busy"));
    std::thread::sleep(Duration::from_millis(2500).saturating_sub(started.elapsed()));
    let r = post_form(addr, &form(vec![file("a.txt", b"evidence".to_vec())]), "");
    assert_eq!(r.status, 201, "{}", r.text());
    for t in slow {
        let r = t.join().unwrap();
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (408, "upload-too-slow"),
            "{}",
            r.text()
        );
    }
    // What trickled in was below a piece's minimum: nothing was kept, the uploads stand at 0.
    for p in &paths {
        assert_eq!(offset_of(addr, p), Some(0));
    }
    assert_eq!(setup.record_count(), 1);
}

/// The `Location` of a creation answered to `curl -D -`.
fn location(answer: &str) -> String {
    answer
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("location")
                .then(|| v.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("no Location in {answer}"))
}

#[test]
fn a_flood_of_empty_uploads_gives_way_to_a_browser_upload_after_the_idle_expiry() {
    let setup = Setup::new(
        1,
        "[limits]\nmax_unfinished_uploads = 8\nupload_idle_expiry = \"2s\"\n",
    );
    let server = setup.start();
    let addr = server.addr;
    // One address holds at most an eighth of the pool, whatever its own quota says.
    assert_eq!(create_from("127.0.0.2", addr, 10).0, 201);
    let (status, body) = create_from("127.0.0.2", addr, 10);
    assert_eq!(status, 429, "{body}");
    assert!(body.contains("too-many-unfinished-uploads"), "{body}");
    // Seven more addresses fill the pool with uploads that never send a byte.
    for n in 3..=9 {
        assert_eq!(create_from(&format!("127.0.0.{n}"), addr, 10).0, 201);
    }
    let (status, body) = create_from("127.0.0.10", addr, 10);
    assert_eq!(status, 503, "{body}");
    // Without progress they lose their place after upload_idle_expiry, not upload_expiry.
    std::thread::sleep(Duration::from_millis(2300));
    let (status, answer) = create_from("127.0.0.10", addr, 10);
    assert_eq!(status, 201, "{answer}");
    let path = location(&answer);
    assert_eq!(patch(addr, &path, 0, b"0123456789").status, 204);
    let r = crate::tus::commit(addr, &[&path], "through the flood");
    assert_eq!(r.status, 201, "{}", r.text());
    // A piece counts as progress: an upload that keeps sending keeps its place.
    let kept = create(addr, 200_000, "kept");
    for i in 0..3 {
        std::thread::sleep(Duration::from_millis(1000));
        let at = i * 65_536;
        assert_eq!(patch(addr, &kept, at, &bytes(65_536, 4)).status, 204);
    }
    assert_eq!(offset_of(addr, &kept), Some(3 * 65_536));
}

#[test]
fn pieces_below_the_minimum_are_refused_unless_they_end_the_upload() {
    let setup = Setup::new(1, "[limits]\nmin_piece_size = \"64KiB\"\n");
    let server = setup.start();
    let addr = server.addr;
    let content = bytes(200_000, 3);
    let path = create(addr, content.len(), "tiny pieces");
    let r = patch(addr, &path, 0, &content[..10]);
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (400, "piece-too-small")
    );
    let r = patch(addr, &path, 0, &content[..65_535]);
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (400, "piece-too-small")
    );
    assert_eq!(offset_of(addr, &path), Some(0));
    assert_eq!(patch(addr, &path, 0, &content[..65_536]).status, 204);
    // A piece cut short below the minimum is dropped whole (the client sends it again).
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "PATCH {path} HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\nUpload-Offset: 65536\r\nContent-Length: 100000\r\n\r\n"
    )
    .unwrap();
    s.write_all(&content[65_536..66_536]).unwrap();
    drop(s);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(offset_of(addr, &path), Some(65_536));
    // The last piece may be short.
    assert_eq!(
        patch(addr, &path, 65_536, &content[65_536..199_990]).status,
        204
    );
    assert_eq!(patch(addr, &path, 199_990, &content[199_990..]).status, 204);
    let r = crate::tus::commit(addr, &[&path], "pieces");
    assert_eq!(r.status, 201, "{}", r.text());
    let out = setup.dir.path().join("opened");
    let case = r.json()["case"].as_str().unwrap().to_owned();
    let o = open(&setup.export(&case), &[&setup.identities[0]], &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(std::fs::read(out.join("files/tiny pieces")).unwrap() == content);
}

/// Sends `n` bytes of a PATCH declared `declared` long, then resets the connection (RST).
fn reset_patch(addr: SocketAddr, path: &str, offset: usize, declared: usize, n: usize) {
    let script = "import socket,struct,sys\n\
        s=socket.create_connection(('127.0.0.1',int(sys.argv[1])))\n\
        s.sendall(('PATCH %s HTTP/1.1\\r\\nHost: x\\r\\nTus-Resumable: 1.0.0\\r\\n'\n\
        'Content-Type: application/offset+octet-stream\\r\\nUpload-Offset: %s\\r\\n'\n\
        'Content-Length: %s\\r\\n\\r\\n' % (sys.argv[2], sys.argv[3], sys.argv[4])).encode())\n\
        s.sendall(b'\\x07' * int(sys.argv[5]))\n\
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))\n\
        s.close()\n";
    let o = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(addr.port().to_string())
        .arg(path)
        .arg(offset.to_string())
        .arg(declared.to_string())
        .arg(n.to_string())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn a_patch_reset_mid_body_never_makes_the_next_patch_fail() {
    let setup = Setup::new(1, "[limits]\nmin_piece_size = \"1KiB\"\n");
    let server = setup.start();
    let addr = server.addr;
    let total = 6 * 400_000;
    let path = create(addr, total, "reset");
    let mut at = 0;
    for _ in 0..5 {
        reset_patch(addr, &path, at, 400_000, 300_000);
        // At once: the next request must not trip over what the reset one left behind.
        let deadline = Instant::now() + Duration::from_secs(10);
        let r = loop {
            let now = offset_of(addr, &path).expect("the upload is still there");
            let r = patch(addr, &path, now, &[7u8; 100_000]);
            if r.status != 423 && r.status != 409 || Instant::now() > deadline {
                at = now;
                break r;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(r.status, 204, "{}", r.text());
        at += 100_000;
        assert_eq!(offset_of(addr, &path), Some(at));
    }
    assert!(!server.log().contains("internal error"), "{}", server.log());
}

#[test]
fn follow_ups_count_against_the_submissions_per_hour() {
    let setup = Setup::new(1, "");
    let server = Server::start(&setup, &[("SEALDROP_LIMITS_SUBMISSIONS_PER_HOUR", "3")]);
    let r = post_form(server.addr, &form(vec![file("a.txt", b"a".to_vec())]), "");
    assert_eq!(r.status, 201, "{}", r.text());
    let reference = r.json()["reference"].as_str().unwrap().to_owned();
    let more = |n: u8| {
        post_form_to(
            server.addr,
            "/api/v1/submissions/files",
            &[text("reference", &reference), file("b.txt", vec![n; 10])],
            "",
        )
    };
    assert_eq!(more(1).status, 201);
    assert_eq!(more(2).status, 201);
    let r = more(3);
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (429, "too-many-submissions"),
        "{}",
        r.text()
    );
    assert!(r.header("retry-after").is_some());
}

#[test]
fn a_report_whose_names_escape_past_what_open_takes_is_refused_and_keeps_its_upload() {
    let setup = Setup::new(
        1,
        "[limits]\nmin_piece_size = \"1B\"\nmax_upload_pieces = 5000\n",
    );
    let server = setup.start();
    let addr = server.addr;
    // 2 900 control characters: 2 900 bytes of name, 17 400 as written in the manifest's
    // JSON, once per piece.
    let name = "\u{1}".repeat(2900);
    let pieces = 4000;
    let path = create(addr, pieces, &name);
    for at in 0..pieces {
        let r = patch(addr, &path, at, b"x");
        assert_eq!(r.status, 204, "{}", r.text());
    }
    let r = crate::tus::commit(addr, &[&path], "escaped names");
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (413, "report-too-large"),
        "{}",
        r.text()
    );
    assert_eq!(offset_of(addr, &path), Some(pieces));
    assert_eq!(setup.record_count(), 0);
}

/// A tar archive's entries: name and contents.
type Entries = Vec<(String, Vec<u8>)>;

/// The `refs` entries of a backup (hex key, submission id) and the whole archive.
fn backup_refs(setup: &Setup) -> (Vec<(String, String)>, Entries) {
    let path = setup.dir.path().join("backup.tar");
    admin_ok(setup, &["backup", "-o", path.to_str().unwrap()]);
    let entries = tar_entries(&std::fs::read(&path).unwrap());
    let meta: serde_json::Value =
        serde_json::from_slice(&entries.iter().find(|(n, _)| n == "backup.json").unwrap().1)
            .unwrap();
    let refs = meta["refs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r[0].as_str().unwrap().to_owned(),
                r[1].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    (refs, entries)
}

fn canonical_sha256(reference: &str) -> String {
    use sha2::Digest;
    let canonical: String = reference.split('-').take(4).collect();
    sha256_hex_of(&sha2::Sha256::digest(canonical.as_bytes()))
}

fn sha256_hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn status_of(addr: SocketAddr, reference: &str) -> Response {
    post_json(
        addr,
        "/api/v1/status",
        &serde_json::json!({ "reference": reference }),
    )
}

#[test]
fn references_are_stored_only_under_a_salted_memory_hard_key_and_old_cases_are_still_found() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let r = post_form(server.addr, &form(vec![file("a.txt", b"a".to_vec())]), "");
    assert_eq!(r.status, 201);
    let reference = r.json()["reference"].as_str().unwrap().to_owned();
    let id_of_case = show(&setup, r.json()["case"].as_str().unwrap())["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (refs, entries) = backup_refs(&setup);
    assert_eq!(refs.len(), 1);
    assert_ne!(
        refs[0].0,
        canonical_sha256(&reference),
        "the reference is kept as its plain SHA-256"
    );
    assert_eq!(status_of(server.addr, &reference).status, 200);
    drop(server);

    // A case from before the derivation (kept under its SHA-256) is still found.
    let mut legacy = entries.clone();
    for (name, data) in &mut legacy {
        if name == "backup.json" {
            let mut meta: serde_json::Value = serde_json::from_slice(data).unwrap();
            meta["refs"] = serde_json::json!([[canonical_sha256(&reference), id_of_case]]);
            *data = serde_json::to_vec(&meta).unwrap();
        }
    }
    let restored = Setup::new(0, "");
    std::fs::copy(
        setup.dir.path().join("keys/recipients.txt"),
        restored.dir.path().join("keys/recipients.txt"),
    )
    .unwrap();
    let archive = restored.dir.path().join("legacy.tar");
    std::fs::write(&archive, tar_build(&legacy)).unwrap();
    let o = run(&[
        "restore",
        archive.to_str().unwrap(),
        "--data-dir",
        restored.data().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let server = restored.start();
    let r = status_of(server.addr, &reference);
    assert_eq!(r.status, 200, "{}", r.text());
    // A new case on the restored portal is stored under the derived key again.
    let r = post_form(server.addr, &form(vec![file("b.txt", b"b".to_vec())]), "");
    assert_eq!(r.status, 201);
    let second = r.json()["reference"].as_str().unwrap().to_owned();
    let (refs, _) = backup_refs(&restored);
    assert_eq!(refs.len(), 2);
    assert!(!refs.iter().any(|(k, _)| *k == canonical_sha256(&second)));
    assert_eq!(status_of(server.addr, &second).status, 200);
}
