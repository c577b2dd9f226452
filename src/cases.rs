//! The team's case operations on a running portal: list with filters and clocks, show, status
//! changes, the authority decision, the breach register, invitations, purging (on demand and by
//! the retention rule) and the reporter's status lookup.

use crate::adminapi::{NewInvite, Purged, RegisterRow};
use crate::error::ApiError;
use crate::portal::{Portal, PortalError};
use crate::record::{Actor, AuditEvent, AuditKind, Record};
use crate::reference::{InviteToken, Reference};
use crate::store::{Invite, StoreError};
use crate::workflow::{self, WorkflowError};
use std::sync::Arc;
use std::time::Duration;

/// A case found by its reference, with the reporter's letterbox (in memory only).
pub struct Found {
    /// The case's record.
    pub record: Record,
    /// Opens the case's letters.
    pub letterbox: crate::letterbox::Letterbox,
}

mod disclosure;
pub use crate::workflow::PublishedCredit;

impl Portal {
    /// The breach register.
    pub fn register_blocking(&self) -> Result<Vec<RegisterRow>, PortalError> {
        Ok(self.policy().register(&self.store().records()?, self.now()))
    }

    /// Mints a one-time upload invitation valid for `valid_for`.
    pub fn invite_blocking(
        &self,
        valid_for: Duration,
        note: Option<&str>,
        actor: &Actor,
    ) -> Result<NewInvite, PortalError> {
        let note = workflow::check_note(note)?;
        let token = InviteToken::generate();
        let hash = token.hash();
        let now = self.now();
        if !(1..=workflow::MAX_INVITE_DAYS * 86_400).contains(&valid_for.as_secs()) {
            return Err(WorkflowError::InviteValidity.into());
        }
        let expires = now + valid_for;
        let invite = Invite {
            id: crate::digest::hex(&hash[..6]),
            created_at: workflow::rfc3339(now),
            expires_at: workflow::rfc3339(expires),
            note,
            consumed_at: None,
            case: None,
        };
        let event = AuditEvent {
            at: invite.created_at.clone(),
            event: AuditKind::InviteCreated,
            key_id: None,
            case: None,
            detail: format!("invitation {} until {}", invite.id, invite.expires_at),
            actor: Some(actor.as_str().to_owned()),
        };
        self.store().create_invite(&hash, &invite, &event)?;
        Ok(NewInvite {
            url: format!("{}/u/{}", self.public_url(), token.as_str()),
            invite,
        })
    }

    /// Every invitation.
    pub fn invites_blocking(&self) -> Result<Vec<Invite>, PortalError> {
        Ok(self.store().invites()?)
    }

    /// The open invitation behind `token`, or `None` (unknown, used or expired alike).
    pub fn open_invite_blocking(&self, token: &InviteToken) -> Result<Option<Invite>, StoreError> {
        let now = workflow::rfc3339(self.now());
        Ok(self
            .store()
            .invite(&token.hash())?
            .filter(|i| i.is_open(&now)))
    }

    /// The base URL reporters use.
    pub fn public_url(&self) -> String {
        let c = &self.config().server;
        if !c.public_url.is_empty() {
            return c.public_url.trim_end_matches('/').to_owned();
        }
        let scheme = if self.config().tls_enabled() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", c.listen)
    }

    /// The case a reference belongs to, if it exists and is not deleted, with the reporter's
    /// letterbox. The reference is derived first (bounded, see [`Portal::derive_reference`]);
    /// cases from before that derivation are found by their SHA-256.
    pub async fn case_by_reference(
        self: &Arc<Self>,
        reference: &Reference,
    ) -> Result<Option<Found>, ApiError> {
        let derived = self.derive_reference(reference).await?;
        let legacy = reference.legacy_hash();
        let letterbox = crate::letterbox::Letterbox::from_seed(&derived.letterbox);
        let old_box = crate::letterbox::Letterbox::legacy(reference);
        self.blocking(move |p| {
            let store = p.store();
            let found = match store.record_by_ref(&derived.lookup)? {
                Some(record) => Some(Found { record, letterbox }),
                None => store.record_by_ref(&legacy)?.map(|record| Found {
                    record,
                    letterbox: old_box,
                }),
            };
            Ok::<_, ApiError>(found.filter(|f| f.record.purged_at.is_none()))
        })
        .await
    }

    /// Deletes the ciphertext of `case` and its follow-ups, keeping tombstones; audited.
    pub fn purge_blocking(
        &self,
        case: &str,
        why: &str,
        actor: &Actor,
    ) -> Result<Purged, PortalError> {
        let record = self
            .store()
            .record(case)?
            .ok_or_else(|| PortalError::NoSuchCase(case.to_owned()))?;
        if let Some(parent) = &record.parent {
            return Err(WorkflowError::Addendum {
                case: case.to_owned(),
                parent: parent.clone(),
            }
            .into());
        }
        // A purged case is refused by the store unless a purge of it was interrupted: then this
        // finishes it.
        let already = record.purged_at.clone();
        let at = workflow::rfc3339(self.now());
        let event = AuditEvent {
            at: at.clone(),
            event: AuditKind::Purged,
            key_id: None,
            case: Some(case.to_owned()),
            detail: why.to_owned(),
            actor: Some(actor.as_str().to_owned()),
        };
        let purged = self.store().purge(case, &at, &event);
        // Even a purge that failed half-way may have taken a published name off.
        self.forget_credits();
        let done = match purged {
            Ok(Some(done)) => done,
            Ok(None) => return Err(PortalError::NoSuchCase(case.to_owned())),
            Err(StoreError::Refused(crate::store::Refusal::Purged)) => {
                return Err(WorkflowError::Purged {
                    case: case.to_owned(),
                    at: already.unwrap_or(at),
                }
                .into());
            }
            Err(e) => return Err(e.into()),
        };
        tracing::info!(
            case,
            follow_ups = done.len().saturating_sub(1),
            reason = why,
            "ciphertext deleted"
        );
        Ok(Purged { cases: done })
    }

    /// Purges every closed case whose deletion date has come. Returns the cases purged.
    /// Tombstones that still hold what a tombstone drops (left by a version that kept the
    /// published credit name) are made bare first.
    pub fn purge_due_blocking(&self) -> Result<Vec<String>, PortalError> {
        // Portals sharing a database: one of them purges.
        if !self.store().leads_background()? {
            return Ok(Vec::new());
        }
        let now = self.now();
        let records = self.store().records()?;
        self.tidy_tombstones_blocking(&records)?;
        let live: std::collections::HashSet<&str> = records
            .iter()
            .filter(|r| r.purged_at.is_none())
            .map(|r| r.case.as_str())
            .collect();
        // Due cases, and purged cases whose follow-ups a purge interrupted left behind.
        let due: Vec<String> = records
            .iter()
            .filter(|r| r.parent.is_none())
            .filter(|r| {
                self.policy().purge_due(r, now)
                    || r.purged_at.is_some() && r.addenda.iter().any(|a| live.contains(a.as_str()))
            })
            .map(|r| r.case.clone())
            .collect();
        let mut purged = Vec::new();
        for case in due {
            // One failing case must not stop the others.
            match self.purge_blocking(&case, "retention period ended", &Actor::portal()) {
                Ok(_) => purged.push(case),
                Err(e) => tracing::error!(case, error = %e, "retention purge of this case failed"),
            }
        }
        Ok(purged)
    }

    fn tidy_tombstones_blocking(&self, records: &[Record]) -> Result<(), PortalError> {
        let mut tidied = false;
        for r in records.iter().filter(|r| r.is_untidy_tombstone()) {
            self.store().tidy_tombstone(&r.case)?;
            tracing::info!(case = %r.case, "tombstone made bare");
            tidied = true;
        }
        if tidied {
            self.forget_credits();
        }
        Ok(())
    }
}

impl From<WorkflowError> for PortalError {
    fn from(e: WorkflowError) -> Self {
        PortalError::Workflow(e)
    }
}
