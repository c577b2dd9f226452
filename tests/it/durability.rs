//! Acknowledged means durable, unacknowledged means no trace, and nothing the reporter wrote
//! reaches the disk or the log in the clear.

#![allow(clippy::unwrap_used)]

use crate::common::*;

#[test]
fn a_submission_acknowledged_before_sigkill_survives_restart_and_opens() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let content = bytes(300_000, 42);
    let resp = post_form(
        server.addr,
        &form(vec![file("proof.bin", content.clone())]),
        "",
    );
    assert_eq!(resp.status, 201);
    let case = resp.json()["case"].as_str().unwrap().to_owned();
    server.kill();

    let server = setup.start();
    assert_eq!(setup.record_count(), 1);
    let bundle = setup.export(&case);
    let out = setup.dir.path().join("opened");
    let o = open(&bundle, &[&setup.identities[0]], &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(std::fs::read(out.join("files/proof.bin")).unwrap() == content);
    // Case numbers keep counting after a restart.
    let next = post_form(server.addr, &form(vec![file("b", bytes(3, 1))]), "");
    assert_ne!(next.json()["case"].as_str().unwrap(), case);
}

#[test]
fn startup_recovery_removes_unfinished_and_unrecorded_uploads_and_reports_missing_files() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let resp = post_form(server.addr, &form(vec![file("a", bytes(10, 1))]), "");
    assert_eq!(resp.status, 201);
    server.kill();

    // What a crash can leave: an upload in progress and a committed folder without a record.
    let data = setup.data();
    std::fs::create_dir_all(data.join("tmp/deadbeef")).unwrap();
    std::fs::write(data.join("tmp/deadbeef/000.age"), b"partial ciphertext").unwrap();
    std::fs::create_dir_all(data.join("blobs/0123456789abcdef")).unwrap();
    std::fs::write(
        data.join("blobs/0123456789abcdef/000.age"),
        b"unacknowledged",
    )
    .unwrap();
    let server = setup.start();
    assert_eq!(setup.tmp_count(), 0);
    assert_eq!(setup.blob_count(), 1);
    assert_eq!(setup.record_count(), 1);
    server.kill();

    // A record whose files vanished is reported loudly, and still listed.
    let id_dir = std::fs::read_dir(data.join("blobs"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::remove_dir_all(&id_dir).unwrap();
    let server = setup.start();
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(
        server.log().contains("RECORD WITHOUT ITS FILES"),
        "{}",
        server.log()
    );
    assert_eq!(setup.record_count(), 1);
}

#[test]
fn nothing_the_reporter_wrote_appears_on_disk_or_in_the_log() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let markers = [
        "MARKER-IN-FILE-7f3a9c",
        "MARKER-IN-NAME-2b8e1d",
        "MARKER-IN-MESSAGE-c4d5e6",
        "MARKER-IN-CONTACT-9a8b7c",
    ];
    let mut content = bytes(200_000, 3);
    content.extend_from_slice(markers[0].as_bytes());
    content.extend(bytes(70_000, 4));
    let parts = vec![
        text("category", "data-breach"),
        text("message", markers[2]),
        text("contact", markers[3]),
        file(&format!("{}.pdf", markers[1]), content),
    ];
    let resp = post_form(server.addr, &parts, "");
    assert_eq!(resp.status, 201);
    let reference = resp.json()["reference"].as_str().unwrap().to_owned();
    // Refused and aborted uploads must not leak either.
    let refused = post_form(server.addr, &[text("category", markers[2])], "");
    assert_eq!(refused.status, 400);
    let too_long = format!("{}{}", markers[2], "m".repeat(70_000));
    let refused = post_form(
        server.addr,
        &[text("category", "incident"), text("message", &too_long)],
        "",
    );
    assert_eq!(refused.status, 413);
    let mut aborted_body = multipart_body(&[
        text("category", "incident"),
        text("contact", markers[3]),
        file(
            &format!("{}.bin", markers[1]),
            [markers[0].as_bytes(), &bytes(500_000, 9)].concat(),
        ),
    ]);
    aborted_body.truncate(aborted_body.len() / 2);
    {
        use std::io::Write;
        let mut s = std::net::TcpStream::connect(server.addr).unwrap();
        write!(
            s,
            "POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: 2000000\r\n\r\n"
        )
        .unwrap();
        s.write_all(&aborted_body).unwrap();
    }
    setup.assert_no_trace(1, 1);

    // The resumable path: the name travels in Upload-Metadata, the bytes in pieces, the
    // message and contact in the report that names the upload.
    let mut piece_content = bytes(150_000, 5);
    piece_content.extend_from_slice(markers[0].as_bytes());
    let upload = crate::tus::create(
        server.addr,
        piece_content.len(),
        &format!("{}.img", markers[1]),
    );
    assert_eq!(
        crate::tus::patch(server.addr, &upload, 0, &piece_content[..100_000]).status,
        204
    );
    assert_eq!(
        crate::tus::patch(server.addr, &upload, 100_000, &piece_content[100_000..]).status,
        204
    );
    let abandoned = crate::tus::create(server.addr, 10, &format!("{}.tmp", markers[1]));
    let resp = post_form(
        server.addr,
        &[
            text("category", "data-breach"),
            text("message", markers[2]),
            text("contact", markers[3]),
            text("upload", &upload),
        ],
        "",
    );
    assert_eq!(resp.status, 201, "{}", resp.text());
    let tus_reference = resp.json()["reference"].as_str().unwrap().to_owned();
    let own = server.addr.to_string();
    let log = server.stop();

    let mut needles: Vec<&str> = markers.to_vec();
    needles.push(&reference);
    needles.push(&tus_reference);
    // Upload ids are bearer secrets: never on disk or in the log either.
    needles.push(&upload[16..]);
    needles.push(&abandoned[16..]);
    for path in all_files(&setup.data()) {
        let data = std::fs::read(&path).unwrap();
        for n in &needles {
            assert!(
                !data.windows(n.len()).any(|w| w == n.as_bytes()),
                "{n} found in {}",
                path.display()
            );
        }
    }
    for n in &needles {
        assert!(!log.contains(n), "{n} found in the server log");
    }
    assert!(
        log.contains("route=/api/v1/submissions status=201"),
        "{log}"
    );
    // The server's own address is logged at start-up; no other address may be.
    assert!(
        !log.replace(&own, "").contains("127.0.0.1"),
        "a client address reached the log:\n{log}"
    );
}
