//! The CLI side of the admin socket: a small HTTP/1.1 client over a Unix socket
//! (one request per connection, chunked or sized bodies) that reads every answer into its
//! `adminapi` type.

use crate::adminapi::{ErrorBody, ErrorCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

/// Why talking to the server failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// No server is listening.
    #[error("cannot reach the sealdrop server at {path}: {source}")]
    Connect {
        /// The socket.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The exchange broke off.
    #[error("the server's answer broke off: {0}")]
    Io(#[from] io::Error),
    /// The answer does not have the shape of the route's type.
    #[error("the server's answer (HTTP {status}) does not fit this sealdrop: {problem}")]
    Unreadable {
        /// HTTP status.
        status: u16,
        /// What did not fit.
        problem: String,
    },
    /// The server answered with an error.
    #[error("{message} ({code})")]
    Server {
        /// HTTP status.
        status: u16,
        /// Stable error code.
        code: ErrorCode,
        /// Human message.
        message: String,
        /// What to do next, when the server says.
        hint: Option<String>,
    },
}

impl crate::hint::Hint for AdminError {
    fn hint(&self) -> Option<String> {
        match self {
            AdminError::Connect { .. } => Some(
                "start the server with `sealdrop serve --config FILE`, and pass the same --config \
                 here (admin commands talk to the running server through server.admin_socket)"
                    .into(),
            ),
            AdminError::Unreadable { .. } => {
                Some("run the same version of sealdrop as the server (`sealdrop --version`)".into())
            }
            AdminError::Server { hint: Some(h), .. } => Some(h.clone()),
            AdminError::Server {
                code: ErrorCode::NotFound,
                ..
            } => Some("`sealdrop admin list` shows the case numbers".into()),
            AdminError::Server {
                code: ErrorCode::Internal,
                ..
            } => Some("the server's log says what failed".into()),
            AdminError::Io(_) | AdminError::Server { .. } => None,
        }
    }
}

/// A response whose body is still to be read.
pub struct Response {
    /// HTTP status.
    pub status: u16,
    body: Body,
}

enum Body {
    Sized(io::Take<BufReader<UnixStream>>),
    Chunked(Chunked),
    ToEnd(BufReader<UnixStream>),
}

impl Read for Response {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.body {
            Body::Sized(r) => r.read(buf),
            Body::Chunked(r) => r.read(buf),
            Body::ToEnd(r) => r.read(buf),
        }
    }
}

/// Sends `GET path` to the socket and reads the response head.
pub fn get(socket: &Path, path: &str) -> Result<Response, AdminError> {
    send(socket, "GET", path, None)
}

/// A request body: content type, length and the bytes.
pub type RequestBody<'a> = (&'a str, u64, &'a mut dyn Read);

/// Sends a request (with an optional body) and reads the response head.
pub fn send(
    socket: &Path,
    method: &str,
    path: &str,
    body: Option<RequestBody<'_>>,
) -> Result<Response, AdminError> {
    let mut stream = UnixStream::connect(socket).map_err(|source| AdminError::Connect {
        path: socket.to_owned(),
        source,
    })?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
    )?;
    match body {
        Some((content_type, len, reader)) => {
            write!(
                stream,
                "Content-Type: {content_type}\r\nContent-Length: {len}\r\n\r\n"
            )?;
            let sent = io::copy(&mut reader.take(len), &mut stream)?;
            if sent != len {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the file changed while it was sent",
                )
                .into());
            }
        }
        None => write!(stream, "\r\n")?,
    }
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::other("not an HTTP response"))?;
    let (mut length, mut chunked) = (None, false);
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "headers cut off").into());
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((name, value)) = l.split_once(':') {
            let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
            if name == "content-length" {
                length = value.parse::<u64>().ok();
            } else if name == "transfer-encoding" && value.eq_ignore_ascii_case("chunked") {
                chunked = true;
            }
        }
    }
    let body = if chunked {
        Body::Chunked(Chunked {
            inner: reader,
            left: 0,
            done: false,
        })
    } else if let Some(n) = length {
        Body::Sized(reader.take(n))
    } else {
        Body::ToEnd(reader)
    };
    Ok(Response { status, body })
}

/// Calls operation `O` (on case `case` when its route names one): a read as `GET` with the
/// request as the query, a change as `POST` with it as JSON; the answer read into its type.
pub fn call<O: crate::adminapi::op::Operation>(
    socket: &Path,
    case: Option<&str>,
    request: &O::Request,
) -> Result<O::Answer, AdminError> {
    let path = match case {
        Some(c) => crate::adminapi::route::with(O::ROUTE, c),
        None => O::ROUTE.to_owned(),
    };
    match O::METHOD {
        crate::adminapi::op::Method::Get => {
            let q = serde_urlencoded::to_string(request).map_err(io::Error::other)?;
            let path = if q.is_empty() {
                path
            } else {
                format!("{path}?{q}")
            };
            get_json(socket, &path)
        }
        crate::adminapi::op::Method::Post => post_json(socket, &path, request),
    }
}

/// `GET path`, read into `T`; a non-2xx answer becomes `AdminError::Server`.
pub fn get_json<T: DeserializeOwned>(socket: &Path, path: &str) -> Result<T, AdminError> {
    json_response(get(socket, path)?)
}

/// `POST path` with `body` as JSON, the answer read into `T`.
pub fn post_json<T: DeserializeOwned>(
    socket: &Path,
    path: &str,
    body: &impl Serialize,
) -> Result<T, AdminError> {
    let bytes = serde_json::to_vec(body).map_err(io::Error::other)?;
    let len = bytes.len() as u64;
    json_response(send(
        socket,
        "POST",
        path,
        Some(("application/json", len, &mut bytes.as_slice())),
    )?)
}

/// Reads a JSON answer into `T`; a non-2xx answer becomes `AdminError::Server`.
pub fn json_response<T: DeserializeOwned>(resp: Response) -> Result<T, AdminError> {
    let (status, body) = read_ok(resp)?;
    serde_json::from_slice(&body).map_err(|e| AdminError::Unreadable {
        status,
        problem: e.to_string(),
    })
}

/// Reads a whole answer: the bytes of a 2xx, `AdminError::Server` for any other.
pub fn read_ok(mut resp: Response) -> Result<(u16, Vec<u8>), AdminError> {
    let mut body = Vec::new();
    resp.read_to_end(&mut body)?;
    if !(200..300).contains(&resp.status) {
        return Err(server_error(resp.status, &body));
    }
    Ok((resp.status, body))
}

/// Turns an error answer into `AdminError::Server`.
pub fn server_error(status: u16, body: &[u8]) -> AdminError {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(ErrorBody { error }) => AdminError::Server {
            status,
            code: error.code,
            message: error.message,
            hint: error.hint,
        },
        Err(e) => AdminError::Unreadable {
            status,
            problem: e.to_string(),
        },
    }
}

struct Chunked {
    inner: BufReader<UnixStream>,
    left: u64,
    done: bool,
}

impl Read for Chunked {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            let mut line = String::new();
            self.inner.read_line(&mut line)?;
            if line.trim().is_empty() {
                line.clear();
                self.inner.read_line(&mut line)?;
            }
            let size = line.trim().split(';').next().unwrap_or_default();
            if size.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the server stopped before the end of the data",
                ));
            }
            self.left =
                u64::from_str_radix(size, 16).map_err(|_| io::Error::other("bad chunk size"))?;
            if self.left == 0 {
                self.done = true;
                return Ok(0);
            }
        }
        let want = buf.len().min(self.left as usize);
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server stopped before the end of the data",
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}
