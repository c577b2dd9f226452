//! The database: typed operations over the trees of an [`Engine`] (sled, or PostgreSQL with the
//! `postgres` feature), and the one helper that runs every database call off the async threads.
//! Every operation is written once, against the engine's interface; nothing outside this
//! folder knows which engine runs.

use super::StoreError;
use crate::keys::KeyRing;
use crate::record::{AuditEvent, KeyInfo, Record};
use std::path::Path;

#[cfg(test)]
mod conformance;
mod engine;
#[cfg(feature = "postgres")]
mod postgres_kv;
mod published;
mod sled_kv;
mod snapshot;
mod tree;
mod workflow;
pub use engine::Exclusive;
use engine::{Engine, TxFail};
pub use published::DocChange;
pub use snapshot::Snapshot;
use tree::Tree;
pub use workflow::{Guard, Insert, Invite};

/// Handle to the database; cheap to clone.
#[derive(Clone)]
pub struct Db {
    kv: Engine,
}

/// A value that could not be encoded, as the store's error.
pub(super) fn db_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Db(e.to_string())
}

impl Db {
    /// Opens (or creates) the sled database in `dir` with the default cache. Fails if another
    /// process holds it.
    pub fn open(dir: &Path) -> Result<Db, StoreError> {
        let cache = crate::config::Storage::default().cache_size.0;
        Db::with(Engine::Sled(sled_kv::Sled::open(dir, cache)?))
    }

    /// Opens the engine `storage.metadata` names: sled in `data_dir/db`, or PostgreSQL.
    pub fn open_configured(storage: &crate::config::Storage) -> Result<Db, StoreError> {
        match storage.metadata {
            crate::config::Metadata::Sled => Db::with(Engine::Sled(sled_kv::Sled::open(
                &storage.data_dir.join("db"),
                storage.cache_size.0,
            )?)),
            #[cfg(feature = "postgres")]
            crate::config::Metadata::Postgres => Db::with(Engine::Pg(postgres_kv::Pg::open(
                &postgres_kv::Settings::from_config(&storage.postgres)?,
            )?)),
            #[cfg(not(feature = "postgres"))]
            crate::config::Metadata::Postgres => Err(StoreError::Db(
                "storage.metadata is \"postgres\", but this build has no PostgreSQL support: \
                 build sealdrop with `--features postgres`"
                    .into(),
            )),
        }
    }

    fn with(kv: Engine) -> Result<Db, StoreError> {
        let db = Db { kv };
        db.rebuild_open()?;
        Ok(db)
    }

    /// Waits for and takes the lock `name` shared by every portal on this database (`None` on
    /// sled: one process, whose own mutex is the lock).
    pub fn exclusive(&self, name: &str) -> Result<Option<Exclusive>, StoreError> {
        self.kv.exclusive(name)
    }

    /// True while this portal should do the background work: the one portal of a sled
    /// database, or the one holding PostgreSQL's lock for it (another takes over within a
    /// round when it dies).
    pub fn leads_background(&self) -> Result<bool, StoreError> {
        self.kv.lead()
    }

    /// The engine's name (`sled` or `postgres`).
    pub fn engine(&self) -> &'static str {
        self.kv.name()
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
        self.kv.increment(Tree::Meta, key.as_bytes())
    }

    /// The record of case `case`.
    pub fn by_case(&self, case: &str) -> Result<Option<Record>, StoreError> {
        match self.kv.get(Tree::Cases, case.as_bytes())? {
            Some(id) => self.by_id(&String::from_utf8_lossy(&id)),
            None => Ok(None),
        }
    }

    /// The record with id `id`.
    pub fn by_id(&self, id: &str) -> Result<Option<Record>, StoreError> {
        self.kv
            .get(Tree::Submissions, id.as_bytes())?
            .map(|v| decode(id, &v))
            .transpose()
    }

    /// Every record, oldest case first.
    pub fn list(&self) -> Result<Vec<Record>, StoreError> {
        let mut out = Vec::new();
        for (k, v) in self.kv.all(Tree::Submissions)? {
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
        for (id, _) in self.kv.all(Tree::Open)? {
            if let Some(r) = self.by_id(&String::from_utf8_lossy(&id))? {
                out.push(r);
            }
        }
        out.sort_by(|a, b| (&a.received_at, &a.case).cmp(&(&b.received_at, &b.case)));
        Ok(out)
    }

    /// Brings the open-cases index in line with the records, entry by entry (never emptied
    /// first: with PostgreSQL, other portals read it meanwhile).
    pub(super) fn rebuild_open(&self) -> Result<(), StoreError> {
        let records = self.list()?;
        for r in &records {
            self.index_open(r)?;
        }
        let ids: std::collections::HashSet<&[u8]> =
            records.iter().map(|r| r.id.as_bytes()).collect();
        for (id, _) in self.kv.all(Tree::Open)? {
            if !ids.contains(id.as_slice()) {
                self.set_open(&id, false)?;
            }
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
            self.set_open(record.id.as_bytes(), true)?;
        } else {
            self.set_open(record.id.as_bytes(), false)?;
            for a in &record.addenda {
                if let Some(id) = self.kv.get(Tree::Cases, a.as_bytes())? {
                    self.set_open(&id, false)?;
                }
            }
        }
        Ok(())
    }

    /// Adds `id` to the open-cases index or takes it out (a derived index: set, whatever it
    /// held).
    fn set_open(&self, id: &[u8], open: bool) -> Result<(), StoreError> {
        self.kv.set(Tree::Open, id, open.then_some(&[][..]))
    }

    /// True when a record with this id exists.
    pub fn contains(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self.kv.get(Tree::Submissions, id.as_bytes())?.is_some())
    }
}

impl Db {
    /// A number never returned before by this database.
    pub fn unique(&self) -> Result<u64, StoreError> {
        self.kv.next_id()
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
                let old = self.kv.get(Tree::Keys, k.id.0.as_bytes())?;
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
                if self
                    .kv
                    .cas(Tree::Keys, k.id.0.as_bytes(), old.as_deref(), Some(&v))?
                {
                    if old.is_none() {
                        added.push(info);
                    }
                    break;
                }
            }
        }
        let active = ring.ids();
        for (key, raw) in self.kv.all(Tree::Keys)? {
            let mut info = decode_key(&String::from_utf8_lossy(&key), &raw)?;
            if info.retired_at.is_none() && !active.contains(&info.id) {
                info.retired_at = Some(now.to_owned());
                let v = serde_json::to_vec(&info).map_err(db_err)?;
                if self.kv.cas(Tree::Keys, &key, Some(&raw), Some(&v))? {
                    retired.push(info);
                }
            }
        }
        self.kv.flush()?;
        Ok((added, retired))
    }

    /// Every key ever used, in first-seen order.
    pub fn key_infos(&self) -> Result<Vec<KeyInfo>, StoreError> {
        let mut out = Vec::new();
        for (k, v) in self.kv.all(Tree::Keys)? {
            out.push(decode_key(&String::from_utf8_lossy(&k), &v)?);
        }
        out.sort_by(|a, b| (&a.first_seen, &a.id).cmp(&(&b.first_seen, &b.id)));
        Ok(out)
    }

    /// Appends an event to the audit trail and flushes.
    pub fn audit(&self, event: &AuditEvent) -> Result<(), StoreError> {
        let v = serde_json::to_vec(event).map_err(db_err)?;
        self.kv
            .transact(&[Tree::Audit], |tx| append_audit(tx, &v))?;
        self.kv.flush()
    }

    /// The audit trail, oldest first.
    pub fn audit_events(&self) -> Result<Vec<AuditEvent>, StoreError> {
        let mut out = Vec::new();
        for (_, v) in self.kv.all(Tree::Audit)? {
            out.push(serde_json::from_slice(&v).map_err(|e| StoreError::Corrupt {
                key: "audit".into(),
                problem: e.to_string(),
            })?);
        }
        Ok(out)
    }
}

/// Appends an audit entry inside a transaction (under a number never used before, so entries
/// run in the order they were made).
pub(super) fn append_audit(tx: &mut engine::Tx<'_, '_>, entry: &[u8]) -> Result<(), TxFail> {
    let seq = tx.next_id()?;
    tx.insert(Tree::Audit, &seq.to_be_bytes(), entry)
}

/// Writes `value` under `key` only if the key is absent (a compare-and-swap against nothing).
pub(super) fn put_new(db: &Db, tree: Tree, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
    if db.kv.cas(tree, key, None, Some(value))? {
        Ok(())
    } else {
        Err(StoreError::Corrupt {
            key: String::from_utf8_lossy(key).into_owned(),
            problem: "appears twice".into(),
        })
    }
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
