//! Online backup and offline restore of a data directory: `backup.json` (every record, reference
//! hash, key and audit event, and the case counters) followed by the ciphertext of every
//! submission in it. Ciphertext only: a backup is as safe to store as the data directory.

use crate::bundle::{self, TarWriter};
use crate::digest::HashingReader;
use crate::portal::Portal;
use crate::store::db::Snapshot;
use crate::store::{Db, StoreError, blobs};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// The backup format tag.
pub const FORMAT: &str = "sealdrop-backup/1";
/// Largest `backup.json` a restore accepts.
const MAX_META_BYTES: u64 = 1 << 30;

#[derive(Serialize, Deserialize)]
struct Meta {
    format: String,
    created_at: String,
    #[serde(flatten)]
    snapshot: Snapshot,
}

/// Why a backup or restore failed.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The archive is not a usable backup.
    #[error("{0}")]
    Invalid(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Reading or writing failed.
    #[error("{0}")]
    Io(String),
    /// The target folder holds data or cannot be used.
    #[error("{0}")]
    Target(String),
}

impl From<String> for BackupError {
    fn from(s: String) -> Self {
        BackupError::Invalid(s)
    }
}

impl BackupError {
    /// What to do next.
    pub fn hint(&self) -> Option<String> {
        match self {
            BackupError::Invalid(_) => {
                Some("restore a file written by `sealdrop admin backup`".into())
            }
            BackupError::Store(_) | BackupError::Io(_) => Some(
                "a failed restore removes what it wrote; check that the backup is readable and \
                 that the target file system has room and is writable, then run it again"
                    .into(),
            ),
            BackupError::Target(_) => Some(
                "choose a new or empty folder with --data-dir; restore never mixes a backup with \
                 existing data"
                    .into(),
            ),
        }
    }
}

impl Portal {
    /// Writes a consistent backup to `out` while uploads go on: the records present when it
    /// starts, with their ciphertext. Imports and key edits wait until it is done.
    pub fn backup_blocking(&self, out: impl Write) -> Result<usize, BackupError> {
        let _guard = self.edit_lock.lock().unwrap_or_else(|p| p.into_inner());
        let snapshot = self.db.snapshot()?;
        let meta = Meta {
            format: FORMAT.into(),
            created_at: crate::rotation::now(),
            snapshot,
        };
        let json = serde_json::to_vec(&meta).map_err(|e| BackupError::Io(e.to_string()))?;
        let io_err = |e: io::Error| BackupError::Io(e.to_string());
        let mut tar = TarWriter::new(out);
        tar.append("backup.json", json.len() as u64, json.as_slice())
            .map_err(io_err)?;
        for r in &meta.snapshot.records {
            let dir = self.blobs.dir(r.blob_dir());
            for name in r.blob_names() {
                let file = fs::File::open(dir.join(&name)).map_err(io_err)?;
                let size = file.metadata().map_err(io_err)?.len();
                tar.append(&format!("blobs/{}/{name}", r.blob_dir()), size, file)
                    .map_err(io_err)?;
            }
        }
        tar.finish().map_err(io_err)?.flush().map_err(io_err)?;
        Ok(meta.snapshot.records.len())
    }
}

/// Rebuilds a data directory from a backup. `data_dir` must be new or empty. Every ciphertext
/// file is checked against its record before the database is written. A restore that fails
/// removes what it created, so that it can be run again into the same folder.
pub fn restore(input: impl Read, data_dir: &Path) -> Result<usize, BackupError> {
    let created = match fs::read_dir(data_dir).map(|mut entries| entries.next().is_none()) {
        Ok(true) => None,
        Ok(false) => {
            return Err(BackupError::Target(format!(
                "{} is not empty",
                data_dir.display()
            )));
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            crate::os::first_missing_ancestor(data_dir)
        }
        Err(e) => {
            return Err(BackupError::Target(format!(
                "cannot use {} as the data folder: {e}",
                data_dir.display()
            )));
        }
    };
    let result = restore_into(input, data_dir);
    if let Err(failure) = &result {
        let ours = match created {
            Some(top) => vec![top],
            None => ["blobs", "tmp", "db"].map(|n| data_dir.join(n)).to_vec(),
        };
        for path in ours {
            match fs::remove_dir_all(&path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    return Err(BackupError::Target(format!(
                        "{failure}; then removing the partial restore {} failed ({e}): remove \
                         it by hand",
                        path.display()
                    )));
                }
                _ => {}
            }
        }
    }
    result
}

/// [`restore`] into a folder that is new or empty.
fn restore_into(input: impl Read, data_dir: &Path) -> Result<usize, BackupError> {
    blobs::create_private_dir(&data_dir.join("blobs"))?;
    blobs::create_private_dir(&data_dir.join("tmp"))?;
    let mut meta: Option<Meta> = None;
    // (folder, file) → (size, sha256) still expected.
    let mut expected: HashMap<(String, String), (u64, String)> = HashMap::new();
    bundle::read_regular(input, |name, size, reader| -> Result<(), BackupError> {
        if meta.is_none() {
            if name != "backup.json" || size > MAX_META_BYTES {
                return Err(BackupError::Invalid(
                    "the archive does not start with backup.json".into(),
                ));
            }
            let mut buf = Vec::new();
            reader
                .take(size)
                .read_to_end(&mut buf)
                .map_err(|e| BackupError::Io(e.to_string()))?;
            let m: Meta = serde_json::from_slice(&buf).map_err(|e| {
                BackupError::Invalid(format!("backup.json is not a sealdrop backup: {e}"))
            })?;
            if m.format != FORMAT {
                return Err(BackupError::Invalid(format!(
                    "unknown backup format {:?}",
                    m.format
                )));
            }
            for r in &m.snapshot.records {
                expected.insert(
                    (r.blob_dir().to_owned(), "manifest.age".into()),
                    (r.manifest.size, r.manifest.sha256.clone()),
                );
                for f in &r.files {
                    expected.insert(
                        (r.blob_dir().to_owned(), f.blob_name()),
                        (f.size, f.sha256.clone()),
                    );
                }
            }
            meta = Some(m);
            return Ok(());
        }
        let (dir, file) = name
            .strip_prefix("blobs/")
            .and_then(|rest| rest.split_once('/'))
            .ok_or_else(|| BackupError::Invalid(format!("unexpected entry {name:?}")))?;
        let key = (dir.to_owned(), file.to_owned());
        let Some((want_size, want_sha)) = expected.remove(&key) else {
            return Err(BackupError::Invalid(format!(
                "unexpected or repeated entry {name:?}"
            )));
        };
        if size != want_size {
            return Err(BackupError::Invalid(format!("{name} has the wrong size")));
        }
        let folder = data_dir.join("blobs").join(dir);
        blobs::create_private_dir(&folder)?;
        let io_err = |e: io::Error| BackupError::Io(format!("{name}: {e}"));
        let mut out = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(folder.join(file))
            .map_err(io_err)?;
        let mut hashing = HashingReader::new(reader.take(size));
        io::copy(&mut hashing, &mut out).map_err(io_err)?;
        let (digest, len) = hashing.finish().map_err(io_err)?;
        if len != size || digest != want_sha {
            return Err(BackupError::Invalid(format!(
                "{name} does not match its recorded SHA-256"
            )));
        }
        out.sync_all().map_err(io_err)?;
        Ok(())
    })?;
    let meta = meta.ok_or_else(|| BackupError::Invalid("the archive is empty".into()))?;
    if let Some(((dir, file), _)) = expected.iter().next() {
        return Err(BackupError::Invalid(format!(
            "the backup is truncated: blobs/{dir}/{file} and {} more file(s) are missing",
            expected.len() - 1
        )));
    }
    for r in &meta.snapshot.records {
        blobs::sync_dir(&data_dir.join("blobs").join(r.blob_dir()))?;
    }
    blobs::sync_dir(&data_dir.join("blobs"))?;
    let db = Db::open(&data_dir.join("db"))?;
    db.restore(&meta.snapshot)?;
    Ok(meta.snapshot.records.len())
}
