//! Moving a portal from one storage to another (`sealdrop migrate`): from sled to PostgreSQL
//! and back, into a new data folder. The source's backup is streamed through a pipe into a
//! restore at the target, so every file's SHA-256 is checked against its record on the way and
//! nothing waits on disk in between; then the target's records are compared with the
//! source's, entry for entry.

use super::backup::{BackupError, restore_to};
use super::{Db, Store};
use crate::clock::Clock;
use crate::config::{Metadata, Storage};
use std::io::{BufReader, BufWriter};

/// What a migration moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    /// Submission records (tombstones included).
    pub submissions: usize,
    /// The engine the records now live in.
    pub engine: &'static str,
}

/// Copies everything of `from` (its portal stopped, when it is sled) to `to` (a new or empty
/// data folder; a blank PostgreSQL schema).
pub fn migrate(from: &Storage, to: &Storage) -> Result<Moved, BackupError> {
    if same_place(from, to) {
        return Err(BackupError::Target(
            "--from and --to name the same storage: give the target a new data_dir (and, for \
             PostgreSQL, a new schema)"
                .into(),
        ));
    }
    let (source, _) = Store::open(from, Clock::for_server())?;
    let before = source.db.snapshot()?;
    let (reader, writer) = std::io::pipe().map_err(|e| BackupError::Io(e.to_string()))?;
    let (sent, restored) = std::thread::scope(|s| {
        let sender = s.spawn(|| source.backup(BufWriter::new(writer)));
        let restored = restore_to(BufReader::new(reader), to);
        (sender.join(), restored)
    });
    // The restore's error says more (the sender then only sees its reader gone).
    let n = restored?;
    sent.map_err(|_| BackupError::Io("the backup thread failed".into()))??;
    let target = Db::open_configured(to)?;
    let after = target.snapshot()?;
    let value = |s| serde_json::to_value(s).map_err(|e| BackupError::Io(e.to_string()));
    if value(&before)? != value(&after)? {
        target.clear_all()?;
        return Err(BackupError::Io(
            "the target's records differ from the source's after the copy; the target was \
             emptied again"
                .into(),
        ));
    }
    Ok(Moved {
        submissions: n,
        engine: target.engine(),
    })
}

/// True when both name the same records (or the same data folder).
fn same_place(a: &Storage, b: &Storage) -> bool {
    let folder = |s: &Storage| std::fs::canonicalize(&s.data_dir).unwrap_or(s.data_dir.clone());
    folder(a) == folder(b)
        || (a.metadata == Metadata::Postgres
            && b.metadata == Metadata::Postgres
            && a.postgres.url == b.postgres.url
            && a.postgres.schema == b.postgres.schema)
}
