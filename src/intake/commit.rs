//! The end of an upload: the report is checked, numbered, its manifest sealed, its record
//! built and its receipt signed, then the store commits it durably; after that the adopted
//! resumable uploads go, and the reporter's acknowledgement is queued. Each job is a step of
//! its own below; `commit` runs them in the durable order.

use super::{Fields, Intake, Kind, Receipt, ReceiptFile};
use crate::error::ApiError;
use crate::record::{
    Category, Disclosure, MANIFEST_FORMAT, Manifest, ManifestFile, Record, Status, StoredFile,
};
use crate::reference::{self, Derived, Reference};
use crate::seal::{self, Sealed};
use crate::store::Guard;
use crate::store::partial::Finished;

/// What the checks decided: the case a follow-up belongs to, and the category.
struct Checked {
    parent: Option<Record>,
    category: Category,
}

impl Intake {
    /// Seals the manifest, commits the blobs, writes and flushes the record: after this returns
    /// `Ok`, the submission survives a crash. Runs as a task of its own, so that a client that
    /// goes away after its last byte cannot interrupt it half-way: the submission is then
    /// stored (unacknowledged) or leaves no trace.
    pub async fn commit(self, fields: Fields) -> Result<Receipt, ApiError> {
        tokio::spawn(self.commit_owned(fields))
            .await
            .map_err(|e| ApiError::internal("commit", e))?
    }

    async fn commit_owned(mut self, fields: Fields) -> Result<Receipt, ApiError> {
        let Checked { parent, category } = self.check(&fields)?;
        let now = self.portal.now();
        let received_at = crate::workflow::rfc3339(now);
        // Only the address leaves for the acknowledgement (in memory); it is never stored.
        let ack_to = crate::notify::address_in(&fields.contact);
        let ack_lang = fields.lang.unwrap_or(crate::i18n::Lang::Nl);
        let case = self.case_number(parent.as_ref(), now).await?;
        // A follow-up's credit request would change nothing: the case asked, or did not.
        let credit =
            Some(fields.credit.trim().to_owned()).filter(|c| parent.is_none() && !c.is_empty());
        let (reference, derived) = match self.take_reference().await? {
            Some((r, d)) => (Some(r), Some(d)),
            None => (None, None),
        };
        let message_sha256 = crate::digest::sha256_hex(fields.message.as_bytes());
        let manifest = Manifest {
            format: MANIFEST_FORMAT.into(),
            id: self.upload()?.id().to_owned(),
            case: case.clone(),
            category,
            received_at: received_at.clone(),
            message: fields.message,
            contact: fields.contact,
            credit: credit.clone(),
            files: self.files.iter().map(|(m, _)| m.clone()).collect(),
        };
        let sealed_manifest = self.seal_manifest(&manifest).await?;
        crate::faultpoint::crash_point("manifest-fsynced");
        let record = self.record(
            &manifest,
            parent.as_ref(),
            sealed_manifest,
            derived.as_ref(),
        )?;
        // Signed before the commit: once the case is stored, nothing may keep the reporter from
        // getting its reference.
        let signed_receipt = self.sign(
            &case,
            parent.as_ref(),
            &received_at,
            category,
            message_sha256,
            &record,
        )?;
        self.store(&record, derived.as_ref()).await?;
        crate::faultpoint::crash_point("acknowledging");
        self.after_commit(category, parent.is_some()).await;
        let portal = &self.portal;
        let status = portal
            .policy()
            .reporter_status(parent.as_ref().unwrap_or(&record));
        let acknowledgement = match (&reference, ack_to) {
            (Some(r), to) if fields.acknowledge && portal.notifier().offers_acknowledgement() => {
                self.acknowledge(r, to.as_deref(), ack_lang, &record)
            }
            _ => None,
        };
        Ok(Receipt {
            signed_receipt,
            reference: reference.map(|r| r.to_string()),
            follow_up_to: parent.map(|p| p.case),
            status,
            acknowledgement,
            case,
            category,
            received_at,
            files: receipt_files(std::mem::take(&mut self.files)),
            key_ids: record.key_ids,
        })
    }

    /// The report as a whole: a category (a follow-up has its case's), something in it, and
    /// contact details where the category needs them.
    fn check(&self, fields: &Fields) -> Result<Checked, ApiError> {
        if self.current.is_some() {
            return Err(ApiError::internal("intake", "commit with an open file"));
        }
        let parent = match &self.kind {
            Kind::FollowUp(p) => Some(p.as_ref().clone()),
            _ => None,
        };
        let category = match &parent {
            Some(p) => p.category,
            None => fields.category.ok_or(ApiError::MissingCategory)?,
        };
        if self.file_count == 0 && fields.message.trim().is_empty() {
            return Err(ApiError::EmptySubmission);
        }
        if parent.is_none()
            && self.portal.contact_required(category)
            && fields.contact.trim().is_empty()
        {
            return Err(ApiError::ContactRequired);
        }
        Ok(Checked { parent, category })
    }

    /// The next case number (`2026-0042`), or a follow-up's (`2026-0042-2`).
    async fn case_number(
        &self,
        parent: Option<&Record>,
        now: jiff::Timestamp,
    ) -> Result<String, ApiError> {
        let store = self.portal.store();
        Ok(match parent {
            Some(p) => reference::addendum_number(&p.case, store.next_addendum_seq(&p.case).await?),
            None => {
                let zone = self.portal.policy().calendar.time_zone().clone();
                let year = now.to_zoned_datetime(zone).year();
                reference::case_number(year, store.next_case_seq(year).await?)
            }
        })
    }

    /// Seals the manifest to the report's keys as it is written (refused when larger than
    /// what `open` takes).
    async fn seal_manifest(&mut self, manifest: &Manifest) -> Result<Sealed, ApiError> {
        let json = serde_json::to_vec(manifest).map_err(|e| ApiError::internal("manifest", e))?;
        if json.len() as u64 > crate::open::MAX_MANIFEST_BYTES {
            return Err(ApiError::ReportTooLarge);
        }
        let ring = self.ring();
        let path = self.upload()?.path("manifest.age");
        Ok(
            tokio::task::spawn_blocking(move || seal::seal_bytes(&ring, &json, &path))
                .await
                .map_err(|e| ApiError::internal("manifest", e))??,
        )
    }

    /// The record the store keeps in the clear.
    fn record(
        &mut self,
        manifest: &Manifest,
        parent: Option<&Record>,
        sealed_manifest: Sealed,
        derived: Option<&Derived>,
    ) -> Result<Record, ApiError> {
        Ok(Record {
            version: 1,
            id: self.upload()?.id().to_owned(),
            case: manifest.case.clone(),
            category: manifest.category,
            received_at: manifest.received_at.clone(),
            status: Status::Received,
            manifest: StoredFile {
                index: 0,
                size: sealed_manifest.ciphertext_size,
                digest: sealed_manifest.ciphertext_digest,
                piece: None,
            },
            files: self
                .files
                .iter()
                .map(|(m, s)| StoredFile {
                    index: m.index,
                    size: s.ciphertext_size,
                    digest: s.ciphertext_digest.clone(),
                    piece: m.piece.map(|p| p.n),
                })
                .collect(),
            key_ids: self.ring().ids(),
            delete_after: None,
            blob_dir: None,
            history: Vec::new(),
            authority: None,
            parent: parent.map(|p| p.case.clone()),
            addenda: Vec::new(),
            invite: match &self.kind {
                Kind::Invite(_, id) => Some(id.clone()),
                _ => None,
            },
            purged_at: None,
            disclosure: Disclosure {
                letterbox: derived
                    .map(|d| crate::letterbox::Letterbox::from_seed(&d.letterbox).recipient()),
                credit_requested: manifest.credit.is_some(),
                ..Disclosure::default()
            },
            assignee: None,
            handling: crate::record::Handling::default(),
        })
    }

    /// Hands the folder and the record to the store's durable commit, under the report's
    /// guard (an invitation consumed, the parent case still open).
    async fn store(&mut self, record: &Record, derived: Option<&Derived>) -> Result<(), ApiError> {
        let guard = match &self.kind {
            Kind::New => Guard::None,
            Kind::Invite(hash, _) => Guard::Invite(*hash),
            Kind::FollowUp(p) => Guard::Parent(p.case.clone()),
        };
        let upload = self.upload.take().ok_or(ApiError::Internal)?;
        self.portal
            .store()
            .commit(upload, record.clone(), derived.map(|d| d.lookup), guard)
            .await?;
        Ok(())
    }

    /// After the report is durable: the resumable uploads it took go, the counters count it,
    /// the notifier looks.
    async fn after_commit(&mut self, category: Category, follow_up: bool) {
        let adopted = std::mem::take(&mut self.adopted);
        if !adopted.is_empty() {
            let _ = tokio::task::spawn_blocking(move || {
                adopted.into_iter().for_each(Finished::consume)
            })
            .await;
        }
        self.portal.metrics().stored(
            category,
            follow_up,
            self.total,
            self.file_count as u64,
            self.started.elapsed(),
        );
        self.portal.notifier().wake();
    }

    /// Queues the acknowledgement e-mail the reporter asked for: `queued`, `no-address` when
    /// the contact details hold no e-mail address, nothing when the queue refused it.
    fn acknowledge(
        &self,
        reference: &Reference,
        to: Option<&str>,
        lang: crate::i18n::Lang,
        record: &Record,
    ) -> Option<&'static str> {
        let Some(to) = to else {
            return Some("no-address");
        };
        let portal = &self.portal;
        let queued = portal.notifier().acknowledge(
            to,
            crate::notify::Acknowledgement {
                lang,
                org: &portal.config().org.name,
                contact: &portal.config().org.contact_email,
                public_url: &portal.public_url(),
                reference: &reference.to_string(),
                case: &record.case,
                promises: crate::notify::promises_of(portal.policy(), record, lang),
            },
        );
        queued.then_some("queued")
    }
}

impl Intake {
    /// The signed receipt of a committed upload (never with the reference).
    fn sign(
        &self,
        case: &str,
        parent: Option<&Record>,
        received_at: &str,
        category: Category,
        message_sha256: String,
        record: &Record,
    ) -> Result<crate::receipt::SignedReceipt, ApiError> {
        let doc = crate::receipt::Document {
            portal: self.portal.public_url(),
            case: case.to_owned(),
            follow_up_to: parent.map(|p| p.case.clone()),
            received_at: received_at.to_owned(),
            category: category.as_str().to_owned(),
            message_sha256,
            // A file sent in pieces is one file on the receipt: its first piece names it whole.
            files: self
                .files
                .iter()
                .filter(|(m, _)| m.piece.is_none_or(|p| p.n == 0))
                .map(|(m, _)| crate::receipt::document::DocumentFile {
                    name: m.name.clone(),
                    size: m.size,
                    sha256: m.sha256.clone(),
                })
                .collect(),
            key_ids: record.key_ids.iter().map(|k| k.0.clone()).collect(),
            signed_by: String::new(),
        };
        self.portal
            .receipts()
            .sign(doc, &self.portal.receipt_principal())
            .map_err(|e| ApiError::internal("receipt", e.code()))
    }
}

/// One receipt line per file: a file sent in pieces shows its whole size and SHA-256, the sum
/// of its pieces' ciphertext sizes and their digests in order, separated by spaces.
fn receipt_files(files: Vec<(ManifestFile, Sealed)>) -> Vec<ReceiptFile> {
    let mut out: Vec<ReceiptFile> = Vec::new();
    for (m, s) in files {
        match m.piece {
            Some(p) if p.n > 0 => {
                if let Some(last) = out.last_mut() {
                    last.ciphertext_size += s.ciphertext_size;
                    last.ciphertext_digest.push(' ');
                    last.ciphertext_digest.push_str(&s.ciphertext_digest);
                }
            }
            piece => out.push(ReceiptFile {
                index: m.index,
                name: m.name,
                size: if piece.is_some() {
                    m.size
                } else {
                    s.plaintext_size
                },
                sha256: m.sha256,
                ciphertext_size: s.ciphertext_size,
                ciphertext_digest: s.ciphertext_digest,
            }),
        }
    }
    out
}
