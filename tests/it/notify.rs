//! Notifications against real servers: aiosmtpd on loopback (STARTTLS with a login, and plain)
//! and a webhook receiver. Mails and webhooks say what arrived and what is due, never what the
//! reporter wrote; a failed delivery is retried; nothing is sent twice after a restart.
#![allow(clippy::unwrap_used)]

use crate::common::*;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SECRET_MESSAGE: &str = "the admin password is hunter2-SECRET";
const SECRET_NAME: &str = "salarissen-SECRET.xlsx";
const CONTACT: &str = "Reporter <reporter@example.net>, tel 0612345678";

/// A webhook receiver: answers 204 and keeps each request body.
pub(crate) fn webhook() -> (u16, Arc<Mutex<Vec<Value>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let keep = Arc::clone(&got);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut len = 0usize;
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            assert!(line.starts_with("POST /hook HTTP/1.1"), "{line}");
            loop {
                line.clear();
                reader.read_line(&mut line).unwrap();
                if line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            keep.lock()
                .unwrap()
                .push(serde_json::from_slice(&body).unwrap());
            let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
        }
    });
    (port, got)
}

pub(crate) fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn team_mail_webhook_and_acknowledgement_carry_no_report_content() {
    let dir = TempDir::new("notify");
    let (ca, smtp) = crate::smtp_support::Server::start_tls(
        dir.path(),
        &["--require-starttls", "--auth", "portal:s3cret-pass"],
    );
    let (hook_port, hooks) = webhook();
    let setup = Setup::new(
        1,
        &format!(
            "[notify]\nsmtp_host = \"localhost\"\nsmtp_port = {}\nsmtp_security = \"starttls\"\n\
             smtp_ca_file = \"{}\"\nsmtp_username = \"portal\"\nfrom = \"sealdrop@example.org\"\n\
             to = [\"security@example.org\"]\nwebhook_url = \"http://127.0.0.1:{hook_port}/hook\"\n\
             auto_acknowledge = true\ncheck_interval = \"1s\"\n",
            smtp.port,
            ca.display()
        ),
    );
    // The password comes from the environment, as the README advises.
    let server = Server::start(&setup, &[("SEALDROP_NOTIFY_SMTP_PASSWORD", "s3cret-pass")]);
    let form_page = get(server.addr, "/", "").text();
    assert!(
        form_page.contains("name=\"acknowledge\""),
        "the checkbox is offered"
    );
    let parts = vec![
        text("category", "data-breach"),
        text("message", SECRET_MESSAGE),
        text("contact", CONTACT),
        text("acknowledge", "yes"),
        file(SECRET_NAME, bytes(4096, 1)),
    ];
    let r = post_form(server.addr, &parts, "");
    assert_eq!(r.status, 201, "{}", r.text());
    let receipt = r.json();
    assert_eq!(receipt["acknowledgement"], "queued");
    let case = receipt["case"].as_str().unwrap().to_owned();
    let reference = receipt["reference"].as_str().unwrap().to_owned();

    wait_for("two mails and a webhook", || {
        smtp.received().len() >= 2 && !hooks.lock().unwrap().is_empty()
    });
    let mails = smtp.received();
    let to = |m: &(String, Value)| m.1["rcpt_tos"][0].as_str().unwrap_or("").to_owned();
    let team = mails
        .iter()
        .find(|m| to(m) == "security@example.org")
        .expect("team mail");
    let ack = mails
        .iter()
        .find(|m| to(m) == "reporter@example.net")
        .expect("acknowledgement");
    assert_eq!(team.1["tls"], true, "sent over STARTTLS: {}", team.1);
    let team_text = format!("{}{}", team.1["subject"], team.1["body"]);
    assert!(
        team_text.contains(&case) && team_text.contains("data-breach"),
        "{team_text}"
    );
    assert!(
        team_text.contains("notification of the data protection authority"),
        "{team_text}"
    );
    let ack_text = ack.1["body"].as_str().unwrap();
    assert!(
        ack_text.contains(&reference) && ack_text.contains(&case),
        "{ack_text}"
    );
    let hook = hooks.lock().unwrap()[0].clone();
    assert_eq!(hook["event"], "submission-received");
    assert_eq!(hook["case"], case.as_str());
    assert_eq!(hook["files"], 1);
    assert!(hook["due"]["notify-authority"].is_string(), "{hook}");

    // Nothing the reporter wrote, nor the reference, goes to the team; the acknowledgement
    // repeats only the reference and the case.
    let hook_text = hook.to_string();
    for secret in [
        SECRET_MESSAGE,
        SECRET_NAME,
        "reporter@example.net",
        "0612345678",
    ] {
        assert!(
            !team.0.contains(secret) && !team_text.contains(secret),
            "team mail leaks {secret}"
        );
        assert!(!hook_text.contains(secret), "webhook leaks {secret}");
        assert!(
            !ack.0.contains(secret) || secret == "reporter@example.net",
            "ack leaks {secret}"
        );
        assert!(!ack_text.contains(secret), "ack body leaks {secret}");
    }
    assert!(!team_text.contains(&reference) && !hook_text.contains(&reference));

    // Asked for, but no address in the contact details: the receipt says so.
    let r = post_form(
        server.addr,
        &[
            text("category", "incident"),
            text("message", "x"),
            text("contact", "tel 0612345678"),
            text("acknowledge", "yes"),
        ],
        "",
    );
    assert_eq!(r.json()["acknowledgement"], "no-address");
    let page = post_form(
        server.addr,
        &[
            text("category", "incident"),
            text("message", "x"),
            text("contact", "tel 0612345678"),
            text("acknowledge", "yes"),
        ],
        "Accept: text/html\r\n",
    );
    assert!(page.text().contains("geen e-mailadres"), "{}", page.text());

    // A restart sends nothing twice; the address was never stored.
    server.stop();
    for f in all_files(&setup.data()) {
        let raw = std::fs::read(&f).unwrap_or_default();
        assert!(
            !raw.windows(12).any(|w| w == b"reporter@exa"),
            "the reporter's address is on disk in {f:?}"
        );
    }
    let server = Server::start(&setup, &[("SEALDROP_NOTIFY_SMTP_PASSWORD", "s3cret-pass")]);
    std::thread::sleep(Duration::from_millis(2500));
    // The two incidents above were announced too: together in one batch mail (they came
    // within one notify.check_interval of the first report), one webhook each.
    let mails = smtp.received();
    assert_eq!(mails.len(), 3, "no mail sent twice, the incidents batched");
    let batch = mails[2].1["subject"].as_str().unwrap();
    assert!(batch.starts_with("[sealdrop] 2 new reports: "), "{batch}");
    assert_eq!(hooks.lock().unwrap().len(), 3, "no webhook sent twice");
    let log = server.stop();
    assert!(
        !log.contains("reporter@example.net") && !log.contains("s3cret-pass"),
        "{log}"
    );
}

#[test]
fn overdue_clocks_are_announced_once_and_failed_deliveries_are_retried() {
    let dir = TempDir::new("notify");
    // Sealdrop starts while the mail server is down.
    let port = free_port();
    let setup = Setup::new(
        1,
        &format!(
            "[notify]\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {port}\nsmtp_security = \"none\"\n\
             from = \"sealdrop@example.org\"\nto = [\"security@example.org\"]\n\
             check_interval = \"1s\"\ntimeout = \"2s\"\n"
        ),
    );
    let server = setup.start();
    let receipt = submit_incident(&server);
    let case = receipt["case"].as_str().unwrap().to_owned();
    std::thread::sleep(Duration::from_millis(1500));
    let smtp = crate::smtp_support::Server::start(dir.path(), &["--port", &port.to_string()]);
    wait_for("the announcement after the mail server came back", || {
        !smtp.received().is_empty()
    });
    assert!(
        smtp.received()[0].1["subject"]
            .as_str()
            .unwrap()
            .contains(&case)
    );

    // Put the case in the past: its three clocks are overdue, each announced exactly once.
    rewrite_history(&setup, server, |r| {
        r["received_at"] = serde_json::json!("2026-03-02T09:00:00Z");
    });
    let server = setup.start();
    wait_for("three overdue notices", || smtp.received().len() >= 4);
    std::thread::sleep(Duration::from_millis(2500));
    let subjects: Vec<String> = smtp
        .received()
        .iter()
        .map(|m| m.1["subject"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(subjects.len(), 4, "{subjects:?}");
    for what in ["acknowledgement", "first assessment", "resolution"] {
        assert_eq!(
            subjects
                .iter()
                .filter(|s| s.contains("OVERDUE") && s.contains(what))
                .count(),
            1,
            "{what}: {subjects:?}"
        );
    }
    drop(server);
}

fn submit_incident(server: &Server) -> Value {
    let r = post_form(
        server.addr,
        &[
            text("category", "incident"),
            text("message", SECRET_MESSAGE),
        ],
        "",
    );
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()
}

#[test]
fn a_refused_acknowledgement_is_final_at_once_and_no_log_line_holds_the_address() {
    let dir = TempDir::new("notify-refused");
    let smtp = crate::smtp_support::Server::start(dir.path(), &[]);
    let setup = Setup::new(
        1,
        &format!(
            "[notify]\nsmtp_host = \"127.0.0.1\"\nsmtp_port = {}\nsmtp_security = \"none\"\n\
             from = \"sealdrop@example.org\"\nto = [\"security@example.org\"]\n\
             auto_acknowledge = true\ncheck_interval = \"1s\"\n",
            smtp.port
        ),
    );
    let server = setup.start();
    let r = post_form(
        server.addr,
        &[
            text("category", "incident"),
            text("message", "x"),
            text("contact", "refused-reporter@example.net"),
            text("acknowledge", "yes"),
        ],
        "",
    );
    assert_eq!(r.json()["acknowledgement"], "queued", "{}", r.text());
    let case = r.json()["case"].as_str().unwrap().to_owned();
    wait_for("the refusal in the log", || {
        server.log().contains("refused for good")
    });
    // A 5xx is final: no retry is scheduled, and the team mail was not held up by it.
    std::thread::sleep(Duration::from_millis(500));
    let log = server.stop();
    assert!(!log.contains("retrying"), "{log}");
    assert!(log.contains(&case), "the log names the case: {log}");
    assert!(
        !log.contains("refused-reporter"),
        "the reporter's address is in the log: {log}"
    );
    assert_eq!(smtp.received().len(), 1, "the team mail went out");
}
