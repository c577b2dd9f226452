//! The documents the team signs on its own machine and the portal serves as they are: the
//! signed security.txt. Each change is a compare-and-swap with its audit entry.

use super::{Store, StoreError};
use crate::record::AuditEvent;
use crate::securitytxt::Signed;

const SECURITY_TXT: &str = "security.txt";

impl Store {
    /// The installed signed security.txt, if any.
    pub fn security_txt(&self) -> Result<Option<Signed>, StoreError> {
        Store::security_txt_of(&self.db)
    }

    pub(super) fn security_txt_of(db: &super::db::Db) -> Result<Option<Signed>, StoreError> {
        db.published(SECURITY_TXT)?
            .map(|raw| {
                serde_json::from_slice(&raw).map_err(|e| StoreError::Corrupt {
                    key: format!("published/{SECURITY_TXT}"),
                    problem: e.to_string(),
                })
            })
            .transpose()
    }

    /// Replaces the signed security.txt (`None` removes it) if it still is `old`, with its
    /// audit entry, flushed. False when another change came first.
    pub fn swap_security_txt(
        &self,
        old: Option<&Signed>,
        new: Option<&Signed>,
        event: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let encode = |s: &Signed| serde_json::to_vec(s).map_err(|e| StoreError::Db(e.to_string()));
        let old = old.map(encode).transpose()?;
        let new = new.map(encode).transpose()?;
        // The stored bytes are compared, so `old` must be what `security_txt` read: re-read
        // the raw value and compare documents instead, which survives a re-encoding.
        let current = self.db.published(SECURITY_TXT)?;
        let same = match (&current, &old) {
            (None, None) => true,
            (Some(raw), Some(want)) => {
                serde_json::from_slice::<Signed>(raw).ok()
                    == serde_json::from_slice::<Signed>(want).ok()
            }
            _ => false,
        };
        if !same {
            return Ok(false);
        }
        self.db.swap_published(
            SECURITY_TXT,
            current.as_deref(),
            new.as_deref(),
            Some(event),
        )
    }
}
