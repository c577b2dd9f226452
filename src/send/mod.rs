//! `sealdrop send`: a report from the terminal through the portal's resumable path. Each file
//! goes up in pieces (tus 1.0); a dropped connection is retried with backoff from the offset
//! the portal confirms (HEAD), an upload the portal forgot (it restarted) starts again; then
//! one request names the finished uploads with the category, message and contact.
//!
//! What is never retried: a certificate the client refuses (retrying cannot fix it), an
//! address that would send the report in clear, and an upload address off the portal's origin.
//! A portal that has not answered once is tried [`FIRST_CONTACT_TRIES`] times at most: a
//! mistyped name or port should not look like a bad line for minutes. Every retry says so on
//! standard error.

mod address;
mod client;
mod error;
mod progress;

use client::{Outcome, Portal};
pub use error::SendError;
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
    /// Retries per request after a dropped connection or a busy portal (once the portal has
    /// answered; before that, see [`FIRST_CONTACT_TRIES`]).
    pub retries: u32,
    /// Extra CA certificates (PEM) to trust.
    pub ca_file: Option<PathBuf>,
}

/// The portal's receipt (JSON) and the reference in it.
pub struct Sent {
    /// The receipt as the portal sent it.
    pub receipt: serde_json::Value,
}

/// The portal's error code (or `HTTP status`) and message from an error answer.
fn code_of(status: u16, body: &str) -> (String, String) {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    (
        v["error"]["code"]
            .as_str()
            .map_or_else(|| format!("HTTP {status}"), str::to_owned),
        v["error"]["message"].as_str().unwrap_or("").to_owned(),
    )
}

fn refused(status: u16, body: &str) -> SendError {
    let (code, message) = code_of(status, body);
    SendError::Refused { code, message }
}

/// Worth another try: the connection, the server's own trouble, or a piece still running.
fn transient(status: u16) -> bool {
    status >= 500 || status == 423 || status == 409 || status == 408 || status == 429
}

/// Tries (the first and its retries) to reach a portal that has not answered yet in this run:
/// enough for a brief hiccup, few enough that a wrong address fails within seconds (plus the
/// connect timeout of each try when packets vanish).
pub const FIRST_CONTACT_TRIES: u32 = 3;

/// How many retries a request gets after `outcome`, a transport failure or a transient answer.
fn retries_after(portal: &Portal, req: &Request, outcome: &Outcome) -> u32 {
    match outcome {
        Outcome::Transport(_) if !portal.answered() => {
            req.retries.min(FIRST_CONTACT_TRIES.saturating_sub(1))
        }
        _ => req.retries,
    }
}

/// Waits before retry `attempt` (of `retries`) and says so, with why.
fn backoff(bar: &progress::Bar, attempt: u32, retries: u32, why: &Outcome) {
    let millis = 250 * (1u64 << attempt.min(5)).min(30);
    let why = match why {
        Outcome::Transport(e) => format!("the connection failed ({e})"),
        Outcome::Answer { status, body, .. } => {
            format!("the portal answered {}", code_of(*status, body).0)
        }
        Outcome::Certificate(_, e) => e.clone(),
    };
    // `why` can quote what the portal sent.
    bar.note(&crate::open::terminal_safe(&format!(
        "sealdrop: {why}; trying again in {:.1} s (try {} of {})",
        millis as f64 / 1000.0,
        attempt + 1,
        retries + 1
    )));
    std::thread::sleep(Duration::from_millis(millis));
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
    let mut uploads = Vec::new();
    let mut base = 0;
    for (path, size) in req.files.iter().zip(sizes) {
        uploads.push(upload_file(&portal, req, path, (base, size), &bar)?);
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
    for u in &uploads {
        fields.push(("upload", u.as_str()));
    }
    let body = with_retries(
        &portal,
        req,
        &bar,
        || portal.commit(&fields),
        |_, body| Some(body),
    )?;
    let receipt = serde_json::from_str(&body)
        .map_err(|e| SendError::Portal(format!("the portal's receipt is not JSON: {e}")))?;
    Ok(Sent { receipt })
}

/// What ends a request for good: a refused certificate, a final refusal, or retries used up
/// (`attempt` of `retries`). `None`: worth another try.
fn final_failure(
    portal: &Portal,
    outcome: &Outcome,
    attempt: u32,
    retries: u32,
) -> Option<SendError> {
    match outcome {
        Outcome::Certificate(problem, detail) => Some(SendError::Certificate {
            problem: *problem,
            detail: detail.clone(),
        }),
        Outcome::Answer { status, body, .. } if !transient(*status) || attempt >= retries => {
            Some(refused(*status, body))
        }
        Outcome::Transport(e) if attempt >= retries && !portal.answered() => {
            Some(SendError::NoContact {
                portal: portal.base().to_owned(),
                tries: attempt + 1,
                problem: e.clone(),
            })
        }
        Outcome::Transport(e) if attempt >= retries => Some(SendError::Unreachable(e.clone())),
        _ => None,
    }
}

/// Sends one request until it gets a `201` (`take` turns its header and body into the
/// answer; `None` counts as a refusal) or a final failure, retrying transport failures and
/// transient statuses with backoff.
fn with_retries<T>(
    portal: &Portal,
    req: &Request,
    bar: &progress::Bar,
    mut send: impl FnMut() -> Outcome,
    take: impl Fn(Option<String>, String) -> Option<T>,
) -> Result<T, SendError> {
    let mut attempt = 0;
    loop {
        let outcome = send();
        if let Outcome::Answer {
            status: 201,
            header,
            body,
        } = outcome
        {
            let shown = body.clone();
            return take(header, body).ok_or_else(|| refused(201, &shown));
        }
        let retries = retries_after(portal, req, &outcome);
        if let Some(e) = final_failure(portal, &outcome, attempt, retries) {
            return Err(e);
        }
        attempt += 1;
        backoff(bar, attempt, retries, &outcome);
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
        let upload = create(portal, req, bar, size, &name)?;
        let mut offset = 0u64;
        let mut attempt = 0;
        bar.set(&name, base, 0);
        while offset < size {
            let n = (size - offset).min(piece.len() as u64) as usize;
            file.seek(SeekFrom::Start(offset)).map_err(io_err(path))?;
            file.read_exact(&mut piece[..n]).map_err(io_err(path))?;
            let outcome = portal.patch(&upload, offset, &piece[..n]);
            if let Outcome::Answer {
                status: 204,
                header: Some(o),
                ..
            } = &outcome
            {
                offset = o.parse().unwrap_or(offset);
                bar.set(&name, base, offset);
                attempt = 0;
                continue;
            }
            let retries = retries_after(portal, req, &outcome);
            if let Some(e) = final_failure(portal, &outcome, attempt, retries) {
                return Err(match e {
                    SendError::Unreachable(last) => SendError::Unreachable(format!(
                        "{} failed attempts at one piece; the last: {last}",
                        attempt + 1
                    )),
                    e => e,
                });
            }
            // Dropped or refused for now: wait, then ask where the upload stands.
            attempt += 1;
            backoff(bar, attempt, retries, &outcome);
            match portal.offset(&upload) {
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
                Outcome::Certificate(problem, detail) => {
                    return Err(SendError::Certificate { problem, detail });
                }
                _ => {}
            }
            bar.set(&name, base, offset);
        }
        return Ok(upload);
    }
}

/// Creates an upload of `size` bytes; its address, checked to be on the portal's origin.
fn create(
    portal: &Portal,
    req: &Request,
    bar: &progress::Bar,
    size: u64,
    name: &str,
) -> Result<String, SendError> {
    let location = with_retries(
        portal,
        req,
        bar,
        || portal.create(size, name),
        |location, _| location,
    )?;
    portal.upload_url(&location)
}
