//! Ciphertext on disk: `tmp/<id>/` while an upload runs, `blobs/<id>/` once committed.
//! Owns the layout, the atomic commit (fsync, rename, fsync parent), recovery and free space.

use super::StoreError;
use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

/// The blob store under `data_dir`.
#[derive(Debug, Clone)]
pub struct Blobs {
    tmp: PathBuf,
    committed: PathBuf,
}

/// What start-up recovery found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// Unfinished uploads removed from `tmp/`.
    pub tmp_removed: usize,
    /// Committed folders without a record (crash before the record was flushed), removed.
    pub orphans_removed: usize,
    /// Ids whose record exists but whose blob folder or files are missing.
    pub missing: Vec<String>,
}

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
    /// Opens the store under `data_dir`, creating its folders.
    pub fn open(data_dir: &Path) -> Result<Blobs, StoreError> {
        let b = Blobs {
            tmp: data_dir.join("tmp"),
            committed: data_dir.join("blobs"),
        };
        create_private_dir(&b.tmp)?;
        create_private_dir(&b.committed)?;
        Ok(b)
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

    /// Makes upload `id` durable: fsync its folder, rename it into `blobs/`, fsync both parents.
    /// The files inside must already be fsynced.
    pub fn commit(&self, id: &str) -> Result<PathBuf, StoreError> {
        let from = self.tmp.join(id);
        let to = self.committed.join(id);
        sync_dir(&from)?;
        fs::rename(&from, &to).map_err(io("rename", &from))?;
        sync_dir(&self.committed)?;
        sync_dir(&self.tmp)?;
        Ok(to)
    }

    /// Renames a prepared upload into `blobs/` (durable after `sync_parents`).
    pub fn move_in(&self, id: &str) -> Result<(), StoreError> {
        let from = self.tmp.join(id);
        fs::rename(&from, self.committed.join(id)).map_err(io("rename", &from))
    }

    /// fsyncs `blobs/` and `tmp/`, making every `move_in` before it durable.
    pub fn sync_parents(&self) -> Result<(), StoreError> {
        sync_dir(&self.committed)?;
        sync_dir(&self.tmp)
    }

    /// Removes the temporary folder of upload `id` (an aborted or rejected upload).
    pub fn discard_tmp(&self, id: &str) {
        remove_quietly(&self.tmp.join(id));
    }

    /// Removes a committed folder whose record could not be written.
    pub fn discard_committed(&self, id: &str) {
        remove_quietly(&self.committed.join(id));
        let _ = sync_dir(&self.committed);
    }

    /// Deletes a committed folder (a purge) and makes the deletion durable.
    pub fn remove_committed(&self, name: &str) -> Result<(), StoreError> {
        let dir = self.committed.join(name);
        match fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("remove folder", &dir)(e)),
        }
        sync_dir(&self.committed)
    }

    /// The committed folder called `name`.
    pub fn dir(&self, name: &str) -> PathBuf {
        self.committed.join(name)
    }

    /// The temporary folder called `name`.
    pub fn tmp_dir(&self, name: &str) -> PathBuf {
        self.tmp.join(name)
    }

    /// Empties `tmp/`, removes committed folders no record points to, and lists the records
    /// whose files are missing. `expected` lists, per record, (its id, its folder name, the file
    /// names it must have).
    pub fn recover(
        &self,
        expected: &[(String, String, Vec<String>)],
    ) -> Result<Recovery, StoreError> {
        let referenced: std::collections::HashSet<&str> =
            expected.iter().map(|(_, dir, _)| dir.as_str()).collect();
        let mut report = Recovery::default();
        for entry in fs::read_dir(&self.tmp).map_err(io("read folder", &self.tmp))? {
            let entry = entry.map_err(io("read folder", &self.tmp))?;
            remove_quietly(&entry.path());
            report.tmp_removed += 1;
        }
        for entry in fs::read_dir(&self.committed).map_err(io("read folder", &self.committed))? {
            let entry = entry.map_err(io("read folder", &self.committed))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !referenced.contains(name.as_str()) {
                remove_quietly(&entry.path());
                report.orphans_removed += 1;
            }
        }
        if report.tmp_removed + report.orphans_removed > 0 {
            sync_dir(&self.tmp)?;
            sync_dir(&self.committed)?;
        }
        for (id, dir_name, names) in expected {
            let dir = self.dir(dir_name);
            if names.iter().any(|n| !dir.join(n).is_file()) {
                report.missing.push(id.clone());
            }
        }
        Ok(report)
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
