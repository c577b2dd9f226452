//! Webhook notifications through `ureq` (the only module that uses it): one JSON POST per call,
//! over HTTPS verified against the system roots plus an optional CA file (plain HTTP only to
//! loopback), no redirects, one overall timeout. URLs may carry secret tokens, so errors and
//! logs name the host, never the path.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use ureq::tls::{Certificate, RootCerts, TlsConfig};

/// Why a webhook POST failed.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// The URL cannot be used.
    #[error("notify.webhook_url is not usable: {0}; write it as https://host[:port]/path")]
    InvalidUrl(&'static str),
    /// Plain HTTP to a host that is not on this machine.
    #[error(
        "refusing to post to {host} over plain HTTP: notify.webhook_url must use https:// unless the host is localhost or a loopback address"
    )]
    PlainNotAllowed {
        /// The URL's host.
        host: String,
    },
    /// No trusted CA could be loaded, or the CA file is unusable.
    #[error("{0}; install the ca-certificates package or set notify.webhook_ca_file to a PEM file")]
    Roots(String),
    /// The host did not answer in time.
    #[error("the webhook host {host} did not answer within {}s; check that it is up, or raise notify.timeout", timeout.as_secs())]
    Timeout {
        /// The URL's host.
        host: String,
        /// The overall timeout.
        timeout: Duration,
    },
    /// No connection, TLS failure, or not HTTP.
    #[error(
        "posting to the webhook host {host} failed: {detail}; check notify.webhook_url, and notify.webhook_ca_file if it uses a private CA"
    )]
    Transport {
        /// The URL's host.
        host: String,
        /// The client's reason (it names no path).
        detail: String,
    },
    /// A status other than 2xx (redirects are not followed).
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

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The scheme and host of `url`, checked: http(s) only, no user info, no whitespace.
fn target(url: &str) -> Result<(bool, String), WebhookError> {
    let uri: ureq::http::Uri = url
        .parse()
        .map_err(|_| WebhookError::InvalidUrl("it is not a URL"))?;
    let https = match uri.scheme_str() {
        Some(s) if s.eq_ignore_ascii_case("https") => true,
        Some(s) if s.eq_ignore_ascii_case("http") => false,
        _ => return Err(WebhookError::InvalidUrl("it must start with https://")),
    };
    let authority = uri
        .authority()
        .ok_or(WebhookError::InvalidUrl("it has no host"))?;
    if authority.as_str().contains('@') {
        return Err(WebhookError::InvalidUrl(
            "user names and passwords in the URL are not supported",
        ));
    }
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    if host.is_empty() {
        return Err(WebhookError::InvalidUrl("it has no host"));
    }
    Ok((https, host.to_owned()))
}

/// The system's trusted CAs plus those in the PEM file `ca_file` (for every HTTPS client of
/// this crate: webhooks and `sealdrop send`); the error names the file.
pub fn trust_roots(ca_file: Option<&Path>) -> Result<Vec<Certificate<'static>>, String> {
    let mut certs: Vec<Certificate<'static>> = rustls_native_certs::load_native_certs()
        .certs
        .into_iter()
        .map(|c| Certificate::from_der(c.as_ref()).to_owned())
        .collect();
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        for item in ureq::tls::parse_pem(&pem) {
            if let Ok(ureq::tls::PemItem::Certificate(c)) = item {
                certs.push(c);
            }
        }
    }
    Ok(certs)
}

/// The roots a webhook is checked against: never none.
fn roots(ca_file: Option<&Path>) -> Result<RootCerts, WebhookError> {
    let certs = trust_roots(ca_file)
        .map_err(|e| WebhookError::Roots(format!("notify.webhook_ca_file {e}")))?;
    if certs.is_empty() {
        return Err(WebhookError::Roots(
            "no trusted CA certificates found".into(),
        ));
    }
    Ok(RootCerts::Specific(Arc::new(certs)))
}

/// POSTs `body` as JSON to `url` and returns the HTTP status when it is 2xx. `timeout` bounds
/// the whole exchange. The response body is not read.
pub fn post_json(
    url: &str,
    ca_file: Option<&Path>,
    body: &serde_json::Value,
    timeout: Duration,
) -> Result<u16, WebhookError> {
    let (https, host) = target(url)?;
    if !https && !is_loopback(&host) {
        return Err(WebhookError::PlainNotAllowed { host });
    }
    let mut config = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .max_redirects(0)
        .http_status_as_error(false)
        .user_agent("sealdrop");
    if https {
        config = config.tls_config(TlsConfig::builder().root_certs(roots(ca_file)?).build());
    }
    let agent: ureq::Agent = config.build().into();
    let json = body.to_string();
    let response = agent
        .post(url)
        .header("Content-Type", "application/json")
        .send(json.as_str())
        .map_err(|e| match e {
            ureq::Error::Timeout(_) => WebhookError::Timeout {
                host: host.clone(),
                timeout,
            },
            // ureq's texts of these name the host at most, never the path.
            other => WebhookError::Transport {
                host: host.clone(),
                detail: transport_detail(&other),
            },
        })?;
    let status = response.status().as_u16();
    tracing::debug!(host, status, "webhook: answered");
    if (200..300).contains(&status) {
        Ok(status)
    } else {
        Err(WebhookError::Status { host, status })
    }
}

/// A short reason for a transport failure, without the URL.
fn transport_detail(e: &ureq::Error) -> String {
    match e {
        ureq::Error::Io(io) => io.kind().to_string(),
        ureq::Error::HostNotFound => "the host name does not resolve".into(),
        ureq::Error::Tls(t) => format!("TLS: {t}"),
        ureq::Error::Rustls(t) => format!("TLS: {t}"),
        ureq::Error::Protocol(_) => "the answer is not HTTP".into(),
        _ => "the request failed".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};

    #[test]
    fn unusable_urls_are_refused_with_the_reason() {
        for (url, why) in [
            ("ftp://example.org/x", "https://"),
            ("https://user:pw@example.org/x", "passwords"),
            ("not a url", "not a URL"),
        ] {
            let err = target(url).unwrap_err().to_string();
            assert!(err.contains(why), "{url}: {err}");
        }
        assert_eq!(
            target("https://[2001:db8::1]:8443/h?t=1").unwrap(),
            (true, "2001:db8::1".to_owned())
        );
    }

    #[test]
    fn plain_http_is_refused_for_a_host_that_is_not_loopback() {
        let body = serde_json::json!({});
        let err =
            post_json("http://example.org/h", None, &body, Duration::from_secs(1)).unwrap_err();
        assert!(matches!(err, WebhookError::PlainNotAllowed { .. }), "{err}");
    }

    /// What the one-shot server received: request line, headers, body.
    type Received = (String, Vec<(String, String)>, Vec<u8>);

    /// Answers one request with `response`; returns the port and what it received.
    fn one_shot_server(response: &'static str) -> (u16, std::thread::JoinHandle<Received>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream);
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
        let (line, headers, sent) = server.join().unwrap();
        assert_eq!(line, "POST /hooks/sealdrop?token=abc HTTP/1.1");
        let h = |n: &str| {
            headers
                .iter()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(h("content-type"), Some("application/json"));
        assert_eq!(h("user-agent"), Some("sealdrop"));
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&sent).unwrap(),
            body
        );
    }

    #[test]
    fn a_500_or_a_redirect_is_an_error_naming_the_status_but_not_the_path() {
        for (answer, status) in [
            (
                "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                500,
            ),
            (
                "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:9/elsewhere\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                302,
            ),
        ] {
            let (port, server) = one_shot_server(answer);
            let url = format!("http://127.0.0.1:{port}/secret-path-token");
            let err =
                post_json(&url, None, &serde_json::json!({}), Duration::from_secs(5)).unwrap_err();
            assert!(
                matches!(err, WebhookError::Status { status: s, .. } if s == status),
                "{err}"
            );
            assert!(!err.to_string().contains("secret-path-token"), "{err}");
            server.join().unwrap();
        }
    }

    #[test]
    fn a_silent_endpoint_times_out() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hold = std::thread::spawn(move || {
            let conn = listener.accept();
            std::thread::sleep(Duration::from_secs(3));
            drop(conn);
        });
        let url = format!("http://127.0.0.1:{port}/h");
        let err = post_json(
            &url,
            None,
            &serde_json::json!({}),
            Duration::from_millis(500),
        )
        .unwrap_err();
        assert!(matches!(err, WebhookError::Timeout { .. }), "{err}");
        hold.join().unwrap();
    }
}
