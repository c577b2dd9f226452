//! Unfinished resumable uploads: their sealed pieces under `tmp/tus-<hash>/` (each piece a
//! complete age file, written when its PATCH ends and fsynced when a report adopts it) and, in
//! memory only, what the portal must not write down: the file's name and type, and the running
//! SHA-256 of its plaintext.
//!
//! An upload keeps the key ring it was created with for every piece, so that the report that
//! takes it can name exactly the keys that read it. It loses its place when it makes no
//! progress for `limits.upload_idle_expiry`, and in any case at `limits.upload_expiry`. Piece
//! files are never named twice: a piece abandoned by a request that went away (its sealing
//! thread removes it) cannot collide with the next one. What one upload keeps in memory is
//! bounded by `limits.max_upload_pieces` (about 150 bytes a piece).
//!
//! Nothing about an unfinished upload is in the database. A restart therefore forgets them
//! (start-up recovery empties `tmp/`, pieces included) and the client starts again, which tus
//! clients do by themselves on a 404; a dropped connection, by contrast, resumes from the last
//! byte that arrived. Entries are keyed by the SHA-256 of the upload id, never the id itself.

use super::space::{Meter, Reservation, Space};
use super::{StoreError, blobs};
use crate::digest::Hasher;
use crate::keys::KeyRing;
use crate::seal::Sealed;
use jiff::Timestamp;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
    /// When it expires at the latest.
    pub expires: Timestamp,
    /// The keys every piece is sealed to.
    pub ring: Arc<KeyRing>,
    /// Dropped with the upload (the per-client count).
    pub hold: Box<dyn Send + Sync>,
}

struct Entry {
    dir: PathBuf,
    length: u64,
    offset: u64,
    expires: Timestamp,
    /// The last progress (creation, a stored piece, a report that named it).
    touched: Timestamp,
    ring: Arc<KeyRing>,
    /// The number of the next piece file (never reused).
    next_file: u32,
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

impl Entry {
    /// When it loses its place: after `idle` without progress, or at its expiry.
    fn deadline(&self, idle: Duration) -> Timestamp {
        self.touched
            .checked_add(idle)
            .map_or(self.expires, |t| t.min(self.expires))
    }

    fn progress(&self, idle: Duration) -> Progress {
        Progress {
            offset: self.offset,
            length: self.length,
            pieces: self.pieces.len(),
            expires: self.deadline(idle),
        }
    }
}

/// The registry of unfinished uploads.
pub struct Partials {
    tmp: PathBuf,
    space: Arc<Space>,
    clock: crate::clock::Clock,
    idle: Mutex<Duration>,
    max: std::sync::atomic::AtomicUsize,
    map: Mutex<HashMap<[u8; 32], Entry>>,
}

fn dir_name(key: &[u8; 32]) -> String {
    format!("tus-{}", crate::digest::hex(&key[..16]))
}

impl Partials {
    pub(super) fn new(
        tmp: PathBuf,
        space: Arc<Space>,
        clock: crate::clock::Clock,
    ) -> Arc<Partials> {
        Arc::new(Partials {
            tmp,
            space,
            clock,
            idle: Mutex::new(Duration::MAX),
            max: std::sync::atomic::AtomicUsize::new(usize::MAX),
            map: Mutex::new(HashMap::new()),
        })
    }

    /// Sets how many unfinished uploads may be held at once (`limits.max_unfinished_uploads`).
    pub fn set_limit(&self, max: usize) {
        self.max
            .store(max.max(1), std::sync::atomic::Ordering::Relaxed);
    }

    /// Sets how long an upload keeps its place without progress (`limits.upload_idle_expiry`).
    pub fn set_idle_expiry(&self, idle: Duration) {
        *self.idle.lock().unwrap_or_else(|p| p.into_inner()) = idle;
    }

    fn idle(&self) -> Duration {
        *self.idle.lock().unwrap_or_else(|p| p.into_inner())
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
            // Uploads that stopped making progress give their place up now, not at the next
            // sweep.
            self.expire(self.clock.now());
        }
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
                touched: self.clock.now(),
                ring: new.ring,
                next_file: 0,
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
        let idle = self.idle();
        let mut map = self.lock();
        let entry = map.get(key).ok_or(PartialError::Gone)?;
        if entry.deadline(idle) <= now && !entry.busy {
            let gone = map.remove(key);
            drop(map);
            remove(gone);
            return Err(PartialError::Gone);
        }
        Ok(entry.progress(idle))
    }

    /// Holds upload `key` for one PATCH from `offset`: refused when another request holds
    /// it, when it expired, or when `offset` is not where it stands.
    pub fn lease(
        self: &Arc<Self>,
        key: [u8; 32],
        offset: u64,
        now: Timestamp,
    ) -> Result<Lease, PartialError> {
        let idle = self.idle();
        let mut map = self.lock();
        let entry = map.get_mut(&key).ok_or(PartialError::Gone)?;
        if entry.busy {
            return Err(PartialError::Locked);
        }
        if entry.deadline(idle) <= now {
            return Err(PartialError::Gone);
        }
        if entry.offset != offset {
            return Err(PartialError::Offset);
        }
        if entry.plain.is_none() || entry.space.is_none() {
            return Err(PartialError::Locked);
        }
        let (Some(plain), Some(space)) = (entry.plain.take(), entry.space.take()) else {
            return Err(PartialError::Locked);
        };
        entry.busy = true;
        let file = entry.next_file;
        entry.next_file += 1;
        Ok(Lease {
            partials: Arc::clone(self),
            key,
            path: entry.dir.join(format!("{file:05}.age")),
            ring: Arc::clone(&entry.ring),
            before: plain.clone(),
            plain,
            space: Some(space),
            progress: entry.progress(idle),
            done: false,
        })
    }

    /// Holds a finished upload for a report: refused unless every byte arrived.
    pub fn take_finished(self: &Arc<Self>, key: [u8; 32]) -> Result<Finished, PartialError> {
        let (idle, now) = (self.idle(), self.clock.now());
        let mut map = self.lock();
        let entry = map.get_mut(&key).ok_or(PartialError::Gone)?;
        if entry.busy {
            return Err(PartialError::Locked);
        }
        if entry.deadline(idle) <= now {
            return Err(PartialError::Gone);
        }
        if entry.offset != entry.length {
            return Err(PartialError::Unfinished);
        }
        let (sha256, size) = entry.plain.clone().unwrap_or_default().finish();
        entry.busy = true;
        Ok(Finished {
            partials: Arc::clone(self),
            key,
            ring: Arc::clone(&entry.ring),
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

    /// Removes every upload that no request holds and that expired or made no progress for
    /// the idle expiry (blocking); how many.
    pub fn expire(&self, now: Timestamp) -> usize {
        let idle = self.idle();
        let gone: Vec<Entry> = {
            let mut map = self.lock();
            let keys: Vec<[u8; 32]> = map
                .iter()
                .filter(|(_, e)| e.deadline(idle) <= now && !e.busy)
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
        let now = self.clock.now();
        if let Some(e) = self.lock().get_mut(key) {
            e.plain = Some(plain);
            e.space = space;
            e.busy = false;
            // The request that held it ended: its idle time counts from now.
            e.touched = e.touched.max(now);
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
    ring: Arc<KeyRing>,
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

    /// The keys this upload's pieces are sealed to (fixed at its creation).
    pub fn ring(&self) -> Arc<KeyRing> {
        Arc::clone(&self.ring)
    }

    /// Hashes plaintext about to be sealed.
    pub fn hash(&mut self, data: &[u8]) {
        self.plain.update(data);
    }

    /// Records the sealed piece; returns the upload's progress with it.
    pub fn stored(mut self, sealed: Sealed) -> Progress {
        self.done = true;
        let (idle, now) = (self.partials.idle(), self.partials.clock.now());
        let mut map = self.partials.lock();
        let Some(e) = map.get_mut(&self.key) else {
            return self.progress;
        };
        e.offset += sealed.plaintext_size;
        e.pieces.push(StoredPiece {
            path: self.path.clone(),
            sealed,
        });
        e.plain = Some(std::mem::take(&mut self.plain));
        e.space = self.space.take();
        e.busy = false;
        e.touched = e.touched.max(now);
        e.progress(idle)
    }
}

impl Meter for Lease {
    /// Charges the upload's reservation.
    fn charge(&mut self, bytes: u64) -> Result<(), StoreError> {
        match &mut self.space {
            Some(space) => space.write(bytes),
            None => Ok(()),
        }
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
    /// The keys its pieces are sealed to.
    pub ring: Arc<KeyRing>,
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
        let now = self.partials.clock.now();
        if !self.consumed
            && let Some(e) = self.partials.lock().get_mut(&self.key)
        {
            e.busy = false;
            e.touched = e.touched.max(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partials(tag: &str) -> (Arc<Partials>, PathBuf) {
        let tmp =
            std::env::temp_dir().join(format!("sealdrop-partial-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).unwrap();
        let space = Space::new(tmp.clone(), 0);
        (
            Partials::new(tmp.clone(), space, crate::clock::Clock::system()),
            tmp,
        )
    }

    fn ring() -> Arc<KeyRing> {
        let r = age::x25519::Identity::generate().to_public().to_string();
        Arc::new(KeyRing::parse(&r, "test").unwrap())
    }

    fn new(length: u64, ring: &Arc<KeyRing>) -> NewPartial {
        NewPartial {
            length,
            name: "n".into(),
            content_type: String::new(),
            expires: Timestamp::now() + jiff::SignedDuration::from_hours(24),
            ring: Arc::clone(ring),
            hold: Box::new(()),
        }
    }

    #[test]
    fn an_upload_without_progress_loses_its_place_after_the_idle_expiry_and_not_before() {
        let (p, tmp) = partials("idle");
        p.set_idle_expiry(Duration::from_secs(60));
        p.create([1; 32], new(10, &ring())).unwrap();
        let now = Timestamp::now();
        let progress = p.progress(&[1; 32], now).unwrap();
        assert!(progress.expires <= now + jiff::SignedDuration::from_secs(61));
        assert_eq!(p.expire(now + jiff::SignedDuration::from_secs(30)), 0);
        assert_eq!(p.expire(now + jiff::SignedDuration::from_secs(61)), 1);
        assert!(matches!(p.progress(&[1; 32], now), Err(PartialError::Gone)));
        std::fs::remove_dir_all(tmp).unwrap();
    }

    #[test]
    fn a_full_pool_gives_the_place_of_an_idle_upload_to_a_new_one_at_once() {
        let (p, tmp) = partials("full");
        p.set_limit(1);
        p.set_idle_expiry(Duration::from_millis(1));
        p.create([1; 32], new(10, &ring())).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        p.create([2; 32], new(10, &ring())).unwrap();
        assert_eq!(p.count(), 1);
        assert!(p.progress(&[2; 32], Timestamp::now()).is_ok());
        // One still within its idle time keeps its place: the pool stays full.
        p.set_idle_expiry(Duration::from_secs(60));
        assert!(matches!(
            p.create([3; 32], new(10, &ring())),
            Err(PartialError::Full)
        ));
        std::fs::remove_dir_all(tmp).unwrap();
    }

    #[test]
    fn piece_files_are_never_named_twice_and_every_piece_keeps_the_ring_of_the_upload() {
        let (p, tmp) = partials("names");
        let r = ring();
        p.create([1; 32], new(10, &r)).unwrap();
        let now = Timestamp::now();
        let first = p.lease([1; 32], 0, now).unwrap();
        let path = first.path().to_owned();
        assert_eq!(first.ring().ids(), r.ids());
        // Another request may not take it meanwhile.
        assert!(matches!(
            p.lease([1; 32], 0, now),
            Err(PartialError::Locked)
        ));
        drop(first);
        let second = p.lease([1; 32], 0, now).unwrap();
        assert_ne!(
            second.path(),
            path,
            "an abandoned piece's name was used again"
        );
        assert_eq!(second.ring().ids(), r.ids());
        drop(second);
        // A finished upload hands its ring to the report.
        p.create([2; 32], new(0, &r)).unwrap();
        let done = p.take_finished([2; 32]).unwrap();
        assert_eq!(done.ring.ids(), r.ids());
        std::fs::remove_dir_all(tmp).unwrap();
    }
}
