//! One upload's place in the store between its first byte and its commit: a fresh `tmp/<id>/`
//! folder and a free-space reservation. Dropped before it is handed to the committer, it removes
//! its folder; once handed over, only the committer cleans up.

use super::space::Reservation;
use super::{Blobs, StoreError};
use std::path::PathBuf;

/// An upload in progress (ciphertext only in its folder).
#[derive(Debug)]
pub struct Upload {
    id: String,
    dir: PathBuf,
    blobs: Blobs,
    space: Reservation,
    /// Set when the committer owns the folder: from then on this handle removes nothing.
    handed_off: bool,
}

impl Upload {
    pub(super) fn new(id: String, dir: PathBuf, blobs: Blobs, space: Reservation) -> Upload {
        Upload {
            id,
            dir,
            blobs,
            space,
            handed_off: false,
        }
    }

    /// The submission id (random, also the folder name).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Where the file `name` of this upload is written (e.g. `000.age`, `manifest.age`).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Makes the finished piece `from` (in `tmp/`) the file `name` of this upload, by a hard
    /// link, and fsyncs it: pieces are not synced when they arrive (an unfinished upload does
    /// not outlive a restart), so this is where a reported piece becomes durable. The piece's
    /// own folder can then go whatever becomes of this upload.
    pub fn adopt(&self, from: &std::path::Path, name: &str) -> Result<(), StoreError> {
        let to = self.path(name);
        std::fs::hard_link(from, &to).map_err(|source| StoreError::Io {
            op: "link",
            path: to.clone(),
            source,
        })?;
        std::fs::File::open(&to)
            .and_then(|f| f.sync_all())
            .map_err(|source| StoreError::Io {
                op: "fsync",
                path: to,
                source,
            })
    }

    /// The upload's folder.
    pub(super) fn folder(&self) -> &std::path::Path {
        &self.dir
    }

    /// Counts `bytes` about to be written; 507 when the reservation cannot grow.
    pub fn reserve(&mut self, bytes: u64) -> Result<(), StoreError> {
        self.space.write(bytes)
    }

    /// The reservation, for the sink that writes this upload's files.
    pub fn meter(&mut self) -> &mut dyn super::space::Meter {
        &mut self.space
    }

    /// Gives the folder to the committer.
    pub(super) fn hand_off(mut self) -> Upload {
        self.handed_off = true;
        self
    }

    /// Takes the folder back from a committer that never received it.
    pub(super) fn take_back(mut self) -> Upload {
        self.handed_off = false;
        self
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        if !self.handed_off {
            self.blobs.discard_tmp(&self.id);
        }
    }
}
