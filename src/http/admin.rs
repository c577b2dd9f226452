//! Admin routes, served only on the Unix socket: list, show, export.

use super::respond;
use crate::error::ApiError;
use crate::portal::{Portal, PortalError};
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use std::io::{self, Write};
use tokio::sync::mpsc;

fn failure(req: &HttpRequest, e: PortalError) -> HttpResponse {
    match e {
        PortalError::NoSuchCase(_) => respond::error(req, &ApiError::NotFound),
        other => respond::error(req, &ApiError::internal("admin", other)),
    }
}

/// `GET /v1/submissions`
pub async fn list(req: HttpRequest, portal: web::Data<Portal>) -> HttpResponse {
    match portal.list().await {
        Ok(records) => HttpResponse::Ok().json(records),
        Err(e) => failure(&req, e),
    }
}

/// `GET /v1/submissions/{case}`
pub async fn show(
    req: HttpRequest,
    case: web::Path<String>,
    portal: web::Data<Portal>,
) -> HttpResponse {
    match portal.show(&case).await {
        Ok(record) => HttpResponse::Ok().json(record),
        Err(e) => failure(&req, e),
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
        Ok(r) => r,
        Err(e) => return failure(&req, e),
    };
    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(4);
    let portal = portal.into_inner();
    tokio::task::spawn_blocking(move || {
        let writer = io::BufWriter::with_capacity(256 << 10, ChannelWriter(tx.clone()));
        if let Err(e) = portal.export_blocking(&record, writer) {
            tracing::error!(case = %record.case, error = %e, "export failed");
            let _ = tx.blocking_send(Err(io::Error::other("export failed")));
        }
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    HttpResponse::Ok()
        .content_type("application/x-tar")
        .streaming(body)
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
