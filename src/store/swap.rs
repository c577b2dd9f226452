//! Replacing a case's ciphertext (a re-keying import) without ever renaming over live data:
//! new folder → record switched by compare-and-swap → old folder removed.

use super::{Refusal, Store, StoreError, blobs};
use crate::keys::KeyId;
use crate::record::{AuditEvent, AuditKind, Record, StoredFile};
use std::path::Path;

/// The ciphertext an import installs in place of a record's.
#[derive(Debug, Clone)]
pub struct Ciphertext {
    /// The keys the new files are encrypted to.
    pub key_ids: Vec<KeyId>,
    /// The new manifest.
    pub manifest: StoredFile,
    /// The new files, in order.
    pub files: Vec<StoredFile>,
}

impl Store {
    /// Replaces the ciphertext of `case`. `fill` checks the record as read and writes the new
    /// files (each fsynced) into a fresh staging folder. Then the folder is fsynced, renamed
    /// into `blobs/` and the parents fsynced; the record is switched to it by compare-and-swap,
    /// which keeps every status change, note and follow-up made meanwhile and refuses when the
    /// case was purged or its ciphertext replaced since it was read; last the old folder goes.
    /// A crash at any point leaves one of the two folders unreferenced, which recovery removes.
    /// Returns the record before and after; `None` when there is no such case.
    /// The switch and its audit entry (`rekeyed`, by `actor`) are one transaction.
    pub fn replace_ciphertext<E: From<StoreError>>(
        &self,
        case: &str,
        actor: &crate::record::Actor,
        fill: impl FnOnce(&Record, &Path) -> Result<Ciphertext, E>,
    ) -> Result<Option<(Record, Record)>, E> {
        let Some(read) = self.db.by_case(case)? else {
            return Ok(None);
        };
        if read.purged_at.is_some() {
            return Err(StoreError::Refused(Refusal::Purged).into());
        }
        let name = format!("{}.{}", read.id, self.db.unique()?);
        let staging = self.blobs.tmp_dir(&name);
        blobs::create_private_dir(&staging)?;
        let new = match fill(&read, &staging) {
            Ok(new) => new,
            Err(e) => {
                self.blobs.discard_tmp(&name);
                return Err(e);
            }
        };
        if let Err(e) = self.blobs.commit(&name) {
            self.blobs.discard_tmp(&name);
            self.blobs.discard_committed(&name);
            return Err(e.into());
        }
        crate::faultpoint::crash_point("import-renamed");
        let at = self.clock.text();
        let switched = self.db.apply_case(case, |r| {
            if r.purged_at.is_some() {
                return Err(StoreError::Refused(Refusal::Purged));
            }
            if r.blob_dir() != read.blob_dir() || r.key_ids != read.key_ids || r.files != read.files
            {
                return Err(StoreError::Refused(Refusal::Replaced));
            }
            let detail = format!(
                "ciphertext replaced; keys {} → {}",
                join(&r.key_ids),
                join(&new.key_ids)
            );
            r.key_ids = new.key_ids.clone();
            r.manifest = new.manifest.clone();
            r.files = new.files.clone();
            r.blob_dir = Some(name.clone());
            Ok(AuditEvent {
                at: at.clone(),
                event: AuditKind::Rekeyed,
                key_id: None,
                case: Some(r.case.clone()),
                detail,
                actor: Some(actor.as_str().to_owned()),
            })
        });
        let after = match switched {
            Ok(Some(after)) => after,
            Ok(None) => {
                self.blobs.discard_committed(&name);
                return Ok(None);
            }
            Err(e) => {
                self.blobs.discard_committed(&name);
                return Err(e.into());
            }
        };
        crate::faultpoint::crash_point("import-switched");
        // The swap is done and durable; an old folder that cannot go now is unreferenced, and
        // start-up recovery removes it.
        if let Err(e) = self.remove_folder(read.blob_dir()) {
            tracing::error!(case = %read.case, error = %e, "the replaced ciphertext could not be removed yet; recovery removes it at the next start");
        }
        Ok(Some((read, after)))
    }
}

/// Key ids as the audit trail writes them.
fn join(ids: &[KeyId]) -> String {
    ids.iter()
        .map(|k| k.0.as_str())
        .collect::<Vec<_>>()
        .join(",")
}
