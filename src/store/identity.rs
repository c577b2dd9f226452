//! The storage id: one random number kept both in the database (a marker) and with the
//! ciphertext (`storage-id` in the data folder, or under the bucket's prefix), so that a portal
//! never starts on ciphertext and a database that do not belong together. Start-up recovery
//! removes every ciphertext folder the database does not list: pointed at the wrong database (a
//! mistyped schema, `storage.metadata` switched without `sealdrop migrate`), it would remove
//! them all.

use super::{Blobs, Db, StoreError};

/// The marker's name in the database (kept in backups).
pub const MARKER: &str = "storage-id";
/// The file's name in the data folder (and the object's under the bucket's prefix).
pub const FILE: &str = "storage-id";

fn refuse(problem: String) -> StoreError {
    StoreError::Db(format!(
        "{problem}. Nothing was changed. Check storage.metadata, storage.postgres (its schema) \
         and storage.blobs, storage.s3 (its bucket and prefix) against each other; to move a \
         portal to another engine, use `sealdrop migrate`"
    ))
}

fn read(blobs: &Blobs) -> Result<Option<u64>, StoreError> {
    let Some(bytes) = blobs.marker()? else {
        return Ok(None);
    };
    std::str::from_utf8(&bytes)
        .ok()
        .and_then(|text| u64::from_str_radix(text.trim(), 16).ok())
        .map(Some)
        .ok_or_else(|| StoreError::Corrupt {
            key: format!("{} in {}", FILE, blobs.describe()),
            problem: "not a storage id".into(),
        })
}

/// Writes the ciphertext's copy of `id`, durably.
pub fn write(blobs: &Blobs, id: u64) -> Result<(), StoreError> {
    blobs.set_marker(format!("{id:016x}\n").as_bytes())
}

/// Checks that `db` is the database of the ciphertext in `blobs` (or pairs them when one of
/// them is new).
pub fn check(db: &Db, blobs: &Blobs) -> Result<(), StoreError> {
    let with_blobs = read(blobs)?;
    let in_db = db.marker(MARKER)?;
    let place = blobs.describe();
    match (with_blobs, in_db) {
        (Some(a), Some(b)) if a == b => Ok(()),
        (Some(a), Some(b)) => Err(refuse(format!(
            "the ciphertext in {place} (storage id {a:016x}) belongs to another database than \
             the configured {} database (storage id {b:016x})",
            db.engine()
        ))),
        (Some(a), None) => Err(refuse(format!(
            "the ciphertext in {place} (storage id {a:016x}) belongs to a database, but the \
             configured {} database is not it (it has no storage id)",
            db.engine()
        ))),
        // New ciphertext storage for an existing database: another portal on it, or a restore.
        (None, Some(b)) if !blobs.holds_ciphertext()? => write(blobs, b),
        (None, Some(_)) => Err(refuse(format!(
            "{place} holds ciphertext but no storage id, and the configured {} database \
             belongs to other storage",
            db.engine()
        ))),
        // Both new (or written before storage ids): pair them, unless the storage holds
        // ciphertext the database knows nothing of.
        (None, None) => {
            if blobs.holds_ciphertext()? && db.list()?.is_empty() {
                return Err(refuse(format!(
                    "{place} holds ciphertext but the configured {} database holds no records: \
                     starting would remove it",
                    db.engine()
                )));
            }
            use rand::RngCore;
            db.set_marker(MARKER, rand::rngs::OsRng.next_u64())?;
            let id = db
                .marker(MARKER)?
                .ok_or_else(|| StoreError::Db("storage id vanished".into()))?;
            write(blobs, id)
        }
    }
}
