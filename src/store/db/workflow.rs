//! Database operations of the case workflow: committing records with their conditions
//! (invitation consumed, parent case still open), updating a record, invitations, reference
//! lookups and notification markers.

use super::{Db, db_err, decode};
use crate::record::{AuditEvent, Record};
use crate::store::{Refusal, StoreError};
use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};

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

type TxError = ConflictableTransactionError<Refusal>;

fn tx_err(e: TransactionError<Refusal>) -> StoreError {
    match e {
        TransactionError::Abort(r) => StoreError::Refused(r),
        TransactionError::Storage(e) => db_err(e),
    }
}

fn json<T: Serialize>(v: &T) -> Result<Vec<u8>, TxError> {
    serde_json::to_vec(v).map_err(|_| TxError::Abort(Refusal::Corrupt))
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
            let outcome = (&self.submissions, &self.refs, &self.cases, &self.invites)
                .transaction(|(s, r, c, inv)| {
                    match item.guard {
                        Guard::None => {}
                        Guard::Invite(hash) => {
                            let raw = inv
                                .get(&hash[..])?
                                .ok_or(TxError::Abort(Refusal::InviteGone))?;
                            let mut invite: Invite = serde_json::from_slice(&raw)
                                .map_err(|_| TxError::Abort(Refusal::Corrupt))?;
                            if !invite.is_open(&now) {
                                return Err(TxError::Abort(Refusal::InviteGone));
                            }
                            invite.consumed_at = Some(now.clone());
                            invite.case = Some(item.record.case.clone());
                            inv.insert(&hash[..], json(&invite)?)?;
                        }
                        Guard::Parent(case) => {
                            let id = c
                                .get(case.as_bytes())?
                                .ok_or(TxError::Abort(Refusal::ParentClosed))?;
                            let raw = s.get(&id)?.ok_or(TxError::Abort(Refusal::ParentClosed))?;
                            let mut parent: Record = serde_json::from_slice(&raw)
                                .map_err(|_| TxError::Abort(Refusal::Corrupt))?;
                            if parent.status.is_final() || parent.purged_at.is_some() {
                                return Err(TxError::Abort(Refusal::ParentClosed));
                            }
                            parent.addenda.push(item.record.case.clone());
                            s.insert(&id, json(&parent)?)?;
                        }
                    }
                    // A new record never replaces one: id and case number must be unused.
                    if s.get(item.record.id.as_bytes())?.is_some()
                        || c.get(item.record.case.as_bytes())?.is_some()
                    {
                        return Err(TxError::Abort(Refusal::Corrupt));
                    }
                    s.insert(item.record.id.as_bytes(), value.as_slice())?;
                    if let Some(h) = item.ref_hash {
                        r.insert(&h[..], item.record.id.as_bytes())?;
                    }
                    c.insert(item.record.case.as_bytes(), item.record.id.as_bytes())?;
                    Ok(())
                })
                .map_err(tx_err);
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
        self.db.flush().map_err(db_err)?;
        Ok(results)
    }

    /// Takes out again records inserted by a commit whose flush failed (they were never
    /// acknowledged), undoing what their guards applied, and flushes.
    pub fn remove_unacknowledged(&self, items: &[Insert<'_>]) -> Result<(), StoreError> {
        for item in items {
            let record = item.record;
            let Some(stored) = self.submissions.get(record.id.as_bytes()).map_err(db_err)? else {
                continue;
            };
            // Compare-and-swap: the record goes only as this commit wrote it.
            if self
                .submissions
                .compare_and_swap(record.id.as_bytes(), Some(&stored), None::<&[u8]>)
                .map_err(db_err)?
                .is_err()
            {
                continue;
            }
            if let Some(h) = item.ref_hash {
                let _ = self
                    .refs
                    .compare_and_swap(&h[..], Some(record.id.as_bytes()), None::<&[u8]>)
                    .map_err(db_err)?;
            }
            let _ = self
                .cases
                .compare_and_swap(
                    record.case.as_bytes(),
                    Some(record.id.as_bytes()),
                    None::<&[u8]>,
                )
                .map_err(db_err)?;
            match item.guard {
                Guard::None => {}
                Guard::Invite(hash) => {
                    // Compare-and-swap: only the consumption by this record is undone.
                    if let Some(raw) = self.invites.get(&hash[..]).map_err(db_err)?
                        && let Ok(mut invite) = serde_json::from_slice::<Invite>(&raw)
                        && invite.case.as_deref() == Some(record.case.as_str())
                    {
                        invite.consumed_at = None;
                        invite.case = None;
                        let v = serde_json::to_vec(&invite).map_err(db_err)?;
                        super::swap(&self.invites, &hash[..], Some(&raw), v)?;
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
        self.db.flush().map_err(db_err)?;
        Ok(())
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
        let Some(id) = self.cases.get(case.as_bytes()).map_err(db_err)? else {
            return Ok(None);
        };
        loop {
            let Some(old) = self.submissions.get(&id).map_err(db_err)? else {
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
            let outcome = (&self.submissions, &self.audit).transaction(|(subs, audit)| {
                if subs.get(&id)?.as_ref() != Some(&old) {
                    return Err(TxError::Abort(Refusal::Replaced));
                }
                subs.insert(&id, new.as_slice())?;
                if let Some(entry) = &entry {
                    let seq = audit.generate_id()?;
                    audit.insert(&seq.to_be_bytes(), entry.as_slice())?;
                }
                Ok(())
            });
            match outcome {
                Ok(()) => {}
                // Changed since it was read: read it again and let `f` decide again.
                Err(TransactionError::Abort(Refusal::Replaced)) => continue,
                Err(e) => return Err(tx_err(e).into()),
            }
            crate::faultpoint::crash_point("case-applied");
            self.index_open(&record)?;
            self.db.flush().map_err(db_err)?;
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
        let mut stale = Vec::new();
        for item in self.refs.iter() {
            let (k, v) = item.map_err(db_err)?;
            if v.as_ref() == record.id.as_bytes() {
                stale.push((k, v));
            }
        }
        for (k, v) in stale {
            // Compare-and-swap: only the entry that pointed to this record goes.
            let _ = self
                .refs
                .compare_and_swap(k, Some(v), None::<&[u8]>)
                .map_err(db_err)?;
        }
        self.db.flush().map_err(db_err)?;
        Ok(Some((record, true)))
    }

    /// The record a reference hash points to.
    pub fn by_ref_hash(&self, hash: &[u8; 32]) -> Result<Option<Record>, StoreError> {
        match self.refs.get(&hash[..]).map_err(db_err)? {
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
        (&self.invites, &self.audit)
            .transaction(|(invites, audit)| {
                if invites.get(&hash[..])?.is_some() {
                    return Err(TxError::Abort(Refusal::Corrupt));
                }
                invites.insert(&hash[..], v.as_slice())?;
                let seq = audit.generate_id()?;
                audit.insert(&seq.to_be_bytes(), entry.as_slice())?;
                Ok(())
            })
            .map_err(tx_err)?;
        self.db.flush().map_err(db_err)?;
        Ok(())
    }

    /// The invitation with this token hash.
    pub fn invite(&self, hash: &[u8; 32]) -> Result<Option<Invite>, StoreError> {
        self.invites
            .get(&hash[..])
            .map_err(db_err)?
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
        for item in self.invites.iter() {
            let (k, v) = item.map_err(db_err)?;
            let invite: Invite = serde_json::from_slice(&v).map_err(|e| StoreError::Corrupt {
                key: "invites".into(),
                problem: e.to_string(),
            })?;
            out.push((k.to_vec(), invite));
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
        let prev = self
            .meta
            .compare_and_swap(
                name.as_bytes(),
                None::<&[u8]>,
                Some(&value.to_be_bytes()[..]),
            )
            .map_err(db_err)?;
        self.db.flush().map_err(db_err)?;
        Ok(prev.is_ok())
    }

    /// A marker's value.
    pub fn marker(&self, name: &str) -> Result<Option<u64>, StoreError> {
        Ok(self
            .meta
            .get(name.as_bytes())
            .map_err(db_err)?
            .and_then(|b| <[u8; 8]>::try_from(b.as_ref()).ok())
            .map(u64::from_be_bytes))
    }
}
