//! The console benchmark: the inbox and a case page with CASES cases in the store (default
//! 10,000 small reports), time per page (median and worst of ROUNDS) and the server's memory.
//!
//!     cargo bench --bench console
//!
//! Environment: CASES (10000), CLIENTS (8, reporting in parallel while the store fills),
//! ROUNDS (20). Any report without its 201 or page without its 200 fails the run. Prints a
//! Markdown table.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::{Setup, bytes, file, form, multipart_body, request};
use std::net::SocketAddr;
use std::time::Instant;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn get(addr: SocketAddr, path: &str, cookie: &str) -> (u16, usize) {
    let r = request(
        addr,
        &format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
        ),
        Vec::new(),
    );
    (r.status, r.body.len())
}

/// Median and worst of `rounds` page loads, in ms.
fn time_page(
    addr: SocketAddr,
    path: &str,
    cookie: &str,
    rounds: u64,
    want: u16,
) -> (f64, f64, usize) {
    let mut ms = Vec::new();
    let mut size = 0;
    for _ in 0..rounds {
        let t = Instant::now();
        let (status, len) = get(addr, path, cookie);
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(status, want, "{path}");
        size = len;
    }
    ms.sort_by(|a, b| a.total_cmp(b));
    (ms[ms.len() / 2], ms[ms.len() - 1], size)
}

fn main() {
    let cases = env("CASES", 10_000);
    let clients = env("CLIENTS", 8).max(1);
    let rounds = env("ROUNDS", 20).max(1);
    let port = common::free_port();
    let setup = Setup::new(
        1,
        &format!(
            "[log]\nlevel = \"warn\"\n[limits]\nsubmissions_per_hour = 1000000\n\
             [console]\nlisten = \"127.0.0.1:{port}\"\n"
        ),
    );
    let server = setup.start();
    let console: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let body = multipart_body(&form(vec![file("small.bin", bytes(1024, 5))]));
    let started = Instant::now();
    let handles: Vec<_> = (0..clients)
        .map(|c| {
            let (addr, body) = (server.addr, body.clone());
            std::thread::spawn(move || {
                let mut last = String::new();
                for _ in (c..cases).step_by(clients as usize) {
                    let head = format!(
                        "POST /api/v1/submissions HTTP/1.1\r\nHost: {addr}\r\nContent-Type: \
                         multipart/form-data; boundary={}\r\nContent-Length: {}\r\n\
                         Connection: close\r\n\r\n",
                        common::BOUNDARY,
                        body.len()
                    );
                    let r = request(addr, &head, body.clone());
                    assert_eq!(r.status, 201, "{}", r.text());
                    last = r.json()["case"].as_str().unwrap().to_owned();
                }
                last
            })
        })
        .collect();
    let last: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let fill = started.elapsed().as_secs_f64();
    let case = last.into_iter().max().unwrap_or_default();

    let link = common::admin_ok(
        &setup,
        &["console-link", "--as", "bench", "--role", "admin"],
    );
    let token = link.trim().rsplit('/').next().unwrap().to_owned();
    let body = format!("token={token}");
    let r = request(
        console,
        &format!(
            "POST /sign-in/link HTTP/1.1\r\nHost: {console}\r\nContent-Type: \
             application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        ),
        body.into_bytes(),
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let cookie = r
        .headers
        .iter()
        .find_map(|(k, v)| {
            (k.eq_ignore_ascii_case("set-cookie") && v.starts_with("__Host-sealdrop-console="))
                .then(|| v.split(';').next().unwrap().to_owned())
        })
        .unwrap();
    let pid = server.pid();
    let rss_before = status_kib(pid, "VmRSS:");
    let inbox = time_page(console, "/?lang=en", &cookie, rounds, 200);
    let all = time_page(console, "/?state=all&lang=en", &cookie, rounds, 200);
    let page = time_page(
        console,
        &format!("/cases/{case}?lang=en"),
        &cookie,
        rounds,
        200,
    );
    let found = time_page(
        console,
        &format!("/?case={case}"),
        &cookie,
        rounds.min(5),
        303,
    );
    let rss_after = status_kib(pid, "VmRSS:");
    let hwm = status_kib(pid, "VmHWM:");
    println!("\n| console, {cases} cases | median | worst | page size |");
    println!("|---|---|---|---|");
    for (what, (median, worst, size)) in [
        (
            "inbox (open cases, first 100 of all, nearest deadline first)",
            inbox,
        ),
        ("inbox, every state", all),
        ("case page", page),
        ("find by case number (redirect)", found),
    ] {
        println!(
            "| {what} | {median:.1} ms | {worst:.1} ms | {:.0} KiB |",
            size as f64 / 1024.0
        );
    }
    println!(
        "\nFilled in {fill:.1} s ({:.0} reports/s). Server memory: {:.1} MiB before the pages, \
         {:.1} MiB after, peak {:.1} MiB.",
        cases as f64 / fill,
        rss_before as f64 / 1024.0,
        rss_after as f64 / 1024.0,
        hwm as f64 / 1024.0
    );
}
