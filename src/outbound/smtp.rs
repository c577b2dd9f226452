//! Notification mail over SMTP (RFC 5321): one blocking session per message with STARTTLS or
//! implicit TLS, AUTH PLAIN, and a plain-text UTF-8 message composed here. Never logs the body or
//! the password; errors quote only the server's replies.

use super::mime::{base64, check_address, compose};
use super::tls::{self, Stream, TlsClientError};
use std::fmt;
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Longest reply line accepted from the server; a hostile server cannot make us buffer more.
const MAX_LINE: usize = 4096;
/// Most lines in one multi-line reply (EHLO lists a dozen or so extensions).
const MAX_REPLY_LINES: usize = 64;
/// Most characters of a server reply quoted in an error.
const MAX_SHOWN: usize = 300;

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
    /// User name for AUTH PLAIN; `None`: no authentication.
    pub username: Option<String>,
    /// Password for AUTH PLAIN.
    pub password: Option<String>,
    /// Extra CA certificates (PEM) trusted besides the system bundle.
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
            .field("from", &self.from)
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
    /// Body text in UTF-8; line endings may be LF or CRLF.
    pub body: String,
}

/// Why a message was not sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// Plain text to a host that is not on this machine.
    #[error(
        "refusing to send mail unencrypted to {host}: notify.smtp_security = \"none\" is only allowed for localhost or a loopback address; use \"starttls\" (port 587) or \"tls\" (port 465)"
    )]
    PlainNotAllowed {
        /// The configured host.
        host: String,
    },
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
    /// A header value or address with a line break.
    #[error(
        "the {field} contains a line break or control character; refused so that it cannot inject mail headers or SMTP commands"
    )]
    HeaderInjection {
        /// Which value ("subject", "sender address", ...).
        field: &'static str,
    },
    /// An address that cannot go into `MAIL FROM`/`RCPT TO`.
    #[error("{address:?} is not a usable e-mail address: {reason}; fix notify.from or notify.to")]
    InvalidAddress {
        /// The address.
        address: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The EHLO name is not a plain host name.
    #[error("the EHLO name {0:?} must be a host name without spaces or control characters")]
    InvalidHeloName(String),
    /// Nobody to send to.
    #[error("the message has no recipients; list them in notify.to")]
    NoRecipients,
    /// The TLS client configuration could not be built.
    #[error(transparent)]
    Tls(#[from] TlsClientError),
    /// No TCP connection.
    #[error(
        "cannot connect to the SMTP server {host}:{port}: {source}; check notify.smtp_host, notify.smtp_port and the firewall"
    )]
    Connect {
        /// Server host.
        host: String,
        /// Server port.
        port: u16,
        /// The system's reason.
        source: io::Error,
    },
    /// The TLS handshake failed (certificate not trusted, wrong name, or not TLS at all).
    #[error(
        "TLS with the SMTP server {host} failed: {source}; if the server uses a private CA, set notify.smtp_ca_file to its certificate; ports 587 and 25 need notify.smtp_security = \"starttls\", port 465 \"tls\""
    )]
    TlsHandshake {
        /// Server host.
        host: String,
        /// The handshake error.
        source: io::Error,
    },
    /// The server went silent.
    #[error("the SMTP server did not answer within {}s during {step}; check that notify.smtp_security matches the port (465: \"tls\"; 587 and 25: \"starttls\"), or raise notify.timeout", timeout.as_secs())]
    Timeout {
        /// The step that timed out.
        step: &'static str,
        /// The timeout that expired.
        timeout: Duration,
    },
    /// The connection broke.
    #[error(
        "the connection to the SMTP server broke during {step}: {source}; the message was not sent, try again later"
    )]
    Io {
        /// The step that failed.
        step: &'static str,
        /// The system's reason.
        source: io::Error,
    },
    /// STARTTLS was required but not offered.
    #[error(
        "the server does not offer STARTTLS; set notify.smtp_security = \"tls\" for port 465, or fix the server"
    )]
    StartTlsNotOffered,
    /// AUTH PLAIN was needed but not offered.
    #[error(
        "the server does not offer AUTH PLAIN (it offers: {offered}); use an account on a server that does, or leave notify.smtp_username empty if it relays without login"
    )]
    AuthNotOffered {
        /// The mechanisms it offers, or "none".
        offered: String,
    },
    /// The login was refused.
    #[error(
        "the SMTP server refused the login: {reply}; check notify.smtp_username and notify.smtp_password"
    )]
    AuthFailed {
        /// The server's reply.
        reply: String,
    },
    /// A recipient was refused (the message was then not sent to anyone).
    #[error(
        "the SMTP server refused the recipient {recipient}: {reply}; fix the address in notify.to (nothing was sent)"
    )]
    RecipientRefused {
        /// The refused address.
        recipient: String,
        /// The server's reply.
        reply: String,
    },
    /// Any other unexpected reply.
    #[error("the SMTP server rejected {step}: {reply}")]
    Rejected {
        /// The step that failed.
        step: &'static str,
        /// The server's reply.
        reply: String,
    },
    /// The server's bytes are not SMTP.
    #[error(
        "the SMTP server broke the protocol during {step}: {detail}; check notify.smtp_host and notify.smtp_port"
    )]
    Protocol {
        /// The step that failed.
        step: &'static str,
        /// What was wrong.
        detail: &'static str,
    },
}

/// Sends one message, blocking until the server has accepted it (or failed).
///
/// Everything that can be checked without the network (addresses, header values, the
/// plain-text policy) is checked before connecting.
pub fn send(settings: &Settings, msg: &Message) -> Result<(), MailError> {
    check_policy(settings)?;
    for rcpt in &msg.to {
        check_address(rcpt, "recipient address")?;
    }
    let data = compose(&settings.from, msg, jiff::Timestamp::now(), rand::random())?;
    let tls_config = match settings.security {
        Security::Plain => None,
        Security::StartTls | Security::Tls => {
            Some(tls::client_config(settings.ca_file.as_deref())?)
        }
    };
    let host = settings.host.trim_start_matches('[').trim_end_matches(']');
    let tcp = tls::connect(host, settings.port, settings.timeout).map_err(|source| {
        MailError::Connect {
            host: host.to_owned(),
            port: settings.port,
            source,
        }
    })?;
    tracing::debug!(host, port = settings.port, "SMTP: connected");
    let stream = match (&tls_config, settings.security) {
        (Some(config), Security::Tls) => tls_handshake(tcp, config, host, settings.timeout)?,
        _ => Stream::Plain(tcp),
    };
    let mut s = Session::new(stream, settings.timeout);
    s.require(None, "the greeting", 220)?;
    let mut ehlo = s.require(Some(&format!("EHLO {}", settings.helo_name)), "EHLO", 250)?;
    if let (Some(config), Security::StartTls) = (&tls_config, settings.security) {
        if !ehlo.has_extension("STARTTLS") {
            return Err(MailError::StartTlsNotOffered);
        }
        s.require(Some("STARTTLS"), "STARTTLS", 220)?;
        s = s.start_tls(config, host)?;
        // RFC 3207: everything learnt before the handshake is forgotten, so ask again.
        ehlo = s.require(Some(&format!("EHLO {}", settings.helo_name)), "EHLO", 250)?;
    }
    if let Some(user) = &settings.username {
        let password = settings.password.as_deref().unwrap_or_default();
        s.auth_plain(&ehlo, user, password)?;
    }
    s.require(
        Some(&format!("MAIL FROM:<{}>", settings.from)),
        "MAIL FROM",
        250,
    )?;
    for rcpt in &msg.to {
        let reply = s.command(Some(&format!("RCPT TO:<{rcpt}>")), "RCPT TO")?;
        // 251: "user not local; will forward" is an acceptance too.
        if reply.code != 250 && reply.code != 251 {
            return Err(MailError::RecipientRefused {
                recipient: rcpt.clone(),
                reply: reply.shown(),
            });
        }
    }
    s.require(Some("DATA"), "DATA", 354)?;
    s.write_raw(dot_stuff(&data).as_bytes(), "sending the message")?;
    let accepted = s.require(Some("."), "the end of the message", 250)?;
    tracing::debug!(host, reply = %accepted.shown(), "SMTP: message accepted");
    // The message is queued: a failed QUIT must not report failure and cause a duplicate.
    if let Err(e) = s.command(Some("QUIT"), "QUIT") {
        tracing::debug!(host, error = %e, "SMTP: QUIT failed after delivery");
    }
    Ok(())
}

fn check_policy(settings: &Settings) -> Result<(), MailError> {
    if settings.security == Security::Plain && !tls::is_loopback(&settings.host) {
        return Err(MailError::PlainNotAllowed {
            host: settings.host.clone(),
        });
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
        return Err(MailError::InvalidHeloName(helo.clone()));
    }
    check_address(&settings.from, "sender address")
}

/// Doubles a leading dot on every line so that no line of the message reads as its end (RFC 5321
/// 4.5.2). `data` uses CRLF and ends with CRLF; the terminating "." line is sent separately.
fn dot_stuff(data: &str) -> String {
    let mut out = String::with_capacity(data.len() + 8);
    if data.starts_with('.') {
        out.push('.');
    }
    out.push_str(&data.replace("\r\n.", "\r\n.."));
    out
}

/// A parsed reply: its code and the text of each line.
struct Reply {
    code: u16,
    lines: Vec<String>,
}

impl Reply {
    /// The reply for an error message: one line, printable characters only, bounded length, so
    /// that a hostile server cannot write escape sequences or megabytes into our logs.
    fn shown(&self) -> String {
        let full = format!("{} {}", self.code, self.lines.join(" / "));
        let mut shown: String = full
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .take(MAX_SHOWN)
            .collect();
        if full.chars().count() > MAX_SHOWN {
            shown.push('…');
        }
        shown
    }

    /// True when EHLO listed `keyword` (case-insensitive).
    fn has_extension(&self, keyword: &str) -> bool {
        self.lines.iter().skip(1).any(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|k| k.eq_ignore_ascii_case(keyword))
        })
    }

    /// The SASL mechanisms EHLO listed (also the old `AUTH=` form).
    fn auth_mechanisms(&self) -> Vec<String> {
        let mut mechs = Vec::new();
        for line in self.lines.iter().skip(1) {
            let upper = line.to_ascii_uppercase();
            if let Some(rest) = upper.strip_prefix("AUTH ").or(upper.strip_prefix("AUTH=")) {
                mechs.extend(rest.split_whitespace().map(str::to_owned));
            }
        }
        mechs
    }
}

/// One SMTP conversation: the stream, bytes read but not yet consumed, and the timeout for
/// error messages.
struct Session {
    stream: Stream,
    buf: Vec<u8>,
    timeout: Duration,
}

impl Session {
    fn new(stream: Stream, timeout: Duration) -> Session {
        Session {
            stream,
            buf: Vec::with_capacity(MAX_LINE),
            timeout,
        }
    }

    fn io_error(&self, step: &'static str, e: io::Error) -> MailError {
        if tls::is_timeout(&e) {
            MailError::Timeout {
                step,
                timeout: self.timeout,
            }
        } else {
            MailError::Io { step, source: e }
        }
    }

    /// Sends `line` (if any) and reads the reply.
    fn command(&mut self, line: Option<&str>, step: &'static str) -> Result<Reply, MailError> {
        if let Some(line) = line {
            self.write_raw(format!("{line}\r\n").as_bytes(), step)?;
        }
        self.reply(step)
    }

    /// Like [`Session::command`], failing unless the reply has `code`.
    fn require(
        &mut self,
        line: Option<&str>,
        step: &'static str,
        code: u16,
    ) -> Result<Reply, MailError> {
        let reply = self.command(line, step)?;
        if reply.code != code {
            return Err(MailError::Rejected {
                step,
                reply: reply.shown(),
            });
        }
        Ok(reply)
    }

    fn write_raw(&mut self, bytes: &[u8], step: &'static str) -> Result<(), MailError> {
        let result = self
            .stream
            .write_all(bytes)
            .and_then(|()| self.stream.flush());
        result.map_err(|e| self.io_error(step, e))
    }

    /// Reads one reply, single- or multi-line (`250-…` lines, then `250 …`).
    fn reply(&mut self, step: &'static str) -> Result<Reply, MailError> {
        let bad = |detail| MailError::Protocol { step, detail };
        let mut lines = Vec::new();
        loop {
            let line = self.read_line(step)?;
            let line = line.strip_suffix(b"\r").unwrap_or(&line);
            let (code, rest) = match line.get(..3) {
                Some(c) if c.iter().all(u8::is_ascii_digit) => (c, &line[3..]),
                _ => return Err(bad("a reply line does not start with a three-digit code")),
            };
            let code = u16::from(code[0] - b'0') * 100
                + u16::from(code[1] - b'0') * 10
                + u16::from(code[2] - b'0');
            let (more, text) = match rest.split_first() {
                Some((b'-', text)) => (true, text),
                Some((b' ', text)) => (false, text),
                None => (false, &[][..]),
                Some(_) => return Err(bad("a reply line has no space or dash after its code")),
            };
            if lines.first().is_some_and(|(first, _)| *first != code) {
                return Err(bad("the lines of one reply carry different codes"));
            }
            lines.push((code, String::from_utf8_lossy(text).into_owned()));
            if !more {
                return Ok(Reply {
                    code,
                    lines: lines.into_iter().map(|(_, text)| text).collect(),
                });
            }
            if lines.len() >= MAX_REPLY_LINES {
                return Err(bad("a reply has too many lines"));
            }
        }
    }

    /// One line up to and without its LF, never buffering more than `MAX_LINE` bytes.
    fn read_line(&mut self, step: &'static str) -> Result<Vec<u8>, MailError> {
        let mut scanned = 0;
        loop {
            if let Some(pos) = self.buf[scanned..].iter().position(|&b| b == b'\n') {
                let end = scanned + pos;
                let line = self.buf[..end].to_vec();
                self.buf.drain(..=end);
                return Ok(line);
            }
            scanned = self.buf.len();
            if scanned >= MAX_LINE {
                return Err(MailError::Protocol {
                    step,
                    detail: "a reply line is longer than 4 KiB",
                });
            }
            let mut chunk = [0u8; 1024];
            let room = (MAX_LINE - scanned).min(chunk.len());
            let n = match self.stream.read(&mut chunk[..room]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.io_error(step, e)),
            };
            if n == 0 {
                return Err(MailError::Protocol {
                    step,
                    detail: "the server closed the connection",
                });
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Replaces the plain stream by TLS after the server's 220 to STARTTLS.
    fn start_tls(self, config: &Arc<tls::ClientConfig>, host: &str) -> Result<Session, MailError> {
        // Bytes already buffered were sent before the handshake by someone who may not be the
        // server (CVE-2011-0411, command injection): they must not be read as TLS-protected.
        if !self.buf.is_empty() {
            return Err(MailError::Protocol {
                step: "STARTTLS",
                detail: "the server sent data before the TLS handshake",
            });
        }
        let timeout = self.timeout;
        match self.stream {
            Stream::Plain(tcp) => Ok(Session::new(
                tls_handshake(tcp, config, host, timeout)?,
                timeout,
            )),
            Stream::Tls(_) => Err(MailError::Protocol {
                step: "STARTTLS",
                detail: "the connection is already encrypted",
            }),
        }
    }

    fn auth_plain(&mut self, ehlo: &Reply, user: &str, password: &str) -> Result<(), MailError> {
        if !self.stream.is_tls() {
            return Err(MailError::AuthWithoutTls);
        }
        let mechs = ehlo.auth_mechanisms();
        if !mechs.iter().any(|m| m == "PLAIN") {
            let offered = if mechs.is_empty() {
                "none".to_owned()
            } else {
                mechs.join(" ")
            };
            return Err(MailError::AuthNotOffered { offered });
        }
        let token = base64(format!("\0{user}\0{password}").as_bytes());
        // The command carries the password: it is written but never logged or quoted in errors.
        let reply = self.command(Some(&format!("AUTH PLAIN {token}")), "AUTH PLAIN")?;
        if reply.code != 235 {
            return Err(MailError::AuthFailed {
                reply: reply.shown(),
            });
        }
        Ok(())
    }
}

fn tls_handshake(
    tcp: std::net::TcpStream,
    config: &Arc<tls::ClientConfig>,
    host: &str,
    timeout: Duration,
) -> Result<Stream, MailError> {
    tls::handshake(tcp, Arc::clone(config), host).map_err(|source| {
        if tls::is_timeout(&source) {
            MailError::Timeout {
                step: "the TLS handshake",
                timeout,
            }
        } else {
            MailError::TlsHandshake {
                host: host.to_owned(),
                source,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream};

    fn settings(host: &str, security: Security) -> Settings {
        Settings {
            host: host.into(),
            port: 1,
            security,
            username: None,
            password: None,
            ca_file: None,
            from: "sealdrop@portal.example.org".into(),
            helo_name: "portal.example.org".into(),
            timeout: Duration::from_secs(2),
        }
    }

    fn message(subject: &str, body: &str) -> Message {
        Message {
            to: vec!["team@example.org".into()],
            subject: subject.into(),
            body: body.into(),
        }
    }

    /// A session whose server side sends `bytes`, then keeps the connection open.
    fn session_reading(bytes: &'static [u8]) -> Session {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            s.write_all(bytes).unwrap();
            std::thread::sleep(Duration::from_secs(2));
        });
        let tcp = TcpStream::connect(addr).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
        Session::new(Stream::Plain(tcp), Duration::from_secs(1))
    }

    #[test]
    fn dot_stuffing_doubles_every_leading_dot_and_nothing_else() {
        assert_eq!(
            dot_stuff(".hi\r\nmid.dle\r\n.\r\n..x\r\nend.\r\n"),
            "..hi\r\nmid.dle\r\n..\r\n...x\r\nend.\r\n"
        );
    }

    #[test]
    fn a_lone_dot_in_the_body_cannot_end_the_message_early() {
        let data = compose(
            "sealdrop@portal.example.org",
            &message("s", "before\n.\nafter"),
            jiff::Timestamp::UNIX_EPOCH,
            [0; 16],
        )
        .unwrap();
        let stuffed = dot_stuff(&data);
        assert!(!stuffed.contains("\r\n.\r\n"), "{stuffed}");
        assert!(stuffed.contains("\r\n..\r\nafter\r\n"), "{stuffed}");
    }

    #[test]
    fn addresses_with_line_breaks_are_refused_before_connecting() {
        // Port 1 on loopback: reaching the network would give a connection error instead.
        let mut msg = message("s", "b");
        msg.to = vec!["team@example.org>\r\nRCPT TO:<spy@evil.example".into()];
        let err = send(&settings("127.0.0.1", Security::Plain), &msg).unwrap_err();
        assert!(
            matches!(
                err,
                MailError::HeaderInjection {
                    field: "recipient address"
                }
            ),
            "{err}"
        );
        let mut s = settings("127.0.0.1", Security::Plain);
        s.from = "a@b.example\nBcc: spy@evil.example".into();
        let err = send(&s, &message("s", "b")).unwrap_err();
        assert!(
            matches!(
                err,
                MailError::HeaderInjection {
                    field: "sender address"
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn plain_is_refused_for_a_host_that_is_not_loopback() {
        let err = send(
            &settings("mail.example.org", Security::Plain),
            &message("s", "b"),
        )
        .unwrap_err();
        assert!(matches!(err, MailError::PlainNotAllowed { .. }), "{err}");
        assert!(err.to_string().contains("\"starttls\""), "{err}");
    }

    #[test]
    fn a_password_is_never_sent_without_tls() {
        let mut s = settings("localhost", Security::Plain);
        s.username = Some("user".into());
        s.password = Some("secret".into());
        let err = send(&s, &message("s", "b")).unwrap_err();
        assert!(matches!(err, MailError::AuthWithoutTls), "{err}");
    }

    #[test]
    fn debug_output_hides_the_password() {
        let mut s = settings("localhost", Security::StartTls);
        s.password = Some("hunter2".into());
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn multi_line_replies_are_read_whole_with_their_extensions() {
        let mut s = session_reading(
            b"250-mail.example.org greets you\r\n250-STARTTLS\r\n250-AUTH LOGIN PLAIN\r\n250 8BITMIME\r\n",
        );
        let reply = s.reply("EHLO").unwrap();
        assert_eq!(reply.code, 250);
        assert!(reply.has_extension("starttls"));
        assert!(!reply.has_extension("SMTPUTF8"));
        assert_eq!(reply.auth_mechanisms(), ["LOGIN", "PLAIN"]);
    }

    #[test]
    fn an_overlong_reply_line_is_refused() {
        static LONG: [u8; 10_000] = [b'2'; 10_000];
        let err = session_reading(&LONG).reply("the greeting").err().unwrap();
        assert!(
            matches!(
                err,
                MailError::Protocol {
                    step: "the greeting",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn garbage_and_mixed_codes_are_protocol_errors() {
        for bytes in [
            &b"HTTP/1.1 400 Bad Request\r\n"[..],
            b"250-a\r\n220 b\r\n",
            b"2500\r\n",
        ] {
            let err = session_reading(bytes).reply("EHLO").err().unwrap();
            assert!(matches!(err, MailError::Protocol { .. }), "{err}");
        }
    }

    #[test]
    fn server_replies_in_errors_are_one_bounded_printable_line() {
        let reply = Reply {
            code: 550,
            lines: vec!["no\x1b[31m such".into(), "x".repeat(1000)],
        };
        let shown = reply.shown();
        assert!(shown.starts_with("550 no?[31m such / xxx"), "{shown}");
        assert!(shown.chars().count() <= MAX_SHOWN + 1);
    }

    #[test]
    fn data_buffered_before_the_tls_handshake_is_refused() {
        let Ok(config) = tls::client_config(None) else {
            eprintln!("skipped: no system CA bundle to build a client configuration from");
            return;
        };
        let mut s = session_reading(b"220 go ahead\r\n");
        s.reply("STARTTLS").unwrap();
        // As if an attacker had appended a line to the 220 in the same segment.
        s.buf.extend_from_slice(b"250 injected\r\n");
        let err = s.start_tls(&config, "localhost").err().unwrap();
        assert!(
            matches!(
                err,
                MailError::Protocol {
                    step: "STARTTLS",
                    ..
                }
            ),
            "{err}"
        );
    }
}
