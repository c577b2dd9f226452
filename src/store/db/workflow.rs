//! Database operations of the case workflow: committing records with their conditions
//! (invitation consumed, parent case still open), updating a record, invitations, reference
//! lookups and notification markers.

use super::engine::TxFail;
use super::tree::Tree;
use super::{Db, append_audit, db_err, decode};
use crate::record::{AuditEvent, Record};
use crate::store::{Refusal, StoreError};
use serde::{Deserialize, Serialize};

/// A condition a commit must meet, checked and applied in the record's own transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Guard {
    /// No condition.
    None,
    /// The invitation with this token hash must be open; the commit consumes it.
    Invite([u8; 32]),
    /// The case this follow-up belongs to must not be resolved or rejected; the commit adds the
    /// follow-up to it.
    Parent(String),
}

/// A one-time upload invitation. Only the SHA-256 of its token is stored (as the key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invite {
    /// Short public id (the first 12 hex digits of the token hash), for lists and records.
    pub id: String,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// RFC 3339 UTC.
    pub expires_at: String,
    /// The team's note (never reporter data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// When a completed submission used it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumed_at: Option<String>,
    /// The case it produced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<String>,
}

impl Invite {
    /// True when it can still take a submission at `now` (RFC 3339 UTC; same format compares
    /// correctly as text).
    pub fn is_open(&self, now: &str) -> bool {
        self.consumed_at.is_none() && now < self.expires_at.as_str()
    }
}

/// One record to commit.
pub struct Insert<'a> {
    /// The record.
    pub record: &'a Record,
    /// The reference's hash (none for a follow-up, which keeps its case's reference).
    pub ref_hash: Option<&'a [u8; 32]>,
    /// Its condition.
    pub guard: &'a Guard,
}

fn json<T: Serialize>(v: &T) -> Result<Vec<u8>, TxFail> {
    serde_json::to_vec(v).map_err(|_| TxFail::Refused(Refusal::Corrupt))
}

fn parse<T: serde::de::DeserializeOwned>(raw: &[u8]) -> Result<T, TxFail> {
    serde_json::from_slice(raw).map_err(|_| TxFail::Refused(Refusal::Corrupt))
}

impl Db {
    /// Inserts records (one transaction each, with their guards), then flushes once. A record
    /// whose guard fails is not inserted; its slot in the result says why.
    pub fn insert_many_durable(
        &self,
        items: &[Insert<'_>],
        now: &str,
    ) -> Result<Vec<Result<(), StoreError>>, StoreError> {
        let now = now.to_owned();
        let mut results = Vec::with_capacity(items.len());
        for item in items {
            let value = serde_json::to_vec(item.record).map_err(db_err)?;
            let trees = [Tree::Submissions, Tree::Refs, Tree::Cases, Tree::Invites];
            let outcome = self.kv.transact(&trees, |tx| {
                match item.guard {
                    Guard::None => {}
                    Guard::Invite(hash) => {
                        let raw = tx
                            .get(Tree::Invites, &hash[..])?
                            .ok_or(Refusal::InviteGone)?;
                        let mut invite: Invite = parse(&raw)?;
                        if !invite.is_open(&now) {
                            return Err(Refusal::InviteGone.into());
                        }
                        invite.consumed_at = Some(now.clone());
                        invite.case = Some(item.record.case.clone());
                        tx.insert(Tree::Invites, &hash[..], &json(&invite)?)?;
                    }
                    Guard::Parent(case) => {
                        let id = tx
                            .get(Tree::Cases, case.as_bytes())?
                            .ok_or(Refusal::ParentClosed)?;
                        let raw = tx
                            .get(Tree::Submissions, &id)?
                            .ok_or(Refusal::ParentClosed)?;
                        let mut parent: Record = parse(&raw)?;
                        if parent.status.is_final() || parent.purged_at.is_some() {
                            return Err(Refusal::ParentClosed.into());
                        }
                        parent.addenda.push(item.record.case.clone());
                        tx.insert(Tree::Submissions, &id, &json(&parent)?)?;
                    }
                }
                // A new record never replaces one: id and case number must be unused.
                if tx
                    .get(Tree::Submissions, item.record.id.as_bytes())?
                    .is_some()
                    || tx.get(Tree::Cases, item.record.case.as_bytes())?.is_some()
                {
                    return Err(Refusal::Corrupt.into());
                }
                tx.insert(Tree::Submissions, item.record.id.as_bytes(), &value)?;
                if let Some(h) = item.ref_hash {
                    tx.insert(Tree::Refs, &h[..], item.record.id.as_bytes())?;
                }
                tx.insert(
                    Tree::Cases,
                    item.record.case.as_bytes(),
                    item.record.id.as_bytes(),
                )?;
                Ok(())
            });
            match outcome {
                Err(StoreError::Refused(r)) => results.push(Err(StoreError::Refused(r))),
                Err(e) => return Err(e),
                Ok(()) => {
                    self.index_open(item.record)?;
                    results.push(Ok(()));
                }
            }
        }
        crate::faultpoint::crash_point("inserted");
        self.kv.flush()?;
        Ok(results)
    }

    /// Takes out again records inserted by a commit whose flush failed (they were never
    /// acknowledged), undoing what their guards applied, and flushes.
    pub fn remove_unacknowledged(&self, items: &[Insert<'_>]) -> Result<(), StoreError> {
        for item in items {
            let record = item.record;
            let Some(stored) = self.kv.get(Tree::Submissions, record.id.as_bytes())? else {
                continue;
            };
            // Compare-and-swap: the record goes only as this commit wrote it.
            if !self
                .kv
                .cas(Tree::Submissions, record.id.as_bytes(), Some(&stored), None)?
            {
                continue;
            }
            if let Some(h) = item.ref_hash {
                self.kv
                    .cas(Tree::Refs, &h[..], Some(record.id.as_bytes()), None)?;
            }
            self.kv.cas(
                Tree::Cases,
                record.case.as_bytes(),
                Some(record.id.as_bytes()),
                None,
            )?;
            match item.guard {
                Guard::None => {}
                Guard::Invite(hash) => {
                    // Compare-and-swap: only the consumption by this record is undone.
                    if let Some(raw) = self.kv.get(Tree::Invites, &hash[..])?
                        && let Ok(mut invite) = serde_json::from_slice::<Invite>(&raw)
                        && invite.case.as_deref() == Some(record.case.as_str())
                    {
                        invite.consumed_at = None;
                        invite.case = None;
                        let v = serde_json::to_vec(&invite).map_err(db_err)?;
                        self.kv
                            .cas(Tree::Invites, &hash[..], Some(&raw), Some(&v))?;
                    }
                }
                Guard::Parent(case) => {
                    self.update_case(case, |p| {
                        p.addenda.retain(|a| a != &record.case);
                        Ok::<(), StoreError>(())
                    })?;
                }
            }
        }
        self.kv.flush()
    }

    /// Read-modify-write of the record of `case` (retried on a concurrent change), then flush.
    /// `None` when there is no such case; `f`'s error leaves the record unchanged. For the
    /// portal's own stamps (notifier markers, tombstone tidying); a team action is
    /// [`Db::apply_case`].
    pub fn update_case<E: From<StoreError>>(
        &self,
        case: &str,
        mut f: impl FnMut(&mut Record) -> Result<(), E>,
    ) -> Result<Option<Record>, E> {
        self.change_case(case, |r| f(r).map(|()| None))
    }

    /// One change of case `case` and its audit event, in one transaction: the record is
    /// replaced only if it is still what `f` read (a compare-and-swap; retried with a fresh read
    /// otherwise), and the event is appended in the same transaction, so a crash leaves both or
    /// neither. Then the open-cases index and a flush. `None` when there is no such case; `f`'s
    /// error leaves everything unchanged.
    pub fn apply_case<E: From<StoreError>>(
        &self,
        case: &str,
        mut f: impl FnMut(&mut Record) -> Result<AuditEvent, E>,
    ) -> Result<Option<Record>, E> {
        self.change_case(case, |r| f(r).map(Some))
    }

    /// The one read-modify-write loop of a record, with its audit event (if any) in the same
    /// transaction.
    fn change_case<E: From<StoreError>>(
        &self,
        case: &str,
        mut f: impl FnMut(&mut Record) -> Result<Option<AuditEvent>, E>,
    ) -> Result<Option<Record>, E> {
        let Some(id) = self.kv.get(Tree::Cases, case.as_bytes())? else {
            return Ok(None);
        };
        loop {
            let Some(old) = self.kv.get(Tree::Submissions, &id)? else {
                return Ok(None);
            };
            let mut record = decode(case, &old)?;
            let event = f(&mut record)?;
            let new = serde_json::to_vec(&record).map_err(db_err)?;
            let entry = event
                .as_ref()
                .map(serde_json::to_vec)
                .transpose()
                .map_err(db_err)?;
            let outcome = self.kv.transact(&[Tree::Submissions, Tree::Audit], |tx| {
                if tx.get(Tree::Submissions, &id)?.as_deref() != Some(old.as_slice()) {
                    return Err(Refusal::Replaced.into());
                }
                tx.insert(Tree::Submissions, &id, &new)?;
                if let Some(entry) = &entry {
                    append_audit(tx, entry)?;
                }
                Ok(())
            });
            match outcome {
                Ok(()) => {}
                // Changed since it was read: read it again and let `f` decide again.
                Err(StoreError::Refused(Refusal::Replaced)) => continue,
                Err(e) => return Err(e.into()),
            }
            crate::faultpoint::crash_point("case-applied");
            self.index_open(&record)?;
            self.kv.flush()?;
            crate::faultpoint::crash_point("case-flushed");
            return Ok(Some(record));
        }
    }

    /// Marks a record purged and forgets its reference, then flushes (before its files go).
    /// Returns the record as it is now and whether this call marked it (false when it was
    /// purged already); `None` when there is no such case.
    pub fn mark_purged(
        &self,
        case: &str,
        at: &str,
        event: Option<&AuditEvent>,
    ) -> Result<Option<(Record, bool)>, StoreError> {
        let mark = |r: &mut Record| {
            if r.purged_at.is_some() {
                return Err(StoreError::Refused(Refusal::Purged));
            }
            r.purged_at = Some(at.to_owned());
            r.strip_to_tombstone();
            Ok(())
        };
        // With its audit entry in the same transaction when it has one (the case itself).
        let marked = match event {
            Some(event) => self.apply_case(case, |r| mark(r).map(|()| event.clone())),
            None => self.update_case(case, mark),
        };
        let record = match marked {
            Ok(Some(r)) => r,
            Ok(None) => return Ok(None),
            Err(StoreError::Refused(Refusal::Purged)) => {
                return Ok(self.by_case(case)?.map(|r| (r, false)));
            }
            Err(e) => return Err(e),
        };
        for (k, v) in self.kv.all(Tree::Refs)? {
            if v == record.id.as_bytes() {
                // Compare-and-swap: only the entry that pointed to this record goes.
                self.kv.cas(Tree::Refs, &k, Some(&v), None)?;
            }
        }
        self.kv.flush()?;
        Ok(Some((record, true)))
    }

    /// The record a reference hash points to.
    pub fn by_ref_hash(&self, hash: &[u8; 32]) -> Result<Option<Record>, StoreError> {
        match self.kv.get(Tree::Refs, &hash[..])? {
            Some(id) => self.by_id(&String::from_utf8_lossy(&id)),
            None => Ok(None),
        }
    }

    /// The portal's reference salt (16 random bytes, made once and kept in backups as two
    /// markers): what references are derived with, so that a guess checked against one
    /// portal's copy says nothing about another's.
    pub fn reference_salt(&self) -> Result<[u8; 16], StoreError> {
        let mut salt = [0u8; 16];
        for (i, half) in salt.chunks_mut(8).enumerate() {
            let name = format!("reference-salt/{i}");
            if self.marker(&name)?.is_none() {
                use rand::RngCore;
                // A lost race leaves the other writer's value, read back below.
                self.set_marker(&name, rand::rngs::OsRng.next_u64())?;
            }
            let value = self
                .marker(&name)?
                .ok_or_else(|| StoreError::Db("reference salt vanished".into()))?;
            half.copy_from_slice(&value.to_be_bytes());
        }
        Ok(salt)
    }

    /// Stores an invitation and its audit entry in one transaction, then flushes.
    pub fn create_invite(
        &self,
        hash: &[u8; 32],
        invite: &Invite,
        event: &AuditEvent,
    ) -> Result<(), StoreError> {
        let v = serde_json::to_vec(invite).map_err(db_err)?;
        let entry = serde_json::to_vec(event).map_err(db_err)?;
        self.kv.transact(&[Tree::Invites, Tree::Audit], |tx| {
            if tx.get(Tree::Invites, &hash[..])?.is_some() {
                return Err(Refusal::Corrupt.into());
            }
            tx.insert(Tree::Invites, &hash[..], &v)?;
            append_audit(tx, &entry)
        })?;
        self.kv.flush()
    }

    /// The invitation with this token hash.
    pub fn invite(&self, hash: &[u8; 32]) -> Result<Option<Invite>, StoreError> {
        self.kv
            .get(Tree::Invites, &hash[..])?
            .map(|v| {
                serde_json::from_slice(&v).map_err(|e| StoreError::Corrupt {
                    key: "invites".into(),
                    problem: e.to_string(),
                })
            })
            .transpose()
    }

    /// Every invitation with its token hash, oldest first.
    pub fn invites(&self) -> Result<Vec<(Vec<u8>, Invite)>, StoreError> {
        let mut out = Vec::new();
        for (k, v) in self.kv.all(Tree::Invites)? {
            let invite: Invite = serde_json::from_slice(&v).map_err(|e| StoreError::Corrupt {
                key: "invites".into(),
                problem: e.to_string(),
            })?;
            out.push((k, invite));
        }
        out.sort_by(|a, b| a.1.created_at.cmp(&b.1.created_at));
        Ok(out)
    }

    /// Allocates the next follow-up number of `case`.
    pub fn next_addendum_seq(&self, case: &str) -> Result<u64, StoreError> {
        self.next_counter(&format!("addendum-seq/{case}"))
    }

    /// Sets a marker (kept in backups) once; true when it was not set before.
    pub fn set_marker(&self, name: &str, value: u64) -> Result<bool, StoreError> {
        let set = self.kv.cas(
            Tree::Meta,
            name.as_bytes(),
            None,
            Some(&value.to_be_bytes()),
        )?;
        self.kv.flush()?;
        Ok(set)
    }

    /// A marker's value.
    pub fn marker(&self, name: &str) -> Result<Option<u64>, StoreError> {
        Ok(self
            .kv
            .get(Tree::Meta, name.as_bytes())?
            .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
            .map(u64::from_be_bytes))
    }
}
