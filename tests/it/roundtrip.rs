//! Uploads go in over HTTP, come out of `open` and the stock `age` CLI byte-identical.

#![allow(clippy::unwrap_used)]

use crate::common::*;

const SIZES: [usize; 6] = [0, 1, 65535, 65536, 65537, 10 << 20];

fn upload_edge_sizes(server: &Server) -> (serde_json::Value, Vec<Vec<u8>>) {
    let contents: Vec<Vec<u8>> = SIZES
        .iter()
        .enumerate()
        .map(|(i, &n)| bytes(n, i as u64 + 1))
        .collect();
    let files = contents
        .iter()
        .enumerate()
        .map(|(i, c)| file(&format!("evidence-{i}.bin"), c.clone()))
        .collect();
    let resp = post_form(server.addr, &form(files), "");
    assert_eq!(resp.status, 201, "{}", resp.text());
    (resp.json(), contents)
}

#[test]
fn edge_sizes_round_trip_and_each_of_two_identities_alone_decrypts() {
    let setup = Setup::new(2, "");
    let server = setup.start();
    let (receipt, contents) = upload_edge_sizes(&server);
    assert_eq!(receipt["files"].as_array().unwrap().len(), SIZES.len());
    assert_eq!(receipt["key_ids"].as_array().unwrap().len(), 2);
    for (i, f) in receipt["files"].as_array().unwrap().iter().enumerate() {
        assert_eq!(f["index"], i);
        assert_eq!(f["size"], SIZES[i]);
        // The receipt's fingerprint is what the reporter's own sha256sum prints.
        let local = setup.dir.path().join(format!("sent-{i}.bin"));
        std::fs::write(&local, &contents[i]).unwrap();
        let out = std::process::Command::new("sha256sum")
            .arg(&local)
            .output()
            .unwrap();
        let theirs = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            f["sha256"].as_str().unwrap(),
            theirs.split_whitespace().next().unwrap()
        );
        assert!(
            f["ciphertext_digest"]
                .as_str()
                .unwrap()
                .starts_with("blake3:")
        );
    }
    let reference = receipt["reference"].as_str().unwrap();
    assert_eq!(reference.len(), 21, "{reference}");
    let case = receipt["case"].as_str().unwrap();

    let bundle = setup.export(case);
    for identity in &setup.identities {
        let out = setup.dir.path().join(format!(
            "opened-{}",
            identity.file_name().unwrap().to_string_lossy()
        ));
        let o = open(&bundle, &[identity], &out);
        assert!(
            o.status.success(),
            "open failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        for (i, c) in contents.iter().enumerate() {
            let got = std::fs::read(out.join(format!("files/evidence-{i}.bin"))).unwrap();
            assert!(got == *c, "file {i} differs after open");
        }
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
        assert_eq!(report["message"], "test message");
        assert_eq!(report["contact"], "tester@example.org");
        assert_eq!(report["case"], case);
        let txt = std::fs::read_to_string(out.join("report.txt")).unwrap();
        assert!(txt.contains("test message") && txt.contains("tester@example.org"));
    }
    drop(server);
}

#[test]
fn every_stored_age_file_decrypts_with_the_stock_age_cli() {
    let setup = Setup::new(2, "");
    let server = setup.start();
    let (receipt, contents) = upload_edge_sizes(&server);
    let blobs = setup.data().join("blobs");
    let dir = std::fs::read_dir(&blobs)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    for identity in &setup.identities {
        for (i, c) in contents.iter().enumerate() {
            let stored = dir.join(format!("{i:03}.age"));
            let on_disk = std::fs::read(&stored).unwrap();
            assert_eq!(
                receipt["files"][i]["ciphertext_size"].as_u64().unwrap(),
                on_disk.len() as u64
            );
            assert!(
                age_decrypt(identity, &stored) == *c,
                "age -d of file {i} differs"
            );
            // The stored digest is what the stock b3sum prints, without any key.
            let out = std::process::Command::new("b3sum")
                .arg(&stored)
                .output()
                .expect("b3sum (Debian package b3sum)");
            let b3 = String::from_utf8_lossy(&out.stdout);
            assert_eq!(
                receipt["files"][i]["ciphertext_digest"].as_str().unwrap(),
                format!("blake3:{}", b3.split_whitespace().next().unwrap())
            );
        }
        let manifest: serde_json::Value =
            serde_json::from_slice(&age_decrypt(identity, &dir.join("manifest.age"))).unwrap();
        assert_eq!(manifest["message"], "test message");
        assert_eq!(manifest["files"][2]["name"], "evidence-2.bin");
        assert_eq!(manifest["files"][2]["size"], 65535);
    }
}

#[test]
fn https_upload_with_curl_round_trips() {
    let dir = TempDir::new("tls");
    let demo = dir.path().join("demo");
    let o = demo_setup_only(&demo);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let banner = String::from_utf8_lossy(&o.stdout);
    assert!(banner.contains("NOT FOR REAL REPORTS"), "{banner}");
    let setup = Setup::of_demo(dir, &demo);
    let server = setup.start();
    assert!(server.url.starts_with("https://"), "{}", server.url);
    let evidence = setup.dir.path().join("evidence.txt");
    std::fs::write(&evidence, b"over TLS").unwrap();
    let out = std::process::Command::new("curl")
        .args([
            "-sS",
            "-k",
            "-D",
            "-",
            "-F",
            "category=incident",
            "-F",
            "message=via curl",
        ])
        .arg("-F")
        .arg(format!("file=@{}", evidence.display()))
        .arg(format!("{}api/v1/submissions", server.url))
        .output()
        .expect("curl is needed for the HTTPS test");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.starts_with("HTTP/1.1 201"), "{text}");
    assert!(
        text.to_ascii_lowercase()
            .contains("strict-transport-security: max-age="),
        "{text}"
    );
    let json: serde_json::Value =
        serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    let bundle = setup.export(json["case"].as_str().unwrap());
    let opened = setup.dir.path().join("opened");
    let o = open(&bundle, &[&setup.identities[0]], &opened);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        std::fs::read(opened.join("files/evidence.txt")).unwrap(),
        b"over TLS"
    );
}

#[test]
fn a_browser_form_post_gets_an_uncached_receipt_page() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let resp = post_form(
        server.addr,
        &form(vec![file("<script>x</script>.png", b"png".to_vec())]),
        "Accept: text/html,application/xhtml+xml\r\n",
    );
    assert_eq!(resp.status, 201);
    assert!(
        resp.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(resp.header("cache-control"), Some("no-store"));
    let page = resp.text();
    assert!(page.contains("class=\"reference\""), "{page}");
    assert!(
        page.contains("&#60;script&#62;x&#60;/script&#62;.png"),
        "file name must be escaped"
    );
    assert!(!page.contains("<script>x"));
}

#[test]
fn pages_carry_strict_security_headers() {
    let setup = Setup::new(1, "[org]\nname = \"Gemeente Voorbeeld\"\n");
    let server = setup.start();
    let resp = get(server.addr, "/", "");
    assert_eq!(resp.status, 200);
    let csp = resp.header("content-security-policy").unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(resp.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(resp.header("referrer-policy"), Some("no-referrer"));
    assert!(resp.header("x-request-id").is_some());
    let page = resp.text();
    assert!(page.contains("Gemeente Voorbeeld"));
    assert!(page.contains("enctype=\"multipart/form-data\""));
    // Scripts only from files (the CSP allows no inline script), plus inert JSON data; that
    // the page works with JavaScript off is proven in a real browser (tests/browser.rs).
    for tag in page.split("<script").skip(1) {
        let head = &tag[..tag.find('>').unwrap()];
        assert!(
            head.contains("src=\"/static/") || head.contains("type=\"application/json\""),
            "inline script: <script{head}>"
        );
    }
    let health = get(server.addr, "/healthz", "");
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "ok");
    let css = get(server.addr, "/static/style.css", "");
    assert_eq!(css.status, 200);
    assert!(css.header("content-type").unwrap().starts_with("text/css"));
}
