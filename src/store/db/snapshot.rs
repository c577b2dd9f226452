//! Backup snapshots of the whole database, and restoring one into an empty database.

use super::tree::Tree;
use super::{Db, append_audit, db_err, put_new};
use crate::record::{AuditEvent, KeyInfo, Record};
use crate::store::StoreError;

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
    /// Invitations (hex sha256 of the token, invitation).
    #[serde(default)]
    pub invites: Vec<(String, super::Invite)>,
    /// Documents the team signed (name, JSON).
    #[serde(default)]
    pub published: Vec<(String, serde_json::Value)>,
}

impl Db {
    /// A consistent view for a backup: records first, then everything that refers to them
    /// (references of records not in the view are left out).
    pub fn snapshot(&self) -> Result<Snapshot, StoreError> {
        let records = self.list()?;
        let ids: std::collections::HashSet<&str> = records.iter().map(|r| r.id.as_str()).collect();
        let mut refs = Vec::new();
        for (k, v) in self.kv.all(Tree::Refs)? {
            let id = String::from_utf8_lossy(&v).into_owned();
            if ids.contains(id.as_str()) {
                refs.push((crate::digest::hex(&k), id));
            }
        }
        let mut counters = Vec::new();
        for (k, v) in self.kv.all(Tree::Meta)? {
            if let Ok(b) = <[u8; 8]>::try_from(v.as_slice()) {
                counters.push((
                    String::from_utf8_lossy(&k).into_owned(),
                    u64::from_be_bytes(b),
                ));
            }
        }
        let mut published = Vec::new();
        for (name, raw) in self.all_published()? {
            let value = serde_json::from_slice(&raw).map_err(|e| StoreError::Corrupt {
                key: format!("published/{name}"),
                problem: e.to_string(),
            })?;
            published.push((name, value));
        }
        Ok(Snapshot {
            published,
            invites: self
                .invites()?
                .into_iter()
                .map(|(hash, invite)| (crate::digest::hex(&hash), invite))
                .collect(),
            keys: self.key_infos()?,
            audit: self.audit_events()?,
            records,
            refs,
            counters,
        })
    }

    /// True when no tree holds anything (a database nothing was ever written to).
    pub fn is_blank(&self) -> Result<bool, StoreError> {
        for tree in Tree::ALL {
            if !self.kv.is_empty(tree)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Empties every tree: only for taking back a restore that failed into a database that
    /// was blank before it.
    pub fn clear_all(&self) -> Result<(), StoreError> {
        for tree in Tree::ALL {
            self.kv.clear(tree)?;
        }
        self.kv.flush()
    }

    /// Fills an empty database from a snapshot (validated by the caller) and flushes. Every
    /// write is a compare-and-swap against an absent key, so nothing is ever overwritten.
    pub fn restore(&self, snap: &Snapshot) -> Result<(), StoreError> {
        if !self.kv.is_empty(Tree::Submissions)? {
            return Err(StoreError::Db("the database is not empty".into()));
        }
        let unhex = |tree: &str, hash: &str| {
            crate::digest::unhex(hash).ok_or_else(|| StoreError::Corrupt {
                key: tree.into(),
                problem: "not hex".into(),
            })
        };
        for r in &snap.records {
            let v = serde_json::to_vec(r).map_err(db_err)?;
            put_new(self, Tree::Submissions, r.id.as_bytes(), &v)?;
            put_new(self, Tree::Cases, r.case.as_bytes(), r.id.as_bytes())?;
        }
        for (hash, id) in &snap.refs {
            put_new(self, Tree::Refs, &unhex("refs", hash)?, id.as_bytes())?;
        }
        for k in &snap.keys {
            let v = serde_json::to_vec(k).map_err(db_err)?;
            put_new(self, Tree::Keys, k.id.0.as_bytes(), &v)?;
        }
        for e in &snap.audit {
            let v = serde_json::to_vec(e).map_err(db_err)?;
            self.kv
                .transact(&[Tree::Audit], |tx| append_audit(tx, &v))?;
        }
        for (name, n) in &snap.counters {
            put_new(self, Tree::Meta, name.as_bytes(), &n.to_be_bytes())?;
        }
        for (name, value) in &snap.published {
            let v = serde_json::to_vec(value).map_err(db_err)?;
            put_new(self, Tree::Published, name.as_bytes(), &v)?;
        }
        for (hash, invite) in &snap.invites {
            let v = serde_json::to_vec(invite).map_err(db_err)?;
            put_new(self, Tree::Invites, &unhex("invites", hash)?, &v)?;
        }
        self.rebuild_open()?;
        self.kv.flush()
    }
}
