//! The sled database: typed trees, and the one helper that runs every sled call off the async
//! threads. The only module that uses sled.

use super::StoreError;
use crate::keys::KeyRing;
use crate::record::{AuditEvent, KeyInfo, Record};
use sled::Transactional;
use std::path::Path;

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
}

fn db_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Db(e.to_string())
}

impl Db {
    /// Opens (or creates) the database in `dir`. Fails if another process holds it.
    pub fn open(dir: &Path) -> Result<Db, StoreError> {
        let db = sled::Config::new()
            .path(dir)
            .mode(sled::Mode::HighThroughput)
            .open()
            .map_err(|e| StoreError::Db(format!("cannot open {}: {e}", dir.display())))?;
        Ok(Db {
            submissions: db.open_tree("submissions").map_err(db_err)?,
            refs: db.open_tree("refs").map_err(db_err)?,
            cases: db.open_tree("cases").map_err(db_err)?,
            meta: db.open_tree("meta").map_err(db_err)?,
            keys: db.open_tree("keys").map_err(db_err)?,
            audit: db.open_tree("audit").map_err(db_err)?,
            db,
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
        let key = format!("case-seq/{year}");
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

    /// Inserts a record with its reference hash in one transaction, then flushes to disk.
    pub fn insert_durable(&self, record: &Record, ref_hash: &[u8; 32]) -> Result<(), StoreError> {
        self.insert_many_durable(&[(record, ref_hash)])
    }

    /// Inserts several records with their reference hashes (one transaction each), then
    /// flushes once.
    pub fn insert_many_durable(&self, items: &[(&Record, &[u8; 32])]) -> Result<(), StoreError> {
        for (record, ref_hash) in items {
            let value = serde_json::to_vec(record).map_err(db_err)?;
            (&self.submissions, &self.refs, &self.cases)
                .transaction(|(s, r, c)| {
                    s.insert(record.id.as_bytes(), value.as_slice())?;
                    r.insert(&ref_hash[..], record.id.as_bytes())?;
                    c.insert(record.case.as_bytes(), record.id.as_bytes())?;
                    Ok::<(), sled::transaction::ConflictableTransactionError<()>>(())
                })
                .map_err(|e| StoreError::Db(format!("{e:?}")))?;
        }
        crate::faultpoint::crash_point("inserted");
        self.db.flush().map_err(db_err)?;
        Ok(())
    }

    /// Removes records inserted by a commit whose flush failed (they were never acknowledged).
    pub fn remove_unacknowledged(&self, items: &[(&Record, &[u8; 32])]) -> Result<(), StoreError> {
        for (record, ref_hash) in items {
            self.submissions
                .remove(record.id.as_bytes())
                .map_err(db_err)?;
            self.refs.remove(&ref_hash[..]).map_err(db_err)?;
            self.cases.remove(record.case.as_bytes()).map_err(db_err)?;
        }
        self.db.flush().map_err(db_err)?;
        Ok(())
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

    /// Replaces a record (same id) and flushes.
    pub fn replace_durable(&self, record: &Record) -> Result<(), StoreError> {
        let value = serde_json::to_vec(record).map_err(db_err)?;
        self.submissions
            .insert(record.id.as_bytes(), value)
            .map_err(db_err)?;
        self.db.flush().map_err(db_err)?;
        Ok(())
    }

    /// Brings the `keys` tree in line with `ring` at time `now`: new ids are added, ids no longer
    /// in the ring are marked retired, returning ids are un-retired. Returns (added, retired).
    pub fn sync_keys(
        &self,
        ring: &KeyRing,
        now: &str,
    ) -> Result<(Vec<KeyInfo>, Vec<KeyInfo>), StoreError> {
        let mut added = Vec::new();
        let mut retired = Vec::new();
        for k in ring.keys() {
            let existing = self.key_info(&k.id.0)?;
            let info = match existing {
                Some(mut info) => {
                    if info.retired_at.take().is_none() && info.label == k.label {
                        continue;
                    }
                    info.label = k.label.clone();
                    info
                }
                None => {
                    let info = KeyInfo {
                        id: k.id.clone(),
                        recipient: k.recipient.clone(),
                        label: k.label.clone(),
                        first_seen: now.to_owned(),
                        retired_at: None,
                    };
                    added.push(info.clone());
                    info
                }
            };
            self.put_key(&info)?;
        }
        let active = ring.ids();
        for mut info in self.key_infos()? {
            if info.retired_at.is_none() && !active.contains(&info.id) {
                info.retired_at = Some(now.to_owned());
                self.put_key(&info)?;
                retired.push(info);
            }
        }
        self.db.flush().map_err(db_err)?;
        Ok((added, retired))
    }

    fn put_key(&self, info: &KeyInfo) -> Result<(), StoreError> {
        let v = serde_json::to_vec(info).map_err(db_err)?;
        self.keys.insert(info.id.0.as_bytes(), v).map_err(db_err)?;
        Ok(())
    }

    fn key_info(&self, id: &str) -> Result<Option<KeyInfo>, StoreError> {
        self.keys
            .get(id.as_bytes())
            .map_err(db_err)?
            .map(|v| {
                serde_json::from_slice(&v).map_err(|e| StoreError::Corrupt {
                    key: id.to_owned(),
                    problem: e.to_string(),
                })
            })
            .transpose()
    }

    /// Every key ever used, in first-seen order.
    pub fn key_infos(&self) -> Result<Vec<KeyInfo>, StoreError> {
        let mut out = Vec::new();
        for item in self.keys.iter() {
            let (k, v) = item.map_err(db_err)?;
            out.push(
                serde_json::from_slice::<KeyInfo>(&v).map_err(|e| StoreError::Corrupt {
                    key: String::from_utf8_lossy(&k).into_owned(),
                    problem: e.to_string(),
                })?,
            );
        }
        out.sort_by(|a, b| (&a.first_seen, &a.id).cmp(&(&b.first_seen, &b.id)));
        Ok(out)
    }

    /// Appends an event to the audit trail and flushes.
    pub fn audit(&self, event: &AuditEvent) -> Result<(), StoreError> {
        let seq = self.db.generate_id().map_err(db_err)?;
        let v = serde_json::to_vec(event).map_err(db_err)?;
        self.audit.insert(seq.to_be_bytes(), v).map_err(db_err)?;
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

/// Everything in the database, for a backup.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Snapshot {
    /// Submission records.
    pub records: Vec<Record>,
    /// (hex sha256 of a reference, submission id).
    pub refs: Vec<(String, String)>,
    /// Keys ever used.
    pub keys: Vec<KeyInfo>,
    /// The audit trail.
    pub audit: Vec<AuditEvent>,
    /// Counters (case sequences).
    pub counters: Vec<(String, u64)>,
}

impl Db {
    /// A consistent view for a backup: records first, then everything that refers to them
    /// (references of records not in the view are left out).
    pub fn snapshot(&self) -> Result<Snapshot, StoreError> {
        let records = self.list()?;
        let ids: std::collections::HashSet<&str> = records.iter().map(|r| r.id.as_str()).collect();
        let mut refs = Vec::new();
        for item in self.refs.iter() {
            let (k, v) = item.map_err(db_err)?;
            let id = String::from_utf8_lossy(&v).into_owned();
            if ids.contains(id.as_str()) {
                refs.push((crate::digest::hex(&k), id));
            }
        }
        let mut counters = Vec::new();
        for item in self.meta.iter() {
            let (k, v) = item.map_err(db_err)?;
            if let Ok(b) = <[u8; 8]>::try_from(v.as_ref()) {
                counters.push((
                    String::from_utf8_lossy(&k).into_owned(),
                    u64::from_be_bytes(b),
                ));
            }
        }
        Ok(Snapshot {
            keys: self.key_infos()?,
            audit: self.audit_events()?,
            records,
            refs,
            counters,
        })
    }

    /// Fills an empty database from a snapshot and flushes.
    pub fn restore(&self, snap: &Snapshot) -> Result<(), StoreError> {
        if !self.submissions.is_empty() {
            return Err(StoreError::Db("the database is not empty".into()));
        }
        for r in &snap.records {
            let v = serde_json::to_vec(r).map_err(db_err)?;
            self.submissions
                .insert(r.id.as_bytes(), v)
                .map_err(db_err)?;
            self.cases
                .insert(r.case.as_bytes(), r.id.as_bytes())
                .map_err(db_err)?;
        }
        for (hash, id) in &snap.refs {
            let key = crate::digest::unhex(hash).ok_or_else(|| StoreError::Corrupt {
                key: "refs".into(),
                problem: "not hex".into(),
            })?;
            self.refs.insert(key, id.as_bytes()).map_err(db_err)?;
        }
        for k in &snap.keys {
            self.put_key(k)?;
        }
        for e in &snap.audit {
            let seq = self.db.generate_id().map_err(db_err)?;
            let v = serde_json::to_vec(e).map_err(db_err)?;
            self.audit.insert(seq.to_be_bytes(), v).map_err(db_err)?;
        }
        for (name, n) in &snap.counters {
            self.meta
                .insert(name.as_bytes(), &n.to_be_bytes())
                .map_err(db_err)?;
        }
        self.db.flush().map_err(db_err)?;
        Ok(())
    }
}

fn decode(key: &str, bytes: &[u8]) -> Result<Record, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        key: key.to_owned(),
        problem: e.to_string(),
    })
}
