//! Documents the team signs on its own machine and the portal serves byte for byte (the signed
//! security.txt, CSAF advisories and their drafts), one JSON value per name in the `published`
//! tree.

use super::{Db, db_err};
use crate::record::AuditEvent;
use crate::store::{Refusal, StoreError};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

/// One document's change: its name, what it must still be, what it becomes (`None`: absent).
pub type DocChange<'a> = (&'a str, Option<&'a [u8]>, Option<&'a [u8]>);

impl Db {
    /// The document stored under `name`.
    pub fn published(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .published
            .get(name.as_bytes())
            .map_err(db_err)?
            .map(|v| v.to_vec()))
    }

    /// Every document, by name.
    pub fn all_published(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let mut out = Vec::new();
        for item in self.published.iter() {
            let (k, v) = item.map_err(db_err)?;
            out.push((String::from_utf8_lossy(&k).into_owned(), v.to_vec()));
        }
        Ok(out)
    }

    /// Replaces document `name` (`None` removes it) if it still is `old`, with `event` in the
    /// same transaction, then flushes. False when it changed meanwhile (nothing written).
    pub fn swap_published(
        &self,
        name: &str,
        old: Option<&[u8]>,
        new: Option<&[u8]>,
        event: Option<&AuditEvent>,
    ) -> Result<bool, StoreError> {
        self.swap_published_all(&[(name, old, new)], event)
    }

    /// Replaces each document `(name, old, new)` (`None` removes it) if every one still is its
    /// `old`, with `event`, all in one transaction, then flushes. False when any changed
    /// meanwhile (nothing written).
    pub fn swap_published_all(
        &self,
        changes: &[DocChange<'_>],
        event: Option<&AuditEvent>,
    ) -> Result<bool, StoreError> {
        let entry = event.map(serde_json::to_vec).transpose().map_err(db_err)?;
        let outcome = (&self.published, &self.audit).transaction(|(docs, audit)| {
            for (name, old, _) in changes {
                if docs.get(name.as_bytes())?.as_deref() != *old {
                    return Err(ConflictableTransactionError::Abort(Refusal::Replaced));
                }
            }
            for (name, _, new) in changes {
                match new {
                    Some(v) => docs.insert(name.as_bytes(), *v)?,
                    None => docs.remove(name.as_bytes())?,
                };
            }
            if let Some(entry) = &entry {
                let seq = audit.generate_id()?;
                audit.insert(&seq.to_be_bytes(), entry.as_slice())?;
            }
            Ok(())
        });
        match outcome {
            Ok(()) => {}
            Err(TransactionError::Abort(Refusal::Replaced)) => return Ok(false),
            Err(TransactionError::Abort(r)) => return Err(StoreError::Refused(r)),
            Err(TransactionError::Storage(e)) => return Err(db_err(e)),
        }
        self.db.flush().map_err(db_err)?;
        Ok(true)
    }

    /// Every document whose name starts with `prefix`, by name.
    pub fn published_under(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let mut out = Vec::new();
        for item in self.published.scan_prefix(prefix.as_bytes()) {
            let (k, v) = item.map_err(db_err)?;
            out.push((String::from_utf8_lossy(&k).into_owned(), v.to_vec()));
        }
        Ok(out)
    }
}
