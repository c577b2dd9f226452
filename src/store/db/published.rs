//! Documents the team signs on its own machine and the portal serves byte for byte (the signed
//! security.txt, CSAF advisories and their drafts), one JSON value per name in the `published`
//! tree.

use super::tree::Tree;
use super::{Db, append_audit, db_err};
use crate::record::AuditEvent;
use crate::store::{Refusal, StoreError};

/// One document's change: its name, what it must still be, what it becomes (`None`: absent).
pub type DocChange<'a> = (&'a str, Option<&'a [u8]>, Option<&'a [u8]>);

impl Db {
    /// The document stored under `name`.
    pub fn published(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.kv.get(Tree::Published, name.as_bytes())
    }

    /// Every document, by name.
    pub fn all_published(&self) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.published_under("")
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
        let outcome = self.kv.transact(&[Tree::Published, Tree::Audit], |tx| {
            for (name, old, _) in changes {
                if tx.get(Tree::Published, name.as_bytes())?.as_deref() != *old {
                    return Err(Refusal::Replaced.into());
                }
            }
            for (name, _, new) in changes {
                match new {
                    Some(v) => tx.insert(Tree::Published, name.as_bytes(), v)?,
                    None => tx.remove(Tree::Published, name.as_bytes())?,
                };
            }
            if let Some(entry) = &entry {
                append_audit(tx, entry)?;
            }
            Ok(())
        });
        match outcome {
            Ok(()) => {}
            Err(StoreError::Refused(Refusal::Replaced)) => return Ok(false),
            Err(e) => return Err(e),
        }
        self.kv.flush()?;
        Ok(true)
    }

    /// Every document whose name starts with `prefix`, by name.
    pub fn published_under(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        Ok(self
            .kv
            .scan(Tree::Published, prefix.as_bytes())?
            .into_iter()
            .map(|(k, v)| (String::from_utf8_lossy(&k).into_owned(), v))
            .collect())
    }
}
