//! The ciphertext: `tmp/<id>/` in the data folder while an upload runs, then `blobs/<id>/`:
//! a folder of the data folder (the default) or objects in an S3-compatible bucket
//! (`storage.blobs = "s3"`, [`s3`]). Owns the layout, the commit (local: fsync, rename, fsync
//! the parents; S3: every object created before the record is committed), the reads for
//! exports and backups, start-up recovery and the orphan sweep. Nothing outside this module
//! knows which place holds the ciphertext.

#[cfg(test)]
mod conformance;
#[cfg(feature = "s3")]
pub mod s3;

use super::StoreError;
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
#[cfg(feature = "s3")]
use std::sync::Arc;

/// The blob store of a data folder (and its bucket).
#[derive(Debug, Clone)]
pub struct Blobs {
    tmp: PathBuf,
    place: Place,
}

#[derive(Debug, Clone)]
enum Place {
    /// `data_dir/blobs` and the data folder's `storage-id` file.
    Local {
        committed: PathBuf,
        data_dir: PathBuf,
    },
    /// `blobs/<folder>/<file>` and `storage-id` under the bucket's prefix.
    #[cfg(feature = "s3")]
    Bucket(Arc<s3::Bucket>),
}

/// What start-up recovery found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// Unfinished uploads removed from `tmp/`.
    pub tmp_removed: usize,
    /// Committed folders without a record (crash before the record was flushed), removed.
    pub orphans_removed: usize,
    /// Folders without a record kept because they are younger than the grace period (another
    /// portal may be committing them; S3 only).
    pub orphans_waiting: usize,
    /// Ids whose record exists but whose blob folder or files are missing.
    pub missing: Vec<String>,
}

/// A new stored file being written (by a restore); dropped unfinished, it leaves nothing
/// that a later restore would trip over.
pub trait NewBlob: Write {
    /// Makes the file durable (local: fsync; S3: the object created).
    fn finish(self: Box<Self>) -> io::Result<()>;
}

/// A file a reader gets: its size and its bytes.
pub type Opened = (u64, Box<dyn Read + Send>);

fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> StoreError + 'a {
    move |source| StoreError::Io {
        op,
        path: path.to_owned(),
        source,
    }
}

/// Creates `path` and its parents with mode 0700.
pub fn create_private_dir(path: &Path) -> Result<(), StoreError> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(io("create folder", path))
}

/// fsyncs a folder so a rename or create inside it is durable.
pub fn sync_dir(path: &Path) -> Result<(), StoreError> {
    fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(io("fsync folder", path))
}

impl Blobs {
    /// Opens the blob store `storage` names, creating the data folder's `tmp/` (and, for local
    /// ciphertext, `blobs/`).
    pub fn open(storage: &crate::config::Storage) -> Result<Blobs, StoreError> {
        let data_dir = storage.data_dir.as_path();
        let tmp = data_dir.join("tmp");
        create_private_dir(&tmp)?;
        let place = match storage.blobs {
            crate::config::BlobStore::Local => {
                let committed = data_dir.join("blobs");
                create_private_dir(&committed)?;
                Place::Local {
                    committed,
                    data_dir: data_dir.to_owned(),
                }
            }
            #[cfg(feature = "s3")]
            crate::config::BlobStore::S3 => Place::Bucket(Arc::new(s3::Bucket::open(&storage.s3)?)),
            #[cfg(not(feature = "s3"))]
            crate::config::BlobStore::S3 => {
                return Err(StoreError::Db(
                    "storage.blobs is \"s3\", but this build has no S3 support: build sealdrop \
                     with `--features s3`"
                        .into(),
                ));
            }
        };
        Ok(Blobs { tmp, place })
    }

    /// Where the ciphertext lives, for messages: "the data folder D" or "bucket B prefix P".
    pub fn describe(&self) -> String {
        match &self.place {
            Place::Local { data_dir, .. } => format!("the data folder {}", data_dir.display()),
            #[cfg(feature = "s3")]
            Place::Bucket(b) => b.name().to_owned(),
        }
    }

    /// The engine's name (`local` or `s3`).
    pub fn engine(&self) -> &'static str {
        match &self.place {
            Place::Local { .. } => "local",
            #[cfg(feature = "s3")]
            Place::Bucket(_) => "s3",
        }
    }

    /// The data folder's `tmp/`, where uploads are staged whatever the engine.
    pub fn tmp_root(&self) -> &Path {
        &self.tmp
    }

    /// The temporary folder called `name`.
    pub fn tmp_dir(&self, name: &str) -> PathBuf {
        self.tmp.join(name)
    }

    /// Creates the temporary folder of upload `id`.
    pub fn begin(&self, id: &str) -> Result<PathBuf, StoreError> {
        let dir = self.tmp.join(id);
        fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .map_err(io("create folder", &dir))?;
        Ok(dir)
    }

    /// Stores the staged files of upload `id` where they are kept, before its record is
    /// committed: nothing for local ciphertext (the committer renames the folder); for S3,
    /// every file of `tmp/<id>/` becomes an object, and on failure none remains.
    #[cfg_attr(not(feature = "s3"), allow(unused_variables))]
    pub fn store(&self, id: &str) -> Result<(), StoreError> {
        match &self.place {
            Place::Local { .. } => Ok(()),
            #[cfg(feature = "s3")]
            Place::Bucket(b) => {
                let dir = self.tmp.join(id);
                let mut names = Vec::new();
                for entry in fs::read_dir(&dir).map_err(io("read folder", &dir))? {
                    let entry = entry.map_err(io("read folder", &dir))?;
                    names.push(entry.file_name().to_string_lossy().into_owned());
                }
                names.sort();
                let mut stored: Vec<&str> = Vec::with_capacity(names.len());
                for name in &names {
                    if let Err(e) = b.put_file(&format!("blobs/{id}/{name}"), &dir.join(name)) {
                        // Only what this call created goes (an object that was there already
                        // is not ours); what cannot be removed now is an orphan for the sweep.
                        for done in stored {
                            if let Err(e) = b.delete(&format!("blobs/{id}/{done}")) {
                                tracing::error!(error = %e, "could not remove an object of a refused upload; the start-up sweep removes it after storage.s3.orphan_grace");
                            }
                        }
                        return Err(e);
                    }
                    stored.push(name);
                }
                crate::faultpoint::crash_point("objects-stored");
                Ok(())
            }
        }
    }

    /// Makes upload `id` durable on its own (an import's new folder): stored, and for local
    /// ciphertext fsynced, renamed into `blobs/` and the parents fsynced. The files inside
    /// must already be fsynced.
    pub fn commit(&self, id: &str) -> Result<(), StoreError> {
        match &self.place {
            Place::Local { committed, .. } => {
                let from = self.tmp.join(id);
                let to = committed.join(id);
                sync_dir(&from)?;
                fs::rename(&from, &to).map_err(io("rename", &from))?;
                sync_dir(committed)?;
                sync_dir(&self.tmp)
            }
            #[cfg(feature = "s3")]
            Place::Bucket(_) => {
                self.store(id)?;
                remove_quietly(&self.tmp.join(id));
                Ok(())
            }
        }
    }

    /// Moves a prepared upload in: local, a rename into `blobs/` (durable after
    /// `sync_parents`); S3, its objects are stored already and the staging folder goes.
    pub fn move_in(&self, id: &str) -> Result<(), StoreError> {
        let from = self.tmp.join(id);
        match &self.place {
            Place::Local { committed, .. } => {
                fs::rename(&from, committed.join(id)).map_err(io("rename", &from))
            }
            #[cfg(feature = "s3")]
            Place::Bucket(_) => {
                remove_quietly(&from);
                Ok(())
            }
        }
    }

    /// Makes every `move_in` before it durable (local: fsyncs `blobs/` and `tmp/`).
    pub fn sync_parents(&self) -> Result<(), StoreError> {
        match &self.place {
            Place::Local { committed, .. } => {
                sync_dir(committed)?;
                sync_dir(&self.tmp)
            }
            #[cfg(feature = "s3")]
            Place::Bucket(_) => Ok(()),
        }
    }

    /// Removes the temporary folder of upload `id` (an aborted or rejected upload).
    pub fn discard_tmp(&self, id: &str) {
        remove_quietly(&self.tmp.join(id));
    }

    /// Removes a committed folder whose record could not be written.
    pub fn discard_committed(&self, id: &str) {
        if let Err(e) = self.remove_committed(id) {
            tracing::error!(error = %e, "could not remove the ciphertext of an unacknowledged upload");
        }
    }

    /// Deletes a committed folder (a purge) and makes the deletion durable.
    pub fn remove_committed(&self, name: &str) -> Result<(), StoreError> {
        match &self.place {
            Place::Local { committed, .. } => {
                let dir = committed.join(name);
                match fs::remove_dir_all(&dir) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io("remove folder", &dir)(e)),
                }
                sync_dir(committed)
            }
            #[cfg(feature = "s3")]
            Place::Bucket(b) => b.delete_folder(&format!("blobs/{name}/")).map(|_| ()),
        }
    }

    /// Opens the file `name` of the committed folder `folder`.
    pub fn open_file(&self, folder: &str, name: &str) -> io::Result<Opened> {
        match &self.place {
            Place::Local { committed, .. } => {
                let file = fs::File::open(committed.join(folder).join(name))?;
                let len = file.metadata()?.len();
                Ok((len, Box::new(file)))
            }
            #[cfg(feature = "s3")]
            Place::Bucket(b) => {
                let (len, reader) = b
                    .read(&format!("blobs/{folder}/{name}"))
                    .map_err(io::Error::other)?;
                Ok((len, Box::new(reader)))
            }
        }
    }

    /// A new file `name` in the committed folder `folder` (a restore; never overwriting).
    pub fn create_file(&self, folder: &str, name: &str) -> io::Result<Box<dyn NewBlob + '_>> {
        match &self.place {
            Place::Local { committed, .. } => {
                use std::os::unix::fs::OpenOptionsExt;
                let dir = committed.join(folder);
                create_private_dir(&dir).map_err(io::Error::other)?;
                let file = fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(dir.join(name))?;
                Ok(Box::new(LocalFile(file)))
            }
            #[cfg(feature = "s3")]
            Place::Bucket(b) => Ok(Box::new(ObjectFile(Some(
                b.create(&format!("blobs/{folder}/{name}"))
                    .map_err(io::Error::other)?,
            )))),
        }
    }

    /// Makes the folders a restore wrote durable (local: fsyncs each and `blobs/`).
    pub fn sync_folders<'a>(
        &self,
        folders: impl Iterator<Item = &'a str>,
    ) -> Result<(), StoreError> {
        match &self.place {
            Place::Local { committed, .. } => {
                for folder in folders {
                    sync_dir(&committed.join(folder))?;
                }
                sync_dir(committed)
            }
            #[cfg(feature = "s3")]
            Place::Bucket(_) => Ok(()),
        }
    }

    /// True when any committed ciphertext is there.
    pub fn holds_ciphertext(&self) -> Result<bool, StoreError> {
        match &self.place {
            Place::Local { committed, .. } => Ok(fs::read_dir(committed)
                .map(|mut d| d.next().is_some())
                .unwrap_or(false)),
            #[cfg(feature = "s3")]
            Place::Bucket(b) => Ok(!b.list_some("blobs/")?.is_empty()),
        }
    }

    /// Removes every committed folder (a failed restore into storage that was empty).
    pub fn clear(&self) -> Result<(), StoreError> {
        match &self.place {
            Place::Local { .. } => Ok(()),
            #[cfg(feature = "s3")]
            Place::Bucket(b) => {
                b.delete_folder("blobs/")?;
                b.delete(super::identity::FILE)
            }
        }
    }

    /// The storage id kept with the ciphertext (see `identity`).
    pub fn marker(&self) -> Result<Option<Vec<u8>>, StoreError> {
        match &self.place {
            Place::Local { data_dir, .. } => {
                let path = data_dir.join(super::identity::FILE);
                match fs::read(&path) {
                    Ok(bytes) => Ok(Some(bytes)),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(io("read", &path)(e)),
                }
            }
            #[cfg(feature = "s3")]
            Place::Bucket(b) => b.get_small(super::identity::FILE),
        }
    }

    /// Writes the storage id kept with the ciphertext, durably.
    pub fn set_marker(&self, text: &[u8]) -> Result<(), StoreError> {
        match &self.place {
            Place::Local { data_dir, .. } => {
                let path = data_dir.join(super::identity::FILE);
                let mut f = fs::File::create(&path).map_err(io("write", &path))?;
                f.write_all(text).map_err(io("write", &path))?;
                f.sync_all().map_err(io("write", &path))?;
                sync_dir(data_dir)
            }
            #[cfg(feature = "s3")]
            Place::Bucket(b) => {
                // Created, never replaced: two portals pairing a new prefix at once with the
                // same database write the same id, and the second finds it there.
                let mut w = b.create(super::identity::FILE)?;
                w.write(text)?;
                match w.finish() {
                    Ok(_) => Ok(()),
                    Err(e) if b.get_small(super::identity::FILE)?.as_deref() == Some(text) => {
                        tracing::debug!(error = %e, "the storage id was written by another portal");
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            }
        }
    }

    /// Empties `tmp/`, removes committed folders no record points to (in a bucket: only once
    /// every object of the folder is older than `orphan_grace` at `now`), and lists the records whose
    /// files are missing. `expected` lists, per record, (its id, its folder name, the file
    /// names it must have).
    #[cfg_attr(not(feature = "s3"), allow(unused_variables))]
    pub fn recover(
        &self,
        expected: &[(String, String, Vec<String>)],
        now: std::time::SystemTime,
    ) -> Result<Recovery, StoreError> {
        let mut report = Recovery::default();
        for entry in fs::read_dir(&self.tmp).map_err(io("read folder", &self.tmp))? {
            let entry = entry.map_err(io("read folder", &self.tmp))?;
            remove_quietly(&entry.path());
            report.tmp_removed += 1;
        }
        if report.tmp_removed > 0 {
            sync_dir(&self.tmp)?;
        }
        let referenced: std::collections::HashSet<&str> =
            expected.iter().map(|(_, dir, _)| dir.as_str()).collect();
        match &self.place {
            Place::Local { committed, .. } => {
                for entry in fs::read_dir(committed).map_err(io("read folder", committed))? {
                    let entry = entry.map_err(io("read folder", committed))?;
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if !referenced.contains(name.as_str()) {
                        remove_quietly(&entry.path());
                        report.orphans_removed += 1;
                    }
                }
                if report.orphans_removed > 0 {
                    sync_dir(committed)?;
                }
                for (id, dir_name, names) in expected {
                    let dir = committed.join(dir_name);
                    if names.iter().any(|n| !dir.join(n).is_file()) {
                        report.missing.push(id.clone());
                    }
                }
            }
            #[cfg(feature = "s3")]
            Place::Bucket(b) => {
                use std::collections::{BTreeMap, HashSet};
                // Listed before the records are compared: an object listed here whose record
                // was committed meanwhile is in `expected` only if it was read after; the
                // grace period covers the rest.
                let mut folders: BTreeMap<String, (HashSet<String>, std::time::SystemTime)> =
                    BTreeMap::new();
                for object in b.list("blobs/")? {
                    let Some((folder, file)) = object
                        .key
                        .strip_prefix("blobs/")
                        .and_then(|rest| rest.split_once('/'))
                    else {
                        continue;
                    };
                    let entry = folders
                        .entry(folder.to_owned())
                        .or_insert_with(|| (HashSet::new(), std::time::SystemTime::UNIX_EPOCH));
                    entry.0.insert(file.to_owned());
                    entry.1 = entry.1.max(object.modified);
                }
                let cutoff = now
                    .checked_sub(b.grace())
                    .unwrap_or(std::time::SystemTime::UNIX_EPOCH);
                for (folder, (_, newest)) in &folders {
                    if referenced.contains(folder.as_str()) {
                        continue;
                    }
                    if *newest <= cutoff {
                        b.delete_folder(&format!("blobs/{folder}/"))?;
                        report.orphans_removed += 1;
                    } else {
                        report.orphans_waiting += 1;
                    }
                }
                for (id, dir_name, names) in expected {
                    let present = folders.get(dir_name.as_str());
                    if names
                        .iter()
                        .any(|n| !present.is_some_and(|(files, _)| files.contains(n)))
                    {
                        report.missing.push(id.clone());
                    }
                }
            }
        }
        Ok(report)
    }
}

/// A restored file in the data folder.
struct LocalFile(fs::File);

impl Write for LocalFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl NewBlob for LocalFile {
    fn finish(self: Box<Self>) -> io::Result<()> {
        self.0.sync_all()
    }
}

/// A restored object.
#[cfg(feature = "s3")]
struct ObjectFile<'a>(Option<s3::Writer<'a>>);

#[cfg(feature = "s3")]
impl Write for ObjectFile<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.0.as_mut() {
            Some(w) => w.write(buf).map(|()| buf.len()).map_err(io::Error::other),
            None => Err(io::Error::other("the object is finished")),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(feature = "s3")]
impl NewBlob for ObjectFile<'_> {
    fn finish(mut self: Box<Self>) -> io::Result<()> {
        match self.0.take() {
            Some(w) => w.finish().map(|_| ()).map_err(io::Error::other),
            None => Ok(()),
        }
    }
}

fn remove_quietly(path: &Path) {
    let result = if path.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    };
    if let Err(e) = result
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::error!(path = %path.display(), error = %e, "could not remove leftover upload data");
    }
}
