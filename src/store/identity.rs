//! The storage id: one random number kept both in the database (a marker) and in the data
//! folder (`storage-id`), so that a portal never starts on a data folder and a database that
//! do not belong together. Start-up recovery removes every ciphertext folder the database does
//! not list: pointed at the wrong database (a mistyped schema, `storage.metadata` switched
//! without `sealdrop migrate`), it would remove them all.

use super::{Db, StoreError, blobs};
use std::path::Path;

/// The marker's name in the database (kept in backups).
pub const MARKER: &str = "storage-id";
/// The file's name in the data folder.
pub const FILE: &str = "storage-id";

fn refuse(problem: String) -> StoreError {
    StoreError::Db(format!(
        "{problem}. Nothing was changed. Check storage.metadata and storage.postgres (its schema) \
         against this folder; to move a portal to another engine, use `sealdrop migrate`"
    ))
}

fn read_file(data_dir: &Path) -> Result<Option<u64>, StoreError> {
    let path = data_dir.join(FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            u64::from_str_radix(text.trim(), 16)
                .map(Some)
                .map_err(|_| StoreError::Corrupt {
                    key: path.display().to_string(),
                    problem: "not a storage id".into(),
                })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(StoreError::Io {
            op: "read",
            path,
            source,
        }),
    }
}

/// Writes the data folder's copy of `id`, durably.
pub fn write_file(data_dir: &Path, id: u64) -> Result<(), StoreError> {
    let path = data_dir.join(FILE);
    let io = |source| StoreError::Io {
        op: "write",
        path: path.clone(),
        source,
    };
    let mut f = std::fs::File::create(&path).map_err(io)?;
    std::io::Write::write_all(&mut f, format!("{id:016x}\n").as_bytes()).map_err(io)?;
    f.sync_all().map_err(io)?;
    blobs::sync_dir(data_dir)
}

/// Checks that `db` is the database of `data_dir` (or pairs them when one of them is new).
pub fn check(db: &Db, data_dir: &Path) -> Result<(), StoreError> {
    let on_disk = read_file(data_dir)?;
    let in_db = db.marker(MARKER)?;
    let folders = std::fs::read_dir(data_dir.join("blobs"))
        .map(|d| d.count())
        .unwrap_or(0);
    match (on_disk, in_db) {
        (Some(a), Some(b)) if a == b => Ok(()),
        (Some(a), Some(b)) => Err(refuse(format!(
            "the data folder {} (storage id {a:016x}) belongs to another database than the \
             configured {} database (storage id {b:016x})",
            data_dir.display(),
            db.engine()
        ))),
        (Some(a), None) => Err(refuse(format!(
            "the data folder {} (storage id {a:016x}) belongs to a database, but the configured \
             {} database is not it (it has no storage id)",
            data_dir.display(),
            db.engine()
        ))),
        // A new data folder for an existing database: another portal on it, or a restore.
        (None, Some(b)) if folders == 0 => write_file(data_dir, b),
        (None, Some(_)) => Err(refuse(format!(
            "the data folder {} holds ciphertext but no storage id, and the configured {} \
             database belongs to another folder",
            data_dir.display(),
            db.engine()
        ))),
        // Both new (or written before storage ids): pair them, unless the folder holds
        // ciphertext the database knows nothing of.
        (None, None) => {
            if folders > 0 && db.list()?.is_empty() {
                return Err(refuse(format!(
                    "the data folder {} holds {folders} ciphertext folder(s) but the configured \
                     {} database holds no records: starting would remove them",
                    data_dir.display(),
                    db.engine()
                )));
            }
            use rand::RngCore;
            db.set_marker(MARKER, rand::rngs::OsRng.next_u64())?;
            let id = db
                .marker(MARKER)?
                .ok_or_else(|| StoreError::Db("storage id vanished".into()))?;
            write_file(data_dir, id)
        }
    }
}
