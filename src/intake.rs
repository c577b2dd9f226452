//! One upload in progress: enforces the limits, feeds each file to a blocking `Sealer` through a
//! bounded channel, and commits in the durable order (files fsynced → manifest → rename →
//! record flushed). Dropped before `commit`, it leaves no trace.

use crate::digest::Hasher;
use crate::error::ApiError;
use crate::gate::{Durability, Pass, Sink};
use crate::keys::KeyRing;
use crate::portal::Portal;
use crate::record::{
    Category, Disclosure, MANIFEST_FORMAT, Manifest, ManifestFile, Piece, Record, Status,
    StoredFile,
};
use crate::reference::{self, Derived, Reference};
use crate::seal::{self, Sealed};
use crate::store::partial::Finished;
use crate::store::{Guard, Upload};
use bytes::Bytes;
use serde::Serialize;
use std::sync::Arc;
use tokio::task::JoinHandle;

struct FileSink {
    sink: Sink,
    name: String,
    content_type: String,
    size: u64,
    /// The plaintext hash is computed here, on the network side, while the sealing thread
    /// encrypts and its spool thread hashes the ciphertext: three stages on two cores.
    plain: Hasher,
}

/// The text fields of a submission.
#[derive(Debug, Default)]
pub struct Fields {
    /// Kind of report.
    pub category: Option<Category>,
    /// The reporter's message.
    pub message: String,
    /// The reporter's contact details.
    pub contact: String,
    /// The name or handle to credit; empty: the reporter stays anonymous.
    pub credit: String,
    /// The reporter asked for an acknowledgement e-mail.
    pub acknowledge: bool,
    /// The reporter's page language (for that e-mail).
    pub lang: Option<crate::i18n::Lang>,
}

/// What an upload becomes.
#[derive(Debug, Clone)]
pub enum Kind {
    /// A new report through the public form.
    New,
    /// A new report through a one-time invitation (token hash, invitation id).
    Invite([u8; 32], String),
    /// More files for an existing case.
    FollowUp(Box<Record>),
}

/// One file as the receipt shows it to the reporter.
#[derive(Debug, Clone, Serialize)]
pub struct ReceiptFile {
    /// Position in the submission.
    pub index: u32,
    /// The name the reporter's client sent (shown back to the reporter only).
    pub name: String,
    /// Plaintext bytes received.
    pub size: u64,
    /// SHA-256 of the file as the reporter sent it, hex: what `sha256sum` of their own copy
    /// prints. Never stored in the clear (only here and inside the encrypted manifest).
    pub sha256: String,
    /// Bytes stored after encryption.
    pub ciphertext_size: u64,
    /// Digest of the stored ciphertext (`blake3:<hex>`; `b3sum` checks it without a key).
    pub ciphertext_digest: String,
}

/// What the reporter gets back after a durable commit.
#[derive(Debug, Clone, Serialize)]
pub struct Receipt {
    /// The secret reference, shown once (none for a follow-up: the case's reference stays).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// For a follow-up: the case it was added to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follow_up_to: Option<String>,
    /// The case number.
    pub case: String,
    /// Kind of report.
    pub category: Category,
    /// RFC 3339 UTC.
    pub received_at: String,
    /// The stored files.
    pub files: Vec<ReceiptFile>,
    /// The keys that can read this submission.
    pub key_ids: Vec<crate::keys::KeyId>,
    /// The case's state and promised dates.
    pub status: crate::workflow::ReporterStatus,
    /// The signed receipt: a text without the reference, its SSH signature and the signing
    /// key's allowed-signers line (`ssh-keygen -Y verify` checks it).
    pub signed_receipt: crate::receipt::SignedReceipt,
    /// The acknowledgement e-mail the reporter asked for: `queued`, or `no-address` when the
    /// contact details hold no e-mail address (absent when not asked for or not offered).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acknowledgement: Option<&'static str>,
}

/// An upload between its first byte and its commit.
pub struct Intake {
    portal: Arc<Portal>,
    /// Its place in the store; taken by the commit.
    upload: Option<Upload>,
    /// The keys every object of this report is sealed to: the portal's keys when its first
    /// file starts, or those of the first resumable upload it takes (an upload keeps one key
    /// ring from its first byte), so that the record names exactly the keys that read it.
    ring: Option<Arc<KeyRing>>,
    /// The admission (slots and pace), freed with the intake.
    pass: Pass,
    /// One entry per stored age file (a file sent in pieces has one per piece).
    files: Vec<(ManifestFile, Sealed)>,
    /// Files in the report (the pieces of one count once).
    file_count: usize,
    /// Finished resumable uploads this report takes; forgotten once it is durable.
    adopted: Vec<Finished>,
    current: Option<FileSink>,
    total: u64,
    kind: Kind,
    /// A new report's reference and its derivation, started with the first file so that the
    /// memory-hard work runs beside the upload instead of after it.
    reference: Option<(Reference, JoinHandle<Result<Derived, ApiError>>)>,
    started: std::time::Instant,
}

impl Intake {
    /// Begins an upload from `client` on `portal` (see [`Portal::admit_upload`] for the
    /// refusals).
    pub fn begin(
        portal: &Arc<Portal>,
        declared_len: Option<u64>,
        client: Option<std::net::IpAddr>,
    ) -> Result<Intake, ApiError> {
        let admission = portal.admit_upload(declared_len, client)?;
        Ok(Intake {
            portal: Arc::clone(portal),
            upload: Some(admission.upload),
            ring: None,
            pass: admission.pass,
            files: Vec::new(),
            file_count: 0,
            adopted: Vec::new(),
            current: None,
            total: 0,
            kind: Kind::New,
            reference: None,
            started: std::time::Instant::now(),
        })
    }

    /// Makes this upload a new report through an invitation, or a follow-up to a case.
    pub fn set_kind(&mut self, kind: Kind) {
        self.kind = kind;
    }

    /// What this upload becomes.
    pub fn kind(&self) -> &Kind {
        &self.kind
    }

    /// How long the body may take (the admission's pace).
    pub fn pace(&self) -> Arc<crate::gate::Pace> {
        self.pass.pace()
    }

    /// The key ring of this report, fixed by its first file.
    fn ring(&mut self) -> Arc<KeyRing> {
        let portal = &self.portal;
        Arc::clone(self.ring.get_or_insert_with(|| portal.keys().current()))
    }

    /// Starts deriving the new report's reference (once; a follow-up has none). By the first
    /// file the kind is settled: a follow-up's reference must come before its files.
    fn prepare_reference(&mut self) {
        if self.reference.is_some() || matches!(self.kind, Kind::FollowUp(_)) {
            return;
        }
        let reference = Reference::generate();
        let (portal, r) = (Arc::clone(&self.portal), reference.clone());
        let task = tokio::spawn(async move { portal.derive_reference(&r).await });
        self.reference = Some((reference, task));
    }

    /// The new report's reference and what it derives to (none for a follow-up).
    async fn take_reference(&mut self) -> Result<Option<(Reference, Derived)>, ApiError> {
        if matches!(self.kind, Kind::FollowUp(_)) {
            return Ok(None);
        }
        self.prepare_reference();
        let Some((reference, task)) = self.reference.take() else {
            return Err(ApiError::Internal);
        };
        let derived = task
            .await
            .map_err(|e| ApiError::internal("reference", e))??;
        Ok(Some((reference, derived)))
    }

    /// Starts the next file; its bytes follow through `push`.
    pub fn start_file(&mut self, name: &str, content_type: &str) -> Result<(), ApiError> {
        self.check_next_file()?;
        self.prepare_reference();
        let index = self.files.len() as u32;
        let path = self.upload()?.path(&format!("{index:03}.age"));
        let ring = self.ring();
        let upload = self.upload.as_mut().ok_or(ApiError::Internal)?;
        let sink = Sink::start(ring, path, Durability::Synced, upload.meter())?;
        self.current = Some(FileSink {
            sink,
            name: name.to_owned(),
            content_type: content_type.to_owned(),
            size: 0,
            plain: Hasher::default(),
        });
        Ok(())
    }

    /// Adds bytes to the current file, enforcing the size limits and free space.
    pub async fn push(&mut self, chunk: Bytes) -> Result<(), ApiError> {
        let limits = &self.portal.config().limits;
        let len = chunk.len() as u64;
        let Some(sink) = self.current.as_mut() else {
            return Err(ApiError::internal("intake", "push without an open file"));
        };
        if sink.size + len > limits.max_file_size.0 {
            return Err(ApiError::FileTooLarge(limits.max_file_size));
        }
        if self.total + len > limits.max_submission_size.0 {
            return Err(ApiError::SubmissionTooLarge(limits.max_submission_size));
        }
        sink.size += len;
        sink.plain.update(&chunk);
        self.total += len;
        let upload = self.upload.as_mut().ok_or(ApiError::Internal)?;
        sink.sink.send(chunk, upload.meter()).await
    }

    /// Finishes the current file: age finish, flush, fsync.
    pub async fn end_file(&mut self) -> Result<(), ApiError> {
        let sink = self
            .current
            .take()
            .ok_or_else(|| ApiError::internal("intake", "end_file without an open file"))?;
        let sealed = sink.sink.finish().await?;
        crate::faultpoint::crash_point("file-fsynced");
        let (sha256, size) = sink.plain.finish();
        if size != sealed.plaintext_size {
            return Err(ApiError::internal("intake", "plaintext length mismatch"));
        }
        let entry = ManifestFile {
            index: self.files.len() as u32,
            name: sink.name,
            content_type: sink.content_type,
            size,
            sha256,
            piece: None,
        };
        self.files.push((entry, sealed));
        self.file_count += 1;
        Ok(())
    }

    fn check_next_file(&self) -> Result<(), ApiError> {
        let max = self.portal.config().limits.max_files;
        if self.file_count >= max {
            return Err(ApiError::TooManyFiles(max));
        }
        if self.current.is_some() {
            return Err(ApiError::internal(
                "intake",
                "a file started while another is open",
            ));
        }
        Ok(())
    }

    /// Takes the finished resumable upload `id` as the next file: its sealed pieces become
    /// this upload's next `NNN.age` files (hard links), and the upload is forgotten once the
    /// report is durable. Until then it stays, so a refused report can name it again.
    pub async fn adopt_upload(&mut self, id: &str) -> Result<(), ApiError> {
        self.check_next_file()?;
        self.prepare_reference();
        let limits = &self.portal.config().limits;
        let id = crate::tus::UploadId::parse(id.trim()).ok_or(ApiError::UploadGone)?;
        let finished = self.portal.store().partials().take_finished(id.key())?;
        if finished.size > limits.max_file_size.0 {
            return Err(ApiError::FileTooLarge(limits.max_file_size));
        }
        if self.total + finished.size > limits.max_submission_size.0 {
            return Err(ApiError::SubmissionTooLarge(limits.max_submission_size));
        }
        // An upload keeps one key ring from its first byte; a report keeps one for all its
        // objects, so that its record names exactly the keys that read it.
        match &self.ring {
            None => self.ring = Some(Arc::clone(&finished.ring)),
            Some(r) if !same_keys(r, &finished.ring) => return Err(ApiError::KeysRotated),
            Some(_) => {}
        }
        let first = self.files.len() as u32;
        let of = finished.pieces.len() as u32;
        // Every piece is a manifest entry that repeats the file's name and type: what `open`
        // accepts (entries, manifest size) bounds a report, so the team can always open it.
        // Measured as written (JSON escapes a control character six bytes long); the commit
        // checks the whole manifest again.
        let one = ManifestFile {
            index: first,
            name: finished.name.clone(),
            content_type: finished.content_type.clone(),
            size: finished.size,
            sha256: finished.sha256.clone(),
            piece: Some(Piece {
                n: of,
                of,
                offset: finished.size,
                size: finished.size,
            }),
        };
        let manifest: u64 = self.files.iter().map(|(m, _)| entry_len(m)).sum::<u64>()
            + u64::from(of.max(1)) * entry_len(&one);
        if self.files.len() + of.max(1) as usize > crate::open::MAX_FILES {
            return Err(ApiError::TooManyPieces(crate::open::MAX_FILES));
        }
        if manifest > crate::open::MAX_MANIFEST_BYTES / 2 {
            return Err(ApiError::ReportTooLarge);
        }
        let sources: Vec<std::path::PathBuf> =
            finished.pieces.iter().map(|p| p.path.clone()).collect();
        let upload = self.upload.take().ok_or(ApiError::Internal)?;
        let ring = Arc::clone(&finished.ring);
        let (upload, linked) = tokio::task::spawn_blocking(move || {
            let result = if sources.is_empty() {
                // An empty file has no piece: it is sealed whole, as the form would.
                let path = upload.path(&format!("{first:03}.age"));
                seal::seal_bytes(&ring, &[], &path)
                    .map(Some)
                    .map_err(ApiError::from)
            } else {
                sources
                    .iter()
                    .enumerate()
                    .try_for_each(|(n, from)| {
                        upload.adopt(from, &format!("{:03}.age", first as usize + n))
                    })
                    .map(|()| None)
                    .map_err(ApiError::from)
            };
            (upload, result)
        })
        .await
        .map_err(|e| ApiError::internal("intake", e))?;
        self.upload = Some(upload);
        let empty = linked?;
        let entry = |index: u32, piece| ManifestFile {
            index,
            name: finished.name.clone(),
            content_type: finished.content_type.clone(),
            size: finished.size,
            sha256: finished.sha256.clone(),
            piece,
        };
        match empty {
            Some(sealed) => self.files.push((entry(first, None), sealed)),
            None => {
                let mut offset = 0;
                for (n, p) in finished.pieces.iter().enumerate() {
                    let size = p.sealed.plaintext_size;
                    let piece = Piece {
                        n: n as u32,
                        of,
                        offset,
                        size,
                    };
                    offset += size;
                    self.files
                        .push((entry(first + n as u32, Some(piece)), p.sealed.clone()));
                }
            }
        }
        self.total += finished.size;
        self.file_count += 1;
        self.adopted.push(finished);
        Ok(())
    }

    fn upload(&self) -> Result<&Upload, ApiError> {
        self.upload
            .as_ref()
            .ok_or_else(|| ApiError::internal("intake", "upload already committed"))
    }

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
        let now = self.portal.now();
        let received_at = crate::workflow::rfc3339(now);
        // Only the address leaves for the acknowledgement (in memory); it is never stored.
        let ack_to = crate::notify::address_in(&fields.contact);
        let ack_lang = fields.lang.unwrap_or(crate::i18n::Lang::Nl);
        let case = match &parent {
            Some(p) => {
                let parent_case = p.case.clone();
                let seq = self.portal.store().next_addendum_seq(&parent_case).await?;
                reference::addendum_number(&p.case, seq)
            }
            None => {
                let year = now
                    .to_zoned_datetime(self.portal.policy().calendar.time_zone().clone())
                    .year();
                let seq = self.portal.store().next_case_seq(year).await?;
                reference::case_number(year, seq)
            }
        };

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
        let manifest_json =
            serde_json::to_vec(&manifest).map_err(|e| ApiError::internal("manifest", e))?;
        if manifest_json.len() as u64 > crate::open::MAX_MANIFEST_BYTES {
            return Err(ApiError::ReportTooLarge);
        }
        let ring = self.ring();
        let path = self.upload()?.path("manifest.age");
        let ring_ids = ring.ids();
        let sealed_manifest =
            tokio::task::spawn_blocking(move || seal::seal_bytes(&ring, &manifest_json, &path))
                .await
                .map_err(|e| ApiError::internal("manifest", e))??;

        crate::faultpoint::crash_point("manifest-fsynced");

        let record = Record {
            version: 1,
            id: self.upload()?.id().to_owned(),
            case: case.clone(),
            category,
            received_at: received_at.clone(),
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
            key_ids: ring_ids,
            delete_after: None,
            blob_dir: None,
            history: Vec::new(),
            authority: None,
            parent: parent.as_ref().map(|p| p.case.clone()),
            addenda: Vec::new(),
            invite: match &self.kind {
                Kind::Invite(_, id) => Some(id.clone()),
                _ => None,
            },
            purged_at: None,
            disclosure: Disclosure {
                letterbox: derived
                    .as_ref()
                    .map(|d| crate::letterbox::Letterbox::from_seed(&d.letterbox).recipient()),
                credit_requested: credit.is_some(),
                ..Disclosure::default()
            },
            assignee: None,
        };
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
        let guard = match &self.kind {
            Kind::New => Guard::None,
            Kind::Invite(hash, _) => Guard::Invite(*hash),
            Kind::FollowUp(p) => Guard::Parent(p.case.clone()),
        };
        let upload = self.upload.take().ok_or(ApiError::Internal)?;
        self.portal
            .store()
            .commit(
                upload,
                record.clone(),
                derived.as_ref().map(|d| d.lookup),
                guard,
            )
            .await?;
        crate::faultpoint::crash_point("acknowledging");
        let adopted = std::mem::take(&mut self.adopted);
        if !adopted.is_empty() {
            let _ = tokio::task::spawn_blocking(move || {
                adopted.into_iter().for_each(Finished::consume)
            })
            .await;
        }
        let portal = &self.portal;
        portal.metrics().stored(
            category,
            parent.is_some(),
            self.total,
            self.file_count as u64,
            self.started.elapsed(),
        );
        portal.notifier().wake();
        let status = portal
            .policy()
            .reporter_status(parent.as_ref().unwrap_or(&record));
        let offered = portal.notifier().offers_acknowledgement();
        let acknowledgement = match (&reference, ack_to) {
            (Some(r), Some(to)) if fields.acknowledge && offered => {
                let queued = portal.notifier().acknowledge(
                    &to,
                    crate::notify::Acknowledgement {
                        lang: ack_lang,
                        org: &portal.config().org.name,
                        contact: &portal.config().org.contact_email,
                        public_url: &portal.public_url(),
                        reference: &r.to_string(),
                        case: &case,
                        promises: crate::notify::promises_of(portal.policy(), &record, ack_lang),
                    },
                );
                queued.then_some("queued")
            }
            (Some(_), None) if fields.acknowledge && offered => Some("no-address"),
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

/// Bytes a manifest entry takes as written (with its separating comma).
fn entry_len(entry: &ManifestFile) -> u64 {
    serde_json::to_vec(entry).map_or(u64::MAX / 4, |j| j.len() as u64 + 1)
}

/// True when two key rings hold the same keys.
fn same_keys(a: &KeyRing, b: &KeyRing) -> bool {
    let (mut x, mut y) = (a.ids(), b.ids());
    x.sort();
    y.sort();
    x == y
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

impl Drop for Intake {
    fn drop(&mut self) {
        let Some(upload) = self.upload.take() else {
            return;
        };
        let sink = self.current.take();
        // Remove the folder only after the sealing thread has let go of its file.
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    if let Some(sink) = sink {
                        sink.sink.abort().await;
                    }
                    let _ = tokio::task::spawn_blocking(move || drop(upload)).await;
                });
            }
            Err(_) => drop(upload),
        }
    }
}
