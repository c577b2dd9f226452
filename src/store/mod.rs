//! Durable storage: `db` (sled records) and `blobs` (ciphertext files and their folders).

pub mod blobs;
pub mod commit;
pub mod db;

pub use blobs::Blobs;
pub use commit::Committer;
pub use db::{Db, Guard, Invite, now};

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
}

impl StoreError {
    /// True when the disk is full.
    pub fn is_disk_full(&self) -> bool {
        matches!(self, StoreError::Io { source, .. } if source.raw_os_error() == Some(28))
    }
}

/// Why a guarded commit was refused.
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
}
