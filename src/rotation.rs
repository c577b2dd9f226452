//! Key rotation on the running portal: reload the recipients file, add and retire keys (the file
//! stays the one source of truth), count what each key can read, and keep the audit trail.

use crate::adminapi::{KeyUsage, ReceiptKeys, ReloadReport};

use crate::keys::{self, KeyId, KeyRing};
use crate::portal::{Portal, PortalError};
use crate::record::{Actor, AuditEvent, AuditKind, KeyInfo};

fn read_file(path: &std::path::Path) -> Result<String, keys::KeyError> {
    std::fs::read_to_string(path).map_err(|source| keys::KeyError::Read {
        path: path.to_owned(),
        source,
    })
}

/// What a ring's recording changed, as the admin API reports it.
fn report(ring: &KeyRing, (added, retired): (Vec<KeyInfo>, Vec<KeyInfo>)) -> ReloadReport {
    ReloadReport {
        active: ring.ids(),
        added: added.into_iter().map(|i| i.id).collect(),
        retired: retired.into_iter().map(|i| i.id).collect(),
    }
}

impl Portal {
    pub(crate) fn audit_quietly(
        &self,
        event: AuditKind,
        key_id: Option<KeyId>,
        detail: String,
        actor: &Actor,
    ) {
        let e = AuditEvent {
            at: self.store().clock().text(),
            event,
            key_id,
            case: None,
            detail,
            actor: Some(actor.as_str().to_owned()),
        };
        if let Err(err) = self.store().audit(&e) {
            tracing::error!(error = %err, "could not write the audit trail");
        }
    }

    /// The receipt keys as the admin API shows them.
    pub fn receipt_keys(&self) -> ReceiptKeys {
        let principal = self.receipt_principal();
        ReceiptKeys {
            allowed_signers: self.receipts().allowed_signers(&principal),
            keys: self.receipts().entries(),
            principal,
        }
    }

    /// Replaces the receipt key by a new one; the old public key stays published with its
    /// validity period, so receipts it signed keep verifying. Audited.
    pub fn rotate_receipt_key_blocking(&self, actor: &Actor) -> Result<ReceiptKeys, PortalError> {
        let _edit = self.edit_lock()?;
        let old = self.receipts().fingerprint();
        let new = self.receipts().rotate(&self.store().clock().text())?;
        self.audit_quietly(
            AuditKind::ReceiptKeyRotated,
            None,
            format!("{old} → {}", new.fingerprint),
            actor,
        );
        Ok(self.receipt_keys())
    }

    /// Re-reads the recipients file and swaps the ring; on any error the old ring stays.
    /// Uploads already running finish with the ring they started with.
    pub fn reload_keys_blocking(&self, actor: &Actor) -> Result<ReloadReport, PortalError> {
        let _guard = self.edit_lock()?;
        self.reload_locked(None, actor)
    }

    /// Reloads with the edit lock held; `retiring` is the key `keys retire` just took out.
    fn reload_locked(
        &self,
        retiring: Option<(&KeyId, &str)>,
        actor: &Actor,
    ) -> Result<ReloadReport, PortalError> {
        match KeyRing::load(&self.config().keys.recipients_file) {
            Ok(ring) => {
                let report = report(&ring, self.store().record_ring(&ring, retiring, actor)?);
                self.keys().replace(ring);
                self.audit_quietly(
                    AuditKind::KeysReloaded,
                    None,
                    format!("{} active", report.active.len()),
                    actor,
                );
                tracing::info!(active = ?report.active, added = ?report.added, retired = ?report.retired, "keys reloaded");
                Ok(report)
            }
            Err(e) => {
                tracing::error!(error = %e, "key reload refused; the previous keys stay in force");
                self.audit_quietly(AuditKind::ReloadRefused, None, e.to_string(), actor);
                Err(e.into())
            }
        }
    }

    /// Appends a recipient to the file (atomically) and reloads.
    pub fn add_key_blocking(
        &self,
        recipient: &str,
        label: &str,
        actor: &Actor,
    ) -> Result<ReloadReport, PortalError> {
        let _guard = self.edit_lock()?;
        let path = &self.config().keys.recipients_file;
        let text = read_file(path)?;
        let (new_text, _) = keys::append_recipient(&text, recipient, label)?;
        keys::write_atomically(path, &new_text)?;
        self.reload_locked(None, actor)
    }

    /// Comments a key out of the file (with date and reason) and reloads; the audit trail
    /// keeps the reason. Refuses a reason that is not a single line.
    pub fn retire_key_blocking(
        &self,
        id: &str,
        reason: &str,
        actor: &Actor,
    ) -> Result<ReloadReport, PortalError> {
        let reason = keys::retirement_reason(reason)?;
        let _guard = self.edit_lock()?;
        let path = &self.config().keys.recipients_file;
        let text = read_file(path)?;
        let date = self.store().clock().text();
        let id = KeyId(id.to_owned());
        let new_text = keys::retire_recipient(&text, &id, &date[..10], &reason)?;
        keys::write_atomically(path, &new_text)?;
        self.reload_locked(Some((&id, &reason)), actor)
    }

    /// Every key ever used, with what it can read (deleted cases no longer count).
    pub fn key_usage_blocking(&self) -> Result<Vec<KeyUsage>, PortalError> {
        let mut records = self.store().records()?;
        records.retain(|r| r.purged_at.is_none());
        let active = self.keys().current().ids();
        Ok(self
            .store()
            .key_infos()?
            .into_iter()
            .map(|info| {
                let with: Vec<_> = records
                    .iter()
                    .filter(|r| r.key_ids.contains(&info.id))
                    .collect();
                KeyUsage {
                    active: active.contains(&info.id),
                    kind: crate::keys::KeyKind::of(&info.recipient),
                    readable: with.len(),
                    sole: with.iter().filter(|r| r.key_ids.len() == 1).count(),
                    info,
                }
            })
            .collect())
    }

    /// Records a TLS reload outcome in the audit trail.
    pub fn audit_tls(&self, outcome: Result<(), String>, actor: &Actor) {
        match outcome {
            Ok(()) => self.audit_quietly(AuditKind::TlsReloaded, None, String::new(), actor),
            Err(e) => self.audit_quietly(AuditKind::TlsReloadRefused, None, e, actor),
        }
    }
}
