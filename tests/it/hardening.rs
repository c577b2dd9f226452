//! Attacks on the HTTP surface and the process: request smuggling, header bombs, response
//! headers of every class, the admin socket's isolation, TLS versions, core dumps.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

#[test]
fn request_smuggling_framings_are_refused_and_store_nothing() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let ct = format!("Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n");
    let body = multipart_body(&form(vec![file("a", bytes(10, 1))]));
    let framings = [
        format!(
            "Content-Length: {}\r\nTransfer-Encoding: chunked\r\n",
            body.len()
        ),
        format!(
            "Content-Length: {}\r\nContent-Length: {}\r\n",
            body.len(),
            body.len() + 1
        ),
        "Transfer-Encoding: identity\r\n".to_owned(),
        "Transfer-Encoding: gzip, chunked\r\n".to_owned(),
    ];
    for framing in framings {
        let head = format!(
            "POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\n{ct}{framing}Connection: close\r\n\r\n"
        );
        let r = request(server.addr, &head, body.clone());
        assert!(
            r.status == 400 || r.status == 501,
            "{framing:?} answered {}",
            r.status
        );
    }
    setup.assert_no_trace(0, 0);
}

#[test]
fn a_request_header_bomb_gets_431() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let headers: String = (0..200)
        .map(|i| format!("X-Bomb-{i}: {}\r\n", "a".repeat(100)))
        .collect();
    let r = get(server.addr, "/", &headers);
    assert_eq!(r.status, 431);
}

#[test]
fn every_response_class_has_security_headers_and_no_server_or_cors_headers() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let parts = form(vec![file("a", bytes(10, 1))]);
    let responses = [
        ("page", get(server.addr, "/", "")),
        ("static", get(server.addr, "/static/style.css", "")),
        ("health", get(server.addr, "/healthz", "")),
        (
            "not found",
            get(server.addr, "/nope", "Accept: text/html\r\n"),
        ),
        ("wrong method", get(server.addr, "/api/v1/submissions", "")),
        (
            "created",
            post_form(
                server.addr,
                &parts,
                "Origin: https://other.example\r\nSec-Fetch-Site: cross-site\r\n",
            ),
        ),
        (
            "api error",
            post_form(server.addr, &[text("category", "x")], ""),
        ),
        ("created", post_form(server.addr, &parts, "")),
    ];
    for (class, r) in &responses {
        let csp = r
            .header("content-security-policy")
            .unwrap_or_else(|| panic!("{class}: no CSP"));
        assert!(
            csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
            "{class}: {csp}"
        );
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{class}: {csp}"
        );
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{class}"
        );
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"), "{class}");
        assert_eq!(r.header("x-frame-options"), Some("DENY"), "{class}");
        assert!(r.header("server").is_none(), "{class}: Server header");
        assert!(
            !r.headers
                .iter()
                .any(|(k, _)| k.starts_with("access-control-")),
            "{class}: CORS header"
        );
        assert!(
            r.header("cache-control").is_some(),
            "{class}: no Cache-Control"
        );
    }
    assert_eq!(responses[7].1.header("cache-control"), Some("no-store"));
}

#[test]
fn the_admin_socket_is_private_and_no_admin_route_answers_publicly() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let socket = setup.data().join("admin.sock");
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    for path in [
        "/v1/submissions",
        "/v1/keys",
        "/v1/audit",
        "/v1/backup",
        "/v1/health",
        "/v1/reload",
        "/v1/receipt-keys",
    ] {
        assert_eq!(
            get(server.addr, path, "").status,
            404,
            "{path} answered on the public listener"
        );
    }
    let r = request(
        server.addr,
        "POST /v1/reload HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n",
        b"{}".to_vec(),
    );
    assert_eq!(r.status, 404);
}

#[test]
fn core_dumps_are_disabled_by_the_process() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", server.pid())).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap();
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(&fields[4..6], ["0", "0"], "{line}");
}

#[test]
fn tls_offers_only_tls_1_2_and_newer_with_forward_secret_aead() {
    let dir = TempDir::new("tlsver");
    let demo = dir.path().join("demo");
    let o = demo_setup_only(&demo);
    assert!(o.status.success());
    let setup = Setup {
        config: demo.join("sealdrop.toml"),
        identities: vec![],
        recipients: vec![],
        dir,
    };
    let server = setup.start();
    let connect = |args: &[&str]| {
        Command::new("openssl")
            .args(["s_client", "-connect", &server.addr.to_string()])
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("openssl is needed for this test (Debian package openssl)")
    };
    // A completed handshake prints "New, TLSv1.x, Cipher is …"; a refused one "New, (NONE)".
    let accepted =
        |o: &std::process::Output| String::from_utf8_lossy(&o.stdout).contains("New, TLSv");
    for old in ["-tls1", "-tls1_1"] {
        assert!(!accepted(&connect(&[old])), "{old} was accepted");
    }
    for (version, flag) in [("TLSv1.2", "-tls1_2"), ("TLSv1.3", "-tls1_3")] {
        let o = connect(&[flag]);
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        let line = text
            .lines()
            .find(|l| l.starts_with("New, "))
            .unwrap_or_default();
        assert!(
            line.starts_with(&format!("New, {version}, Cipher is ")),
            "{version} refused:\n{text}"
        );
        assert!(
            line.contains("GCM") || line.contains("CHACHA20"),
            "not an AEAD suite: {line}"
        );
        if version == "TLSv1.2" {
            assert!(line.contains("ECDHE"), "no forward secrecy: {line}");
        }
        assert!(!text.contains("Early data was accepted"));
    }
    let o = connect(&[
        "-tls1_2",
        "-cipher",
        "AES128-SHA:AES256-SHA:AES128-GCM-SHA256",
    ]);
    assert!(
        !accepted(&o),
        "a suite without forward secrecy or AEAD was accepted"
    );
}

#[test]
fn odd_multipart_framing_is_handled_without_trace_or_harm() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    // A boundary far beyond RFC 2046's 70 characters.
    let huge = "b".repeat(100_000);
    let body = format!(
        "--{huge}\r\nContent-Disposition: form-data; name=\"category\"\r\n\r\nincident\r\n--{huge}--\r\n"
    );
    let head = format!(
        "POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary={huge}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let r = request(server.addr, &head, body.into_bytes());
    assert!(
        r.status == 400 || r.status == 413 || r.status == 431,
        "huge boundary answered {}",
        r.status
    );
    setup.assert_no_trace(0, 0);
    // Garbage after the closing boundary is an epilogue: ignored, the submission intact.
    let mut body = multipart_body(&form(vec![file("a.bin", bytes(1000, 4))]));
    body.extend_from_slice(b"\r\ngarbage after the end \x00\xff--");
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    let head = format!(
        "POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let r = request(server.addr, &head, body);
    assert_eq!(r.status, 201, "{}", r.text());
    let out = setup.dir.path().join("epilogue");
    assert!(
        open(
            &setup.export(r.json()["case"].as_str().unwrap()),
            &[&setup.identities[0]],
            &out
        )
        .status
        .success()
    );
    assert!(std::fs::read(out.join("files/a.bin")).unwrap() == bytes(1000, 4));
}

#[test]
fn a_client_that_never_reads_its_responses_does_not_block_others() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    use std::io::Write;
    let mut idle = Vec::new();
    for _ in 0..8 {
        let mut s = std::net::TcpStream::connect(server.addr).unwrap();
        // Pipelined requests whose answers are never read.
        for _ in 0..200 {
            let _ = s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        }
        idle.push(s);
    }
    let r = post_form(server.addr, &form(vec![file("a", bytes(10, 1))]), "");
    assert_eq!(r.status, 201);
    assert_eq!(get(server.addr, "/healthz", "").status, 200);
    drop(idle);
}

#[test]
fn nul_and_very_long_file_names_stay_encrypted_and_open_safely() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let long = format!("{}.pdf", "x".repeat(3000));
    let names = ["evil\u{0}.txt", long.as_str()];
    let mut cases = Vec::new();
    for name in names {
        let r = post_form(server.addr, &form(vec![file(name, bytes(100, 2))]), "");
        assert!(r.status == 201 || r.status == 400, "{}", r.status);
        if r.status == 201 {
            cases.push(r.json()["case"].as_str().unwrap().to_owned());
        }
    }
    assert!(!cases.is_empty());
    for (i, case) in cases.iter().enumerate() {
        let out = setup.dir.path().join(format!("names-{i}"));
        let o = open(&setup.export(case), &[&setup.identities[0]], &out);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        for f in all_files(&out.join("files")) {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            assert!(name.len() <= 200 && !name.contains('\0'), "{name:?}");
            assert!(f.starts_with(&out));
        }
    }
    for f in all_files(&setup.data()) {
        let data = std::fs::read(&f).unwrap();
        assert!(
            !data.windows(50).any(|w| w == "x".repeat(50).as_bytes()),
            "a file name leaked into {}",
            f.display()
        );
    }
}

#[test]
fn a_bundle_with_swapped_ciphertext_is_refused() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let a = post_form(server.addr, &form(vec![file("a", bytes(5000, 1))]), "").json()["case"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = post_form(server.addr, &form(vec![file("b", bytes(5000, 2))]), "").json()["case"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut ea = tar_entries(&std::fs::read(setup.export(&a)).unwrap());
    let eb = tar_entries(&std::fs::read(setup.export(&b)).unwrap());
    ea[2].1 = eb[2].1.clone();
    let swapped = setup.dir.path().join("swapped.tar");
    std::fs::write(&swapped, tar_build(&ea)).unwrap();
    let out = setup.dir.path().join("swapped-out");
    let o = open(&swapped, &[&setup.identities[0]], &out);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("verification failed"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(all_files(&out).len(), 0);
    // And the index rewritten to match the swapped file: the manifest's plaintext hash catches it.
    let mut index: serde_json::Value = serde_json::from_slice(&ea[0].1).unwrap();
    let ib: serde_json::Value = serde_json::from_slice(&eb[0].1).unwrap();
    index["files"][0] = ib["files"][0].clone();
    ea[0].1 = serde_json::to_vec(&index).unwrap();
    std::fs::write(&swapped, tar_build(&ea)).unwrap();
    let out2 = setup.dir.path().join("swapped-out-2");
    let o = open(&swapped, &[&setup.identities[0]], &out2);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("does not match the manifest"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn another_user_cannot_use_the_admin_socket() {
    let setup = Setup::new(1, "");
    let _server = setup.start();
    let socket = setup.data().join("admin.sock");
    // The data folder is 0700 and the socket 0600: an unprivileged user gets nowhere.
    let o = Command::new("runuser")
        .args(["-u", "nobody", "--", bin(), "admin", "--socket"])
        .arg(&socket)
        .arg("list")
        .output()
        .expect("runuser (util-linux) is needed for this test");
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("Permission denied") || err.contains("cannot reach"),
        "{err}"
    );
}

#[test]
fn every_405_names_exactly_the_methods_its_route_has() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let page = ["GET", "HEAD"].as_slice();
    let routes = [
        ("/", page),
        ("/api/v1/submissions", &["POST"]),
        ("/api/v1/submissions/files", &["POST"]),
        ("/api/v1/status", &["POST"]),
        ("/status", page),
        ("/u/some-token", &["GET", "HEAD", "POST"]),
        ("/policy", page),
        ("/.well-known/security.txt", page),
        ("/.well-known/age-recipients.txt", page),
        ("/.well-known/sealdrop-receipt-keys", page),
        ("/static/app.js", page),
        ("/static/style.css", page),
        ("/healthz", page),
    ];
    for (path, methods) in routes {
        let mut want: Vec<String> = methods.iter().map(|m| m.to_string()).collect();
        want.sort();
        for (method, accept) in [
            ("DELETE", ""),
            ("PUT", "Accept: text/html\r\n"),
            ("PATCH", ""),
        ] {
            let r = request(
                server.addr,
                &format!(
                    "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n{accept}Connection: close\r\n\r\n"
                ),
                Vec::new(),
            );
            assert_eq!(r.status, 405, "{method} {path}");
            assert_eq!(allowed(&r), want, "{method} {path}");
            assert!(
                r.header("content-security-policy").is_some(),
                "{method} {path}"
            );
            if accept.is_empty() {
                assert_eq!(r.error_code(), "method-not-allowed", "{method} {path}");
            } else {
                assert!(r.text().contains("<html"), "{method} {path}: {}", r.text());
            }
        }
        // And every method it names is one the route takes.
        for method in methods {
            let r = request(
                server.addr,
                &format!(
                    "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                ),
                Vec::new(),
            );
            assert_ne!(r.status, 405, "{method} {path}");
        }
    }
    // The admin socket's 405s say the same, in its JSON shape.
    let r = admin_request(
        &setup.data().join("admin.sock"),
        "DELETE",
        "/v1/invites",
        None,
    );
    assert_eq!(
        (r.status, r.error_code().as_str()),
        (405, "method-not-allowed")
    );
    assert_eq!(allowed(&r), ["GET", "POST"]);
}

#[test]
fn a_malformed_multipart_body_gets_400_and_only_another_media_type_gets_415() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let send = |content_type: &str, body: Vec<u8>| {
        let head = format!(
            "POST /api/v1/submissions HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        request(server.addr, &head, body)
    };
    let good = multipart_body(&form(vec![file("a", bytes(10, 1))]));
    let with_boundary = format!("multipart/form-data; boundary={BOUNDARY}");
    let malformed: [(&str, &str, Vec<u8>); 6] = [
        ("an empty boundary", "multipart/form-data; boundary=", good.clone()),
        ("no boundary parameter", "multipart/form-data", good.clone()),
        (
            "no boundary in the body",
            &with_boundary,
            b"category=incident&message=hello\r\n".to_vec(),
        ),
        (
            "garbage after a boundary",
            &with_boundary,
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"category\"\r\n\r\nincident\r\n--{BOUNDARY}garbage\r\n"
            )
            .into_bytes(),
        ),
        (
            "garbage instead of part headers",
            &with_boundary,
            format!("--{BOUNDARY}\r\n\u{1}\u{2} not a header\r\n\r\nx\r\n--{BOUNDARY}--\r\n")
                .into_bytes(),
        ),
        (
            "no final boundary",
            &with_boundary,
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"category\"\r\n\r\nincident"
            )
            .into_bytes(),
        ),
    ];
    for (what, content_type, body) in malformed {
        let r = send(content_type, body);
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (400, "malformed-multipart"),
            "{what}"
        );
    }
    for content_type in [
        "application/x-www-form-urlencoded",
        "text/plain; boundary=x",
        &format!("multipart/mixed; boundary={BOUNDARY}"),
        &format!("multipart/form-dataX; boundary={BOUNDARY}"),
    ] {
        let r = send(content_type, good.clone());
        assert_eq!(
            (r.status, r.error_code().as_str()),
            (415, "not-multipart"),
            "{content_type}"
        );
    }
    setup.assert_no_trace(0, 0);
    let r = send(&format!("Multipart/Form-Data; boundary={BOUNDARY}"), good);
    assert_eq!(r.status, 201, "{}", r.text());
}

#[test]
fn the_demo_certificate_lives_days_not_millennia() {
    let dir = TempDir::new("democert");
    let demo = dir.path().join("demo");
    let o = demo_setup_only(&demo);
    assert!(o.status.success());
    let o = Command::new("openssl")
        .args([
            "x509",
            "-noout",
            "-startdate",
            "-enddate",
            "-dateopt",
            "iso_8601",
            "-in",
        ])
        .arg(demo.join("cert.pem"))
        .output()
        .expect("openssl is needed for this test (Debian package openssl)");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    let date = |key: &str| -> jiff::Timestamp {
        let line = text.lines().find_map(|l| l.strip_prefix(key)).unwrap();
        line.trim()
            .parse()
            .unwrap_or_else(|e| panic!("{line:?}: {e}"))
    };
    let now = jiff::Timestamp::now();
    let hours = |t: jiff::Timestamp| t.duration_since(now).as_secs() / 3600;
    let (from, until) = (hours(date("notBefore=")), hours(date("notAfter=")));
    assert!(
        (-25..=-23).contains(&from),
        "valid from {from} hours from now"
    );
    assert!(
        (24 * 89..=24 * 90).contains(&until),
        "valid until {until} hours from now"
    );
}

#[test]
fn a_socket_folder_that_others_can_enter_is_refused_at_start_up() {
    let setup = Setup::new(1, "");
    for mode in [0o755, 0o710, 0o701] {
        let folder = setup.dir.path().join(format!("run-{mode:o}"));
        std::fs::create_dir(&folder).unwrap();
        std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(mode)).unwrap();
        let socket = folder.join("admin.sock");
        let log = Server::try_start(
            &setup,
            &[("SEALDROP_SERVER_ADMIN_SOCKET", socket.to_str().unwrap())],
        )
        .err()
        .unwrap_or_else(|| panic!("the server started with its socket in a {mode:o} folder"));
        assert!(
            log.contains(&format!(
                "error: the admin socket's folder {} can be entered by other users (mode 0{mode:o})",
                folder.display()
            )),
            "{log}"
        );
        assert!(
            log.contains(&format!("hint: run `chmod 700 {}`", folder.display())),
            "{log}"
        );
        assert!(!socket.exists());
    }
    // After the chmod it starts, and the socket is 0600 from the start.
    let folder = setup.dir.path().join("run-755");
    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o700)).unwrap();
    let socket = folder.join("admin.sock");
    let _server = Server::start(
        &setup,
        &[("SEALDROP_SERVER_ADMIN_SOCKET", socket.to_str().unwrap())],
    );
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn a_non_loopback_listener_without_public_url_is_refused_at_start_up_and_loopback_needs_none() {
    let setup = Setup::new(1, "");
    let tls = [
        ("SEALDROP_SERVER_TLS_CERT", "cert.pem"),
        ("SEALDROP_SERVER_TLS_KEY", "key.pem"),
    ];
    for listen in ["0.0.0.0:0", "[::]:0"] {
        let mut env = tls.to_vec();
        env.push(("SEALDROP_SERVER_LISTEN", listen));
        let log = Server::try_start(&setup, &env)
            .err()
            .unwrap_or_else(|| panic!("the server started on {listen} without public_url"));
        assert!(
            log.contains(&format!(
                "error: invalid configuration: server.public_url is empty, but server.listen \
                 {listen} is not a loopback address"
            )),
            "{log}"
        );
        assert!(log.contains("set server.public_url to"), "{log}");
        assert!(log.contains("hint: "), "{log}");
    }
    // Loopback, with public_url empty: it starts, and links name the listen address.
    let server = setup.start();
    let txt = get(server.addr, "/.well-known/security.txt", "").text();
    assert!(txt.contains("Contact: http://127.0.0.1:"), "{txt}");
}
