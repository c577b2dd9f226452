//! Admin routes, served only on the Unix socket: export, import, backup, health, keys (list,
//! add, retire, reload) and the audit trail. Case workflow routes are in `cases`.

use super::respond;
use super::tls::CertStore;
use crate::error::ApiError;
use crate::error::Hint;
use crate::portal::{Portal, PortalError};
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use futures_util::StreamExt;
use serde::Deserialize;
use std::io::{self, Read, Write};
use std::sync::Arc;
use tokio::sync::mpsc;

/// The TLS store, when the public listener uses TLS (reloaded with the keys).
#[derive(Clone, Default)]
pub struct Tls(pub Option<Arc<CertStore>>);

pub(super) fn failure(req: &HttpRequest, e: PortalError) -> HttpResponse {
    let (status, code) = match &e {
        PortalError::NoSuchCase(_) => (404, "not-found"),
        PortalError::Keys(
            crate::keys::KeyError::SameKeys(_) | crate::keys::KeyError::NoActiveKey(_),
        ) => (422, "import-refused"),
        PortalError::Keys(_) => (422, "keys-refused"),
        PortalError::Import(_) => (422, "import-refused"),
        PortalError::Workflow(crate::workflow::WorkflowError::Purged { .. }) => (410, "purged"),
        PortalError::Workflow(_) => (409, "workflow-refused"),
        _ => return respond::error(req, &ApiError::internal("admin", e)),
    };
    refusal(status, code, &e.to_string(), e.hint())
}

/// An admin error: `{"error": {"code", "message", "hint"}}`.
pub(super) fn refusal(
    status: u16,
    code: &str,
    message: &str,
    hint: Option<String>,
) -> HttpResponse {
    let mut body = serde_json::json!({ "error": { "code": code, "message": message } });
    if let Some(h) = hint {
        body["error"]["hint"] = serde_json::Value::String(h);
    }
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap_or_default())
        .json(body)
}

pub(super) async fn blocking<T: serde::Serialize + Send + 'static>(
    req: &HttpRequest,
    portal: web::Data<Portal>,
    f: impl FnOnce(&Portal) -> Result<T, PortalError> + Send + 'static,
) -> HttpResponse {
    match portal.into_inner().blocking(f).await {
        Ok(v) => HttpResponse::Ok().json(v),
        Err(e) => failure(req, e),
    }
}

/// `GET /v1/submissions/{case}/export`: the bundle as a streamed tar, built on a blocking
/// thread and passed on through a bounded channel.
pub async fn export(
    req: HttpRequest,
    case: web::Path<String>,
    portal: web::Data<Portal>,
) -> HttpResponse {
    let record = match portal.show(&case).await {
        Ok(r) if r.purged_at.is_some() => {
            let at = r.purged_at.clone().unwrap_or_default();
            let e = crate::workflow::WorkflowError::Purged { case: r.case, at };
            return failure(&req, e.into());
        }
        Ok(r) => r,
        Err(e) => return failure(&req, e),
    };
    let portal = portal.into_inner();
    stream_tar(move |out| {
        portal.export_blocking(&record, out).map_err(|e| {
            tracing::error!(case = %record.case, error = %e, "export failed");
        })
    })
}

/// `GET /v1/backup`: a consistent online backup, streamed as a tar.
pub async fn backup(portal: web::Data<Portal>) -> HttpResponse {
    let portal = portal.into_inner();
    stream_tar(move |out| match portal.backup_blocking(out) {
        Ok(n) => {
            tracing::info!(submissions = n, "backup written");
            Ok(())
        }
        Err(e) => {
            tracing::error!(error = %e, "backup failed");
            Err(())
        }
    })
}

/// `GET /v1/health`: what monitoring needs, without reporter data.
pub async fn health(req: HttpRequest, portal: web::Data<Portal>) -> HttpResponse {
    blocking(&req, portal, |p| p.health_blocking()).await
}

/// Streams what `write` produces on a blocking thread through a bounded channel; a failure
/// cuts the response off (the client sees an incomplete transfer, never a short "success").
fn stream_tar(
    write: impl FnOnce(&mut dyn Write) -> Result<(), ()> + Send + 'static,
) -> HttpResponse {
    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(4);
    tokio::task::spawn_blocking(move || {
        let mut writer = io::BufWriter::with_capacity(256 << 10, ChannelWriter(tx.clone()));
        let ok = write(&mut writer).is_ok() && writer.flush().is_ok();
        if !ok {
            let _ = tx.blocking_send(Err(io::Error::other("stream failed")));
        }
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    HttpResponse::Ok()
        .content_type("application/x-tar")
        .streaming(body)
}

/// `POST /v1/submissions/{case}/import`: a re-keyed bundle as the body, streamed through a
/// bounded channel into the blocking importer.
pub async fn import(
    req: HttpRequest,
    case: web::Path<String>,
    mut payload: web::Payload,
    portal: web::Data<Portal>,
) -> HttpResponse {
    let (tx, rx) = mpsc::channel::<Bytes>(4);
    let portal = portal.into_inner();
    let case = case.into_inner();
    let task = tokio::task::spawn_blocking(move || {
        portal.import_blocking(
            &case,
            io::BufReader::with_capacity(
                256 << 10,
                ChannelReader {
                    rx,
                    current: Bytes::new(),
                },
            ),
        )
    });
    while let Some(chunk) = payload.next().await {
        match chunk {
            Ok(b) => {
                if tx.send(b).await.is_err() {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    drop(tx);
    match task.await {
        Ok(Ok(record)) => HttpResponse::Ok().json(record),
        Ok(Err(e)) => failure(&req, e),
        Err(e) => respond::error(&req, &ApiError::internal("import", e)),
    }
}

/// `GET /v1/keys`
pub async fn keys(req: HttpRequest, portal: web::Data<Portal>) -> HttpResponse {
    blocking(&req, portal, |p| p.key_usage_blocking()).await
}

/// Body of `POST /v1/keys`.
#[derive(Deserialize)]
pub struct AddKey {
    recipient: String,
    #[serde(default)]
    label: String,
}

/// `POST /v1/keys`
pub async fn add_key(
    req: HttpRequest,
    body: web::Json<AddKey>,
    portal: web::Data<Portal>,
) -> HttpResponse {
    let AddKey { recipient, label } = body.into_inner();
    blocking(&req, portal, move |p| {
        p.add_key_blocking(&recipient, &label)
    })
    .await
}

/// Body of `POST /v1/keys/{id}/retire`.
#[derive(Deserialize)]
pub struct Retire {
    #[serde(default)]
    reason: String,
}

/// `POST /v1/keys/{id}/retire`
pub async fn retire_key(
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<Retire>,
    portal: web::Data<Portal>,
) -> HttpResponse {
    let id = id.into_inner();
    let reason = body.into_inner().reason;
    blocking(&req, portal, move |p| p.retire_key_blocking(&id, &reason)).await
}

/// `POST /v1/reload`: keys and TLS certificate, like SIGHUP.
pub async fn reload(
    req: HttpRequest,
    portal: web::Data<Portal>,
    tls: web::Data<Tls>,
) -> HttpResponse {
    let tls = tls.get_ref().clone();
    let portal = portal.into_inner();
    match tokio::task::spawn_blocking(move || super::reload_all(&portal, &tls)).await {
        Ok(Ok(report)) => HttpResponse::Ok().json(report),
        Ok(Err(refused)) => HttpResponse::UnprocessableEntity().json(serde_json::json!({
            "error": { "code": "reload-refused", "message": refused.message, "hint": refused.hint,
                       "keys": refused.keys, "tls": refused.tls }
        })),
        Err(e) => respond::error(&req, &ApiError::internal("reload", e)),
    }
}

/// `GET /v1/audit`
pub async fn audit(req: HttpRequest, portal: web::Data<Portal>) -> HttpResponse {
    blocking(&req, portal, |p| p.audit_blocking()).await
}

struct ChannelWriter(mpsc::Sender<io::Result<Bytes>>);

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .blocking_send(Ok(Bytes::copy_from_slice(buf)))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "client went away"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

struct ChannelReader {
    rx: mpsc::Receiver<Bytes>,
    current: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                Some(b) => self.current = b,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}
