//! A small W3C WebDriver client for the browser tests: Debian's chromedriver driving headless
//! Chromium, spoken to over plain HTTP/1.1 with serde_json. No browser is mocked.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use crate::common::free_port;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// chromedriver, killed when dropped.
pub struct Driver {
    child: Child,
    addr: SocketAddr,
}

fn call(addr: SocketAddr, method: &str, path: &str, body: Option<&Value>) -> Value {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let (head, payload) = read_response(&mut s);
    let v: Value =
        serde_json::from_slice(&payload).unwrap_or_else(|e| panic!("chromedriver said {head} {e}"));
    if let Some(err) = v["value"]["error"].as_str() {
        panic!(
            "WebDriver {method} {path}: {err}: {}",
            v["value"]["message"]
        );
    }
    v["value"].clone()
}

/// Reads one response (chromedriver keeps connections open, so read by length, not to EOF).
fn read_response(s: &mut TcpStream) -> (String, Vec<u8>) {
    let mut reader = std::io::BufReader::new(s);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if std::io::BufRead::read_line(&mut reader, &mut line).unwrap() == 0 || line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let lower = head.to_ascii_lowercase();
    if lower.contains("transfer-encoding: chunked") {
        let mut body = Vec::new();
        loop {
            let mut size = String::new();
            std::io::BufRead::read_line(&mut reader, &mut size).unwrap();
            let n = usize::from_str_radix(size.trim(), 16).unwrap();
            let mut chunk = vec![0; n + 2];
            reader.read_exact(&mut chunk).unwrap();
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
        return (head, body);
    }
    let len: usize = lower
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).unwrap();
    (head, body)
}

impl Driver {
    /// Starts chromedriver on a free port.
    pub fn start() -> Driver {
        let port = free_port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver is needed (Debian package chromium-driver)");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let start = Instant::now();
        while TcpStream::connect(addr).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver { child, addr }
    }

    /// A new headless browser session; `javascript` false turns scripts off, `lang` sets the
    /// browser's language (Accept-Language).
    pub fn session(&self, javascript: bool, lang: &str, downloads: &Path) -> Session {
        let mut prefs = json!({
            "intl.accept_languages": lang,
            "download.default_directory": downloads.to_str().unwrap(),
            "download.prompt_for_download": false,
        });
        if !javascript {
            prefs["profile.managed_default_content_settings.javascript"] = json!(2);
        }
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1100,1400", format!("--lang={lang}"), "--no-first-run"],
                "prefs": prefs,
            }
        }}});
        let v = call(self.addr, "POST", "/session", Some(&caps));
        Session {
            addr: self.addr,
            id: v["sessionId"].as_str().unwrap().to_owned(),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser.
pub struct Session {
    addr: SocketAddr,
    id: String,
}

/// An element handle.
#[derive(Clone)]
pub struct Element(String);

impl Session {
    fn cmd(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        call(
            self.addr,
            method,
            &format!("/session/{}{path}", self.id),
            body,
        )
    }

    pub fn goto(&self, url: &str) {
        self.cmd("POST", "/url", Some(&json!({ "url": url })));
    }

    pub fn try_find(&self, css: &str) -> Option<Element> {
        let v = call_lenient(
            self.addr,
            &format!("/session/{}/element", self.id),
            &json!({ "using": "css selector", "value": css }),
        )?;
        Some(Element(v[ELEMENT].as_str()?.to_owned()))
    }

    pub fn find(&self, css: &str) -> Element {
        self.try_find(css)
            .unwrap_or_else(|| panic!("no element {css} on {}", self.source_excerpt()))
    }

    pub fn wait_for(&self, css: &str, secs: u64) -> Element {
        let start = Instant::now();
        loop {
            if let Some(e) = self.try_find(css) {
                return e;
            }
            assert!(
                start.elapsed() < Duration::from_secs(secs),
                "timed out waiting for {css}: {}",
                self.source_excerpt()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn source_excerpt(&self) -> String {
        let s = self.cmd("GET", "/source", None);
        s.as_str().unwrap_or("").chars().take(3000).collect()
    }

    pub fn click(&self, e: &Element) {
        self.cmd("POST", &format!("/element/{}/click", e.0), Some(&json!({})));
    }

    pub fn type_text(&self, e: &Element, text: &str) {
        self.cmd(
            "POST",
            &format!("/element/{}/value", e.0),
            Some(&json!({ "text": text })),
        );
    }

    pub fn text(&self, e: &Element) -> String {
        self.cmd("GET", &format!("/element/{}/text", e.0), None)
            .as_str()
            .unwrap_or("")
            .to_owned()
    }

    pub fn attribute(&self, e: &Element, name: &str) -> Option<String> {
        self.cmd("GET", &format!("/element/{}/attribute/{name}", e.0), None)
            .as_str()
            .map(str::to_owned)
    }

    pub fn displayed(&self, e: &Element) -> bool {
        self.cmd("GET", &format!("/element/{}/displayed", e.0), None) == Value::Bool(true)
    }

    pub fn exec(&self, script: &str, args: Value) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(&json!({ "script": script, "args": args })),
        )
    }

    pub fn exec_async(&self, script: &str, args: Value) -> Value {
        self.cmd(
            "POST",
            "/execute/async",
            Some(&json!({ "script": script, "args": args })),
        )
    }

    pub fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.cmd(
            "POST",
            "/goog/cdp/execute",
            Some(&json!({ "cmd": cmd, "params": params })),
        )
    }

    /// Saves a PNG screenshot to `path`.
    pub fn screenshot(&self, path: &Path) {
        let b64 = self.cmd("GET", "/screenshot", None);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, base64_decode(b64.as_str().unwrap())).unwrap();
    }

    pub fn title(&self) -> String {
        self.cmd("GET", "/title", None)
            .as_str()
            .unwrap_or("")
            .to_owned()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = std::panic::catch_unwind(|| {
            call(self.addr, "DELETE", &format!("/session/{}", self.id), None)
        });
    }
}

/// Like `call`, but `None` for a "no such element" answer.
fn call_lenient(addr: SocketAddr, path: &str, body: &Value) -> Option<Value> {
    let body = body.to_string();
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let (_, payload) = read_response(&mut s);
    let v: Value = serde_json::from_slice(&payload).ok()?;
    if v["value"]["error"].is_string() {
        return None;
    }
    Some(v["value"].clone())
}

fn base64_decode(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => continue,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

impl Session {
    /// Runs axe-core (WCAG 2.1 A and AA) on the current page, saves a screenshot as
    /// `target/screenshots/{name}.png` and fails with every violation found.
    pub fn assert_accessible(&self, name: &str) {
        self.exec(
            &format!("{}\n;return true;", axe_source()),
            Value::Array(vec![]),
        );
        let result = self.exec_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
               .then(r => done(r.violations.map(v => ({ id: v.id, help: v.help, nodes: v.nodes.map(n => n.target.join(' ')) }))))
               .catch(e => done('ERR ' + e));",
            Value::Array(vec![]),
        );
        self.screenshot(&screenshot_dir().join(format!("{name}.png")));
        assert_eq!(result, Value::Array(vec![]), "{name}: {result:#}");
    }
}

/// Where screenshots go: `target/screenshots/` (test artefacts).
pub fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots")
}

/// The axe-core script: `AXE_CORE_JS`, or where `.ci/run` installs it.
pub fn axe_source() -> String {
    let path = std::env::var("AXE_CORE_JS")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("target/axe/node_modules/axe-core/axe.min.js")
        });
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "axe-core is needed at {} ({e}); install it with \
             `npm install --prefix target/axe axe-core@4.14.1` (bash .ci/run does)",
            path.display()
        )
    })
}
