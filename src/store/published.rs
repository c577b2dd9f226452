//! The documents the team signs on its own machine and the portal serves as they are: the
//! signed security.txt and the CSAF advisories (with their drafts, waiting for a signature).
//! Each change is a compare-and-swap with its audit entry; publishing an advisory removes its
//! draft in the same transaction.

use super::{Store, StoreError};
use crate::csaf::Advisory;
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

const ADVISORY: &str = "csaf/";
const DRAFT: &str = "csaf-draft/";
/// `csaf-case/CASE` → the id of the case's advisory (a JSON string, like every document of
/// the tree): one case, one id, even under races.
const CLAIM: &str = "csaf-case/";

/// A document as read, with the bytes a compare-and-swap compares.
#[derive(Debug, Clone)]
pub struct Stored<T> {
    /// The document.
    pub value: T,
    raw: Vec<u8>,
}

fn decode<T: serde::de::DeserializeOwned>(
    name: &str,
    raw: Vec<u8>,
) -> Result<Stored<T>, StoreError> {
    let value = serde_json::from_slice(&raw).map_err(|e| StoreError::Corrupt {
        key: format!("published/{name}"),
        problem: e.to_string(),
    })?;
    Ok(Stored { value, raw })
}

fn encode(a: &Advisory) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(a).map_err(|e| StoreError::Db(e.to_string()))
}

impl Store {
    /// The published CSAF advisories, by id.
    pub fn advisories(&self) -> Result<Vec<Stored<Advisory>>, StoreError> {
        self.under(ADVISORY)
    }

    /// The drafts waiting for their signature, by id.
    pub fn advisory_drafts(&self) -> Result<Vec<Stored<Advisory>>, StoreError> {
        self.under(DRAFT)
    }

    /// The published advisory `id`.
    pub fn advisory(&self, id: &str) -> Result<Option<Stored<Advisory>>, StoreError> {
        self.one(&format!("{ADVISORY}{id}"))
    }

    /// The draft of advisory `id`.
    pub fn advisory_draft(&self, id: &str) -> Result<Option<Stored<Advisory>>, StoreError> {
        self.one(&format!("{DRAFT}{id}"))
    }

    /// The id of case `case`'s advisory (published or drafted), if it has one.
    pub fn advisory_of_case(&self, case: &str) -> Result<Option<String>, StoreError> {
        let name = format!("{CLAIM}{case}");
        self.db
            .published(&name)?
            .map(|raw| decode::<String>(&name, raw).map(|s| s.value))
            .transpose()
    }

    /// Stores `draft` as the draft of its id, replacing `old_draft` (`None`: there was none),
    /// if the published advisory of that id still is `published` and its case still has the id
    /// `claimed` (`None`: no advisory yet, and the case now claims this one); with its audit
    /// entry. False when any of these changed meanwhile (nothing written).
    pub fn save_advisory_draft(
        &self,
        claimed: Option<&str>,
        old_draft: Option<&Stored<Advisory>>,
        published: Option<&Stored<Advisory>>,
        draft: &Advisory,
        event: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let new = encode(draft)?;
        let published_raw = published.map(|p| p.raw.as_slice());
        let json = |id: &str| serde_json::to_vec(id).map_err(|e| StoreError::Db(e.to_string()));
        let claim_old = claimed.map(json).transpose()?;
        let claim_new = json(&draft.id)?;
        self.db.swap_published_all(
            &[
                (
                    &format!("{CLAIM}{}", draft.case),
                    claim_old.as_deref(),
                    Some(&claim_new),
                ),
                (
                    &format!("{DRAFT}{}", draft.id),
                    old_draft.map(|d| d.raw.as_slice()),
                    Some(&new),
                ),
                (
                    &format!("{ADVISORY}{}", draft.id),
                    published_raw,
                    published_raw,
                ),
            ],
            Some(event),
        )
    }

    /// Publishes `advisory` (the signed `draft`), replacing `published` (`None`: its first
    /// release) and removing the draft, with its audit entry. False when either changed
    /// meanwhile (nothing written).
    pub fn publish_advisory(
        &self,
        draft: &Stored<Advisory>,
        published: Option<&Stored<Advisory>>,
        advisory: &Advisory,
        event: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let new = encode(advisory)?;
        self.db.swap_published_all(
            &[
                (
                    &format!("{DRAFT}{}", advisory.id),
                    Some(draft.raw.as_slice()),
                    None,
                ),
                (
                    &format!("{ADVISORY}{}", advisory.id),
                    published.map(|p| p.raw.as_slice()),
                    Some(&new),
                ),
            ],
            Some(event),
        )
    }

    fn under(&self, prefix: &str) -> Result<Vec<Stored<Advisory>>, StoreError> {
        self.db
            .published_under(prefix)?
            .into_iter()
            .map(|(name, raw)| decode(&name, raw))
            .collect()
    }

    fn one(&self, name: &str) -> Result<Option<Stored<Advisory>>, StoreError> {
        self.db
            .published(name)?
            .map(|raw| decode(name, raw))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csaf::{Input, Revision};
    use crate::record::AuditKind;

    fn advisory(id: &str, case: &str) -> Advisory {
        Advisory {
            id: id.into(),
            case: case.into(),
            input: Input::default(),
            history: vec![Revision {
                number: 1,
                date: "2026-12-04T10:00:00Z".into(),
                summary: "First release".into(),
            }],
            credit: None,
            document: format!("{{\"id\": \"{id}\"}}\n"),
            signature: None,
            signer: None,
            published_at: None,
        }
    }

    fn event() -> AuditEvent {
        AuditEvent {
            at: "2026-12-04T10:00:00Z".into(),
            event: AuditKind::AdvisoryDrafted,
            key_id: None,
            case: None,
            detail: String::new(),
            actor: None,
        }
    }

    #[test]
    fn two_first_drafts_of_one_case_racing_leave_one_id_and_publishing_moves_the_draft() {
        let dir = std::env::temp_dir().join(format!("sealdrop-csaf-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let storage = crate::config::Storage {
            data_dir: dir.clone(),
            min_free_bytes: crate::config::ByteSize(0),
            ..Default::default()
        };
        let (store, _) = Store::open(&storage, crate::clock::Clock::system()).unwrap();
        // Both read "no advisory yet" for case 2026-0001 and chose different ids.
        let first = advisory("ADV-2026-001", "2026-0001");
        let second = advisory("ADV-2026-002", "2026-0001");
        assert!(
            store
                .save_advisory_draft(None, None, None, &first, &event())
                .unwrap()
        );
        assert!(
            !store
                .save_advisory_draft(None, None, None, &second, &event())
                .unwrap()
        );
        assert_eq!(
            store.advisory_of_case("2026-0001").unwrap().as_deref(),
            Some("ADV-2026-001")
        );
        assert_eq!(store.advisory_drafts().unwrap().len(), 1);
        // A stale draft cannot be published; the current one moves in one step.
        let draft = store.advisory_draft("ADV-2026-001").unwrap().unwrap();
        let mut signed = draft.value.clone();
        signed.signature = Some("sig".into());
        assert!(
            store
                .publish_advisory(&draft, None, &signed, &event())
                .unwrap()
        );
        assert!(
            !store
                .publish_advisory(&draft, None, &signed, &event())
                .unwrap()
        );
        assert!(store.advisory_drafts().unwrap().is_empty());
        assert_eq!(store.advisories().unwrap().len(), 1);
        let audit = store.audit_events().unwrap();
        assert_eq!(audit.len(), 2, "one entry per change that happened");
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
