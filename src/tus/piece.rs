//! One PATCH body → one piece: a complete age file of its own, sealed on a blocking thread fed
//! through a bounded channel (constant memory); not fsynced (an unfinished upload does not outlive
//! a restart): a report that adopts the piece fsyncs it before its 201.
//!
//! A body that ends early (the connection dropped, or it stalled past `body_idle_timeout`) is
//! kept up to its last byte: the piece is finished there, so the offset a client then reads
//! with HEAD is exactly what is stored. A body that breaks a rule (longer than the upload or a
//! piece may be, or not matching its `Upload-Checksum`) is dropped whole.

use crate::digest::Hasher;
use crate::error::ApiError;
use crate::keys::KeyRing;
use crate::seal::{SealError, Sealed, Sealer};
use crate::store::partial::Lease;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Chunks in flight to the sealing thread.
const CHANNEL_CHUNKS: usize = 16;

/// The rules one piece is received under.
pub struct Rules {
    /// `limits.max_piece_size`.
    pub max_piece: u64,
    /// `limits.body_idle_timeout`.
    pub idle: Duration,
    /// The `Upload-Checksum` the piece must match.
    pub checksum: Option<[u8; 32]>,
}

/// How the body ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// It arrived whole.
    Whole,
    /// The connection broke or stalled; what arrived is kept.
    Cut,
}

struct Sink {
    tx: mpsc::Sender<Bytes>,
    task: JoinHandle<Result<Sealed, SealError>>,
}

fn start(ring: Arc<KeyRing>, path: std::path::PathBuf) -> Sink {
    let (tx, mut rx) = mpsc::channel::<Bytes>(CHANNEL_CHUNKS);
    let task = tokio::task::spawn_blocking(move || {
        let mut sealer = Sealer::create_unsynced(&ring, &path)?;
        while let Some(chunk) = rx.blocking_recv() {
            sealer.write(&chunk)?;
        }
        sealer.finish()
    });
    Sink { tx, task }
}

/// Removes a piece that will not be kept (after its sealing thread let go of it).
async fn discard(sink: Option<Sink>, path: std::path::PathBuf) {
    if let Some(sink) = sink {
        drop(sink.tx);
        let _ = sink.task.await;
    }
    let _ = tokio::task::spawn_blocking(move || std::fs::remove_file(path)).await;
}

/// Receives one PATCH body into a new piece of the leased upload; returns the new offset and
/// how the body ended.
pub async fn receive<S, E>(
    ring: Arc<KeyRing>,
    mut lease: Lease,
    body: &mut S,
    rules: &Rules,
) -> Result<(u64, Ended), ApiError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    let progress = lease.progress();
    let room = progress.length - progress.offset;
    let path = lease.path().to_owned();
    let mut sink: Option<Sink> = None;
    let mut received = 0u64;
    let mut sum = rules.checksum.map(|_| Hasher::default());
    let ended = loop {
        let chunk = match tokio::time::timeout(rules.idle, body.next()).await {
            Ok(Some(Ok(chunk))) => chunk,
            Ok(None) => break Ended::Whole,
            Ok(Some(Err(_))) | Err(_) => break Ended::Cut,
        };
        let len = chunk.len() as u64;
        let refusal = if received + len > rules.max_piece {
            Some(ApiError::PieceTooLarge(crate::config::ByteSize(
                rules.max_piece,
            )))
        } else if received + len > room {
            Some(ApiError::BeyondLength)
        } else {
            lease.take(&chunk).err().map(ApiError::from)
        };
        if let Some(e) = refusal {
            discard(sink, path).await;
            return Err(e);
        }
        if len == 0 {
            continue;
        }
        received += len;
        if let Some(h) = &mut sum {
            h.update(&chunk);
        }
        let s = sink.get_or_insert_with(|| start(Arc::clone(&ring), path.clone()));
        if s.tx.send(chunk).await.is_err() {
            // The sealing thread stopped early: its error is the real one.
            let s = sink.take().ok_or(ApiError::Internal)?;
            let err = match s.task.await {
                Ok(Err(e)) => ApiError::from(e),
                Ok(Ok(_)) => ApiError::internal("piece", "sealer ended early"),
                Err(e) => ApiError::internal("piece", e),
            };
            discard(None, path).await;
            return Err(err);
        }
    };
    if let (Some(expected), Some(h)) = (rules.checksum, sum) {
        // A piece with a checksum is all or nothing, also when its connection broke.
        let got = crate::digest::unhex(&h.finish().0).unwrap_or_default();
        if ended == Ended::Cut || got != expected {
            discard(sink, path).await;
            return Err(if ended == Ended::Cut {
                ApiError::Incomplete
            } else {
                ApiError::ChecksumMismatch
            });
        }
    }
    let Some(s) = sink else {
        // Nothing arrived: the upload stands where it stood.
        return Ok((progress.offset, ended));
    };
    drop(s.tx);
    match s.task.await {
        Ok(Ok(sealed)) if sealed.plaintext_size == received => {
            crate::faultpoint::crash_point("piece-sealed");
            Ok((lease.stored(sealed), ended))
        }
        Ok(Ok(_)) => {
            discard(None, path).await;
            Err(ApiError::internal("piece", "plaintext length mismatch"))
        }
        Ok(Err(e)) => {
            discard(None, path).await;
            Err(e.into())
        }
        Err(e) => {
            discard(None, path).await;
            Err(ApiError::internal("piece", e))
        }
    }
}
