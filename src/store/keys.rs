//! Recording a freshly loaded key ring: the `keys` tree brought in line with it and each key
//! that came or went in the audit trail.

use super::{Store, StoreError};
use crate::keys::{KeyId, KeyRing};
use crate::record::{AuditEvent, KeyInfo};

impl Store {
    /// Records `ring` at the store's clock: new ids added, ids no longer in it retired, each in
    /// the audit trail; `retiring` is the key `keys retire` just took out, with its reason.
    /// Returns (added, retired).
    pub fn record_ring(
        &self,
        ring: &KeyRing,
        retiring: Option<(&KeyId, &str)>,
        actor: &crate::record::Actor,
    ) -> Result<(Vec<KeyInfo>, Vec<KeyInfo>), StoreError> {
        let at = self.clock.text();
        let (added, retired) = self.db.sync_keys(ring, &at)?;
        use crate::record::AuditKind;
        for (event, list) in [
            (AuditKind::KeyAdded, &added),
            (AuditKind::KeyRetired, &retired),
        ] {
            for info in list {
                let reason = retiring
                    .filter(|(id, _)| event == AuditKind::KeyRetired && *id == &info.id)
                    .map(|(_, reason)| reason);
                self.db.audit(&AuditEvent {
                    at: at.clone(),
                    event,
                    key_id: Some(info.id.clone()),
                    case: None,
                    detail: key_detail(info.label.as_deref(), reason),
                    actor: Some(actor.as_str().to_owned()),
                })?;
            }
        }
        Ok((added, retired))
    }
}

/// The audit detail of a key event: the label alone, or the retirement reason with the label.
fn key_detail(label: Option<&str>, reason: Option<&str>) -> String {
    match (reason, label) {
        (None, label) => label.unwrap_or_default().to_owned(),
        (Some(reason), label) => {
            let reason = if reason.is_empty() {
                "none given"
            } else {
                reason
            };
            match label {
                Some(label) => format!("reason: {reason} (label: {label})"),
                None => format!("reason: {reason}"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retirement_detail_gives_the_reason_and_keeps_the_label() {
        assert_eq!(
            key_detail(Some("alice laptop"), Some("laptop lost")),
            "reason: laptop lost (label: alice laptop)"
        );
        assert_eq!(key_detail(None, Some("laptop lost")), "reason: laptop lost");
        assert_eq!(key_detail(None, Some("")), "reason: none given");
        assert_eq!(key_detail(Some("bob"), None), "bob");
    }
}
