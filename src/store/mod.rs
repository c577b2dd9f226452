//! Durable storage. [`Store`] owns the data directory — the sled database (`db`), the ciphertext
//! folders (`blobs`), `tmp/`, the group committer and the free-space reservations — and is the
//! only way to change it. Every multi-step durable change is one method here (or in a file of
//! this folder), with its order of fsyncs, renames and flushes written once.
//!
//! # The locking rule
//! - Record writes never hold a lock: each is a compare-and-swap against the bytes that were
//!   read (retried, or refused with a clear error), or a sled transaction.
//! - `folders` is held by a backup for its whole run and by every removal of a folder that a
//!   record may point to (purge, the old folder after an import). A backup therefore never sees
//!   a folder vanish; uploads never take it.
//! - Callers that also need the key ring fixed (import) take the portal's edit lock *before*
//!   calling in; the store never takes that lock, so the order is always edit lock → `folders`.

pub mod backup;
pub mod blobs;
mod commit;
pub mod db;
mod identity;
mod keys;
pub mod migrate;
mod notices;
pub mod partial;
mod published;
pub use published::Stored;
mod purge;
mod reads;
mod space;
mod swap;
#[cfg(test)]
mod test_dir;
mod upload;

pub use blobs::{Blobs, Recovery};
pub(crate) use db::Db;
pub use db::{Guard, Invite};
pub use notices::Notices;
pub use space::{Meter, file_cost, sealed_cost};
pub use swap::Ciphertext;
pub use upload::Upload;

use crate::clock::Clock;
use crate::record::Record;
use commit::Committer;
use space::Space;
use std::sync::{Arc, Mutex, MutexGuard};

/// Why storage failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file system operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was attempted.
        op: &'static str,
        /// On what.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The database could not be opened (often: another process holds it).
    #[error("cannot open the database {path}: {detail}")]
    Open {
        /// The database folder.
        path: std::path::PathBuf,
        /// sled's reason.
        detail: String,
    },
    /// The database failed.
    #[error("database: {0}")]
    Db(String),
    /// A commit's condition failed; nothing of it was stored.
    #[error("{0}")]
    Refused(Refusal),
    /// A stored record could not be decoded.
    #[error("corrupt record {key}: {problem}")]
    Corrupt {
        /// Which record.
        key: String,
        /// What is wrong.
        problem: String,
    },
    /// The database cannot be reached now (connection lost or refused); the portal answers
    /// 503 and tries again by itself.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// Less than `storage.min_free_bytes` would remain.
    #[error("not enough free space on the data file system")]
    Full,
}

impl StoreError {
    /// True when the disk is full (or would fall below the configured reserve).
    pub fn is_disk_full(&self) -> bool {
        match self {
            StoreError::Full => true,
            StoreError::Io { source, .. } => source.kind() == std::io::ErrorKind::StorageFull,
            _ => false,
        }
    }
}

/// What a team action did to a case, for its audit entry (never reporter data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// What happened.
    pub kind: crate::record::AuditKind,
    /// Free text without reporter data (a state change, a decision, a recipient's name).
    pub detail: String,
}

impl Change {
    /// A change of `kind` with `detail`.
    pub fn new(kind: crate::record::AuditKind, detail: impl Into<String>) -> Change {
        Change {
            kind,
            detail: detail.into(),
        }
    }
}

/// Why a guarded change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The invitation was used by another submission, or expired.
    #[error("the invitation was already used or has expired")]
    InviteGone,
    /// The case a follow-up belongs to was closed (or deleted) meanwhile.
    #[error("the case was closed")]
    ParentClosed,
    /// A stored value could not be decoded.
    #[error("a stored value is corrupt")]
    Corrupt,
    /// The case was purged meanwhile.
    #[error("the case was deleted meanwhile")]
    Purged,
    /// The ciphertext of the case was replaced meanwhile (another import).
    #[error("the case's ciphertext was replaced meanwhile")]
    Replaced,
}

/// The data directory of a running portal.
pub struct Store {
    db: Db,
    blobs: Blobs,
    committer: Committer,
    space: Arc<Space>,
    clock: Clock,
    folders: Mutex<()>,
    partials: Arc<partial::Partials>,
}

impl Store {
    /// Opens (creating) the data directory, runs start-up recovery and starts the committer.
    pub fn open(
        storage: &crate::config::Storage,
        clock: Clock,
    ) -> Result<(Store, Recovery), StoreError> {
        let data_dir = storage.data_dir.as_path();
        let min_free_bytes = storage.min_free_bytes.0;
        blobs::create_private_dir(data_dir)?;
        let db = Db::open_configured(storage)?;
        let blobs = Blobs::open(storage)?;
        // Before recovery removes what the database does not list: is it this ciphertext's?
        identity::check(&db, &blobs)?;
        let expected: Vec<(String, String, Vec<String>)> = db
            .list()?
            .into_iter()
            .filter(|r| r.purged_at.is_none())
            .map(|r| (r.id.clone(), r.blob_dir().to_owned(), r.blob_names()))
            .collect();
        let now = std::time::UNIX_EPOCH
            + std::time::Duration::from_secs(u64::try_from(clock.now().as_second()).unwrap_or(0));
        let report = blobs.recover(&expected, now)?;
        let space = Space::new(blobs.tmp_root().to_owned(), min_free_bytes);
        let store = Store {
            committer: Committer::start(blobs.clone(), db.clone(), clock)?,
            partials: partial::Partials::new(
                blobs.tmp_root().to_owned(),
                Arc::clone(&space),
                clock,
            ),
            space,
            db,
            blobs,
            clock,
            folders: Mutex::new(()),
        };
        Ok((store, report))
    }

    /// The clock every stored time comes from.
    pub fn clock(&self) -> Clock {
        self.clock
    }

    /// One team action on case `case` by `actor`: `f` changes the record and says what
    /// happened; the record's compare-and-swap and the audit entry (stamped with the store's
    /// clock and the actor) are written in one transaction, then flushed (blocking). `None`
    /// when there is no such case.
    pub fn apply<E: From<StoreError>>(
        &self,
        case: &str,
        actor: &crate::record::Actor,
        mut f: impl FnMut(&mut Record) -> Result<Change, E>,
    ) -> Result<Option<Record>, E> {
        let at = self.clock.text();
        self.db.apply_case(case, |r| {
            let change = f(r)?;
            Ok(crate::record::AuditEvent {
                at: at.clone(),
                event: change.kind,
                key_id: None,
                case: Some(case.to_owned()),
                detail: change.detail,
                actor: Some(actor.as_str().to_owned()),
            })
        })
    }

    /// Unfinished resumable uploads (pieces in `tmp/`, their state in memory).
    pub fn partials(&self) -> &Arc<partial::Partials> {
        &self.partials
    }

    /// Bytes available on the data file system.
    pub fn free_bytes(&self) -> Result<u64, StoreError> {
        self.space.free_bytes()
    }

    /// Bytes reserved by running uploads and not yet written.
    pub fn reserved_bytes(&self) -> u64 {
        self.space.outstanding()
    }

    /// Starts an upload: a new random id, its `tmp/` folder and a reservation of its first
    /// step. [`StoreError::Full`] when `declared` bytes would not fit as a whole.
    pub fn begin_upload(&self, declared: Option<u64>) -> Result<Upload, StoreError> {
        let reservation = self.space.reserve(declared)?;
        let id = new_id();
        let dir = self.blobs.begin(&id)?;
        Ok(Upload::new(id, dir, self.blobs.clone(), reservation))
    }

    /// Makes a finished upload (every file in it fsynced) durable with its record, if its
    /// guard holds: folder fsynced here, then renamed, parents fsynced and the record flushed
    /// by the group committer. On error nothing of it remains.
    pub async fn commit(
        &self,
        upload: Upload,
        record: Record,
        ref_hash: Option<[u8; 32]>,
        guard: Guard,
    ) -> Result<(), StoreError> {
        let blobs = self.blobs.clone();
        let upload = tokio::task::spawn_blocking(move || {
            blobs::sync_dir(upload.folder())?;
            crate::faultpoint::crash_point("folder-fsynced");
            // In a bucket, the objects go up here, many uploads at once, so that the group
            // commit after it only writes records.
            blobs.store(upload.id())?;
            Ok::<_, StoreError>(upload)
        })
        .await
        .map_err(|e| StoreError::Db(format!("commit task failed: {e}")))??;
        self.committer.commit(upload, record, ref_hash, guard).await
    }

    /// Writes the export bundle of `record` (blocking).
    pub fn export(&self, record: &Record, out: impl std::io::Write) -> std::io::Result<()> {
        let folder = record.blob_dir();
        crate::bundle::write_from(
            &crate::bundle::Index::of(record),
            |name| self.blobs.open_file(folder, name),
            out,
        )
    }

    /// Purges and imports remove folders, a backup reads them: they take turns, in this
    /// process and across every portal on the database.
    fn lock_folders(&self) -> Result<Held<'_>, StoreError> {
        self.hold(&self.folders, "folders")
    }

    /// Takes `local` and then the database-wide lock `name` (the same on every portal sharing
    /// the database; nothing more on sled).
    pub fn hold<'a>(&self, local: &'a Mutex<()>, name: &str) -> Result<Held<'a>, StoreError> {
        let local = local.lock().unwrap_or_else(|p| p.into_inner());
        let shared = self.db.exclusive(name)?;
        Ok(Held {
            _shared: shared,
            _local: local,
        })
    }
}

/// A lock held in this process and, on a shared database, by this portal among all (see
/// [`Store::hold`]); released when dropped.
pub struct Held<'a> {
    _shared: Option<db::Exclusive>,
    _local: MutexGuard<'a, ()>,
}

/// A random submission id: 128 bits, hex. Never derived from user input.
fn new_id() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    crate::digest::hex(&b)
}

/// True for the ids the store makes for new submissions: 32 lower-case hex digits.
pub fn is_id(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// True for the folder names the store makes for record `id`: the id itself, or `id.N` after an
/// import.
pub fn is_folder_of(id: &str, folder: &str) -> bool {
    match folder.strip_prefix(id) {
        Some("") => true,
        Some(rest) => rest.strip_prefix('.').is_some_and(|n| {
            !n.is_empty() && n.len() <= 20 && n.bytes().all(|b| b.is_ascii_digit())
        }),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_generated_ids_and_folder_names_pass() {
        let id = new_id();
        assert!(is_id(&id));
        assert!(is_folder_of(&id, &id));
        assert!(is_folder_of(&id, &format!("{id}.17")));
        for bad in ["", "../etc", "ABCDEF0123456789abcdef0123456789", "0123"] {
            assert!(!is_id(bad), "{bad}");
        }
        for bad in [
            format!("{id}."),
            format!("{id}.1/.."),
            format!("{id}/x"),
            format!("{id}.-1"),
            "..".to_owned(),
        ] {
            assert!(!is_folder_of(&id, &bad), "{bad}");
        }
    }
}
