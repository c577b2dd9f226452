//! One PATCH body → one piece: a complete age file of its own, written through the gate's one
//! sealer (`gate::Sink`: bounded channel, constant memory, what is written charged to the
//! upload's free-space reservation), paced like every upload (`gate::Pace`), sealed to the
//! key ring the upload was created with; not fsynced (an unfinished upload does not outlive a
//! restart): a report that adopts the piece fsyncs it before its 201.
//!
//! A body that ends early (the connection dropped, it stalled past `body_idle_timeout`, or it
//! fell below `min_upload_rate`) is kept up to its last byte when that piece is at least
//! `min_piece_size` long: the piece is finished there, so the offset a client then reads with
//! HEAD is exactly what is stored. A body that breaks a rule (longer than the upload or a piece
//! may be, shorter than a piece must be without ending the upload, or not matching its
//! `Upload-Checksum`) is dropped whole.

use crate::digest::Hasher;
use crate::error::ApiError;
use crate::gate::{Durability, Pace, Sink};
use crate::store::partial::{Lease, Progress};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};

/// The rules one piece is received under.
pub struct Rules {
    /// `limits.max_piece_size`.
    pub max_piece: u64,
    /// `limits.min_piece_size` (capped at `max_piece`): a shorter piece must end the upload.
    pub min_piece: u64,
    /// The `Upload-Checksum` the piece must match.
    pub checksum: Option<[u8; 32]>,
}

/// How the body ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// It arrived whole.
    Whole,
    /// The connection broke; what arrived is kept (when long enough).
    Cut,
    /// The pace ended it (408); what arrived is kept (when long enough), and this is the
    /// answer.
    Stopped(ApiError),
}

/// Receives one PATCH body into a new piece of the leased upload; returns the upload's progress
/// after it and how the body ended.
pub async fn receive<S, E>(
    mut lease: Lease,
    body: &mut S,
    rules: &Rules,
    pace: &Pace,
) -> Result<(Progress, Ended), ApiError>
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
        let chunk = match pace.within(body.next()).await {
            Ok(Some(Ok(chunk))) => chunk,
            Ok(None) => break Ended::Whole,
            Ok(Some(Err(_))) => break Ended::Cut,
            Err(e) => break Ended::Stopped(e),
        };
        let len = chunk.len() as u64;
        pace.count(chunk.len());
        let refusal = if received + len > rules.max_piece {
            Some(ApiError::PieceTooLarge(crate::config::ByteSize(
                rules.max_piece,
            )))
        } else if received + len > room {
            Some(ApiError::BeyondLength)
        } else {
            None
        };
        if let Some(e) = refusal {
            discard(sink).await;
            return Err(e);
        }
        if len == 0 {
            continue;
        }
        received += len;
        if let Some(h) = &mut sum {
            h.update(&chunk);
        }
        lease.hash(&chunk);
        if sink.is_none() {
            let ring = lease.ring();
            sink = Some(Sink::start(
                ring,
                path.clone(),
                Durability::Unsynced,
                &mut lease,
            )?);
        }
        let s = sink.as_mut().ok_or(ApiError::Internal)?;
        if let Err(e) = s.send(chunk, &mut lease).await {
            discard(sink).await;
            return Err(e);
        }
    };
    if let (Some(expected), Some(h)) = (rules.checksum, sum) {
        // A piece with a checksum is all or nothing, also when its connection broke.
        let got = crate::digest::unhex(&h.finish().0).unwrap_or_default();
        if ended != Ended::Whole || got != expected {
            discard(sink).await;
            return Err(match ended {
                Ended::Whole => ApiError::ChecksumMismatch,
                Ended::Cut => ApiError::Incomplete,
                Ended::Stopped(e) => e,
            });
        }
    }
    // Each piece costs a header, a block and an inode: only the one that ends the upload may
    // be short.
    if received > 0 && received < rules.min_piece && received < room {
        discard(sink).await;
        return Err(match ended {
            Ended::Stopped(e) => e,
            _ => ApiError::PieceTooSmall(crate::config::ByteSize(rules.min_piece)),
        });
    }
    let Some(s) = sink else {
        // Nothing arrived: the upload stands where it stood.
        return match ended {
            Ended::Stopped(e) => Err(e),
            ended => Ok((progress, ended)),
        };
    };
    let sealed = s.finish().await?;
    if sealed.plaintext_size != received {
        let _ = tokio::task::spawn_blocking(move || std::fs::remove_file(path)).await;
        return Err(ApiError::internal("piece", "plaintext length mismatch"));
    }
    crate::faultpoint::crash_point("piece-sealed");
    Ok((lease.stored(sealed), ended))
}

/// Drops a piece that will not be kept: its sealing thread removes the file.
async fn discard(sink: Option<Sink>) {
    if let Some(s) = sink {
        s.abort().await;
    }
}
