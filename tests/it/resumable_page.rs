//! The upload page's resumable path in real headless Chromium: behind a real nginx whose
//! `client_max_body_size` is 16m a 200 MiB file cannot go as one multipart POST (nginx answers
//! 413) but goes through the page in pieces; after a connection cut mid-piece the page waits,
//! asks where the server stands and continues by itself; cancel removes what was sent. Each
//! report opens byte-identical.
#![allow(clippy::unwrap_used)]

use crate::browser::{fill_report, well_formed_reference};
use crate::clients::CutProxy;
use crate::common::*;
use crate::webdriver::{Driver, Session, screenshot_dir};
use serde_json::json;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Collects every progress text the page shows.
const WATCH_TEXTS: &str = r#"
window.__texts = [];
new MutationObserver(function () {
  const t = document.getElementById('progress-text');
  if (t && t.textContent) { window.__texts.push(t.textContent); }
}).observe(document.getElementById('progress-text'), { childList: true, characterData: true, subtree: true });
return true;
"#;

fn texts(s: &Session) -> Vec<String> {
    s.exec("return window.__texts || [];", json!([]))
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_owned())
        .collect()
}

/// Writes `mib` MiB of numbered pseudo-random data to `path` without holding it in memory.
fn write_big(path: &Path, mib: u64) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let chunk = bytes(1 << 20, 31);
    for i in 0..mib {
        let mut c = chunk.clone();
        c[..8].copy_from_slice(&i.to_le_bytes());
        f.write_all(&c).unwrap();
    }
    f.flush().unwrap();
}

/// Whether two files hold the same bytes (compared a MiB at a time).
fn same_bytes(a: &Path, b: &Path) -> bool {
    let (mut fa, mut fb) = (
        std::fs::File::open(a).unwrap(),
        std::fs::File::open(b).unwrap(),
    );
    if fa.metadata().unwrap().len() != fb.metadata().unwrap().len() {
        return false;
    }
    let (mut ba, mut bb) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let n = fa.read(&mut ba).unwrap();
        if n == 0 {
            return true;
        }
        fb.read_exact(&mut bb[..n]).unwrap();
        if ba[..n] != bb[..n] {
            return false;
        }
    }
}

/// The receipt's case, exported and opened: the file must come out as `original`.
fn opens_byte_identical(setup: &Setup, s: &Session, original: &Path) {
    let case = s.text(&s.find("#case"));
    let out = setup.dir.path().join(format!("opened-{case}"));
    let o = open(&setup.export(&case), &[&setup.identities[0]], &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let name = original.file_name().unwrap();
    assert!(
        same_bytes(&out.join("files").join(name), original),
        "the opened file differs from the one sent"
    );
}

#[test]
fn behind_nginx_with_a_16m_body_limit_a_200_mib_file_fails_as_one_post_but_goes_through_the_page_in_pieces()
 {
    let setup = Setup::new(1, "");
    let server = setup.start();
    let nginx = Nginx::start_with_body_limit(server.addr, "16m");
    let evidence = setup.dir.path().join("disk-image.bin");
    write_big(&evidence, 200);

    // As one multipart POST the gateway refuses it: 413, from nginx, and nothing is stored.
    let (status, body) = curl_from(
        "127.0.0.1",
        &[
            "-F",
            "category=vulnerability",
            "-F",
            "contact=reporter@example.net",
            "-F",
            &format!("file=@{}", evidence.display()),
            &format!("http://{}/api/v1/submissions", nginx.addr),
        ],
    );
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("nginx"), "the 413 is not nginx's: {body}");
    assert_eq!(setup.record_count(), 0);

    // Through the page the same file goes in pieces and becomes a report.
    let driver = Driver::start();
    let s = driver.session(true, "en", setup.dir.path());
    s.goto(&format!("http://{}/?lang=en", nginx.addr));
    let piece: u64 = s
        .attribute(&s.find("#report"), "data-piece-size")
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        piece <= 16 << 20,
        "pieces of {piece} bytes pass no 16m gateway"
    );
    fill_report(&s, "vulnerability", &evidence);
    assert_eq!(s.exec(WATCH_TEXTS, json!([])), json!(true));
    s.click(&s.find("#send"));
    let reference = s.wait_for("#reference", 600);
    assert!(well_formed_reference(&s.text(&reference)));
    s.screenshot(&screenshot_dir().join("receipt-resumable-200mib-en.png"));
    let shown = texts(&s);
    assert!(
        shown.iter().any(|t| t.contains("200.0 MiB (100 %)")),
        "one bar across all pieces: {shown:?}"
    );
    let between = shown
        .iter()
        .filter_map(|t| {
            t.split_once(" (")?
                .1
                .split_once(" %)")?
                .0
                .parse::<u32>()
                .ok()
        })
        .filter(|p| (1..100).contains(p))
        .count();
    assert!(between >= 2, "no progress between the pieces: {shown:?}");
    let log = nginx.access_log(30);
    let pieces = log
        .lines()
        .filter(|l| l.contains("\"PATCH /api/v1/uploads/-\" 204"))
        .count();
    assert_eq!(pieces as u64, (200u64 << 20).div_ceil(piece), "{log}");
    assert_eq!(
        log.lines().filter(|l| l.contains("\" 413 ")).count(),
        1,
        "only the single POST was refused: {log}"
    );
    assert_eq!(setup.record_count(), 1);
    opens_byte_identical(&setup, &s, &evidence);
    drop(s);
    drop(nginx);
    drop(server);
}

#[test]
fn after_a_connection_cut_mid_piece_the_page_resumes_by_itself_and_the_report_opens_byte_identical()
{
    let setup = Setup::new(1, "[limits]\nbrowser_piece_size = 1048576\n");
    let server = setup.start();
    // The page itself is a few kB; the cut falls inside the third piece.
    let proxy = CutProxy::start(server.addr, 2_500_000);
    let evidence = setup.dir.path().join("recording.bin");
    std::fs::write(&evidence, bytes(4_500_000, 32)).unwrap();
    let notes = setup.dir.path().join("notes.txt");
    std::fs::write(&notes, b"what I saw").unwrap();
    let driver = Driver::start();
    let s = driver.session(true, "nl", setup.dir.path());
    s.goto(&format!("http://{}/", proxy.addr));
    assert_eq!(
        s.attribute(&s.find("#report"), "data-piece-size")
            .as_deref(),
        Some("1048576"),
        "limits.browser_piece_size reaches the page"
    );
    fill_report(&s, "incident", &evidence);
    s.type_text(&s.find("#file"), notes.to_str().unwrap());
    assert_eq!(s.exec(WATCH_TEXTS, json!([])), json!(true));
    s.click(&s.find("#send"));
    let reference = s.wait_for("#reference", 120);
    assert!(well_formed_reference(&s.text(&reference)));
    assert!(proxy.cut.load(Ordering::SeqCst), "the proxy never cut");
    let shown = texts(&s);
    assert!(
        shown
            .iter()
            .any(|t| t.starts_with("Verbinding verbroken, opnieuw proberen")),
        "the page did not say it lost the connection: {shown:?}"
    );
    assert!(shown.iter().any(|t| t.contains("(100 %)")), "{shown:?}");
    let log = server.log();
    assert!(
        log.contains("method=HEAD") || log.contains("\"HEAD"),
        "the page never asked where the upload stood:\n{log}"
    );
    opens_byte_identical(&setup, &s, &evidence);
    let case = s.text(&s.find("#case"));
    let opened = setup.dir.path().join(format!("opened-{case}"));
    assert_eq!(
        std::fs::read(opened.join("files/notes.txt")).unwrap(),
        b"what I saw"
    );
}

#[test]
fn cancel_removes_the_unfinished_uploads_from_the_server() {
    let setup = Setup::new(1, "[limits]\nbrowser_piece_size = 262144\n");
    let server = setup.start();
    let evidence = setup.dir.path().join("slow.bin");
    std::fs::write(&evidence, bytes(8 << 20, 33)).unwrap();
    let driver = Driver::start();
    let s = driver.session(true, "en", setup.dir.path());
    s.goto(&format!("{}?lang=en", server.url));
    // A slow line (1 MiB/s up), so that cancel comes mid-upload.
    s.cdp("Network.enable", json!({}));
    s.cdp(
        "Network.emulateNetworkConditions",
        json!({ "offline": false, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 1 << 20 }),
    );
    fill_report(&s, "incident", &evidence);
    s.click(&s.find("#send"));
    let start = Instant::now();
    while !s.text(&s.find("#progress-text")).contains("MiB of") {
        assert!(start.elapsed() < Duration::from_secs(30), "no progress");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(setup.tmp_count() > 0, "nothing was under way");
    s.click(&s.find("#cancel"));
    let problems = s.wait_for("#problems:not([hidden])", 10);
    assert!(s.text(&problems).contains("Upload cancelled"));
    setup.assert_no_trace(0, 0);
    let log = server.log();
    assert!(
        log.contains("DELETE"),
        "no DELETE reached the server:\n{log}"
    );
}
