//! Purging a case: its ciphertext and its follow-ups' go, tombstones stay.

use super::{Refusal, Store, StoreError};

impl Store {
    /// Deletes the ciphertext of `case` and of every follow-up, keeping their records as
    /// tombstones (`purged_at = at`). Returns the cases whose ciphertext went, the case first;
    /// `None` when there is no such case.
    ///
    /// Order: the case is marked first, which closes it to new follow-ups (a follow-up's commit
    /// checks its parent in the same transaction), so reading the follow-ups from the marked
    /// record misses none. Each tombstone is flushed before its folder goes: a crash in between
    /// leaves an unreferenced folder that start-up recovery removes. Running it again after such
    /// a crash finishes the follow-ups; on a case purged completely it is refused.
    ///
    /// `event` is the purge's audit entry: written in the same transaction as the case's mark.
    pub fn purge(
        &self,
        case: &str,
        at: &str,
        event: &crate::record::AuditEvent,
    ) -> Result<Option<Vec<String>>, StoreError> {
        let Some((parent, newly)) = self.db.mark_purged(case, at, Some(event))? else {
            return Ok(None);
        };
        let mut done = Vec::new();
        if newly {
            crate::faultpoint::crash_point("purge-marked");
            done.push(parent.case.clone());
        }
        // Removing is idempotent: a purge interrupted after its marks is finished here.
        self.remove_folder(parent.blob_dir())?;
        for follow_up in &parent.addenda {
            match self.db.mark_purged(follow_up, at, None)? {
                Some((r, true)) => {
                    self.remove_folder(r.blob_dir())?;
                    done.push(r.case);
                }
                Some((r, false)) => self.remove_folder(r.blob_dir())?,
                None => {}
            }
        }
        if done.is_empty() {
            return Err(StoreError::Refused(Refusal::Purged));
        }
        Ok(Some(done))
    }

    /// Removes a committed folder that no live record points to any more, durably; waits for
    /// a running backup.
    pub(super) fn remove_folder(&self, name: &str) -> Result<(), StoreError> {
        let _folders = self.lock_folders()?;
        self.blobs.remove_committed(name)
    }
}
