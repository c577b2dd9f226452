//! The domain operations behind `/api/v1/uploads/`: create, progress, one piece, terminate,
//! expire. Limits are checked at creation against the same `max_file_size` and
//! `max_submission_size` as a multipart upload, and per client and in all for unfinished ones.

use super::UploadId;
use super::metadata::FileMeta;
use super::piece::{self, Ended, Rules};
use crate::error::ApiError;
use crate::portal::Portal;
use crate::store::partial::{NewPartial, PartialError, Progress};
use bytes::Bytes;
use futures_util::Stream;
use std::net::IpAddr;
use std::sync::Arc;

impl From<PartialError> for ApiError {
    fn from(e: PartialError) -> Self {
        match e {
            PartialError::Gone => ApiError::UploadGone,
            PartialError::Locked => ApiError::UploadLocked,
            PartialError::Offset => ApiError::OffsetMismatch,
            PartialError::Unfinished => ApiError::UploadUnfinished,
            PartialError::Full => ApiError::Busy,
            PartialError::Store(s) => s.into(),
        }
    }
}

/// A new upload's address and expiry.
pub struct Created {
    /// Its id (the last part of its URL).
    pub id: UploadId,
    /// When it expires unless finished into a report.
    pub expires: jiff::Timestamp,
}

/// Creates an upload of `length` bytes from `client`.
pub async fn create(
    portal: &Arc<Portal>,
    length: Option<u64>,
    meta: FileMeta,
    client: Option<IpAddr>,
) -> Result<Created, ApiError> {
    let limits = &portal.config().limits;
    let length = length.ok_or(ApiError::UploadLengthRequired)?;
    if length > limits.max_file_size.0 {
        return Err(ApiError::FileTooLarge(limits.max_file_size));
    }
    if length > limits.max_submission_size.0 {
        return Err(ApiError::SubmissionTooLarge(limits.max_submission_size));
    }
    let hold = portal.unfinished_slot(client)?;
    let ring = portal.keys().current();
    let id = UploadId::generate();
    let expires = portal
        .now()
        .checked_add(limits.upload_expiry.0)
        .map_err(|e| ApiError::internal("tus", e))?;
    let key = id.key();
    portal
        .blocking(move |p| {
            p.store()
                .partials()
                .create(
                    key,
                    NewPartial {
                        length,
                        name: meta.name,
                        content_type: meta.content_type,
                        expires,
                        ring,
                        hold: Box::new(hold),
                    },
                )
                .map_err(ApiError::from)
        })
        .await?;
    Ok(Created { id, expires })
}

/// Where upload `id` stands (on the blocking pool: an expired upload's pieces are removed).
pub async fn progress(portal: &Arc<Portal>, id: &str) -> Result<Progress, ApiError> {
    let id = UploadId::parse(id).ok_or(ApiError::UploadGone)?;
    let key = id.key();
    portal
        .blocking(move |p| {
            p.store()
                .partials()
                .progress(&key, p.now())
                .map_err(ApiError::from)
        })
        .await
}

/// One PATCH request as its headers describe it.
pub struct PatchRequest {
    /// `Upload-Offset`.
    pub offset: u64,
    /// `Content-Length`, when given.
    pub declared: Option<u64>,
    /// `Upload-Checksum`, when given.
    pub checksum: Option<[u8; 32]>,
}

/// Receives one PATCH body into upload `id` through the gate (slots, pace, space, sealer);
/// the new progress and how the body ended.
pub async fn patch<S, E>(
    portal: &Arc<Portal>,
    id: &str,
    request: PatchRequest,
    body: &mut S,
    client: Option<IpAddr>,
) -> Result<(Progress, Ended), ApiError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    let id = UploadId::parse(id).ok_or(ApiError::UploadGone)?;
    let limits = &portal.config().limits;
    let pass = portal.admit(client)?;
    let lease = portal
        .store()
        .partials()
        .lease(id.key(), request.offset, portal.now())?;
    if !still_current(portal, &lease.ring()) {
        drop(lease);
        return Err(forget_rotated(portal, id.key()).await);
    }
    let before = lease.progress();
    if before.pieces >= limits.max_upload_pieces && before.offset < before.length {
        return Err(ApiError::TooManyPieces(limits.max_upload_pieces));
    }
    let min_piece = limits.min_piece();
    if let Some(len) = request.declared
        && len > 0
        && len < min_piece
        && before.offset + len < before.length
    {
        return Err(ApiError::PieceTooSmall(crate::config::ByteSize(min_piece)));
    }
    let rules = Rules {
        max_piece: limits.max_piece_size.0,
        min_piece,
        checksum: request.checksum,
    };
    piece::receive(lease, body, &rules, &pass.pace()).await
}

/// True while every key an upload is sealed to is still one of the portal's keys.
pub fn still_current(portal: &Portal, ring: &crate::keys::KeyRing) -> bool {
    let current = portal.keys().current().ids();
    ring.ids().iter().all(|k| current.contains(k))
}

/// An upload sealed to a key that was retired meanwhile takes no more bytes and goes into no
/// report (the key may have been retired because it leaked): it is removed, and the client
/// (tus clients do this by themselves on the `404` that follows) starts again with the
/// current keys.
pub async fn forget_rotated(portal: &Arc<Portal>, key: [u8; 32]) -> ApiError {
    let _ = portal
        .blocking(move |p| p.store().partials().terminate(&key).map_err(ApiError::from))
        .await;
    tracing::info!("resumable upload sealed to a retired key removed");
    ApiError::KeysRotated
}

/// Removes upload `id` and its pieces.
pub async fn terminate(portal: &Arc<Portal>, id: &str) -> Result<(), ApiError> {
    let id = UploadId::parse(id).ok_or(ApiError::UploadGone)?;
    let key = id.key();
    portal
        .blocking(move |p| p.store().partials().terminate(&key).map_err(ApiError::from))
        .await
}

/// Removes every expired unfinished upload (blocking); how many.
pub fn expire_blocking(portal: &Portal) -> usize {
    portal.store().partials().expire(portal.now())
}
