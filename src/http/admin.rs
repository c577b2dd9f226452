//! Admin routes, served only on the Unix socket: export, import, backup, health, keys (list,
//! add, retire, reload) and the audit trail. Case workflow routes are in `cases`.

use super::peer::who;
use super::tls::CertStore;
use crate::adminapi::{AddKeyRequest, ErrorBody, ErrorCode, INTERNAL_MESSAGE, RetireRequest};
use crate::portal::{Portal, PortalError};
use actix_web::dev::ServiceResponse;
use actix_web::http::{StatusCode, header};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use futures_util::StreamExt;
use std::io::{self, Read, Write};
use std::sync::Arc;
use tokio::sync::mpsc;

/// The TLS store, when the public listener uses TLS (reloaded with the keys).
#[derive(Clone, Default)]
pub struct Tls(pub Option<Arc<CertStore>>);

/// The one builder of admin error answers: the status comes from the code.
pub(super) fn error_answer(body: &ErrorBody) -> HttpResponse {
    let status =
        StatusCode::from_u16(body.error.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status).json(body)
}

/// The answer to a domain error (`ops::error::code_of` decides its code); internal detail goes to
/// the log only.
pub(super) fn failure(e: PortalError) -> HttpResponse {
    let body = crate::ops::error::body_of(&e);
    if body.error.code == ErrorCode::Internal {
        tracing::error!(error = %e, "admin request failed");
    }
    error_answer(&body)
}

/// A task of the server itself failed (panicked or was cancelled).
fn internal(context: &str, detail: impl std::fmt::Display) -> HttpResponse {
    tracing::error!(context, error = %detail, "admin request failed");
    error_answer(&ErrorBody::new(ErrorCode::Internal, INTERNAL_MESSAGE, None))
}

/// Fallback for paths the admin socket does not have.
pub async fn not_found() -> HttpResponse {
    error_answer(&ErrorBody::new(
        ErrorCode::NotFound,
        "the admin socket has no such route",
        Some("is this `sealdrop` as new as the server? Run `sealdrop --version` on both".into()),
    ))
}

/// Gives actix's 405 (whose `Allow` lists the methods the path has routes for) the admin error
/// body, keeping that `Allow`.
pub fn method_not_allowed<B>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let (req, refused) = res.into_parts();
    let allow = refused.headers().get(header::ALLOW).cloned();
    let mut answer = error_answer(&ErrorBody::new(
        ErrorCode::MethodNotAllowed,
        format!("{} does not take {}", req.path(), req.method()),
        allow
            .as_ref()
            .and_then(|a| a.to_str().ok())
            .map(|a| format!("it takes {a}")),
    ));
    if let Some(allow) = allow {
        answer.headers_mut().insert(header::ALLOW, allow);
    }
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, answer).map_into_right_body(),
    ))
}

fn bad_request(err: impl std::fmt::Display + std::fmt::Debug + 'static) -> actix_web::Error {
    let answer = error_answer(&ErrorBody::new(
        ErrorCode::BadRequest,
        format!("the request does not fit this route: {err}"),
        Some("use a `sealdrop` as new as the server".into()),
    ));
    actix_web::error::InternalError::from_response(err, answer).into()
}

/// Extractor settings of the admin socket: a path, query or JSON body that does not fit its
/// type is answered with the admin error body.
pub fn extractors(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::JsonConfig::default().error_handler(|e, _| bad_request(e)))
        .app_data(web::QueryConfig::default().error_handler(|e, _| bad_request(e)))
        .app_data(web::PathConfig::default().error_handler(|e, _| bad_request(e)));
}

pub(super) async fn blocking<T: serde::Serialize + Send + 'static>(
    portal: web::Data<Portal>,
    f: impl FnOnce(&Portal) -> Result<T, PortalError> + Send + 'static,
) -> HttpResponse {
    match portal.into_inner().blocking(f).await {
        Ok(v) => HttpResponse::Ok().json(v),
        Err(e) => failure(e),
    }
}

/// `GET /v1/submissions/{case}/export`: the bundle as a streamed tar, built on a blocking
/// thread and passed on through a bounded channel.
pub async fn export(
    req: HttpRequest,
    case: web::Path<String>,
    portal: web::Data<Portal>,
) -> HttpResponse {
    let who = who(&req);
    export_case(&case, portal, move || who.actor()).await
}

/// A case's bundle as a streamed tar (the admin route and the console's download).
/// The export is audited with its actor (`actor` runs on the blocking thread: the admin
/// socket's peer name is read from the system there).
pub(crate) async fn export_case(
    case: &str,
    portal: web::Data<Portal>,
    actor: impl FnOnce() -> crate::record::Actor + Send + 'static,
) -> HttpResponse {
    let record = match portal.show(case).await {
        Ok(r) if r.purged_at.is_some() => {
            let at = r.purged_at.clone().unwrap_or_default();
            let e = crate::workflow::WorkflowError::Purged { case: r.case, at };
            return failure(e.into());
        }
        Ok(r) => r,
        Err(e) => return failure(e),
    };
    let portal = portal.into_inner();
    stream_tar(move |out| {
        let event = crate::record::AuditEvent {
            at: portal.store().clock().text(),
            event: crate::record::AuditKind::Exported,
            key_id: None,
            case: Some(record.case.clone()),
            detail: String::new(),
            actor: Some(actor().as_str().to_owned()),
        };
        // No export leaves without its entry in the trail.
        portal.store().audit(&event).map_err(|e| {
            tracing::error!(case = %record.case, error = %e, "export refused: the audit trail cannot be written");
        })?;
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
pub async fn health(portal: web::Data<Portal>) -> HttpResponse {
    let figures = portal
        .into_inner()
        .blocking(|p| {
            let mut figures = p.health_blocking()?;
            let signed = crate::ops::security_txt::state(p, p.now())?;
            figures["security_txt"] =
                serde_json::to_value(signed).map_err(|e| PortalError::Export(e.to_string()))?;
            Ok(figures)
        })
        .await;
    // The portal builds the figures as JSON; reading them into the protocol type here keeps
    // the answer to its shape.
    match figures.map(serde_json::from_value::<crate::adminapi::Health>) {
        Ok(Ok(health)) => HttpResponse::Ok().json(health),
        Ok(Err(e)) => internal("health", e),
        Err(e) => failure(e),
    }
}

/// `GET /v1/receipt-keys`
pub async fn receipt_keys(portal: web::Data<Portal>) -> HttpResponse {
    HttpResponse::Ok().json(portal.receipt_keys())
}

/// `POST /v1/receipt-keys/rotate`
pub async fn rotate_receipt_key(
    req: HttpRequest,
    _body: web::Json<crate::adminapi::ReloadRequest>,
    portal: web::Data<Portal>,
) -> HttpResponse {
    let who = who(&req);
    blocking(portal, move |p| p.rotate_receipt_key_blocking(&who.actor())).await
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
    let who = who(&req);
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
            &who.actor(),
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
        Ok(Err(e)) => failure(e),
        Err(e) => internal("import", e),
    }
}

/// `GET /v1/keys`
pub async fn keys(portal: web::Data<Portal>) -> HttpResponse {
    blocking(portal, |p| p.key_usage_blocking()).await
}

/// `POST /v1/keys`
pub async fn add_key(
    req: HttpRequest,
    body: web::Json<AddKeyRequest>,
    portal: web::Data<Portal>,
) -> HttpResponse {
    let who = who(&req);
    let AddKeyRequest { recipient, label } = body.into_inner();
    blocking(portal, move |p| {
        p.add_key_blocking(&recipient, &label, &who.actor())
    })
    .await
}

/// `POST /v1/keys/{id}/retire`
pub async fn retire_key(
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<RetireRequest>,
    portal: web::Data<Portal>,
) -> HttpResponse {
    let who = who(&req);
    let id = id.into_inner();
    let reason = body.into_inner().reason;
    blocking(portal, move |p| {
        p.retire_key_blocking(&id, &reason, &who.actor())
    })
    .await
}

/// `POST /v1/reload`: keys and TLS certificate, like SIGHUP.
pub async fn reload(
    req: HttpRequest,
    portal: web::Data<Portal>,
    tls: web::Data<Tls>,
) -> HttpResponse {
    let who = who(&req);
    let tls = tls.get_ref().clone();
    let portal = portal.into_inner();
    match tokio::task::spawn_blocking(move || super::reload_all(&portal, &tls, &who.actor())).await
    {
        Ok(Ok(reloaded)) => HttpResponse::Ok().json(reloaded),
        Ok(Err(refused)) => {
            let mut body = ErrorBody::new(
                ErrorCode::ReloadRefused,
                refused.message,
                Some(refused.hint),
            );
            body.error.keys = Some(refused.keys);
            body.error.tls = Some(refused.tls);
            error_answer(&body)
        }
        Err(e) => internal("reload", e),
    }
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
