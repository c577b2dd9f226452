//! The HTTP side of `sealdrop send`: tus 1.0 requests and the report that names the finished
//! uploads, through `ureq` (rustls with ring; the system's CAs plus `--ca-file`), to the
//! address `address` allows and nowhere else.

use super::SendError;
use super::address::PortalAddress;
use crate::http::tls::{CertificateProblem, certificate_problem};
use crate::tus::metadata;
use std::cell::Cell;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use ureq::tls::{RootCerts, TlsConfig};

/// A portal's API, spoken over one agent.
pub struct Portal {
    agent: ureq::Agent,
    address: PortalAddress,
    /// Whether the portal has answered any request yet.
    answered: Cell<bool>,
}

/// A transport failure (worth retrying), a certificate refused (final), or an answer (maybe an
/// error the portal explained).
pub enum Outcome {
    /// The connection failed: retry.
    Transport(String),
    /// The portal's certificate was refused: retrying cannot help.
    Certificate(CertificateProblem, String),
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
    /// An agent for `portal` (its base URL: `https://…`, or `http://` to this computer only).
    pub fn new(
        portal: &str,
        ca_file: Option<&Path>,
        timeout: Duration,
    ) -> Result<Portal, SendError> {
        let address = PortalAddress::parse(portal)?;
        let mut config = ureq::Agent::config_builder()
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_recv_response(Some(timeout))
            .timeout_send_body(Some(timeout))
            .max_redirects(0)
            .http_status_as_error(false)
            .user_agent("sealdrop-send");
        if address.https() {
            config = config.tls_config(TlsConfig::builder().root_certs(roots(ca_file)?).build());
        }
        Ok(Portal {
            agent: config.build().into(),
            address,
            answered: Cell::new(false),
        })
    }

    /// The portal's address as given.
    pub fn base(&self) -> &str {
        self.address.base()
    }

    /// Whether the portal has answered a request of this run: until it has, a failed
    /// connection more likely means a wrong address than a bad line.
    pub fn answered(&self) -> bool {
        self.answered.get()
    }

    /// The address of an upload from the `Location` of its creation: on the portal's origin,
    /// or refused.
    pub fn upload_url(&self, location: &str) -> Result<String, SendError> {
        self.address
            .resolve(location, &self.address.url(crate::tus::BASE))
    }

    fn outcome(
        &self,
        r: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
        header: &str,
    ) -> Outcome {
        match r {
            Err(e) => {
                let problem = match &e {
                    ureq::Error::Rustls(inner) => certificate_problem(inner),
                    ureq::Error::Io(inner) => certificate_problem(inner),
                    _ => None,
                };
                match problem {
                    Some(p) => Outcome::Certificate(p, e.to_string()),
                    None => Outcome::Transport(e.to_string()),
                }
            }
            Ok(mut res) => {
                self.answered.set(true);
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
            .post(self.address.url(crate::tus::BASE))
            .header("Tus-Resumable", crate::tus::VERSION)
            .header("Upload-Length", length.to_string())
            .header("Upload-Metadata", meta)
            .send_empty();
        self.outcome(r, "location")
    }

    /// HEAD: the upload's `Upload-Offset` (`upload` from [`Portal::upload_url`]).
    pub fn offset(&self, upload: &str) -> Outcome {
        let r = self
            .agent
            .head(upload)
            .header("Tus-Resumable", crate::tus::VERSION)
            .call();
        self.outcome(r, "upload-offset")
    }

    /// PATCH: one piece from `offset`; the answer's `Upload-Offset`.
    pub fn patch(&self, upload: &str, offset: u64, piece: &[u8]) -> Outcome {
        let r = self
            .agent
            .patch(upload)
            .header("Tus-Resumable", crate::tus::VERSION)
            .header("Upload-Offset", offset.to_string())
            .header("Content-Type", crate::tus::OFFSET_STREAM)
            .send(piece);
        self.outcome(r, "upload-offset")
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
            .post(self.address.url("/api/v1/submissions"))
            .header(
                "Content-Type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .header("Accept", "application/json")
            .send(body.as_str());
        self.outcome(r, "content-type")
    }
}
