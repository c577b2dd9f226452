//! Test harness: temp folders, identities, the real `sealdrop` binary on 127.0.0.1:0, and a
//! small raw HTTP/1.1 client that can also misbehave (stall, abort, send odd headers).
#![allow(dead_code, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_sealdrop")
}

/// A folder removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let p = std::env::temp_dir().join(format!(
            "sealdrop-test-{tag}-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the binary with `args` and returns its output.
pub fn run(args: &[&str]) -> Output {
    Command::new(bin()).args(args).output().unwrap()
}

/// `sealdrop keygen -o path`, returning the recipient.
pub fn keygen(path: &Path) -> String {
    let out = run(&["keygen", "-o", path.to_str().unwrap()]);
    assert!(out.status.success(), "keygen failed: {out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A data folder, identities and a config for one server.
pub struct Setup {
    pub dir: TempDir,
    pub config: PathBuf,
    pub identities: Vec<PathBuf>,
    pub recipients: Vec<String>,
}

impl Setup {
    /// `keys` identities; `extra` is appended to the config (e.g. a `[limits]` section).
    pub fn new(keys: usize, extra: &str) -> Setup {
        let dir = TempDir::new("srv");
        let mut identities = Vec::new();
        let mut recipients = Vec::new();
        for i in 0..keys {
            let id = dir.path().join(format!("identity{i}.txt"));
            recipients.push(keygen(&id));
            identities.push(id);
        }
        std::fs::create_dir_all(dir.path().join("keys")).unwrap();
        std::fs::write(
            dir.path().join("keys/recipients.txt"),
            recipients.join("\n") + "\n",
        )
        .unwrap();
        let config = dir.path().join("sealdrop.toml");
        std::fs::write(
            &config,
            format!(
                "[server]\nlisten = \"127.0.0.1:0\"\nadmin_socket = \"data/admin.sock\"\n\n\
                 [storage]\ndata_dir = \"data\"\nmin_free_bytes = \"1MiB\"\n\n\
                 [keys]\nrecipients_file = \"keys/recipients.txt\"\n\n{extra}\n"
            ),
        )
        .unwrap();
        Setup {
            dir,
            config,
            identities,
            recipients,
        }
    }

    /// A setup around the demo folder `demo` inside `dir`: its config, identity and
    /// certificate.
    pub fn of_demo(dir: TempDir, demo: &Path) -> Setup {
        Setup {
            config: demo.join("sealdrop.toml"),
            identities: vec![demo.join("identity.txt")],
            recipients: vec![],
            dir,
        }
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn start(&self) -> Server {
        Server::start(self, &[])
    }

    /// Runs `sealdrop admin --config … args`.
    pub fn admin(&self, args: &[&str]) -> Output {
        let mut all = vec!["admin", "--config", self.config.to_str().unwrap()];
        all.extend_from_slice(args);
        run(&all)
    }

    /// Exports `case` to a new bundle file.
    pub fn export(&self, case: &str) -> PathBuf {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let out = self.dir.path().join(format!("export-{case}-{n}.tar"));
        let o = self.admin(&["export", case, "-o", out.to_str().unwrap()]);
        assert!(
            o.status.success(),
            "export failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        out
    }

    /// Number of committed blob folders.
    pub fn blob_count(&self) -> usize {
        std::fs::read_dir(self.data().join("blobs"))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    /// Number of entries in tmp/.
    pub fn tmp_count(&self) -> usize {
        std::fs::read_dir(self.data().join("tmp"))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    /// Number of records, through the admin socket.
    pub fn record_count(&self) -> usize {
        let o = self.admin(&["list", "--json"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        v.as_array().unwrap().len()
    }

    /// Waits until tmp/ is empty (cleanup of a refused upload runs just after the answer).
    pub fn assert_no_trace(&self, blobs_before: usize, records_before: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.tmp_count() > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(self.tmp_count(), 0, "tmp/ still holds an upload");
        assert_eq!(
            self.blob_count(),
            blobs_before,
            "a blob folder was left behind"
        );
        assert_eq!(
            self.record_count(),
            records_before,
            "a record was left behind"
        );
    }
}

/// The real server process.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    pub url: String,
    log: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `sealdrop serve` with extra environment variables and waits for its address.
    pub fn start(setup: &Setup, env: &[(&str, &str)]) -> Server {
        Self::try_start(setup, env).unwrap_or_else(|log| panic!("server did not start:\n{log}"))
    }

    /// Like `start`, but returns the log if the server exits instead of listening.
    pub fn try_start(setup: &Setup, env: &[(&str, &str)]) -> Result<Server, String> {
        Self::try_start_wrapped(setup, env, &[])
    }

    /// Starts the server under a wrapper command (e.g. `fiu-run -x`).
    pub fn try_start_wrapped(
        setup: &Setup,
        env: &[(&str, &str)],
        wrapper: &[&str],
    ) -> Result<Server, String> {
        let mut cmd = match wrapper.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(bin());
                c
            }
            None => Command::new(bin()),
        };
        cmd.args(["serve", "--config", setup.config.to_str().unwrap()])
            .env_remove("SEALDROP_CONFIG")
            .env("RUST_LOG", "info")
            // Tests send many submissions from one address; the tests of these limits set
            // their own values (set later, so they win).
            .env("SEALDROP_LIMITS_SUBMISSIONS_PER_HOUR", "1000000")
            .env("SEALDROP_LIMITS_MAX_UPLOADS_PER_CLIENT", "1000")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().unwrap();
        let l2 = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                l2.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let l3 = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("sealdrop: listening on ") {
                    let _ = tx.send(url.to_owned());
                }
                l3.lock().unwrap().push_str(&(line + "\n"));
            }
        });
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => {
                let hostport = url.split("://").nth(1).unwrap().trim_end_matches('/');
                Ok(Server {
                    child,
                    addr: hostport.parse().unwrap(),
                    url,
                    log,
                })
            }
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                std::thread::sleep(Duration::from_millis(100));
                Err(log.lock().unwrap().clone())
            }
        }
    }

    /// The team console's address (printed before the public one, so known once started).
    pub fn console(&self) -> SocketAddr {
        let log = self.log();
        let url = log
            .lines()
            .find_map(|l| l.strip_prefix("sealdrop: console on "))
            .unwrap_or_else(|| panic!("the console did not start:\n{log}"));
        let hostport = url.split("://").nth(1).unwrap().trim_end_matches('/');
        hostport.parse().unwrap()
    }

    /// The process id (for signals).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the server printed so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// SIGKILL, no shutdown at all.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM and wait.
    pub fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        std::thread::sleep(Duration::from_millis(50));
        self.log()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One multipart part.
#[derive(Clone)]
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub data: Vec<u8>,
}

pub fn text(name: &str, value: &str) -> Part {
    Part {
        name: name.into(),
        filename: None,
        data: value.as_bytes().to_vec(),
    }
}

pub fn file(filename: &str, data: Vec<u8>) -> Part {
    Part {
        name: "file".into(),
        filename: Some(filename.into()),
        data,
    }
}

pub const BOUNDARY: &str = "----sealdrop-test-boundary-7MA4YWxkTrZu0gW";

pub fn multipart_body(parts: &[Part]) -> Vec<u8> {
    let mut body = Vec::new();
    for p in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match &p.filename {
            Some(f) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: application/octet-stream\r\n\r\n",
                    p.name, f
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{}\"\r\n\r\n", p.name).as_bytes(),
            ),
        }
        body.extend_from_slice(&p.data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// A parsed response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn error_code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }
}

/// Writes the request head and body on one thread (ignoring write errors: the server may answer
/// and close early) and reads the response on this one.
pub fn request(addr: SocketAddr, head: &str, body: Vec<u8>) -> Response {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let head = head.to_owned();
    let w = std::thread::spawn(move || {
        let _ = writer.write_all(head.as_bytes());
        let _ = writer.write_all(&body);
    });
    let resp = read_response(&mut stream);
    let _ = w.join();
    resp
}

pub fn read_response(stream: &mut TcpStream) -> Response {
    let mut raw = Vec::new();
    if let Err(e) = stream.read_to_end(&mut raw) {
        eprintln!("reading the response failed after {} bytes: {e}", raw.len());
    }
    parse_response(&raw)
}

pub fn parse_response(raw: &[u8]) -> Response {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    Response {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(std::str::from_utf8(&data[..end]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            break;
        }
        out.extend_from_slice(&data[end + 2..end + 2 + size]);
        data = &data[end + 2 + size + 2..];
    }
    out
}

/// POSTs a multipart form to `/api/v1/submissions` with extra header lines.
pub fn post_form(addr: SocketAddr, parts: &[Part], extra_headers: &str) -> Response {
    let body = multipart_body(parts);
    let head = format!(
        "POST /api/v1/submissions HTTP/1.1\r\nHost: {addr}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\nConnection: close\r\n{extra_headers}\r\n",
        body.len()
    );
    request(addr, &head, body)
}

/// A plain GET.
pub fn get(addr: SocketAddr, path: &str, extra_headers: &str) -> Response {
    request(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{extra_headers}\r\n"),
        Vec::new(),
    )
}

/// Deterministic pseudo-random bytes.
pub fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A basic valid form with the given files.
pub fn form(files: Vec<Part>) -> Vec<Part> {
    let mut parts = vec![
        text("category", "vulnerability"),
        text("message", "test message"),
        text("contact", "tester@example.org"),
    ];
    parts.extend(files);
    parts
}

/// `sealdrop open bundle -i … -o out`.
pub fn open(bundle: &Path, identities: &[&Path], out: &Path) -> Output {
    let mut args = vec!["open".to_owned(), bundle.display().to_string()];
    for i in identities {
        args.push("-i".into());
        args.push(i.display().to_string());
    }
    args.push("-o".into());
    args.push(out.display().to_string());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&refs)
}

/// Decrypts a file with the stock `age` CLI.
pub fn age_decrypt(identity: &Path, file: &Path) -> Vec<u8> {
    let out = Command::new("age")
        .args(["-d", "-i"])
        .arg(identity)
        .arg(file)
        .output()
        .expect("the stock `age` CLI is needed for interop tests (Debian package `age`)");
    assert!(
        out.status.success(),
        "age -d failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Every regular file below `dir`, recursively (sockets and the like left out).
pub fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.is_file() {
                out.push(p);
            }
        }
    }
    out
}

/// The entries (name, data) of a ustar archive.
pub fn tar_entries(mut raw: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    while raw.len() >= 512 && raw[..512].iter().any(|&b| b != 0) {
        let name_end = raw[..100].iter().position(|&b| b == 0).unwrap_or(100);
        let name = String::from_utf8_lossy(&raw[..name_end]).into_owned();
        let size_field = String::from_utf8_lossy(&raw[124..136]);
        let size =
            usize::from_str_radix(size_field.trim_matches(|c: char| c == '\0' || c == ' '), 8)
                .unwrap();
        out.push((name, raw[512..512 + size].to_vec()));
        raw = &raw[512 + size.div_ceil(512) * 512..];
    }
    out
}

/// A ustar header block of `kind` declaring `size` bytes of data (which need not follow).
pub fn tar_header(name: &str, kind: u8, link: &str, size: u64) -> Vec<u8> {
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    h[100..107].copy_from_slice(b"0000644");
    h[108..115].copy_from_slice(b"0000000");
    h[116..123].copy_from_slice(b"0000000");
    h[124..135].copy_from_slice(format!("{size:011o}").as_bytes());
    h[136..147].copy_from_slice(b"00000000000");
    h[156] = kind;
    h[157..157 + link.len()].copy_from_slice(link.as_bytes());
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..155].copy_from_slice(format!("{sum:06o}\0").as_bytes());
    h.to_vec()
}

/// A ustar header block plus padded data for a regular file (or another `kind` with a `link`).
pub fn tar_entry(name: &str, kind: u8, link: &str, data: &[u8]) -> Vec<u8> {
    let mut out = tar_header(name, kind, link, data.len() as u64);
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
    out
}

/// A ustar archive of regular files, with its end marker.
pub fn tar_build(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in entries {
        out.extend(tar_entry(name, b'0', "", data));
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

/// A form POST that tolerates the server dying mid-request (returns `None` then).
pub fn try_post(addr: SocketAddr, parts: &[Part]) -> Option<Response> {
    let body = multipart_body(parts);
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(20))).ok()?;
    let head = format!(
        "POST /api/v1/submissions HTTP/1.1\r\nHost: {addr}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).ok()?;
    s.write_all(&body).ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    raw.windows(4)
        .any(|w| w == b"\r\n\r\n")
        .then(|| parse_response(&raw))
}

/// POSTs a multipart form to `path` with extra header lines.
pub fn post_form_to(addr: SocketAddr, path: &str, parts: &[Part], extra_headers: &str) -> Response {
    let body = multipart_body(parts);
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\nConnection: close\r\n{extra_headers}\r\n",
        body.len()
    );
    request(addr, &head, body)
}

/// POSTs JSON to `path`.
pub fn post_json(addr: SocketAddr, path: &str, value: &serde_json::Value) -> Response {
    let body = serde_json::to_vec(value).unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    request(addr, &head, body)
}

/// Runs `sealdrop admin --config … args` and returns stdout, failing the test on an error.
pub fn admin_ok(setup: &Setup, args: &[&str]) -> String {
    let out = setup.admin(args);
    assert!(
        out.status.success(),
        "admin {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `admin show CASE --json`.
pub fn show(setup: &Setup, case: &str) -> serde_json::Value {
    serde_json::from_str(&admin_ok(setup, &["show", case, "--json"])).unwrap()
}

/// Takes a backup, stops the server, lets `edit` rewrite the backup's records (e.g. to put them
/// in the past), and restores it as the server's data directory.
pub fn rewrite_history(setup: &Setup, server: Server, edit: impl Fn(&mut serde_json::Value)) {
    let backup = setup.dir.path().join("history.tar");
    admin_ok(setup, &["backup", "-o", backup.to_str().unwrap()]);
    server.stop();
    let raw = std::fs::read(&backup).unwrap();
    let mut entries = tar_entries(&raw);
    let meta = entries
        .iter_mut()
        .find(|(n, _)| n == "backup.json")
        .unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&meta.1).unwrap();
    for r in v["records"].as_array_mut().unwrap() {
        edit(r);
    }
    meta.1 = serde_json::to_vec(&v).unwrap();
    let edited = setup.dir.path().join("edited.tar");
    std::fs::write(&edited, tar_build(&entries)).unwrap();
    std::fs::remove_file(&backup).unwrap();
    let data = setup.data();
    std::fs::remove_dir_all(&data).unwrap();
    let out = run(&[
        "restore",
        edited.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `sealdrop demo --dir DEMO --listen 127.0.0.1:0 --setup-only`: a demo folder (identity,
/// recipients, self-signed certificate, config) without a running server.
pub fn demo_setup_only(demo: &Path) -> Output {
    run(&[
        "demo",
        "--dir",
        demo.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
        "--setup-only",
    ])
}

/// The methods an `Allow` header lists, sorted.
pub fn allowed(r: &Response) -> Vec<String> {
    let mut m: Vec<String> = r
        .header("allow")
        .unwrap_or_default()
        .split(',')
        .map(|m| m.trim().to_owned())
        .filter(|m| !m.is_empty())
        .collect();
    m.sort();
    m
}

/// A TCP port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    free_ports(1)
}

/// The first of `n` consecutive TCP ports on 127.0.0.1 that were all free a moment ago.
///
/// A port taken with `bind(:0)` and released comes from the kernel's ephemeral range, where
/// every other listener bound to `:0` and every outgoing connection of the test run draws
/// too: another test could take it before the server binds it. These come from below that
/// range instead, handed out once per process from a counter that starts at a place of the
/// process id's choosing, so neither this run's own tests nor the kernel hand them out again.
pub fn free_ports(n: u16) -> u16 {
    use std::sync::atomic::AtomicU32;
    const LOW: u32 = 10_000;
    static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
    let high = ephemeral_low().max(LOW + 2_000);
    let span = high - LOW;
    let _ = NEXT.compare_exchange(
        u32::MAX,
        std::process::id().wrapping_mul(7919) % span,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    for _ in 0..span {
        let offset = NEXT.fetch_add(u32::from(n), Ordering::SeqCst) % span;
        let first = LOW + offset;
        if first + u32::from(n) > high {
            continue;
        }
        let all_free = (first..first + u32::from(n)).all(|p| {
            let port = u16::try_from(p).expect("below 65536");
            std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
        });
        if all_free {
            return u16::try_from(first).expect("below 65536");
        }
    }
    panic!("no {n} free consecutive ports between {LOW} and {high}")
}

/// The lowest port of the kernel's ephemeral range (32768 where it cannot be read).
fn ephemeral_low() -> u32 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(32_768)
}

/// `sealdrop restore BACKUP --data-dir` into `into`'s data folder, failing the test on an error.
pub fn restore_into(backup: &Path, into: &Setup) {
    let o = run(&[
        "restore",
        backup.to_str().unwrap(),
        "--data-dir",
        into.data().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// `sealdrop rekey BUNDLE -i IDENTITY -r RECIPIENT -o OUT`, failing the test on an error.
pub fn rekey_to(bundle: &Path, identity: &Path, recipient: &str, out: &Path) {
    reseal("rekey", bundle, identity, recipient, out, &[]);
}

/// `sealdrop COMMAND BUNDLE -i IDENTITY -r RECIPIENT -o OUT EXTRA…` (`rekey` or `share`),
/// failing the test on an error; what it printed.
pub fn reseal(
    command: &str,
    bundle: &Path,
    identity: &Path,
    recipient: &str,
    out: &Path,
    extra: &[&str],
) -> String {
    let mut args = vec![
        command,
        bundle.to_str().unwrap(),
        "-i",
        identity.to_str().unwrap(),
        "-r",
        recipient,
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = run(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

/// A tmpfs of `size` (e.g. `24m`) mounted at `path` for the test, unmounted when dropped.
pub struct Tmpfs(pub PathBuf);

impl Tmpfs {
    /// Mounts it private to its owner (a fresh tmpfs is 1777, and the admin socket may only
    /// live in a folder others cannot enter); the tests that use it need root (CI runs as root).
    pub fn mount(path: PathBuf, size: &str) -> Tmpfs {
        std::fs::create_dir_all(&path).unwrap();
        let st = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(&path)
            .status()
            .unwrap();
        assert!(
            st.success(),
            "this test mounts a small tmpfs and needs root (CI runs as root)"
        );
        Tmpfs(path)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// A file of this repository.
pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// A real nginx on 127.0.0.1 in front of `upstream`, with the shipped log format and proxy
/// settings (`deploy/nginx/`); stopped when dropped.
pub struct Nginx {
    child: Child,
    pub addr: SocketAddr,
    pub dir: TempDir,
}

impl Nginx {
    /// Starts it; `extra` goes into its `server { }` block (e.g. `client_body_timeout 5s;`).
    pub fn start(upstream: SocketAddr, extra: &str) -> Nginx {
        Nginx::start_conf(
            upstream,
            extra,
            &repo("deploy/nginx/sealdrop-proxy.conf"),
            TempDir::new("nginx"),
        )
    }

    /// Starts it with the shipped proxy settings but a request body limit of `limit` (nginx's
    /// `client_max_body_size`, e.g. `16m`), as a gateway that caps request bodies has.
    pub fn start_with_body_limit(upstream: SocketAddr, limit: &str) -> Nginx {
        let dir = TempDir::new("nginx");
        let shipped = std::fs::read_to_string(repo("deploy/nginx/sealdrop-proxy.conf")).unwrap();
        let (before, after) = shipped.split_once("client_max_body_size ").unwrap();
        let after = after.split_once(';').unwrap().1;
        let proxy = dir.path().join("proxy.conf");
        std::fs::write(
            &proxy,
            format!("{before}client_max_body_size {limit};{after}"),
        )
        .unwrap();
        Nginx::start_conf(upstream, "", &proxy, dir)
    }

    fn start_conf(upstream: SocketAddr, extra: &str, proxy: &Path, dir: TempDir) -> Nginx {
        let port = free_port();
        let conf = dir.path().join("nginx.conf");
        let p = dir.path().display();
        std::fs::write(
            &conf,
            format!(
                "daemon off;\nmaster_process off;\npid {p}/nginx.pid;\nerror_log {p}/error.log warn;\n\
                 events {{ worker_connections 64; }}\n\
                 http {{\n  include {log};\n  client_body_temp_path {p}/body;\n  proxy_temp_path {p}/proxy;\n\
                   fastcgi_temp_path {p}/fcgi;\n  uwsgi_temp_path {p}/uwsgi;\n  scgi_temp_path {p}/scgi;\n\
                   upstream sealdrop_upstream {{ server {upstream}; }}\n\
                   server {{\n    listen 127.0.0.1:{port};\n    access_log {p}/access.log sealdrop_noip;\n\
                     {extra}\n    include {proxy};\n  }}\n}}\n",
                log = repo("deploy/nginx/log-format.conf").display(),
                proxy = proxy.display(),
            ),
        )
        .unwrap();
        let child = Command::new("nginx")
            .args(["-p", &p.to_string(), "-c"])
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx is needed for this test (Debian package nginx)");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(addr).is_err() {
            assert!(Instant::now() < deadline, "nginx did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Nginx { child, addr, dir }
    }

    /// The access log so far, waiting up to 5 s for it to hold `lines` lines (nginx writes a
    /// line after the response).
    pub fn access_log(&self, lines: usize) -> String {
        let path = self.dir.path().join("access.log");
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            if text.lines().count() >= lines || Instant::now() > deadline {
                return text;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `curl` from the local address `from` (e.g. 127.0.0.2, so that one machine has several
/// clients): status code and body.
pub fn curl_from(from: &str, args: &[&str]) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-s", "-o", "-", "-w", "\n%{http_code}", "--interface", from])
        .args(args)
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_owned())
}

/// One request on the admin socket (`Connection: close`), with an optional body.
pub fn admin_request(
    socket: &Path,
    method: &str,
    path: &str,
    body: Option<(&str, &[u8])>,
) -> Response {
    let mut s = std::os::unix::net::UnixStream::connect(socket).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    if let Some((content_type, data)) = body {
        head.push_str(&format!(
            "Content-Type: {content_type}\r\nContent-Length: {}\r\n",
            data.len()
        ));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    if let Some((_, data)) = body {
        // The server may refuse and close before it read everything.
        let _ = s.write_all(data);
    }
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    parse_response(&raw)
}

/// SHA-256 as lower-case hex, as receipts and `sha256sum` print it.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Sends a 4 MiB form upload to `server` halfway, waits until `setup`'s portal is sealing it
/// into tmp/, runs `interrupt` (a database or object store stops), sends the rest and returns
/// the answer.
pub fn upload_interrupted(setup: &Setup, server: &Server, interrupt: impl FnOnce()) -> Response {
    let body = multipart_body(&form(vec![file("during.bin", bytes(4 << 20, 2))]));
    let head = format!(
        "POST /api/v1/submissions HTTP/1.1\r\nHost: {}\r\nContent-Type: multipart/form-data; \
         boundary={BOUNDARY}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        server.addr,
        body.len()
    );
    let mut stream = std::net::TcpStream::connect(server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(90)))
        .unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&body[..body.len() / 2]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while setup.tmp_count() == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(setup.tmp_count(), 1, "the upload is being sealed into tmp/");
    interrupt();
    stream.write_all(&body[body.len() / 2..]).unwrap();
    read_response(&mut stream)
}
