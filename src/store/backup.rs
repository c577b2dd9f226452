//! Online backup and offline restore of a data directory: `backup.json` (every record, reference
//! hash, key and audit event, and the case counters) followed by the ciphertext of every
//! submission in it. Ciphertext only: a backup is as safe to store as the data directory.

use super::db::Snapshot;
use super::{Blobs, Db, Store, StoreError};
use crate::bundle::{self, TarWriter};
use crate::digest::HashingReader;
use crate::record::Record;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fs;
use std::io::{self, Read, Write};
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

impl From<crate::bundle::BundleError> for BackupError {
    fn from(e: crate::bundle::BundleError) -> Self {
        BackupError::Invalid(e.0)
    }
}

impl crate::hint::Hint for BackupError {
    fn hint(&self) -> Option<String> {
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

impl Store {
    /// Writes a consistent backup to `out` while uploads go on: the records present when it
    /// starts, with the ciphertext of those not purged. Purges and imports wait until it is
    /// done (they remove folders), uploads do not.
    pub fn backup(&self, out: impl Write) -> Result<usize, BackupError> {
        let _folders = self.lock_folders()?;
        let snapshot = self.db.snapshot()?;
        let meta = Meta {
            format: FORMAT.into(),
            created_at: self.clock.text(),
            snapshot,
        };
        let json = serde_json::to_vec(&meta).map_err(|e| BackupError::Io(e.to_string()))?;
        let io_err = |e: io::Error| BackupError::Io(e.to_string());
        let mut tar = TarWriter::new(out);
        tar.append("backup.json", json.len() as u64, json.as_slice())
            .map_err(io_err)?;
        for r in &meta.snapshot.records {
            for name in r.blob_names() {
                let (size, file) = self.blobs.open_file(r.blob_dir(), &name).map_err(io_err)?;
                tar.append(&format!("blobs/{}/{name}", r.blob_dir()), size, file)
                    .map_err(io_err)?;
            }
        }
        tar.finish().map_err(io_err)?.flush().map_err(io_err)?;
        Ok(meta.snapshot.records.len())
    }
}

fn invalid(what: impl std::fmt::Display) -> BackupError {
    BackupError::Invalid(format!("backup.json: {what}"))
}

fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && crate::digest::unhex(text).is_some()
}

/// Checks every id, folder name, case number, file list and cross-reference of a backup's
/// snapshot against the formats this server generates, before anything is written. Names
/// the first offending entry.
fn validate(snap: &Snapshot) -> Result<(), BackupError> {
    use std::collections::HashSet;
    let (mut ids, mut cases, mut folders) = (HashSet::new(), HashSet::new(), HashSet::new());
    let printable = |s: &str| {
        s.chars()
            .take(40)
            .filter(|c| !c.is_control())
            .collect::<String>()
    };
    for (n, r) in snap.records.iter().enumerate() {
        let at = || format!("record {n} ({:?})", printable(&r.id));
        if !super::is_id(&r.id) {
            return Err(invalid(format!(
                "{}: the id is not one this server makes",
                at()
            )));
        }
        if !super::is_folder_of(&r.id, r.blob_dir()) {
            return Err(invalid(format!(
                "{}: the folder name {:?} is not its own",
                at(),
                printable(r.blob_dir())
            )));
        }
        if !crate::reference::is_case_number(&r.case) {
            return Err(invalid(format!(
                "{}: {:?} is not a case number",
                at(),
                printable(&r.case)
            )));
        }
        let linked = r.parent.iter().chain(&r.addenda);
        if let Some(bad) = linked
            .into_iter()
            .find(|c| !crate::reference::is_case_number(c))
        {
            return Err(invalid(format!(
                "{}: {:?} is not a case number",
                at(),
                printable(bad)
            )));
        }
        if !ids.insert(r.id.as_str())
            || !cases.insert(r.case.as_str())
            || !folders.insert(r.blob_dir())
        {
            return Err(invalid(format!(
                "{}: its id, case or folder appears twice",
                at()
            )));
        }
        let files_ok = r
            .files
            .iter()
            .enumerate()
            .all(|(i, f)| f.index as usize == i && crate::digest::algo_of(&f.digest).is_some())
            && crate::digest::algo_of(&r.manifest.digest).is_some();
        if !files_ok {
            return Err(invalid(format!("{}: its file list is inconsistent", at())));
        }
        if !r.key_ids.iter().all(crate::keys::KeyId::is_well_formed) {
            return Err(invalid(format!("{}: a key id is malformed", at())));
        }
    }
    for r in &snap.records {
        if let Some(p) = &r.parent
            && !cases.contains(p.as_str())
        {
            return Err(invalid(format!(
                "case {}: its parent {p} is not in the backup",
                r.case
            )));
        }
        if let Some(a) = r.addenda.iter().find(|a| !cases.contains(a.as_str())) {
            return Err(invalid(format!(
                "case {}: its follow-up {a} is not in the backup",
                r.case
            )));
        }
    }
    for (hash, id) in &snap.refs {
        if !is_sha256_hex(hash) || !ids.contains(id.as_str()) {
            return Err(invalid(format!(
                "reference entry {:?}: not a hash of a record in the backup",
                printable(hash)
            )));
        }
    }
    for (hash, invite) in &snap.invites {
        let case_ok = invite
            .case
            .as_deref()
            .is_none_or(crate::reference::is_case_number);
        if !is_sha256_hex(hash) || !case_ok {
            return Err(invalid(format!(
                "invitation {:?}: malformed",
                printable(&invite.id)
            )));
        }
    }
    for k in &snap.keys {
        if !k.id.is_well_formed() {
            return Err(invalid(format!(
                "key {:?}: malformed id",
                printable(&k.id.0)
            )));
        }
    }
    for (name, _) in &snap.counters {
        if name.is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
            return Err(invalid(format!(
                "counter {:?}: malformed name",
                printable(name)
            )));
        }
    }
    Ok(())
}

/// The files a record's folder must hold in a backup: (folder, file) → (size, SHA-256).
fn expected_files(records: &[Record]) -> HashMap<(String, String), (u64, String)> {
    let mut expected = HashMap::new();
    for r in records.iter().filter(|r| r.purged_at.is_none()) {
        expected.insert(
            (r.blob_dir().to_owned(), "manifest.age".into()),
            (r.manifest.size, r.manifest.digest.clone()),
        );
        for f in &r.files {
            expected.insert(
                (r.blob_dir().to_owned(), f.blob_name()),
                (f.size, f.digest.clone()),
            );
        }
    }
    expected
}

/// Rebuilds a data directory from a backup. `data_dir` must be new or empty. Every ciphertext
/// file is checked against its record before the database is written. A restore that fails
/// removes what it created, so that it can be run again into the same folder.
pub fn restore(input: impl Read, data_dir: &Path) -> Result<usize, BackupError> {
    let storage = crate::config::Storage {
        data_dir: data_dir.to_owned(),
        ..Default::default()
    };
    restore_to(input, &storage)
}

/// [`restore`] into the storage a configuration names: the ciphertext into its `data_dir` (new
/// or empty), the records into its engine (sled in `data_dir`, or a PostgreSQL schema that
/// must hold nothing yet). A restore that fails removes what it wrote from both.
pub fn restore_to(
    input: impl Read,
    storage: &crate::config::Storage,
) -> Result<usize, BackupError> {
    let data_dir = storage.data_dir.as_path();
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
    // A database outside the folder (PostgreSQL) and a bucket must be blank before anything
    // is written, so that a failed restore may empty them again.
    let db = match storage.metadata {
        crate::config::Metadata::Sled => None,
        crate::config::Metadata::Postgres => {
            let db = Db::open_configured(storage)?;
            if !db.is_blank()? {
                return Err(BackupError::Target(format!(
                    "the {} database already holds data (storage.postgres.schema {:?}): restore \
                     into a new schema",
                    db.engine(),
                    storage.postgres.schema
                )));
            }
            Some(db)
        }
    };
    let mut opened: Option<Blobs> = None;
    let result = open_and_restore(input, storage, db.as_ref(), &mut opened);
    if let Err(failure) = &result {
        // Undo what was written, saying what could not be undone rather than hiding the
        // restore's own error behind it.
        let mut left = Vec::new();
        if let Some(blobs) = &opened {
            if let Some(db) = &db
                && let Err(e) = db.clear_all()
            {
                left.push(format!("emptying the database failed ({e})"));
            }
            if let Err(e) = blobs.clear() {
                left.push(format!("emptying {} failed ({e})", blobs.describe()));
            }
        }
        let _ = fs::remove_file(data_dir.join(super::identity::FILE));
        let ours = match created {
            Some(top) => vec![top],
            None => ["blobs", "tmp", "db"].map(|n| data_dir.join(n)).to_vec(),
        };
        for path in ours {
            match fs::remove_dir_all(&path) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => {
                    left.push(format!("removing {} failed ({e})", path.display()));
                }
                _ => {}
            }
        }
        if !left.is_empty() {
            return Err(BackupError::Target(format!(
                "{failure}; then undoing the partial restore: {}: remove it by hand",
                left.join("; ")
            )));
        }
    }
    result
}

/// Opens the target's ciphertext store (a bucket must hold nothing yet) and restores into it;
/// `opened` holds the store once anything may have been written there.
fn open_and_restore(
    input: impl Read,
    storage: &crate::config::Storage,
    db: Option<&Db>,
    opened: &mut Option<Blobs>,
) -> Result<usize, BackupError> {
    let blobs = Blobs::open(storage)?;
    if blobs.engine() != "local" && (blobs.holds_ciphertext()? || blobs.marker()?.is_some()) {
        return Err(BackupError::Target(format!(
            "{} already holds ciphertext: restore into a new prefix",
            blobs.describe()
        )));
    }
    let blobs = opened.insert(blobs);
    restore_into(input, &storage.data_dir, db, blobs)
}

/// [`restore`] into a folder that is new or empty.
fn restore_into(
    input: impl Read,
    data_dir: &Path,
    db: Option<&Db>,
    blobs: &Blobs,
) -> Result<usize, BackupError> {
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
            validate(&m.snapshot)?;
            expected = expected_files(&m.snapshot.records);
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
        let io_err = |e: io::Error| BackupError::Io(format!("{name}: {e}"));
        let mut out = blobs.create_file(dir, file).map_err(io_err)?;
        let mut hashing = HashingReader::for_digest(reader.take(size), &want_sha);
        io::copy(&mut hashing, &mut out).map_err(io_err)?;
        let (digest, len) = hashing.finish().map_err(io_err)?;
        if len != size || digest != want_sha {
            return Err(BackupError::Invalid(format!(
                "{name} does not match its recorded SHA-256"
            )));
        }
        out.finish().map_err(io_err)?;
        Ok(())
    })?;
    let meta = meta.ok_or_else(|| BackupError::Invalid("the archive is empty".into()))?;
    if let Some(((dir, file), _)) = expected.iter().next() {
        return Err(BackupError::Invalid(format!(
            "the backup is truncated: blobs/{dir}/{file} and {} more file(s) are missing",
            expected.len() - 1
        )));
    }
    blobs.sync_folders(
        meta.snapshot
            .records
            .iter()
            .filter(|r| r.purged_at.is_none())
            .map(|r| r.blob_dir()),
    )?;
    let opened;
    let db = match db {
        Some(db) => db,
        None => {
            opened = Db::open(&data_dir.join("db"))?;
            &opened
        }
    };
    db.restore(&meta.snapshot)?;
    // The restored folder and database belong together (the source's storage id).
    if let Some(id) = db.marker(super::identity::MARKER)? {
        super::identity::write(blobs, id)?;
    }
    Ok(meta.snapshot.records.len())
}
