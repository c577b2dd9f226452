//! One upload in progress: enforces the limits, feeds each file to a blocking `Sealer` through a
//! bounded channel, and commits in the durable order (files fsynced → manifest → rename →
//! record flushed). Dropped before `commit`, it leaves no trace.

mod commit;

use crate::digest::Hasher;
use crate::error::ApiError;
use crate::gate::{Durability, Pass, Sink};
use crate::keys::KeyRing;
use crate::portal::Portal;
use crate::record::{Category, ManifestFile, Piece, Record};
use crate::reference::{Derived, Reference};
use crate::seal::{self, Sealed};
use crate::store::Upload;
use crate::store::partial::Finished;
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
    pub async fn begin(
        portal: &Arc<Portal>,
        declared_len: Option<u64>,
        client: Option<std::net::IpAddr>,
    ) -> Result<Intake, ApiError> {
        let admission = portal.admit_upload(declared_len, client).await?;
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
        let task = tokio::spawn(async move { portal.derive_new_reference(&r).await });
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
        if !crate::tus::uploads::still_current(&self.portal, &finished.ring) {
            drop(finished);
            return Err(crate::tus::uploads::forget_rotated(&self.portal, id.key()).await);
        }
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

impl Drop for Intake {
    fn drop(&mut self) {
        // A refused or abandoned report's reference is no longer derived (once it waits for a
        // turn; a derivation already running finishes on its thread).
        if let Some((_, task)) = self.reference.take() {
            task.abort();
        }
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
