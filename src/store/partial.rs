//! Unfinished resumable uploads: their sealed pieces under `tmp/tus-<hash>/` (each piece a
//! complete age file, written when its PATCH ends and fsynced when a report adopts it) and, in memory only, what the portal must
//! not write down: the file's name and type, and the running SHA-256 of its plaintext.
//!
//! Nothing about an unfinished upload is in the database. A restart therefore forgets them
//! (start-up recovery empties `tmp/`, pieces included) and the client starts again, which tus
//! clients do by themselves on a 404; a dropped connection, by contrast, resumes from the last
//! byte that arrived. Entries are keyed by the SHA-256 of the upload id, never the id itself.

use super::space::{Reservation, Space};
use super::{StoreError, blobs};
use crate::digest::Hasher;
use crate::seal::Sealed;
use jiff::Timestamp;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Why an unfinished upload could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PartialError {
    /// Unknown, expired, terminated or already part of a report.
    #[error("no such unfinished upload")]
    Gone,
    /// Another request holds it.
    #[error("the upload is in use")]
    Locked,
    /// The request's offset is not the upload's.
    #[error("offset mismatch")]
    Offset,
    /// It has not received all its bytes.
    #[error("the upload is unfinished")]
    Unfinished,
    /// The portal already holds its maximum of unfinished uploads.
    #[error("too many unfinished uploads")]
    Full,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One sealed piece.
#[derive(Debug, Clone)]
pub struct StoredPiece {
    /// Its file.
    pub path: PathBuf,
    /// What sealing it produced (plaintext and ciphertext size, ciphertext digest).
    pub sealed: Sealed,
}

/// What a new unfinished upload is.
pub struct NewPartial {
    /// The declared plaintext length.
    pub length: u64,
    /// The file name from `Upload-Metadata` (kept in memory only).
    pub name: String,
    /// The content type from `Upload-Metadata` (kept in memory only).
    pub content_type: String,
    /// When it expires.
    pub expires: Timestamp,
    /// Dropped with the upload (the per-client count).
    pub hold: Box<dyn Send + Sync>,
}

struct Entry {
    dir: PathBuf,
    length: u64,
    offset: u64,
    expires: Timestamp,
    name: String,
    content_type: String,
    pieces: Vec<StoredPiece>,
    /// Taken out while a lease holds the upload.
    plain: Option<Hasher>,
    space: Option<Reservation>,
    busy: bool,
    _hold: Box<dyn Send + Sync>,
}

/// An upload's progress.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Bytes received.
    pub offset: u64,
    /// Bytes declared.
    pub length: u64,
    /// Pieces stored.
    pub pieces: usize,
    /// When it expires.
    pub expires: Timestamp,
}

/// The registry of unfinished uploads.
pub struct Partials {
    tmp: PathBuf,
    space: Arc<Space>,
    max: std::sync::atomic::AtomicUsize,
    map: Mutex<HashMap<[u8; 32], Entry>>,
}

fn dir_name(key: &[u8; 32]) -> String {
    format!("tus-{}", crate::digest::hex(&key[..16]))
}

impl Partials {
    pub(super) fn new(tmp: PathBuf, space: Arc<Space>) -> Arc<Partials> {
        Arc::new(Partials {
            tmp,
            space,
            max: std::sync::atomic::AtomicUsize::new(usize::MAX),
            map: Mutex::new(HashMap::new()),
        })
    }

    /// Sets how many unfinished uploads may be held at once (`limits.max_unfinished_uploads`).
    pub fn set_limit(&self, max: usize) {
        self.max
            .store(max.max(1), std::sync::atomic::Ordering::Relaxed);
    }

    fn limit(&self) -> usize {
        self.max.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Entry>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Unfinished uploads held now.
    pub fn count(&self) -> usize {
        self.lock().len()
    }

    /// Registers a new upload under `key` and makes its folder (blocking). Its declared length
    /// must fit the free space as a whole now.
    pub fn create(&self, key: [u8; 32], new: NewPartial) -> Result<(), PartialError> {
        if self.lock().len() >= self.limit() {
            return Err(PartialError::Full);
        }
        let space = self.space.reserve(Some(new.length))?;
        let dir = self.tmp.join(dir_name(&key));
        blobs::create_private_dir(&dir)?;
        let mut map = self.lock();
        if map.len() >= self.limit() {
            drop(map);
            let _ = std::fs::remove_dir_all(&dir);
            return Err(PartialError::Full);
        }
        map.insert(
            key,
            Entry {
                dir,
                length: new.length,
                offset: 0,
                expires: new.expires,
                name: new.name,
                content_type: new.content_type,
                pieces: Vec::new(),
                plain: Some(Hasher::default()),
                space: Some(space),
                busy: false,
                _hold: new.hold,
            },
        );
        Ok(())
    }

    /// The progress of upload `key`; an expired one is removed and gone.
    pub fn progress(&self, key: &[u8; 32], now: Timestamp) -> Result<Progress, PartialError> {
        let mut map = self.lock();
        let entry = map.get(key).ok_or(PartialError::Gone)?;
        if entry.expires <= now && !entry.busy {
            let gone = map.remove(key);
            drop(map);
            remove(gone);
            return Err(PartialError::Gone);
        }
        Ok(Progress {
            offset: entry.offset,
            length: entry.length,
            pieces: entry.pieces.len(),
            expires: entry.expires,
        })
    }

    /// Holds upload `key` for one PATCH from `offset`: refused when another request holds
    /// it, when it expired, or when `offset` is not where it stands.
    pub fn lease(
        self: &Arc<Self>,
        key: [u8; 32],
        offset: u64,
        now: Timestamp,
    ) -> Result<Lease, PartialError> {
        let mut map = self.lock();
        let entry = map.get_mut(&key).ok_or(PartialError::Gone)?;
        if entry.busy {
            return Err(PartialError::Locked);
        }
        if entry.expires <= now {
            return Err(PartialError::Gone);
        }
        if entry.offset != offset {
            return Err(PartialError::Offset);
        }
        let (Some(plain), Some(space)) = (entry.plain.take(), entry.space.take()) else {
            return Err(PartialError::Locked);
        };
        entry.busy = true;
        Ok(Lease {
            partials: Arc::clone(self),
            key,
            path: entry.dir.join(format!("{:05}.age", entry.pieces.len())),
            before: plain.clone(),
            plain,
            space: Some(space),
            progress: Progress {
                offset: entry.offset,
                length: entry.length,
                pieces: entry.pieces.len(),
                expires: entry.expires,
            },
            done: false,
        })
    }

    /// Holds a finished upload for a report: refused unless every byte arrived.
    pub fn take_finished(self: &Arc<Self>, key: [u8; 32]) -> Result<Finished, PartialError> {
        let mut map = self.lock();
        let entry = map.get_mut(&key).ok_or(PartialError::Gone)?;
        if entry.busy {
            return Err(PartialError::Locked);
        }
        if entry.offset != entry.length {
            return Err(PartialError::Unfinished);
        }
        let (sha256, size) = entry.plain.clone().unwrap_or_default().finish();
        entry.busy = true;
        Ok(Finished {
            partials: Arc::clone(self),
            key,
            name: entry.name.clone(),
            content_type: entry.content_type.clone(),
            sha256,
            size,
            pieces: entry.pieces.clone(),
            consumed: false,
        })
    }

    /// Removes upload `key` and its pieces (termination); refused while a request holds it.
    pub fn terminate(&self, key: &[u8; 32]) -> Result<(), PartialError> {
        let mut map = self.lock();
        match map.get(key) {
            None => Err(PartialError::Gone),
            Some(e) if e.busy => Err(PartialError::Locked),
            Some(_) => {
                let gone = map.remove(key);
                drop(map);
                remove(gone);
                Ok(())
            }
        }
    }

    /// Removes every expired upload that no request holds (blocking); how many.
    pub fn expire(&self, now: Timestamp) -> usize {
        let gone: Vec<Entry> = {
            let mut map = self.lock();
            let keys: Vec<[u8; 32]> = map
                .iter()
                .filter(|(_, e)| e.expires <= now && !e.busy)
                .map(|(k, _)| *k)
                .collect();
            keys.iter().filter_map(|k| map.remove(k)).collect()
        };
        let n = gone.len();
        for e in gone {
            remove(Some(e));
        }
        if n > 0 {
            let _ = blobs::sync_dir(&self.tmp);
        }
        n
    }

    fn release(&self, key: &[u8; 32], plain: Hasher, space: Option<Reservation>) {
        if let Some(e) = self.lock().get_mut(key) {
            e.plain = Some(plain);
            e.space = space;
            e.busy = false;
        }
    }
}

fn remove(entry: Option<Entry>) {
    if let Some(e) = entry
        && let Err(err) = std::fs::remove_dir_all(&e.dir)
        && err.kind() != std::io::ErrorKind::NotFound
    {
        tracing::error!(error = %err, "could not remove an unfinished upload's pieces");
    }
}

/// One PATCH's hold on an upload. Dropped without [`Lease::stored`], the upload is as before
/// (the piece's file must already be gone).
pub struct Lease {
    partials: Arc<Partials>,
    key: [u8; 32],
    path: PathBuf,
    before: Hasher,
    plain: Hasher,
    space: Option<Reservation>,
    progress: Progress,
    done: bool,
}

impl Lease {
    /// Where this PATCH's piece is sealed.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The upload's progress before this piece.
    pub fn progress(&self) -> Progress {
        self.progress
    }

    /// Counts plaintext about to be sealed: hashed, and reserved against the free space.
    pub fn take(&mut self, data: &[u8]) -> Result<(), StoreError> {
        if let Some(space) = &mut self.space {
            space.write(data.len() as u64)?;
        }
        self.plain.update(data);
        Ok(())
    }

    /// Records the sealed piece; returns the new offset.
    pub fn stored(mut self, sealed: Sealed) -> u64 {
        self.done = true;
        let mut map = self.partials.lock();
        let Some(e) = map.get_mut(&self.key) else {
            return self.progress.offset;
        };
        e.offset += sealed.plaintext_size;
        e.pieces.push(StoredPiece {
            path: self.path.clone(),
            sealed,
        });
        e.plain = Some(std::mem::take(&mut self.plain));
        e.space = self.space.take();
        e.busy = false;
        e.offset
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if !self.done {
            // The piece was discarded: so are the bytes it hashed.
            let before = std::mem::take(&mut self.before);
            self.partials.release(&self.key, before, self.space.take());
        }
    }
}

/// A finished upload held for a report. Dropped without [`Finished::consume`], it stays an
/// unfinished upload that can be named again.
pub struct Finished {
    partials: Arc<Partials>,
    key: [u8; 32],
    /// The file name the client gave.
    pub name: String,
    /// The content type the client gave.
    pub content_type: String,
    /// SHA-256 of the whole plaintext, hex.
    pub sha256: String,
    /// Plaintext bytes.
    pub size: u64,
    /// Its pieces, in order.
    pub pieces: Vec<StoredPiece>,
    consumed: bool,
}

impl Finished {
    /// The report holding it is durable: forget the upload and remove its folder (blocking;
    /// the report's folder has its own links to the pieces).
    pub fn consume(mut self) {
        self.consumed = true;
        let gone = self.partials.lock().remove(&self.key);
        remove(gone);
    }
}

impl Drop for Finished {
    fn drop(&mut self) {
        if !self.consumed
            && let Some(e) = self.partials.lock().get_mut(&self.key)
        {
            e.busy = false;
        }
    }
}
