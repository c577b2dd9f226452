//! The upload benchmark: sealdrop against the stock `age` CLI on the same machine and disk, in
//! one run, interleaved (age, age + fsync, HTTP, HTTPS, age, …), medians and spread reported.
//!
//!     cargo bench --bench upload
//!
//! The reference is the local durable job — `age -r R -o out FILE` and then an fsync of `out`
//! (`sync -f out`) — because sealdrop answers 201 only after fsync; plain `age` is shown beside
//! it. CPU is reported per GiB: the server's user+sys time from `/proc/PID/stat` around the
//! upload, age's from this process's reaped-children times (`getrusage(RUSAGE_CHILDREN)`, read
//! from `/proc/self/stat`).
//!
//! The resumable row sends the same file through the tus endpoint (`POST /api/v1/uploads`, one
//! `PATCH` per piece of TUS_PIECE_MIB on a fresh connection, then the report naming the upload)
//! and is timed from the creation to the report's 201, against the same durable age reference.
//!
//! Environment: SIZE_MIB (1024), TUS_PIECE_MIB (16), ROUNDS (5), CONC (32), CONC_MIB (64),
//! SMALL_CLIENTS (32), SMALL_SECS (20), BENCH_DIR (target/bench-upload);
//! SEALDROPTEST_POSTGRES (a libpq connection string) adds the rows with the records in
//! PostgreSQL (run with `--features postgres`), and with SEALDROPTEST_S3 too (an S3 endpoint
//! with the test identity of `tests/support/seaweedfs.sh`; `--features postgres,s3`) the rows
//! with the ciphertext in that bucket as well. Needs Debian's `age` and `curl`. Any upload that
//! does not get its 201 fails the run. Prints a Markdown table.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::{
    BOUNDARY, Setup, bytes, file, form, multipart_body, post_form, read_response, request, text,
};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Clock ticks per second of `/proc` times.
const TICKS: f64 = 100.0;

/// (utime + stime) of `pid`, and (cutime + cstime) of its reaped children, in seconds.
fn cpu_seconds(pid: &str) -> (f64, f64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    // rest[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17.
    let at = |field: usize| f.get(field - 3).copied().unwrap_or(0.0) / TICKS;
    (at(14) + at(15), at(16) + at(17))
}

fn spread(v: &[f64]) -> (f64, f64) {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(0.0, f64::max);
    (lo, hi)
}

fn vm_hwm_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// A server on a fresh data folder: plain HTTP, or HTTPS with the demo certificate in `tls`.
fn server(tls: Option<&Path>) -> (Setup, common::Server) {
    server_on(tls, Remote::default())
}

/// Where a benchmarked portal keeps its records and ciphertext besides its data folder.
#[derive(Debug, Clone, Copy, Default)]
struct Remote<'a> {
    /// The PostgreSQL server (a libpq connection string) for the records.
    pg: Option<&'a str>,
    /// The S3 endpoint for the ciphertext.
    s3: Option<&'a str>,
}

/// [`server`] with its records in a fresh schema of the PostgreSQL server `remote.pg` names
/// (a build with the `postgres` feature) and its ciphertext under a fresh prefix of the bucket
/// at `remote.s3` (with the `s3` feature).
fn server_on(tls: Option<&Path>, remote: Remote<'_>) -> (Setup, common::Server) {
    static SCHEMAS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = SCHEMAS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let pg = remote.pg;
    let postgres = pg
        .map(|url| {
            let schema = format!("bench_{}_{n}", std::process::id());
            format!("[storage.postgres]\nurl = \"{url}\"\ntls = false\nschema = \"{schema}\"\npool = 16\n")
        })
        .unwrap_or_default();
    let setup = Setup::new(
        1,
        &format!(
            "[log]\nlevel = \"warn\"\n[limits]\nmax_concurrent_uploads = 64\nsubmissions_per_hour = 1000000\nmax_uploads_per_client = 64\n{postgres}"
        ),
    );
    if pg.is_some() {
        let cfg = std::fs::read_to_string(&setup.config).unwrap().replacen(
            "[storage]\n",
            "[storage]\nmetadata = \"postgres\"\n",
            1,
        );
        std::fs::write(&setup.config, cfg).unwrap();
    }
    if let Some(endpoint) = remote.s3 {
        use std::os::unix::fs::PermissionsExt;
        let (access, secret) = (
            setup.dir.path().join("s3-access"),
            setup.dir.path().join("s3-secret"),
        );
        std::fs::write(&access, "sealdroptest\n").unwrap();
        std::fs::write(&secret, "sealdroptest-secret\n").unwrap();
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
        let cfg = std::fs::read_to_string(&setup.config).unwrap().replacen(
            "[storage]\n",
            "[storage]\nblobs = \"s3\"\n",
            1,
        ) + &format!(
            "\n[storage.s3]\nendpoint = \"{endpoint}\"\nbucket = \"sealdrop\"\nprefix = \
                 \"bench/{}-{n}/\"\naccess_key_file = \"{}\"\nsecret_key_file = \"{}\"\n",
            std::process::id(),
            access.display(),
            secret.display()
        );
        std::fs::write(&setup.config, cfg).unwrap();
    }
    if let Some(dir) = tls {
        let cfg = std::fs::read_to_string(&setup.config).unwrap().replacen(
            "[server]\n",
            &format!(
                "[server]\ntls_cert = \"{}\"\ntls_key = \"{}\"\n",
                dir.join("cert.pem").display(),
                dir.join("key.pem").display()
            ),
            1,
        );
        std::fs::write(&setup.config, cfg).unwrap();
    }
    let s = setup.start();
    (setup, s)
}

fn curl_upload(url: &str, input: &Path) -> f64 {
    let started = Instant::now();
    let out = Command::new("curl")
        .args([
            "-s",
            "-k",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-F",
            "category=vulnerability",
            "-F",
            "message=benchmark",
            "-F",
            "contact=bench@example.org",
        ])
        .arg("-F")
        .arg(format!("file=@{}", input.display()))
        .arg(format!("{url}api/v1/submissions"))
        .output()
        .expect("curl");
    let secs = started.elapsed().as_secs_f64();
    let code = String::from_utf8_lossy(&out.stdout);
    if code != "201" {
        eprintln!("upload to {url} answered {code}, not 201: the benchmark is broken");
        std::process::exit(1);
    }
    secs
}

/// A status other than `want` breaks the benchmark.
fn expect(what: &str, got: u16, want: u16) {
    if got != want {
        eprintln!("{what} answered {got}, not {want}: the benchmark is broken");
        std::process::exit(1);
    }
}

/// Sends `input` through the tus endpoint in pieces of `piece` bytes and commits it as a
/// report; the seconds from the creation to the report's 201.
fn tus_upload(addr: SocketAddr, input: &Path, piece: u64) -> f64 {
    let len = std::fs::metadata(input).unwrap().len();
    let mut f = std::fs::File::open(input).unwrap();
    let started = Instant::now();
    let r = request(
        addr,
        &format!(
            "POST /api/v1/uploads HTTP/1.1\r\nHost: {addr}\r\nTus-Resumable: 1.0.0\r\nUpload-Length: {len}\r\nUpload-Metadata: filename YmVuY2guYmlu\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        ),
        Vec::new(),
    );
    expect("tus creation", r.status, 201);
    let location = r.header("location").unwrap().to_owned();
    let mut offset = 0;
    while offset < len {
        let n = piece.min(len - offset);
        let mut body = vec![0u8; n as usize];
        f.read_exact(&mut body).unwrap();
        let r = request(
            addr,
            &format!(
                "PATCH {location} HTTP/1.1\r\nHost: {addr}\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: {offset}\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: {n}\r\nConnection: close\r\n\r\n"
            ),
            body,
        );
        expect("tus PATCH", r.status, 204);
        offset += n;
    }
    let r = post_form(
        addr,
        &[
            text("category", "vulnerability"),
            text("message", "benchmark"),
            text("contact", "bench@example.org"),
            text("upload", &location),
        ],
        "",
    );
    expect("the report naming the upload", r.status, 201);
    started.elapsed().as_secs_f64()
}

fn main() {
    let size_mib = env("SIZE_MIB", 1024);
    let piece_mib = env("TUS_PIECE_MIB", 16);
    let rounds = env("ROUNDS", 5);
    let conc = env("CONC", 32);
    let conc_mib = env("CONC_MIB", 64);
    let small_clients = env("SMALL_CLIENTS", 32);
    let small_secs = env("SMALL_SECS", 20);
    let base =
        PathBuf::from(std::env::var("BENCH_DIR").unwrap_or_else(|_| "target/bench-upload".into()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();
    let base = std::fs::canonicalize(&base).unwrap();
    // The servers' data folders live in the system temp dir; keep the input on the same disk.
    let input = std::env::temp_dir().join(format!("sealdrop-bench-{}.bin", std::process::id()));
    {
        let mut f = std::fs::File::create(&input).unwrap();
        let chunk = bytes(1 << 20, 99);
        for i in 0..size_mib {
            let mut c = chunk.clone();
            c[..8].copy_from_slice(&i.to_le_bytes());
            f.write_all(&c).unwrap();
        }
    }
    let tls_dir = base.join("tls");
    let o = common::demo_setup_only(&tls_dir);
    assert!(o.status.success());
    let id_path = base.join("age-identity.txt");
    let recipient = common::keygen(&id_path);
    let age_out = std::env::temp_dir().join(format!("sealdrop-bench-{}.age", std::process::id()));

    let gib = size_mib as f64 / 1024.0;
    let (mut t_age, mut t_durable, mut t_http, mut t_https) = (vec![], vec![], vec![], vec![]);
    let (mut cpu_age, mut cpu_http, mut cpu_https) = (vec![], vec![], vec![]);
    let (mut rss_http, mut rss_https) = (vec![], vec![]);
    let (mut t_tus, mut cpu_tus, mut rss_tus) = (vec![], vec![], vec![]);
    let age = |durable: bool| -> (f64, f64) {
        let _ = std::fs::remove_file(&age_out);
        let _ = Command::new("sync").status();
        let (_, before) = cpu_seconds("self");
        let started = Instant::now();
        let st = Command::new("age")
            .args(["-r", &recipient, "-o"])
            .arg(&age_out)
            .arg(&input)
            .status()
            .expect("age CLI (Debian package age)");
        assert!(st.success());
        if durable {
            let st = Command::new("sync")
                .arg("-f")
                .arg(&age_out)
                .status()
                .unwrap();
            assert!(st.success());
        }
        let secs = started.elapsed().as_secs_f64();
        let (_, after) = cpu_seconds("self");
        let _ = std::fs::remove_file(&age_out);
        (secs, after - before)
    };
    for round in 1..=rounds {
        t_age.push(age(false).0);
        let (secs, cpu) = age(true);
        t_durable.push(secs);
        cpu_age.push(cpu / gib);
        let _ = Command::new("sync").status();
        for tls in [false, true] {
            let (setup, s) = server(tls.then_some(tls_dir.as_path()));
            let pid = s.pid().to_string();
            let (before, _) = cpu_seconds(&pid);
            let secs = curl_upload(&s.url, &input);
            let (after, _) = cpu_seconds(&pid);
            let rss = vm_hwm_kib(s.pid()) as f64 / 1024.0;
            if tls {
                t_https.push(secs);
                cpu_https.push((after - before) / gib);
                rss_https.push(rss);
            } else {
                t_http.push(secs);
                cpu_http.push((after - before) / gib);
                rss_http.push(rss);
            }
            drop(s);
            drop(setup);
            let _ = Command::new("sync").status();
        }
        {
            let (setup, s) = server(None);
            let pid = s.pid().to_string();
            let (before, _) = cpu_seconds(&pid);
            t_tus.push(tus_upload(s.addr, &input, piece_mib << 20));
            let (after, _) = cpu_seconds(&pid);
            cpu_tus.push((after - before) / gib);
            rss_tus.push(vm_hwm_kib(s.pid()) as f64 / 1024.0);
            drop(s);
            drop(setup);
            let _ = Command::new("sync").status();
        }
        eprintln!(
            "round {round}: age {:.2}s, age+fsync {:.2}s, http {:.2}s, https {:.2}s, tus {:.2}s",
            t_age.last().unwrap(),
            t_durable.last().unwrap(),
            t_http.last().unwrap(),
            t_https.last().unwrap(),
            t_tus.last().unwrap()
        );
    }
    let spreads = [
        spread(&t_age),
        spread(&t_durable),
        spread(&t_http),
        spread(&t_https),
        spread(&t_tus),
    ];
    let (tu, ctu, rtu) = (
        median(&mut t_tus),
        median(&mut cpu_tus),
        median(&mut rss_tus),
    );
    let (a, d, h, s) = (
        median(&mut t_age),
        median(&mut t_durable),
        median(&mut t_http),
        median(&mut t_https),
    );
    let (ca, ch, cs) = (
        median(&mut cpu_age),
        median(&mut cpu_http),
        median(&mut cpu_https),
    );
    let (rh, rs) = (median(&mut rss_http), median(&mut rss_https));
    let mibs = |t: f64| size_mib as f64 / t;

    // 32 concurrent uploads of 64 MiB.
    let conc_input =
        std::env::temp_dir().join(format!("sealdrop-bench-{}-c.bin", std::process::id()));
    std::fs::write(&conc_input, bytes((conc_mib << 20) as usize, 5)).unwrap();
    let (conc_secs, conc_rss) = concurrent(Remote::default(), conc, &conc_input);
    let (small_rate, lat) = small_reports(Remote::default(), small_clients, small_secs);

    // The same with the records in PostgreSQL, when a server is named (the ciphertext on the
    // local disk), and then with the ciphertext in the S3 bucket too, when one is named: the
    // one POST, the concurrent uploads and the small reports again.
    let pg_url = std::env::var("SEALDROPTEST_POSTGRES").ok();
    let s3_url = std::env::var("SEALDROPTEST_S3").ok();
    let remote_rows = |remote: Remote<'_>| {
        let (setup, s) = server_on(None, remote);
        let one = curl_upload(&s.url, &input);
        let rss = vm_hwm_kib(s.pid()) as f64 / 1024.0;
        drop(s);
        drop(setup);
        let (conc_secs, conc_rss) = concurrent(remote, conc, &conc_input);
        let (rate, lat) = small_reports(remote, small_clients, small_secs);
        (one, rss, conc_secs, conc_rss, rate, lat)
    };
    let pg = pg_url.as_deref().map(|url| {
        remote_rows(Remote {
            pg: Some(url),
            s3: None,
        })
    });
    let pg_s3 = pg_url.as_deref().zip(s3_url.as_deref()).map(|(url, s3)| {
        remote_rows(Remote {
            pg: Some(url),
            s3: Some(s3),
        })
    });
    let _ = std::fs::remove_file(&conc_input);
    let _ = std::fs::remove_file(&input);

    println!();
    println!("| figure | value | target |");
    println!("|---|---|---|");
    let range = |(lo, hi): (f64, f64)| format!("{lo:.2}–{hi:.2} s");
    println!(
        "| `age -r` to a file, {size_mib} MiB | {a:.2} s ({:.0} MiB/s; {}) | shown |",
        mibs(a),
        range(spreads[0])
    );
    println!(
        "| `age -r` + `sync -f` (durable), {size_mib} MiB | {d:.2} s ({:.0} MiB/s; {}); CPU {ca:.2} s/GiB | **reference** |",
        mibs(d),
        range(spreads[1])
    );
    println!(
        "| sealdrop upload, plain HTTP | {h:.2} s ({:.0} MiB/s; {}), **{:.2}× durable age**; server CPU {ch:.2} s/GiB (**{:.2}× age**) | ≥ 0.8×; CPU ≤ 2.5× |",
        mibs(h),
        range(spreads[2]),
        d / h,
        ch / ca.max(0.01)
    );
    println!(
        "| sealdrop upload, HTTPS | {s:.2} s ({:.0} MiB/s; {}), **{:.2}× durable age**; server CPU {cs:.2} s/GiB (**{:.2}× age**) | ≥ 0.7× |",
        mibs(s),
        range(spreads[3]),
        d / s,
        cs / ca.max(0.01)
    );
    println!(
        "| sealdrop tus upload, plain HTTP, {size_mib} MiB in {piece_mib} MiB pieces (creation to the report's 201) | {tu:.2} s ({:.0} MiB/s; {}), **{:.2}× durable age**; server CPU {ctu:.2} s/GiB (**{:.2}× age**) | ≥ 0.7× |",
        mibs(tu),
        range(spreads[4]),
        d / tu,
        ctu / ca.max(0.01)
    );
    println!(
        "| peak RSS during one {size_mib} MiB upload (HTTP / HTTPS / tus) | {rh:.1} / {rs:.1} / {rtu:.1} MiB | ≤ 32 MiB |"
    );
    println!(
        "| {conc} concurrent uploads of {conc_mib} MiB | {conc_secs:.2} s, {:.0} MiB/s aggregate, **{:.2}× durable age** | ≥ 1.0× |",
        (conc * conc_mib) as f64 / conc_secs,
        ((conc * conc_mib) as f64 / conc_secs) / mibs(d)
    );
    println!("| peak RSS during them | {conc_rss:.1} MiB | ≤ 96 MiB |");
    println!(
        "| 16 KiB submissions, {small_clients} clients, {small_secs} s | {small_rate:.0} acknowledged/s (p50 {:.1} ms, p99 {:.1} ms) | ≥ 1,500/s, p99 ≤ 50 ms |",
        percentile(&lat, 0.5),
        percentile(&lat, 0.99)
    );
    for (name, rows) in [
        ("records in PostgreSQL", pg),
        ("records in PostgreSQL, ciphertext in S3", pg_s3),
    ] {
        let Some((one, rss, pg_conc, pg_rss, pg_rate, pg_lat)) = rows else {
            continue;
        };
        println!(
            "| {name}: one {size_mib} MiB upload, plain HTTP | {one:.2} s, **{:.2}× durable age**, {:.2}× the sled portal; peak RSS {rss:.1} MiB | shown |",
            d / one,
            h / one
        );
        println!(
            "| {name}: {conc} concurrent uploads of {conc_mib} MiB | {pg_conc:.2} s, **{:.2}× durable age**, {:.2}× the sled portal; peak RSS {pg_rss:.1} MiB | shown |",
            ((conc * conc_mib) as f64 / pg_conc) / mibs(d),
            conc_secs / pg_conc
        );
        println!(
            "| {name}: 16 KiB submissions, {small_clients} clients | {pg_rate:.0} acknowledged/s (p50 {:.1} ms, p99 {:.1} ms), {:.2}× the sled portal | shown |",
            percentile(&pg_lat, 0.5),
            percentile(&pg_lat, 0.99),
            pg_rate / small_rate.max(0.001)
        );
    }
    println!(
        "\n{rounds} rounds, medians; {} cores; age CLI: {}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        String::from_utf8_lossy(
            &Command::new("age")
                .arg("--version")
                .output()
                .map(|o| o.stdout)
                .unwrap_or_default()
        )
        .trim()
    );
}

/// `conc` uploads of `input` at once to a fresh portal (on `remote`): seconds for all, and the
/// server's peak RSS in MiB.
fn concurrent(remote: Remote<'_>, conc: u64, input: &Path) -> (f64, f64) {
    let (setup, srv) = server_on(None, remote);
    let started = Instant::now();
    let handles: Vec<_> = (0..conc)
        .map(|_| {
            let (url, input) = (srv.url.clone(), input.to_owned());
            std::thread::spawn(move || curl_upload(&url, &input))
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    let rss = vm_hwm_kib(srv.pid()) as f64 / 1024.0;
    drop(srv);
    drop(setup);
    (secs, rss)
}

/// `clients` clients sending 16 KiB reports for `secs` seconds to a fresh portal: reports
/// acknowledged per second, and every latency in ms, sorted.
fn small_reports(remote: Remote<'_>, clients: u64, secs: u64) -> (f64, Vec<f64>) {
    let (setup, srv) = server_on(None, remote);
    let body = multipart_body(&form(vec![file("small.bin", bytes(16 << 10, 3))]));
    let latencies = Arc::new(Mutex::new(Vec::<f64>::new()));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let handles: Vec<_> = (0..clients)
        .map(|_| {
            let (addr, body, latencies) = (srv.addr, body.clone(), Arc::clone(&latencies));
            std::thread::spawn(move || {
                let head = format!(
                    "POST /api/v1/submissions HTTP/1.1\r\nHost: {addr}\r\nContent-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let mut mine = Vec::new();
                while Instant::now() < deadline {
                    let t = Instant::now();
                    let mut s = TcpStream::connect(addr).unwrap();
                    s.write_all(head.as_bytes()).unwrap();
                    s.write_all(&body).unwrap();
                    let r = read_response(&mut s);
                    assert_eq!(r.status, 201);
                    mine.push(t.elapsed().as_secs_f64() * 1000.0);
                }
                latencies.lock().unwrap().extend(mine);
            })
        })
        .collect();
    let started = Instant::now();
    for h in handles {
        h.join().unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut lat = latencies.lock().unwrap().clone();
    lat.sort_by(|a, b| a.total_cmp(b));
    drop(srv);
    drop(setup);
    (lat.len() as f64 / elapsed, lat)
}
