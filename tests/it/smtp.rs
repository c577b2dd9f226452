//! `outbound::smtp` against a real SMTP server: Python's aiosmtpd (tests/support/smtp_server.py)
//! on loopback, with a throwaway CA and server certificate made by the `openssl` CLI.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::smtp_support::Server;
use sealdrop::outbound::smtp::{self, MailError, Message, Security, Settings};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

const SUBJECT: &str = "Zaak 2026-0042 — ontvangen";
const BODY: &str = "Zaak 2026-0042 — ontvangen\n\
                    .a line that starts with a dot\n\
                    .\n\
                    the line above is a lone dot; the message must not end there\n";

/// A folder removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "ob-smtp-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn settings(host: &str, port: u16, security: Security) -> Settings {
    Settings {
        host: host.into(),
        port,
        security,
        username: None,
        password: None,
        ca_file: None,
        from: "sealdrop@portal.example.org".into(),
        helo_name: "portal.example.org".into(),
        timeout: Duration::from_secs(5),
    }
}

fn message(to: &[&str]) -> Message {
    Message {
        to: to.iter().map(|s| s.to_string()).collect(),
        subject: SUBJECT.into(),
        body: BODY.into(),
    }
}

/// The header block of a raw message, unfolded, as (name, value) lines.
fn headers(eml: &str) -> Vec<(String, String)> {
    let head = eml.split("\r\n\r\n").next().unwrap().replace("\r\n ", " ");
    head.split("\r\n")
        .map(|l| {
            let (n, v) = l.split_once(": ").unwrap();
            (n.to_owned(), v.to_owned())
        })
        .collect()
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    let found: Vec<_> = headers.iter().filter(|(n, _)| n == name).collect();
    assert_eq!(found.len(), 1, "{name} in {headers:?}");
    &found[0].1
}

#[test]
fn starttls_with_auth_plain_delivers_the_message_intact() {
    let dir = TempDir::new("starttls");
    let (ca, server) = Server::start_tls(
        &dir.0,
        &["--require-starttls", "--auth", "notifier:s3cret pass"],
    );
    let mut s = settings("localhost", server.port, Security::StartTls);
    s.username = Some("notifier".into());
    s.password = Some("s3cret pass".into());
    s.ca_file = Some(ca);
    smtp::send(&s, &message(&["team@example.org", "lead@example.org"])).unwrap();

    let received = server.received();
    assert_eq!(received.len(), 1);
    let (eml, meta) = &received[0];
    assert_eq!(meta["mail_from"], "sealdrop@portal.example.org");
    assert_eq!(
        meta["rcpt_tos"],
        serde_json::json!(["team@example.org", "lead@example.org"])
    );
    assert_eq!(meta["tls"], true);
    assert_eq!(meta["auth_login"], "notifier");
    assert_eq!(meta["subject"], SUBJECT);
    assert_eq!(meta["body"], BODY);

    let h = headers(eml);
    assert_eq!(header(&h, "From"), "sealdrop@portal.example.org");
    assert_eq!(header(&h, "To"), "team@example.org, lead@example.org");
    assert!(
        header(&h, "Subject")
            .to_ascii_lowercase()
            .contains("=?utf-8?b?"),
        "{h:?}"
    );
    assert!(!header(&h, "Date").is_empty());
    let id = header(&h, "Message-ID");
    assert!(
        id.starts_with('<') && id.ends_with("@portal.example.org>"),
        "{id}"
    );
    assert_eq!(header(&h, "MIME-Version"), "1.0");
    assert_eq!(
        header(&h, "Content-Type").to_ascii_lowercase(),
        "text/plain; charset=utf-8"
    );
    assert!(!eml.contains("s3cret"));
}

#[test]
fn plain_to_loopback_delivers_ascii_as_7bit() {
    let dir = TempDir::new("plain");
    let server = Server::start(&dir.0, &[]);
    let mut msg = message(&["team@example.org"]);
    msg.subject = "New report".into();
    msg.body = "Hello team,\n.\nA report arrived.\n".into();
    smtp::send(&settings("127.0.0.1", server.port, Security::Plain), &msg).unwrap();

    let received = server.received();
    assert_eq!(received.len(), 1);
    let (eml, meta) = &received[0];
    assert_eq!(meta["tls"], false);
    assert_eq!(meta["body"], "Hello team,\n.\nA report arrived.\n");
    let h = headers(eml);
    assert_eq!(header(&h, "Subject"), "New report");
    assert_eq!(header(&h, "Content-Transfer-Encoding"), "7bit");
    assert!(
        eml.contains("\r\n\r\nHello team,\r\n.\r\nA report arrived.\r\n"),
        "{eml}"
    );
}

#[test]
fn implicit_tls_verifies_an_ip_address_and_delivers() {
    let dir = TempDir::new("implicit");
    let (ca, server) = Server::start_tls(&dir.0, &["--implicit-tls"]);
    let mut s = settings("127.0.0.1", server.port, Security::Tls);
    s.ca_file = Some(ca);
    smtp::send(&s, &message(&["team@example.org"])).unwrap();
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].1["tls"], true);
    assert_eq!(received[0].1["body"], BODY);
}

#[test]
fn starttls_not_offered_is_an_error_and_nothing_is_delivered() {
    let dir = TempDir::new("nostarttls");
    let server = Server::start(&dir.0, &[]);
    let err = smtp::send(
        &settings("localhost", server.port, Security::StartTls),
        &message(&["team@example.org"]),
    )
    .unwrap_err();
    assert!(matches!(err, MailError::StartTlsNotOffered), "{err}");
    assert!(
        err.to_string().contains("notify.smtp_security = \"tls\""),
        "{err}"
    );
    assert!(server.received().is_empty());
}

#[test]
fn an_untrusted_certificate_fails_the_handshake_and_nothing_is_delivered() {
    let dir = TempDir::new("untrusted");
    let (_ca, server) = Server::start_tls(&dir.0, &[]);
    let err = smtp::send(
        &settings("localhost", server.port, Security::StartTls),
        &message(&["team@example.org"]),
    )
    .unwrap_err();
    assert!(matches!(err, MailError::TlsHandshake { .. }), "{err}");
    assert!(err.to_string().contains("notify.smtp_ca_file"), "{err}");
    assert!(server.received().is_empty());
}

#[test]
fn a_wrong_password_is_a_refused_login_and_nothing_is_delivered() {
    let dir = TempDir::new("badauth");
    let (ca, server) = Server::start_tls(&dir.0, &["--auth", "notifier:right"]);
    let mut s = settings("localhost", server.port, Security::StartTls);
    s.username = Some("notifier".into());
    s.password = Some("wrong-password".into());
    s.ca_file = Some(ca);
    let err = smtp::send(&s, &message(&["team@example.org"])).unwrap_err();
    assert!(matches!(err, MailError::AuthFailed { code: 535 }), "{err}");
    assert!(err.to_string().contains("535"), "{err}");
    assert!(err.is_permanent());
    assert!(!err.to_string().contains("wrong-password"), "{err}");
    assert!(server.received().is_empty());
}

#[test]
fn a_refused_recipient_fails_the_whole_message_for_good_without_naming_the_address() {
    let dir = TempDir::new("refused");
    let server = Server::start(&dir.0, &[]);
    let err = smtp::send(
        &settings("127.0.0.1", server.port, Security::Plain),
        &message(&["team@example.org", "refused@example.org"]),
    )
    .unwrap_err();
    assert!(matches!(err, MailError::Refused { code: 550 }), "{err}");
    assert!(err.is_permanent(), "a 5xx refusal is not retried");
    let text = format!("{err} {err:?}");
    assert!(!text.contains('@'), "an address in the error: {text}");
    assert!(server.received().is_empty());
}

#[test]
fn an_address_the_mailer_cannot_use_is_refused_before_connecting_without_naming_it() {
    // No server at all: the check happens before any connection.
    let err = smtp::send(
        &settings("127.0.0.1", 9, Security::Plain),
        &message(&["jan@example"]),
    )
    .unwrap_err();
    assert!(matches!(err, MailError::InvalidRecipient), "{err}");
    assert!(err.is_permanent());
    assert!(!format!("{err} {err:?}").contains("jan"), "{err}");
}

#[test]
fn starttls_against_an_implicit_tls_port_times_out_with_a_hint() {
    let dir = TempDir::new("mismatch");
    let (ca, server) = Server::start_tls(&dir.0, &["--implicit-tls"]);
    let mut s = settings("127.0.0.1", server.port, Security::StartTls);
    s.ca_file = Some(ca);
    s.timeout = Duration::from_secs(1);
    let err = smtp::send(&s, &message(&["team@example.org"])).unwrap_err();
    assert!(matches!(err, MailError::Timeout { .. }), "{err}");
    assert!(!err.is_permanent(), "a timeout is retried");
    assert!(err.to_string().contains("465: \"tls\""), "{err}");
}
