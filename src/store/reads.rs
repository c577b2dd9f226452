//! The store's reads and its few writes that are not a team action on a case: what callers
//! outside the store may do with the database. The database handle itself stays inside.

use super::{Invite, Store, StoreError};
use crate::record::{AuditEvent, KeyInfo, Record};

impl Store {
    /// True while this portal does the background work (notifier, retention): always with
    /// sled; with PostgreSQL, the one portal holding the database's lock for it.
    pub fn leads_background(&self) -> Result<bool, StoreError> {
        self.db.leads_background()
    }

    /// The engine that holds the records (`sled` or `postgres`).
    pub fn engine(&self) -> &'static str {
        self.db.engine()
    }

    /// Where the ciphertext lives (`local` or `s3`).
    pub fn blob_engine(&self) -> &'static str {
        self.blobs.engine()
    }

    /// Every record (tombstones included).
    pub fn records(&self) -> Result<Vec<Record>, StoreError> {
        self.db.list()
    }

    /// The record of case `case`.
    pub fn record(&self, case: &str) -> Result<Option<Record>, StoreError> {
        self.db.by_case(case)
    }

    /// The record of case `case`, read on the blocking pool.
    pub async fn record_async(&self, case: &str) -> Result<Option<Record>, StoreError> {
        let case = case.to_owned();
        self.db.call(move |db| db.by_case(&case)).await
    }

    /// The record stored under a reference key.
    pub fn record_by_ref(&self, key: &[u8; 32]) -> Result<Option<Record>, StoreError> {
        self.db.by_ref_hash(key)
    }

    /// The audit trail, oldest first.
    pub fn audit_events(&self) -> Result<Vec<AuditEvent>, StoreError> {
        self.db.audit_events()
    }

    /// Appends an event that changes no case (keys, reloads, the receipt key), flushed.
    pub fn audit(&self, event: &AuditEvent) -> Result<(), StoreError> {
        self.db.audit(event)
    }

    /// Every key ever used.
    pub fn key_infos(&self) -> Result<Vec<KeyInfo>, StoreError> {
        self.db.key_infos()
    }

    /// The portal's reference salt (made once).
    pub fn reference_salt(&self) -> Result<[u8; 16], StoreError> {
        self.db.reference_salt()
    }

    /// Stores a new invitation and its audit entry in one transaction, flushed.
    pub fn create_invite(
        &self,
        hash: &[u8; 32],
        invite: &Invite,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        self.db.create_invite(hash, invite, event)
    }

    /// The invitation behind a token hash.
    pub fn invite(&self, hash: &[u8; 32]) -> Result<Option<Invite>, StoreError> {
        self.db.invite(hash)
    }

    /// Every invitation.
    pub fn invites(&self) -> Result<Vec<Invite>, StoreError> {
        Ok(self.db.invites()?.into_iter().map(|(_, i)| i).collect())
    }

    /// Makes a tombstone that still holds what a tombstone drops bare (a version before kept
    /// the published credit name).
    pub fn tidy_tombstone(&self, case: &str) -> Result<(), StoreError> {
        self.db
            .update_case(case, |r: &mut Record| -> Result<(), StoreError> {
                r.strip_to_tombstone();
                Ok(())
            })?;
        Ok(())
    }

    /// The next case number's sequence of `year`, on the blocking pool.
    pub async fn next_case_seq(&self, year: i16) -> Result<u64, StoreError> {
        self.db.call(move |db| db.next_case_seq(year)).await
    }

    /// The next follow-up number's sequence of `case`, on the blocking pool.
    pub async fn next_addendum_seq(&self, case: &str) -> Result<u64, StoreError> {
        let case = case.to_owned();
        self.db.call(move |db| db.next_addendum_seq(&case)).await
    }

    /// The notifier's view of the database (open cases and its sent-markers).
    pub fn notices(&self) -> super::Notices {
        super::Notices(self.db.clone())
    }
}
