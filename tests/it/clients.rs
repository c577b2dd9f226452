//! tus clients nobody here wrote (tus-js-client under Node, Python's tuspy) and `sealdrop
//! send` upload through a proxy that cuts the connection once, mid-piece; each resumes, and the
//! report that names the upload opens byte-identical.

use crate::common::*;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// A TCP proxy to `upstream` that cuts the connection it is on once the bytes sent towards
/// the server (all connections together) pass `cut_after`.
pub struct CutProxy {
    pub addr: SocketAddr,
    pub cut: Arc<AtomicBool>,
}

impl CutProxy {
    pub fn start(upstream: SocketAddr, cut_after: u64) -> CutProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let cut = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let c = Arc::clone(&cut);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                let (c, sent) = (Arc::clone(&c), Arc::clone(&sent));
                let (mut from_client, mut to_server) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                let (mut from_server, mut to_client) = (server, client);
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16 << 10];
                    while let Ok(n) = from_client.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        let total = sent.fetch_add(n as u64, Ordering::SeqCst) + n as u64;
                        if total > cut_after && !c.swap(true, Ordering::SeqCst) {
                            // Half of this read goes through, then the line drops.
                            let _ = to_server.write_all(&buf[..n / 2]);
                            let _ = to_server.shutdown(Shutdown::Both);
                            let _ = from_client.shutdown(Shutdown::Both);
                            return;
                        }
                        if to_server.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = to_server.shutdown(Shutdown::Write);
                });
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut from_server, &mut to_client);
                    let _ = to_client.shutdown(Shutdown::Both);
                });
            }
        });
        CutProxy { addr, cut }
    }
}

/// Commits `upload_url` as a report and checks that it opens byte-identical as `name`.
fn commit_and_open(setup: &Setup, addr: SocketAddr, upload_url: &str, name: &str, content: &[u8]) {
    let r = post_form(
        addr,
        &[
            text("category", "vulnerability"),
            text("contact", "someone@example.org"),
            text("upload", upload_url.trim()),
        ],
        "",
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let case = r.json()["case"].as_str().unwrap().to_owned();
    let out = setup.dir.path().join(format!("opened-{name}"));
    let o = open(&setup.export(&case), &[&setup.identities[0]], &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(std::fs::read(out.join("files").join(name)).unwrap() == content);
}

fn run_client(
    program: &str,
    script: &str,
    endpoint: &str,
    file: &std::path::Path,
    name: &str,
) -> String {
    let mut cmd = Command::new(program);
    cmd.arg(repo(&format!("tests/support/{script}")))
        .arg(endpoint)
        .arg(file)
        .arg((256 << 10).to_string())
        .arg(name);
    if program == "node" {
        cmd.env("NODE_PATH", repo("target/tus-node/node_modules"));
    }
    let o = cmd.output().unwrap_or_else(|e| {
        panic!("{program} is needed for this test (bash .ci/run installs it): {e}")
    });
    assert!(
        o.status.success(),
        "{script} failed: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn tus_js_client_under_node_resumes_after_a_cut_and_the_report_opens_byte_identical() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let proxy = CutProxy::start(server.addr, 700_000);
    let content = bytes(1_500_000, 21);
    let file = setup.dir.path().join("node.bin");
    std::fs::write(&file, &content).unwrap();
    let url = run_client(
        "node",
        "tus_upload.js",
        &format!("http://{}/api/v1/uploads", proxy.addr),
        &file,
        "from node.bin",
    );
    assert!(
        proxy.cut.load(Ordering::SeqCst),
        "the proxy never cut the upload"
    );
    commit_and_open(&setup, server.addr, &url, "from node.bin", &content);
}

#[test]
fn tuspy_resumes_after_a_cut_and_the_report_opens_byte_identical() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let proxy = CutProxy::start(server.addr, 600_000);
    let content = bytes(1_300_000, 22);
    let file = setup.dir.path().join("py.bin");
    std::fs::write(&file, &content).unwrap();
    let url = run_client(
        "python3",
        "tus_upload.py",
        &format!("http://{}/api/v1/uploads", proxy.addr),
        &file,
        "from python.bin",
    );
    assert!(
        proxy.cut.load(Ordering::SeqCst),
        "the proxy never cut the upload"
    );
    commit_and_open(&setup, server.addr, &url, "from python.bin", &content);
}

#[test]
fn sealdrop_send_resumes_after_a_cut_and_prints_a_reference_that_checks_the_report() {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let proxy = CutProxy::start(server.addr, 900_000);
    let big = bytes(2_000_000, 23);
    let files = [
        ("evidence.bin", big.clone()),
        ("notes.txt", b"short".to_vec()),
    ];
    for (name, data) in &files {
        std::fs::write(setup.dir.path().join(name), data).unwrap();
    }
    std::fs::write(setup.dir.path().join("message.txt"), "what I found").unwrap();
    let receipt = setup.dir.path().join("receipt.json");
    let signed = setup.dir.path().join("receipt.txt");
    let o = Command::new(bin())
        .current_dir(setup.dir.path())
        .args([
            "send",
            "--portal",
            &format!("http://{}", proxy.addr),
            "--category",
            "incident",
            "--message-file",
            "message.txt",
            "--piece-size",
            "512KiB",
            "--receipt",
            receipt.to_str().unwrap(),
            "--signed-receipt",
            signed.to_str().unwrap(),
            "--credit",
            "Terminal Tess",
            "evidence.bin",
            "notes.txt",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        proxy.cut.load(Ordering::SeqCst),
        "the proxy never cut the upload"
    );
    let reference = stdout
        .lines()
        .find_map(|l| l.strip_prefix("reference: "))
        .unwrap()
        .to_owned();
    // The signed receipt, saved by `send`, passes the stock ssh-keygen and names the whole
    // file (one line, though it travelled in pieces) with its SHA-256, never the reference.
    let keys = crate::receipts::fetch_keys(&server, setup.dir.path(), "allowed_signers");
    let (ok, said) = crate::receipts::ssh_verify(
        &keys,
        &signed,
        &setup.dir.path().join("receipt.txt.sig"),
        None,
    );
    assert!(ok, "{said}");
    let body = std::fs::read_to_string(&signed).unwrap();
    assert!(!body.contains(&reference), "{body}");
    let whole = sha256_hex(&files[0].1);
    assert_eq!(body.matches(&whole).count(), 1, "{body}");
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&receipt).unwrap()).unwrap();
    assert_eq!(saved["reference"], reference.as_str());
    assert_eq!(saved["files"].as_array().unwrap().len(), 2);
    let status = post_json(
        server.addr,
        "/api/v1/status",
        &serde_json::json!({"reference": reference}),
    );
    assert_eq!(status.status, 200, "{}", status.text());

    let case = saved["case"].as_str().unwrap();
    assert_eq!(show(&setup, case)["disclosure"]["credit_requested"], true);
    let out = setup.dir.path().join("opened");
    let o = open(&setup.export(case), &[&setup.identities[0]], &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for (name, data) in &files {
        assert!(
            std::fs::read(out.join("files").join(name)).unwrap() == *data,
            "{name}"
        );
    }
    let report = std::fs::read_to_string(out.join("report.json")).unwrap();
    assert!(report.contains("what I found"));

    // A refusal is explained with the portal's code, and a hint.
    let o = Command::new(bin())
        .current_dir(setup.dir.path())
        .args([
            "send",
            "--portal",
            &format!("http://{}", server.addr),
            "--category",
            "nonsense",
            "notes.txt",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        stderr.contains("invalid-category") && stderr.contains("hint: "),
        "{stderr}"
    );
}
