//! Notification mail over SMTP, through `lettre` (the only module that uses it): STARTTLS that
//! never falls back, or implicit TLS, always verified against the system roots plus an optional
//! CA file; plain text and AUTH only where allowed. Errors never quote an address, a server
//! reply or the password: a reply can echo the recipient, and logs must not hold personal data.

use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::SmtpTransport;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{Address, Transport};
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain connection upgraded with STARTTLS (port 587 or 25); never falls back to plain.
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: allowed only when the host is "localhost" or a loopback address.
    Plain,
}

/// Where and how to send mail.
#[derive(Clone)]
pub struct Settings {
    /// SMTP server name or IP address; also the name its certificate must carry.
    pub host: String,
    /// SMTP port.
    pub port: u16,
    /// Connection protection.
    pub security: Security,
    /// User name for AUTH; `None`: no authentication.
    pub username: Option<String>,
    /// Password for AUTH.
    pub password: Option<String>,
    /// Extra CA certificates (PEM) trusted besides the system roots.
    pub ca_file: Option<PathBuf>,
    /// Sender address (envelope and `From:`).
    pub from: String,
    /// Our name in EHLO.
    pub helo_name: String,
    /// Timeout for connecting and for each read and write.
    pub timeout: Duration,
}

// By hand so that the password never reaches a log line through `{:?}`.
impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("ca_file", &self.ca_file)
            .field("helo_name", &self.helo_name)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// One plain-text message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Recipients (envelope and `To:`).
    pub to: Vec<String>,
    /// Subject line (any UTF-8, no line breaks).
    pub subject: String,
    /// Body text in UTF-8.
    pub body: String,
}

/// Why a message was not sent. No variant carries an address or a server reply.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// Plain text to a host that is not on this machine.
    #[error(
        "refusing to send mail unencrypted to a host that is not this machine: notify.smtp_security = \"none\" is only allowed for localhost or a loopback address; use \"starttls\" (port 587) or \"tls\" (port 465)"
    )]
    PlainNotAllowed,
    /// A user name without TLS would send the password in the clear.
    #[error(
        "refusing to send the SMTP password without TLS; set notify.smtp_security to \"starttls\" or \"tls\", or leave notify.smtp_username empty"
    )]
    AuthWithoutTls,
    /// A user name but no password.
    #[error(
        "notify.smtp_username is set but the password is empty; set notify.smtp_password (or its environment variable)"
    )]
    MissingPassword,
    /// The sender address is not usable.
    #[error("notify.from is not a usable e-mail address; fix it")]
    InvalidSender,
    /// A recipient address is not usable (which one is not said: it may be a reporter's).
    #[error("a recipient is not a usable e-mail address; nothing was sent")]
    InvalidRecipient,
    /// The EHLO name is not a plain host name.
    #[error("the EHLO name must be a host name without spaces or control characters")]
    InvalidHeloName,
    /// Nobody to send to.
    #[error("the message has no recipients; list them in notify.to")]
    NoRecipients,
    /// The CA file could not be used.
    #[error("notify.smtp_ca_file {path}: {problem}; give a PEM file of CA certificates")]
    CaFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The TLS handshake failed (certificate not trusted, wrong name, or not TLS at all).
    #[error(
        "TLS with the SMTP server failed ({detail}); if the server uses a private CA, set notify.smtp_ca_file to its certificate; ports 587 and 25 need notify.smtp_security = \"starttls\", port 465 \"tls\""
    )]
    TlsHandshake {
        /// The TLS library's reason (no addresses).
        detail: String,
    },
    /// STARTTLS was required but not offered.
    #[error(
        "the server does not offer STARTTLS; set notify.smtp_security = \"tls\" for port 465, or fix the server"
    )]
    StartTlsNotOffered,
    /// The server went silent.
    #[error("the SMTP server did not answer within {}s; check that notify.smtp_security matches the port (465: \"tls\"; 587 and 25: \"starttls\"), or raise notify.timeout", timeout.as_secs())]
    Timeout {
        /// The timeout that expired.
        timeout: Duration,
    },
    /// No connection, or it broke.
    #[error(
        "cannot talk to the SMTP server {host}:{port}; check notify.smtp_host, notify.smtp_port and the firewall"
    )]
    Connect {
        /// Server host.
        host: String,
        /// Server port.
        port: u16,
    },
    /// The login was refused.
    #[error(
        "the SMTP server refused the login (reply code {code}); check notify.smtp_username and notify.smtp_password"
    )]
    AuthFailed {
        /// The reply code.
        code: u16,
    },
    /// The server refused the message for good (5xx): retrying will not help.
    #[error(
        "the SMTP server refused the message for good (reply code {code}); nothing was sent, and it is not retried"
    )]
    Refused {
        /// The reply code.
        code: u16,
    },
    /// The server refused for now (4xx): retrying may help.
    #[error("the SMTP server refused the message for now (reply code {code}); it is retried later")]
    Deferred {
        /// The reply code.
        code: u16,
    },
    /// The client side of the protocol failed (no common AUTH mechanism, bad reply).
    #[error("the SMTP conversation failed: {0}; check notify.smtp_host and notify.smtp_port")]
    Protocol(String),
}

impl MailError {
    /// True when sending the same message again cannot succeed: an unusable address, a 5xx
    /// refusal, a configuration the server will never accept.
    pub fn is_permanent(&self) -> bool {
        matches!(
            self,
            MailError::InvalidRecipient
                | MailError::InvalidSender
                | MailError::Refused { .. }
                | MailError::AuthFailed { .. }
                | MailError::PlainNotAllowed
                | MailError::AuthWithoutTls
                | MailError::MissingPassword
                | MailError::InvalidHeloName
                | MailError::NoRecipients
        )
    }
}

/// The one rule for addresses, used for `notify.to`/`notify.from`, the reporter's contact
/// details and every recipient: what the mailer can send to, with a domain that can be reached
/// (a dot in it, or `localhost`).
pub fn deliverable(text: &str) -> Option<Address> {
    let address: Address = text.parse().ok()?;
    let domain = address.domain();
    (domain.contains('.') || domain == "localhost").then_some(address)
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn check_policy(settings: &Settings, host: &str) -> Result<(), MailError> {
    if settings.security == Security::Plain && !is_loopback(host) {
        return Err(MailError::PlainNotAllowed);
    }
    if settings.username.is_some() {
        if settings.security == Security::Plain {
            return Err(MailError::AuthWithoutTls);
        }
        if settings.password.as_deref().is_none_or(str::is_empty) {
            return Err(MailError::MissingPassword);
        }
    }
    let helo = &settings.helo_name;
    if helo.is_empty() || helo.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(MailError::InvalidHeloName);
    }
    Ok(())
}

fn tls_parameters(settings: &Settings, host: &str) -> Result<TlsParameters, MailError> {
    let mut builder = TlsParameters::builder(host.to_owned());
    if let Some(path) = &settings.ca_file {
        let ca_err = |problem: String| MailError::CaFile {
            path: path.clone(),
            problem,
        };
        let pem = std::fs::read(path).map_err(|e| ca_err(e.to_string()))?;
        let cert = Certificate::from_pem(&pem).map_err(|e| ca_err(e.to_string()))?;
        builder = builder.add_root_certificate(cert);
    }
    builder.build_rustls().map_err(|e| MailError::TlsHandshake {
        detail: e.to_string(),
    })
}

/// Sends one message, blocking until the server has accepted it (or failed). Everything that
/// can be checked without the network is checked before connecting.
pub fn send(settings: &Settings, msg: &Message) -> Result<(), MailError> {
    let host = settings.host.trim_start_matches('[').trim_end_matches(']');
    check_policy(settings, host)?;
    if msg.to.is_empty() {
        return Err(MailError::NoRecipients);
    }
    let from = deliverable(&settings.from).ok_or(MailError::InvalidSender)?;
    let mut email = lettre::Message::builder()
        .from(Mailbox::new(None, from))
        .subject(msg.subject.replace(['\r', '\n'], " "))
        .message_id(Some(format!(
            "<{}@{}>",
            crate::digest::hex(&rand::random::<[u8; 16]>()),
            settings.helo_name
        )))
        .header(lettre::message::header::MIME_VERSION_1_0)
        .header(ContentType::TEXT_PLAIN);
    for to in &msg.to {
        let address = deliverable(to).ok_or(MailError::InvalidRecipient)?;
        email = email.to(Mailbox::new(None, address));
    }
    // lettre ends the text with a line break of its own.
    let body = msg.body.strip_suffix('\n').unwrap_or(&msg.body);
    let email = email
        .body(body.strip_suffix('\r').unwrap_or(body).to_owned())
        .map_err(|e| MailError::Protocol(e.to_string()))?;
    let tls = match settings.security {
        Security::StartTls => Tls::Required(tls_parameters(settings, host)?),
        Security::Tls => Tls::Wrapper(tls_parameters(settings, host)?),
        Security::Plain => Tls::None,
    };
    let mut transport = SmtpTransport::builder_dangerous(host)
        .port(settings.port)
        .tls(tls)
        .timeout(Some(settings.timeout))
        .hello_name(ClientId::Domain(settings.helo_name.clone()));
    if let Some(user) = &settings.username {
        let password = settings.password.clone().unwrap_or_default();
        transport = transport
            .credentials(Credentials::new(user.clone(), password))
            .authentication(vec![Mechanism::Plain, Mechanism::Login]);
    }
    transport
        .build()
        .send(&email)
        .map(|_| ())
        .map_err(|e| classify(&e, settings, host))
}

/// Maps lettre's error to ours without its text where that text could quote the server (and so
/// an address).
fn classify(e: &lettre::transport::smtp::Error, settings: &Settings, host: &str) -> MailError {
    let code = e.status().map(u16::from);
    if let Some(code) = code {
        return match code {
            535 | 534 | 530 => MailError::AuthFailed { code },
            500..=599 => MailError::Refused { code },
            _ => MailError::Deferred { code },
        };
    }
    if e.is_timeout() || io_cause(e).is_some_and(|k| k == std::io::ErrorKind::WouldBlock) {
        return MailError::Timeout {
            timeout: settings.timeout,
        };
    }
    if let Some(tls) = rustls_cause(e) {
        return MailError::TlsHandshake { detail: tls };
    }
    if e.is_client() {
        // lettre's client errors are fixed texts of its own (never a server reply); this one
        // has no kind of its own.
        let text = e.to_string();
        if text.contains("STARTTLS") {
            return MailError::StartTlsNotOffered;
        }
        return MailError::Protocol(text);
    }
    MailError::Connect {
        host: host.to_owned(),
        port: settings.port,
    }
}

/// The kind of the I/O error behind `e`, if any (a read timeout is `WouldBlock` on Linux).
fn io_cause(e: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        source = s.source();
    }
    None
}

/// The TLS library's reason, when a TLS failure is behind `e`.
fn rustls_cause(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<rustls::Error>() {
            return Some(r.to_string());
        }
        if let Some(io) = s.downcast_ref::<std::io::Error>()
            && let Some(inner) = io.get_ref()
            && let Some(r) = inner.downcast_ref::<rustls::Error>()
        {
            return Some(r.to_string());
        }
        source = s.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_deliverable_addresses_pass_the_one_rule() {
        for good in ["jan@example.nl", "a.b+c@sub.example.org", "team@localhost"] {
            assert!(deliverable(good).is_some(), "{good}");
        }
        for bad in [
            "x@y",
            "no-at-sign",
            "two@@example.org",
            "jan@example.nl\r\nBcc: x@evil.example",
            "<jan@example.nl>",
            "jan @example.nl",
            "",
        ] {
            assert!(deliverable(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn no_error_text_holds_an_address() {
        let all = [
            MailError::InvalidRecipient,
            MailError::Refused { code: 550 },
            MailError::Deferred { code: 451 },
            MailError::AuthFailed { code: 535 },
        ];
        for e in all {
            assert!(!e.to_string().contains('@'), "{e}");
        }
        assert!(MailError::Refused { code: 550 }.is_permanent());
        assert!(MailError::InvalidRecipient.is_permanent());
        assert!(!MailError::Deferred { code: 451 }.is_permanent());
        assert!(
            !MailError::Timeout {
                timeout: Duration::from_secs(1)
            }
            .is_permanent()
        );
    }
}
