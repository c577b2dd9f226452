//! Webhook notifications: one blocking HTTP/1.1 JSON POST per call, over HTTPS (plain HTTP only
//! to loopback). URLs may carry secret tokens, so errors and logs name the host, never the path.

use super::tls::{self, Stream, TlsClientError};
use std::io::{self, Read, Write};
use std::path::Path;
use std::time::Duration;

/// Most bytes read of the response head (status lines of interim responses and their headers
/// included); a hostile endpoint cannot make us read or buffer more.
const MAX_HEAD: u64 = 8192;

/// Why a webhook POST failed.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// The URL cannot be used.
    #[error("notify.webhook_url is not usable: {0}; write it as https://host[:port]/path")]
    InvalidUrl(&'static str),
    /// `http://` to a host that is not on this machine.
    #[error(
        "refusing to POST unencrypted to {host}: http:// is only allowed for localhost or a loopback address; use https://"
    )]
    PlainNotAllowed {
        /// The URL's host.
        host: String,
    },
    /// The TLS client configuration could not be built.
    #[error(transparent)]
    Tls(#[from] TlsClientError),
    /// No TCP connection.
    #[error(
        "cannot connect to the webhook host {host}:{port}: {source}; check notify.webhook_url and the firewall"
    )]
    Connect {
        /// The URL's host.
        host: String,
        /// The port.
        port: u16,
        /// The system's reason.
        source: io::Error,
    },
    /// The TLS handshake failed.
    #[error(
        "TLS with the webhook host {host} failed: {source}; if it uses a private CA, set notify.webhook_ca_file to its certificate"
    )]
    TlsHandshake {
        /// The URL's host.
        host: String,
        /// The handshake error.
        source: io::Error,
    },
    /// The endpoint went silent.
    #[error("the webhook host {host} did not answer within {}s; check that it is up, or raise notify.timeout", timeout.as_secs())]
    Timeout {
        /// The URL's host.
        host: String,
        /// The timeout that expired.
        timeout: Duration,
    },
    /// The connection broke.
    #[error("the connection to the webhook host {host} broke: {source}; try again later")]
    Io {
        /// The URL's host.
        host: String,
        /// The system's reason.
        source: io::Error,
    },
    /// The answer is not HTTP.
    #[error("the webhook host {host} did not answer with HTTP: {detail}; check notify.webhook_url")]
    BadResponse {
        /// The URL's host.
        host: String,
        /// What was wrong.
        detail: &'static str,
    },
    /// A status other than 2xx.
    #[error(
        "the webhook at {host} answered {status}; check notify.webhook_url and the receiving service's logs"
    )]
    Status {
        /// The URL's host.
        host: String,
        /// The HTTP status.
        status: u16,
    },
}

/// The parts of a webhook URL this client needs.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    https: bool,
    /// Without brackets for IPv6 literals (what DNS, TLS and `is_loopback` want).
    host: String,
    port: u16,
    /// Path and query, starting with `/`.
    path: String,
}

impl Target {
    /// The `Host` header value: brackets around IPv6, the port unless it is the default.
    fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let default_port = if self.https { 443 } else { 80 };
        if self.port == default_port {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

fn parse_url(url: &str) -> Result<Target, WebhookError> {
    let bad = |why| Err(WebhookError::InvalidUrl(why));
    let (https, rest) = match url.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("https") => (true, rest),
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => (false, rest),
        _ => return bad("it must start with https://"),
    };
    // Whitespace or control characters would split the request line or inject headers.
    if rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("it contains spaces or control characters");
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let path = match tail.split_once('#') {
        Some((p, _fragment)) => p,
        None => tail,
    };
    let path = match path.chars().next() {
        None => "/".to_owned(),
        Some('?') => format!("/{path}"),
        Some(_) => path.to_owned(),
    };
    if authority.contains('@') {
        return bad("user names and passwords in the URL are not supported");
    }
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let Some((ip, after)) = bracketed.split_once(']') else {
            return bad("an IPv6 address lacks its closing ]");
        };
        if ip.parse::<std::net::Ipv6Addr>().is_err() {
            return bad("the address in [ ] is not an IPv6 address");
        }
        match after {
            "" => (ip, None),
            _ => match after.strip_prefix(':') {
                Some(p) => (ip, Some(p)),
                None => return bad("unexpected text after the IPv6 address"),
            },
        }
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return bad("it has no host");
    }
    if host.contains(':') && !authority.starts_with('[') {
        return bad("an IPv6 address must be written in [ ]");
    }
    let port = match port {
        None if https => 443,
        None => 80,
        Some(p) => match p.parse::<u16>() {
            Ok(p) if p != 0 => p,
            _ => return bad("the port is not a number from 1 to 65535"),
        },
    };
    Ok(Target {
        https,
        host: host.to_owned(),
        port,
        path,
    })
}

/// POSTs `body` as JSON to `url` and returns the HTTP status when it is 2xx.
///
/// Extra CA certificates in `ca_file` are trusted besides the system bundle. `timeout` applies
/// to connecting and to each read and write. The response body is not read.
pub fn post_json(
    url: &str,
    ca_file: Option<&Path>,
    body: &serde_json::Value,
    timeout: Duration,
) -> Result<u16, WebhookError> {
    let target = parse_url(url)?;
    let host = target.host.clone();
    if !target.https && !tls::is_loopback(&host) {
        return Err(WebhookError::PlainNotAllowed { host });
    }
    let tls_config = if target.https {
        Some(tls::client_config(ca_file)?)
    } else {
        None
    };
    let io_error = |source: io::Error| {
        if tls::is_timeout(&source) {
            WebhookError::Timeout {
                host: host.clone(),
                timeout,
            }
        } else {
            WebhookError::Io {
                host: host.clone(),
                source,
            }
        }
    };
    let tcp =
        tls::connect(&host, target.port, timeout).map_err(|source| WebhookError::Connect {
            host: host.clone(),
            port: target.port,
            source,
        })?;
    let mut stream = match tls_config {
        Some(config) => tls::handshake(tcp, config, &host).map_err(|source| {
            if tls::is_timeout(&source) {
                io_error(source)
            } else {
                WebhookError::TlsHandshake {
                    host: host.clone(),
                    source,
                }
            }
        })?,
        None => Stream::Plain(tcp),
    };
    let json = body.to_string();
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\nUser-Agent: sealdrop\r\n\r\n",
        target.path,
        target.host_header(),
        json.len()
    );
    let mut request = head.into_bytes();
    request.extend_from_slice(json.as_bytes());
    stream
        .write_all(&request)
        .and_then(|()| stream.flush())
        .map_err(io_error)?;
    let status = read_status(&mut stream).map_err(|e| match e {
        StatusError::Io(source) => io_error(source),
        StatusError::Bad(detail) => WebhookError::BadResponse {
            host: host.clone(),
            detail,
        },
    })?;
    tracing::debug!(host, status, "webhook: answered");
    if (200..300).contains(&status) {
        Ok(status)
    } else {
        Err(WebhookError::Status { host, status })
    }
}

enum StatusError {
    Io(io::Error),
    Bad(&'static str),
}

/// Reads the status line (`HTTP/1.x NNN reason`) of the final response and returns NNN,
/// skipping interim 1xx responses, and reading at most `MAX_HEAD` bytes in all.
fn read_status(stream: &mut impl Read) -> Result<u16, StatusError> {
    // `take` caps what a hostile endpoint can make us read, line break or not.
    let mut reader = io::BufReader::with_capacity(512, stream.take(MAX_HEAD));
    loop {
        let status = parse_status_line(&read_line(&mut reader)?)?;
        if !(100..200).contains(&status) {
            return Ok(status);
        }
        // An interim response (100 Continue, 103 Early Hints): skip its headers.
        while !read_line(&mut reader)?.is_empty() {}
    }
}

/// One line without its CRLF; an error at the end of the stream or at the cap.
fn read_line(reader: &mut impl io::BufRead) -> Result<Vec<u8>, StatusError> {
    let mut line = Vec::new();
    reader
        .read_until(b'\n', &mut line)
        .map_err(StatusError::Io)?;
    if line.is_empty() {
        return Err(StatusError::Bad("the connection closed without an answer"));
    }
    if line.pop() != Some(b'\n') {
        return Err(StatusError::Bad("the response head is cut off or too long"));
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(line)
}

fn parse_status_line(line: &[u8]) -> Result<u16, StatusError> {
    let text =
        std::str::from_utf8(line).map_err(|_| StatusError::Bad("the status line is not text"))?;
    let mut parts = text.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    let code = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(StatusError::Bad(
            "the status line does not start with HTTP/1.x",
        ));
    }
    match code.parse::<u16>() {
        Ok(status) if code.len() == 3 && (100..600).contains(&status) => Ok(status),
        _ => Err(StatusError::Bad(
            "the status code is not a three-digit number",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufRead;
    use std::net::TcpListener;
    use std::thread::JoinHandle;

    fn target(https: bool, host: &str, port: u16, path: &str) -> Target {
        Target {
            https,
            host: host.into(),
            port,
            path: path.into(),
        }
    }

    #[test]
    fn urls_are_split_into_scheme_host_port_and_path() {
        let cases = [
            (
                "https://hooks.example.org/a/b?x=1",
                target(true, "hooks.example.org", 443, "/a/b?x=1"),
            ),
            (
                "HTTPS://hooks.example.org",
                target(true, "hooks.example.org", 443, "/"),
            ),
            (
                "https://hooks.example.org:8443/h#frag",
                target(true, "hooks.example.org", 8443, "/h"),
            ),
            (
                "https://hooks.example.org?t=1",
                target(true, "hooks.example.org", 443, "/?t=1"),
            ),
            (
                "http://127.0.0.1:9000/hook",
                target(false, "127.0.0.1", 9000, "/hook"),
            ),
            ("http://localhost/", target(false, "localhost", 80, "/")),
            (
                "https://[2001:db8::1]:8443/x",
                target(true, "2001:db8::1", 8443, "/x"),
            ),
            ("http://[::1]/x", target(false, "::1", 80, "/x")),
        ];
        for (url, expected) in cases {
            assert_eq!(parse_url(url).unwrap(), expected, "{url}");
        }
    }

    #[test]
    fn the_host_header_brackets_ipv6_and_omits_default_ports() {
        assert_eq!(
            target(true, "h.example", 443, "/").host_header(),
            "h.example"
        );
        assert_eq!(
            target(false, "h.example", 443, "/").host_header(),
            "h.example:443"
        );
        assert_eq!(
            target(true, "2001:db8::1", 8443, "/").host_header(),
            "[2001:db8::1]:8443"
        );
    }

    #[test]
    fn unusable_urls_are_refused_with_the_reason() {
        for url in [
            "ftp://example.org/",
            "example.org/hook",
            "https://",
            "https://:443/",
            "https://h.example:0/",
            "https://h.example:99999/",
            "https://h.example:x/",
            "https://user:pw@h.example/",
            "https://h.example/a b",
            "https://h.example/a\r\nX-Evil: 1",
            "https://[::1/",
            "https://[not-ip]/",
            "https://2001:db8::1/",
        ] {
            assert!(
                matches!(parse_url(url), Err(WebhookError::InvalidUrl(_))),
                "{url}"
            );
        }
    }

    #[test]
    fn plain_http_is_refused_for_a_host_that_is_not_loopback() {
        let err = post_json(
            "http://hooks.example.org/secret-token",
            None,
            &serde_json::json!({}),
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(matches!(err, WebhookError::PlainNotAllowed { .. }), "{err}");
        assert!(!err.to_string().contains("secret-token"), "{err}");
    }

    /// What the test server saw: request line, headers (lower-case names), body.
    type Seen = (String, Vec<(String, String)>, Vec<u8>);

    /// A one-shot HTTP server on loopback answering `response`; returns its port and a handle
    /// that yields the request it received.
    fn one_shot_server(response: &'static str) -> (u16, JoinHandle<Seen>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = io::BufReader::new(stream);
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut headers = Vec::new();
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                let (name, value) = line.split_once(':').unwrap();
                headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
            }
            let length: usize = headers
                .iter()
                .find(|(n, _)| n == "content-length")
                .unwrap()
                .1
                .parse()
                .unwrap();
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            reader.get_mut().write_all(response.as_bytes()).unwrap();
            (request_line.trim_end().to_owned(), headers, body)
        });
        (port, handle)
    }

    #[test]
    fn post_sends_json_with_the_agreed_headers_and_returns_204() {
        let (port, server) =
            one_shot_server("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
        let body = serde_json::json!({"event": "new-report", "case": "2026-0042", "note": "ontvangen — ok"});
        let url = format!("http://127.0.0.1:{port}/hooks/sealdrop?token=abc");
        let status = post_json(&url, None, &body, Duration::from_secs(5)).unwrap();
        assert_eq!(status, 204);
        let (request_line, headers, received) = server.join().unwrap();
        assert_eq!(request_line, "POST /hooks/sealdrop?token=abc HTTP/1.1");
        let header = |name: &str| {
            let values: Vec<&str> = headers
                .iter()
                .filter(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
                .collect();
            assert_eq!(values.len(), 1, "{name}: {values:?}");
            values[0].to_owned()
        };
        assert_eq!(header("host"), format!("127.0.0.1:{port}"));
        assert_eq!(header("content-type"), "application/json");
        assert_eq!(header("content-length"), received.len().to_string());
        assert_eq!(header("connection"), "close");
        assert_eq!(header("user-agent"), "sealdrop");
        let parsed: serde_json::Value = serde_json::from_slice(&received).unwrap();
        assert_eq!(parsed, body);
    }

    #[test]
    fn a_500_answer_is_an_error_naming_the_status() {
        let (port, server) =
            one_shot_server("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
        let url = format!("http://localhost:{port}/secret-path");
        let err = post_json(
            &url,
            None,
            &serde_json::json!({"a": 1}),
            Duration::from_secs(5),
        )
        .unwrap_err();
        server.join().unwrap();
        assert!(
            matches!(err, WebhookError::Status { status: 500, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("500"), "{err}");
        assert!(!err.to_string().contains("secret-path"), "{err}");
    }

    #[test]
    fn interim_responses_are_skipped() {
        let mut answer: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.0 201 Created\r\n\r\n";
        assert!(matches!(read_status(&mut answer), Ok(201)));
    }

    #[test]
    fn odd_or_endless_status_lines_are_bad_responses() {
        let endless = vec![b'H'; 100_000];
        let answers: [&[u8]; 5] = [
            b"",
            b"SSH-2.0-OpenSSH\r\n",
            b"HTTP/1.1 20 OK\r\n",
            b"HTTP/1.1 2000 OK\r\n",
            &endless,
        ];
        for mut answer in answers {
            assert!(matches!(read_status(&mut answer), Err(StatusError::Bad(_))));
        }
    }

    #[test]
    fn a_silent_endpoint_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (s, _) = listener.accept().unwrap();
            std::thread::sleep(Duration::from_millis(1500));
            drop(s);
        });
        let url = format!("http://127.0.0.1:{port}/");
        let err = post_json(
            &url,
            None,
            &serde_json::json!({}),
            Duration::from_millis(300),
        )
        .unwrap_err();
        assert!(matches!(err, WebhookError::Timeout { .. }), "{err}");
        server.join().unwrap();
    }
}
