//! `sealdrop send`: a report from the terminal through the portal's resumable path. Each file
//! goes up in pieces (tus 1.0); a dropped connection is retried with backoff from the offset
//! the portal confirms (HEAD), an upload the portal forgot (it restarted) starts again; then
//! one request names the finished uploads with the category, message and contact.

mod client;
mod progress;

use client::{Outcome, Portal};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What to send.
pub struct Request {
    /// The portal's address (`https://portal.example.org`).
    pub portal: String,
    /// The category.
    pub category: String,
    /// The message (read from `--message-file`).
    pub message: String,
    /// Contact details.
    pub contact: String,
    /// The name or handle to be credited as (empty: anonymous).
    pub credit: String,
    /// The files.
    pub files: Vec<PathBuf>,
    /// Bytes per piece.
    pub piece_size: u64,
    /// Attempts per request before giving up.
    pub retries: u32,
    /// Extra CA certificates (PEM) to trust.
    pub ca_file: Option<PathBuf>,
}

/// Why sending failed.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// A file or the message could not be read.
    #[error("cannot read {what}: {problem}")]
    Input {
        /// Which file.
        what: String,
        /// Why.
        problem: String,
    },
    /// The portal address is unusable.
    #[error("{0}")]
    Portal(String),
    /// The portal could not be reached, also after retrying.
    #[error("the portal could not be reached: {0}")]
    Unreachable(String),
    /// The portal refused (its code and message).
    #[error("the portal refused ({code}): {message}")]
    Refused {
        /// The stable code.
        code: String,
        /// The portal's message.
        message: String,
    },
}

impl crate::hint::Hint for SendError {
    fn hint(&self) -> Option<String> {
        Some(
            match self {
                SendError::Input { .. } => "check the paths given; every FILE must be readable",
                SendError::Portal(_) => "give the portal's address, e.g. --portal https://portal.example.org",
                SendError::Unreachable(_) => {
                    "check your connection and run the same command again; nothing was submitted"
                }
                SendError::Refused { .. } => {
                    "the message above says what to change; nothing was submitted unless a reference was printed"
                }
            }
            .into(),
        )
    }
}

/// The portal's receipt (JSON) and the reference in it.
pub struct Sent {
    /// The receipt as the portal sent it.
    pub receipt: serde_json::Value,
}

fn refused(status: u16, body: &str) -> SendError {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    SendError::Refused {
        code: v["error"]["code"]
            .as_str()
            .map_or_else(|| format!("HTTP {status}"), str::to_owned),
        message: v["error"]["message"].as_str().unwrap_or("").to_owned(),
    }
}

/// Worth another try: the connection, the server's own trouble, or a piece still running.
fn transient(status: u16) -> bool {
    status >= 500 || status == 423 || status == 409 || status == 408 || status == 429
}

fn backoff(attempt: u32) {
    let secs = (1u64 << attempt.min(5)).min(30);
    std::thread::sleep(Duration::from_millis(250 * secs));
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> SendError + '_ {
    move |e| SendError::Input {
        what: path.display().to_string(),
        problem: e.to_string(),
    }
}

/// Uploads every file, then commits the report.
pub fn send(req: &Request) -> Result<Sent, SendError> {
    let portal = Portal::new(
        &req.portal,
        req.ca_file.as_deref(),
        Duration::from_secs(120),
    )?;
    let mut sizes = Vec::new();
    for f in &req.files {
        sizes.push(std::fs::metadata(f).map_err(io_err(f))?.len());
    }
    let bar = progress::Bar::new(sizes.iter().sum());
    let mut locations = Vec::new();
    let mut base = 0;
    for (path, size) in req.files.iter().zip(sizes) {
        locations.push(upload_file(&portal, req, path, (base, size), &bar)?);
        base += size;
    }
    bar.finish();
    let mut fields: Vec<(&str, &str)> = vec![
        ("category", req.category.as_str()),
        ("message", req.message.as_str()),
        ("contact", req.contact.as_str()),
    ];
    if !req.credit.trim().is_empty() {
        fields.push(("credit", req.credit.as_str()));
    }
    for l in &locations {
        fields.push(("upload", l.as_str()));
    }
    let body = with_retries(req, || portal.commit(&fields), |_, body| Some(body))?;
    let receipt = serde_json::from_str(&body)
        .map_err(|e| SendError::Portal(format!("the portal's receipt is not JSON: {e}")))?;
    Ok(Sent { receipt })
}

/// Sends one request until it gets a `201` (`take` turns its header and body into the
/// answer; `None` counts as a refusal) or a final refusal, retrying transport failures and
/// transient statuses with backoff up to `req.retries` times.
fn with_retries<T>(
    req: &Request,
    mut send: impl FnMut() -> Outcome,
    take: impl Fn(Option<String>, String) -> Option<T>,
) -> Result<T, SendError> {
    let mut attempt = 0;
    loop {
        match send() {
            Outcome::Answer {
                status: 201,
                header,
                body,
            } => {
                let shown = body.clone();
                return take(header, body).ok_or_else(|| refused(201, &shown));
            }
            Outcome::Answer { status, body, .. }
                if !transient(status) || attempt >= req.retries =>
            {
                return Err(refused(status, &body));
            }
            Outcome::Transport(e) if attempt >= req.retries => {
                return Err(SendError::Unreachable(e));
            }
            _ => {}
        }
        attempt += 1;
        backoff(attempt);
    }
}

/// Uploads one file; returns its upload's address.
fn upload_file(
    portal: &Portal,
    req: &Request,
    path: &Path,
    (base, size): (u64, u64),
    bar: &progress::Bar,
) -> Result<String, SendError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut file = std::fs::File::open(path).map_err(io_err(path))?;
    let mut piece = vec![0u8; req.piece_size.min(size.max(1)) as usize];
    let mut restarts = 0;
    'upload: loop {
        let location = create(portal, req, size, &name)?;
        let mut offset = 0u64;
        let mut attempt = 0;
        bar.set(&name, base, 0);
        while offset < size {
            let n = (size - offset).min(piece.len() as u64) as usize;
            file.seek(SeekFrom::Start(offset)).map_err(io_err(path))?;
            file.read_exact(&mut piece[..n]).map_err(io_err(path))?;
            match portal.patch(&location, offset, &piece[..n]) {
                Outcome::Answer {
                    status: 204,
                    header: Some(o),
                    ..
                } => {
                    offset = o.parse().unwrap_or(offset);
                    bar.set(&name, base, offset);
                    attempt = 0;
                    continue;
                }
                Outcome::Answer { status, body, .. } if !transient(status) => {
                    return Err(refused(status, &body));
                }
                _ if attempt >= req.retries => {
                    return Err(SendError::Unreachable(
                        "too many failed attempts at one piece".into(),
                    ));
                }
                _ => {}
            }
            // Dropped or refused for now: wait, then ask where the upload stands.
            attempt += 1;
            backoff(attempt);
            match portal.offset(&location) {
                Outcome::Answer {
                    status: 200,
                    header: Some(o),
                    ..
                } => offset = o.parse().unwrap_or(offset),
                Outcome::Answer { status: 404, .. } if restarts < 3 => {
                    // The portal forgot the upload (restart or expiry): start this file again.
                    restarts += 1;
                    continue 'upload;
                }
                Outcome::Answer { status, body, .. } if !transient(status) => {
                    return Err(refused(status, &body));
                }
                _ => {}
            }
            bar.set(&name, base, offset);
        }
        return Ok(location);
    }
}

fn create(portal: &Portal, req: &Request, size: u64, name: &str) -> Result<String, SendError> {
    with_retries(req, || portal.create(size, name), |location, _| location)
}
