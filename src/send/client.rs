//! The HTTP side of `sealdrop send`: tus 1.0 requests and the report that names the finished
//! uploads, through `ureq` (rustls with ring; the system's CAs plus `--ca-file`).

use super::SendError;
use crate::tus::metadata;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use ureq::tls::{RootCerts, TlsConfig};

/// A portal's API, spoken over one agent.
pub struct Portal {
    agent: ureq::Agent,
    base: String,
}

/// A transport failure (worth retrying) or an answer (maybe an error the portal explained).
pub enum Outcome {
    /// The connection failed: retry.
    Transport(String),
    /// The portal answered.
    Answer {
        /// HTTP status.
        status: u16,
        /// `Upload-Offset` or `Location`, where the request has one.
        header: Option<String>,
        /// The body (error JSON or receipt).
        body: String,
    },
}

fn roots(ca_file: Option<&Path>) -> Result<RootCerts, SendError> {
    let certs =
        crate::outbound::webhook::trust_roots(ca_file).map_err(|problem| SendError::Input {
            what: "--ca-file".into(),
            problem,
        })?;
    Ok(RootCerts::Specific(Arc::new(certs)))
}

impl Portal {
    /// An agent for `portal` (its base URL, `https://…`, or `http://` on loopback).
    pub fn new(
        portal: &str,
        ca_file: Option<&Path>,
        timeout: Duration,
    ) -> Result<Portal, SendError> {
        let base = portal.trim_end_matches('/').to_owned();
        let https = base.starts_with("https://");
        if !https && !base.starts_with("http://") {
            return Err(SendError::Portal(format!(
                "{portal} is not an http:// or https:// address"
            )));
        }
        let mut config = ureq::Agent::config_builder()
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_recv_response(Some(timeout))
            .timeout_send_body(Some(timeout))
            .max_redirects(0)
            .http_status_as_error(false)
            .user_agent("sealdrop-send");
        if https {
            config = config.tls_config(TlsConfig::builder().root_certs(roots(ca_file)?).build());
        }
        Ok(Portal {
            agent: config.build().into(),
            base,
        })
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }

    fn outcome(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>, header: &str) -> Outcome {
        match r {
            Err(e) => Outcome::Transport(e.to_string()),
            Ok(mut res) => {
                let status = res.status().as_u16();
                let header = res
                    .headers()
                    .get(header)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let body = res
                    .body_mut()
                    .with_config()
                    .limit(1 << 20)
                    .read_to_string()
                    .unwrap_or_default();
                Outcome::Answer {
                    status,
                    header,
                    body,
                }
            }
        }
    }

    /// POST: creates an upload of `length` bytes; the answer's `Location`.
    pub fn create(&self, length: u64, name: &str) -> Outcome {
        let meta = format!("filename {}", metadata::encode(name.as_bytes()));
        let r = self
            .agent
            .post(self.url(crate::tus::BASE))
            .header("Tus-Resumable", crate::tus::VERSION)
            .header("Upload-Length", length.to_string())
            .header("Upload-Metadata", meta)
            .send_empty();
        Portal::outcome(r, "location")
    }

    /// HEAD: the upload's `Upload-Offset`.
    pub fn offset(&self, location: &str) -> Outcome {
        let r = self
            .agent
            .head(self.url(location))
            .header("Tus-Resumable", crate::tus::VERSION)
            .call();
        Portal::outcome(r, "upload-offset")
    }

    /// PATCH: one piece from `offset`; the answer's `Upload-Offset`.
    pub fn patch(&self, location: &str, offset: u64, piece: &[u8]) -> Outcome {
        let r = self
            .agent
            .patch(self.url(location))
            .header("Tus-Resumable", crate::tus::VERSION)
            .header("Upload-Offset", offset.to_string())
            .header("Content-Type", crate::tus::OFFSET_STREAM)
            .send(piece);
        Portal::outcome(r, "upload-offset")
    }

    /// POST /api/v1/submissions naming the finished uploads.
    pub fn commit(&self, fields: &[(&str, &str)]) -> Outcome {
        let boundary = format!(
            "sealdrop-send-{}",
            crate::tus::UploadId::generate().as_str()
        );
        let mut body = String::new();
        for (name, value) in fields {
            body.push_str(&format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            ));
        }
        body.push_str(&format!("--{boundary}--\r\n"));
        let r = self
            .agent
            .post(self.url("/api/v1/submissions"))
            .header(
                "Content-Type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .header("Accept", "application/json")
            .send(body.as_str());
        Portal::outcome(r, "content-type")
    }
}
