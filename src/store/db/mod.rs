//! The sled database: typed trees, and the one helper that runs every sled call off the async
//! threads. The only module that uses sled.

use super::StoreError;
use crate::keys::KeyRing;
use crate::record::{AuditEvent, KeyInfo, Record};
use std::path::Path;

mod published;
mod snapshot;
mod workflow;
pub use snapshot::Snapshot;
pub use workflow::{Guard, Insert, Invite};

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Db {
    db: sled::Db,
    submissions: sled::Tree,
    refs: sled::Tree,
    cases: sled::Tree,
    meta: sled::Tree,
    keys: sled::Tree,
    audit: sled::Tree,
    invites: sled::Tree,
    /// Documents signed by the team and served as they are (`published`).
    published: sled::Tree,
    /// Ids of the records still open (their case neither closed nor purged): what the
    /// notifier walks each round. Derived, rebuilt at every start.
    open: sled::Tree,
}

pub(super) fn db_err(e: impl std::fmt::Display + 'static) -> StoreError {
    // A full disk while sled writes or flushes is the client's 507, not an internal error.
    if let Some(sled::Error::Io(io)) = (&e as &dyn std::any::Any).downcast_ref::<sled::Error>()
        && (io.kind() == std::io::ErrorKind::StorageFull || io.raw_os_error() == Some(28))
    {
        return StoreError::Full;
    }
    StoreError::Db(e.to_string())
}

impl Db {
    /// Opens (or creates) the database in `dir`. Fails if another process holds it.
    pub fn open(dir: &Path) -> Result<Db, StoreError> {
        let db = sled::Config::new()
            .path(dir)
            .mode(sled::Mode::HighThroughput)
            .open()
            .map_err(|e| StoreError::Open {
                path: dir.to_owned(),
                detail: e.to_string(),
            })?;
        Ok(Db {
            submissions: db.open_tree("submissions").map_err(db_err)?,
            refs: db.open_tree("refs").map_err(db_err)?,
            cases: db.open_tree("cases").map_err(db_err)?,
            meta: db.open_tree("meta").map_err(db_err)?,
            keys: db.open_tree("keys").map_err(db_err)?,
            audit: db.open_tree("audit").map_err(db_err)?,
            invites: db.open_tree("invites").map_err(db_err)?,
            published: db.open_tree("published").map_err(db_err)?,
            open: db.open_tree("open").map_err(db_err)?,
            db,
        })
        .and_then(|db| {
            db.rebuild_open()?;
            Ok(db)
        })
    }

    /// Runs blocking database work on the blocking pool.
    pub async fn call<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&Db) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || f(&db))
            .await
            .map_err(|e| StoreError::Db(format!("database task failed: {e}")))?
    }

    /// Allocates the next case sequence number of `year` (gaps are possible, repeats are not).
    pub fn next_case_seq(&self, year: i16) -> Result<u64, StoreError> {
        self.next_counter(&format!("case-seq/{year}"))
    }

    fn next_counter(&self, key: &str) -> Result<u64, StoreError> {
        let v = self
            .meta
            .update_and_fetch(key.as_bytes(), |old| {
                let n = old
                    .and_then(|b| <[u8; 8]>::try_from(b).ok())
                    .map(u64::from_be_bytes)
                    .unwrap_or(0);
                Some((n + 1).to_be_bytes().to_vec())
            })
            .map_err(db_err)?
            .ok_or_else(|| StoreError::Db("case counter vanished".into()))?;
        let bytes = <[u8; 8]>::try_from(v.as_ref()).map_err(db_err)?;
        Ok(u64::from_be_bytes(bytes))
    }

    /// The record of case `case`.
    pub fn by_case(&self, case: &str) -> Result<Option<Record>, StoreError> {
        match self.cases.get(case.as_bytes()).map_err(db_err)? {
            Some(id) => self.by_id(&String::from_utf8_lossy(&id)),
            None => Ok(None),
        }
    }

    /// The record with id `id`.
    pub fn by_id(&self, id: &str) -> Result<Option<Record>, StoreError> {
        self.submissions
            .get(id.as_bytes())
            .map_err(db_err)?
            .map(|v| decode(id, &v))
            .transpose()
    }

    /// Every record, oldest case first.
    pub fn list(&self) -> Result<Vec<Record>, StoreError> {
        let mut out = Vec::new();
        for item in self.submissions.iter() {
            let (k, v) = item.map_err(db_err)?;
            out.push(decode(&String::from_utf8_lossy(&k), &v)?);
        }
        out.sort_by(|a, b| (&a.received_at, &a.case).cmp(&(&b.received_at, &b.case)));
        Ok(out)
    }

    /// The records the notifier walks: cases still open (neither resolved, rejected nor
    /// purged), follow-ups of open cases included, and closed cases whose agreed publication
    /// has not been reminded of yet.
    pub fn open_records(&self) -> Result<Vec<Record>, StoreError> {
        let mut out = Vec::new();
        for item in self.open.iter() {
            let (id, _) = item.map_err(db_err)?;
            if let Some(r) = self.by_id(&String::from_utf8_lossy(&id))? {
                out.push(r);
            }
        }
        out.sort_by(|a, b| (&a.received_at, &a.case).cmp(&(&b.received_at, &b.case)));
        Ok(out)
    }

    /// Rebuilds the open-cases index from the records.
    fn rebuild_open(&self) -> Result<(), StoreError> {
        self.open.clear().map_err(db_err)?;
        for r in self.list()? {
            self.index_open(&r)?;
        }
        Ok(())
    }

    /// Brings the open-cases index in line with `record` (and, for a case, its follow-ups).
    pub(super) fn index_open(&self, record: &Record) -> Result<(), StoreError> {
        let parent_open = match &record.parent {
            Some(p) => self
                .by_case(p)?
                .is_some_and(|p| !p.status.is_final() && p.purged_at.is_none()),
            None => true,
        };
        let reminder = record
            .disclosure
            .publication
            .as_ref()
            .is_some_and(|p| p.reminded_at.is_none());
        let open =
            (parent_open && !record.status.is_final() || reminder) && record.purged_at.is_none();
        if open {
            self.open
                .insert(record.id.as_bytes(), &[])
                .map_err(db_err)?;
        } else {
            self.open.remove(record.id.as_bytes()).map_err(db_err)?;
            for a in &record.addenda {
                if let Some(id) = self.cases.get(a.as_bytes()).map_err(db_err)? {
                    self.open.remove(id).map_err(db_err)?;
                }
            }
        }
        Ok(())
    }

    /// True when a record with this id exists.
    pub fn contains(&self, id: &str) -> Result<bool, StoreError> {
        self.submissions.contains_key(id.as_bytes()).map_err(db_err)
    }
}

impl Db {
    /// A number never returned before by this database.
    pub fn unique(&self) -> Result<u64, StoreError> {
        self.db.generate_id().map_err(db_err)
    }

    /// Brings the `keys` tree in line with `ring` at time `now`: new ids are added, ids no longer
    /// in the ring are marked retired, returning ids are un-retired. Returns (added, retired).
    /// Each key entry changes by compare-and-swap (retried when it changed meanwhile).
    pub fn sync_keys(
        &self,
        ring: &KeyRing,
        now: &str,
    ) -> Result<(Vec<KeyInfo>, Vec<KeyInfo>), StoreError> {
        let mut added = Vec::new();
        let mut retired = Vec::new();
        for k in ring.keys() {
            loop {
                let old = self.keys.get(k.id.0.as_bytes()).map_err(db_err)?;
                let info = match &old {
                    Some(raw) => {
                        let mut info = decode_key(&k.id.0, raw)?;
                        if info.retired_at.take().is_none() && info.label == k.label {
                            break;
                        }
                        info.label = k.label.clone();
                        info
                    }
                    None => KeyInfo {
                        id: k.id.clone(),
                        recipient: k.recipient.clone(),
                        label: k.label.clone(),
                        first_seen: now.to_owned(),
                        retired_at: None,
                    },
                };
                let v = serde_json::to_vec(&info).map_err(db_err)?;
                if swap(&self.keys, k.id.0.as_bytes(), old.as_ref(), v)? {
                    if old.is_none() {
                        added.push(info);
                    }
                    break;
                }
            }
        }
        let active = ring.ids();
        for item in self.keys.iter() {
            let (key, raw) = item.map_err(db_err)?;
            let mut info = decode_key(&String::from_utf8_lossy(&key), &raw)?;
            if info.retired_at.is_none() && !active.contains(&info.id) {
                info.retired_at = Some(now.to_owned());
                let v = serde_json::to_vec(&info).map_err(db_err)?;
                if swap(&self.keys, &key, Some(&raw), v)? {
                    retired.push(info);
                }
            }
        }
        self.db.flush().map_err(db_err)?;
        Ok((added, retired))
    }

    /// Every key ever used, in first-seen order.
    pub fn key_infos(&self) -> Result<Vec<KeyInfo>, StoreError> {
        let mut out = Vec::new();
        for item in self.keys.iter() {
            let (k, v) = item.map_err(db_err)?;
            out.push(decode_key(&String::from_utf8_lossy(&k), &v)?);
        }
        out.sort_by(|a, b| (&a.first_seen, &a.id).cmp(&(&b.first_seen, &b.id)));
        Ok(out)
    }

    /// Appends an event to the audit trail and flushes.
    pub fn audit(&self, event: &AuditEvent) -> Result<(), StoreError> {
        let seq = self.db.generate_id().map_err(db_err)?;
        let v = serde_json::to_vec(event).map_err(db_err)?;
        put_new(&self.audit, &seq.to_be_bytes(), v)?;
        self.db.flush().map_err(db_err)?;
        Ok(())
    }

    /// The audit trail, oldest first.
    pub fn audit_events(&self) -> Result<Vec<AuditEvent>, StoreError> {
        let mut out = Vec::new();
        for item in self.audit.iter() {
            let (_, v) = item.map_err(db_err)?;
            out.push(serde_json::from_slice(&v).map_err(|e| StoreError::Corrupt {
                key: "audit".into(),
                problem: e.to_string(),
            })?);
        }
        Ok(out)
    }
}

/// Writes `value` under `key` only if the key is absent (a compare-and-swap against nothing).
pub(super) fn put_new(tree: &sled::Tree, key: &[u8], value: Vec<u8>) -> Result<(), StoreError> {
    tree.compare_and_swap(key, None::<&[u8]>, Some(value))
        .map_err(db_err)?
        .map_err(|_| StoreError::Corrupt {
            key: String::from_utf8_lossy(key).into_owned(),
            problem: "appears twice".into(),
        })
}

/// Replaces the value under `key` only if it still holds `old` (what was read); false when it
/// changed meanwhile.
pub(super) fn swap(
    tree: &sled::Tree,
    key: &[u8],
    old: Option<&sled::IVec>,
    new: Vec<u8>,
) -> Result<bool, StoreError> {
    Ok(tree
        .compare_and_swap(key, old, Some(new))
        .map_err(db_err)?
        .is_ok())
}

fn decode_key(key: &str, bytes: &[u8]) -> Result<KeyInfo, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        key: key.to_owned(),
        problem: e.to_string(),
    })
}

pub(super) fn decode(key: &str, bytes: &[u8]) -> Result<Record, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        key: key.to_owned(),
        problem: e.to_string(),
    })
}

#[cfg(test)]
mod disk_full_tests {
    use super::*;

    #[test]
    fn a_full_disk_during_a_database_write_or_flush_is_a_full_store() {
        let full = sled::Error::Io(std::io::Error::from_raw_os_error(28));
        assert!(matches!(db_err(full), StoreError::Full));
        assert!(db_err(sled::Error::Io(std::io::Error::from_raw_os_error(28))).is_disk_full());
        let other = sled::Error::Io(std::io::Error::from_raw_os_error(5));
        assert!(matches!(db_err(other), StoreError::Db(_)));
        assert!(matches!(db_err("corrupt"), StoreError::Db(_)));
    }
}
