//! What sealdrop keeps in the clear about a submission, and the encrypted manifest's shape.

mod audit;
mod disclosure;
mod handling;

pub use audit::{Actor, AuditEvent, AuditKind};
pub use handling::{Coordinator, CoordinatorKind, Handling, Phase, PhaseMark};

pub use disclosure::{
    Change, Credit, Disclosure, DisclosureEvent, Letter, PURGED_NAME, Publication, WITHDRAWN_NAME,
    is_forgotten_name,
};

use crate::keys::KeyId;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Kinds of report the portal takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// A security weakness (responsible disclosure).
    Vulnerability,
    /// Personal data that reached the wrong person.
    DataBreach,
    /// Something went wrong, without personal data.
    Incident,
}

impl Category {
    /// All categories, in display order.
    pub const ALL: [Category; 3] = [
        Category::Vulnerability,
        Category::DataBreach,
        Category::Incident,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Vulnerability => "vulnerability",
            Category::DataBreach => "data-breach",
            Category::Incident => "incident",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Category {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Category::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or(())
    }
}

/// Where a submission stands. The order of the variants is the order of the workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Stored, nobody has looked yet.
    Received,
    /// The reporter has been told the report arrived.
    Acknowledged,
    /// The team has made its first assessment.
    Assessed,
    /// A fix or other follow-up is under way.
    InProgress,
    /// Done.
    Resolved,
    /// Not taken up (out of scope, not a vulnerability, not a breach).
    Rejected,
}

impl Status {
    /// Every state, in workflow order.
    pub const ALL: [Status; 6] = [
        Status::Received,
        Status::Acknowledged,
        Status::Assessed,
        Status::InProgress,
        Status::Resolved,
        Status::Rejected,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Received => "received",
            Status::Acknowledged => "acknowledged",
            Status::Assessed => "assessed",
            Status::InProgress => "in-progress",
            Status::Resolved => "resolved",
            Status::Rejected => "rejected",
        }
    }

    /// True for the states that end a case.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Resolved | Status::Rejected)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        Status::ALL.into_iter().find(|c| c.as_str() == s).ok_or(())
    }
}

/// One entry of a case's status history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    /// RFC 3339 UTC.
    pub at: String,
    /// The state entered.
    pub status: Status,
    /// The team's short note (never reporter data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Set when this entry records that the case was passed on (`admin shared`): to whom.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_with: Option<String>,
}

/// What the team decided about notifying the data protection authority (GDPR art. 33).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthorityDecision {
    /// The authority was notified.
    Notified,
    /// Assessed as unlikely to result in a risk: no notification (art. 33(1)).
    NotRequired,
}

impl AuthorityDecision {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthorityDecision::Notified => "notified",
            AuthorityDecision::NotRequired => "not-required",
        }
    }
}

impl FromStr for AuthorityDecision {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "notified" => Ok(AuthorityDecision::Notified),
            "not-required" => Ok(AuthorityDecision::NotRequired),
            _ => Err(()),
        }
    }
}

/// The recorded authority decision of a data breach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authority {
    /// What was decided.
    pub decision: AuthorityDecision,
    /// RFC 3339 UTC.
    pub at: String,
    /// The team's short note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One stored ciphertext file, as the record knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFile {
    /// Position in the submission (file `NNN.age`).
    pub index: u32,
    /// Ciphertext bytes on disk.
    pub size: u64,
    /// Digest of the ciphertext: `blake3:<hex>`, or bare SHA-256 hex in records from before
    /// (read from the field `sha256` there).
    #[serde(alias = "sha256")]
    pub digest: String,
    /// Of a file sent in pieces: this piece's number (0 for the first). Says nothing about
    /// the file but that it came resumably; lets the portal count files, not pieces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub piece: Option<u32>,
}

impl StoredFile {
    /// The blob's file name.
    pub fn blob_name(&self) -> String {
        format!("{:03}.age", self.index)
    }
}

/// The clear-text record of a submission in sled. Never holds names, message, contact, IP
/// addresses or plaintext hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Schema version.
    pub version: u32,
    /// Random id (also the blob folder name).
    pub id: String,
    /// Sequential case number, `YYYY-NNNN`.
    pub case: String,
    /// Kind of report.
    pub category: Category,
    /// RFC 3339 UTC.
    pub received_at: String,
    /// Current status.
    pub status: Status,
    /// The encrypted manifest.
    pub manifest: StoredFile,
    /// The encrypted files.
    pub files: Vec<StoredFile>,
    /// Ids of the keys every file was encrypted to.
    pub key_ids: Vec<KeyId>,
    /// Date after which the submission is due for deletion (RFC 3339 date); set when the case
    /// is resolved or rejected.
    #[serde(default)]
    pub delete_after: Option<String>,
    /// The blob folder's name when it is not the id (after a re-keying import).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob_dir: Option<String>,
    /// Every status change after `received`, oldest first.
    #[serde(default)]
    pub history: Vec<StatusChange>,
    /// For a data breach: the authority decision, once recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority: Option<Authority>,
    /// For a follow-up (files added later with the reference): the case it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// The follow-ups' case numbers, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addenda: Vec<String>,
    /// The invitation this submission came through (its public id), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite: Option<String>,
    /// When the ciphertext was deleted; the record stays as a tombstone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purged_at: Option<String>,
    /// Expected fix date, messages to the reporter, credit and publication.
    #[serde(default, skip_serializing_if = "Disclosure::is_empty")]
    pub disclosure: Disclosure,
    /// The team member who handles the case (`admin assign`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// ISO/IEC 30111: the phases entered, the coordinator, the embargo.
    #[serde(default, skip_serializing_if = "Handling::is_empty")]
    pub handling: Handling,
}

impl Record {
    /// A case received on 2026-04-02 with no files, for unit tests of the rules.
    #[cfg(test)]
    pub(crate) fn for_tests(category: Category) -> Record {
        Record {
            version: 1,
            id: "id".into(),
            case: "2026-0001".into(),
            category,
            received_at: "2026-04-02T19:30:00Z".into(),
            status: Status::Received,
            manifest: StoredFile {
                index: 0,
                size: 1,
                digest: String::new(),
                piece: None,
            },
            files: Vec::new(),
            key_ids: Vec::new(),
            delete_after: None,
            blob_dir: None,
            history: Vec::new(),
            authority: None,
            parent: None,
            addenda: Vec::new(),
            invite: None,
            purged_at: None,
            disclosure: Disclosure::default(),
            assignee: None,
            handling: Handling::default(),
        }
    }

    /// How many files the reporter sent (a file sent in pieces counts once).
    pub fn file_count(&self) -> usize {
        self.files
            .iter()
            .filter(|f| f.piece.is_none_or(|n| n == 0))
            .count()
    }

    /// The name of this submission's folder under `blobs/`.
    pub fn blob_dir(&self) -> &str {
        self.blob_dir.as_deref().unwrap_or(&self.id)
    }

    /// Drops from a purged record what a tombstone does not keep. A tombstone keeps what the
    /// breach register and the audit need and nothing that leads to the reporter: the letterbox
    /// recipient goes (it follows from the reference), the letters (what the team told the
    /// reporter) and the published credit name, in the credit and in the history (written as
    /// [`PURGED_NAME`] there). The store removes the ciphertext and the reference's hash; the
    /// README's retention section lists what stays.
    pub fn strip_to_tombstone(&mut self) {
        self.disclosure.letterbox = None;
        self.disclosure.letters.clear();
        self.disclosure.forget_credit_name(PURGED_NAME);
    }

    /// True for a purged record that still holds something a tombstone drops (one purged by
    /// a version that kept the published credit name).
    pub fn is_untidy_tombstone(&self) -> bool {
        self.purged_at.is_some()
            && (self.disclosure.letterbox.is_some()
                || !self.disclosure.letters.is_empty()
                || self.disclosure.holds_a_credit_name())
    }

    /// The blob file names this record needs (none once purged).
    pub fn blob_names(&self) -> Vec<String> {
        if self.purged_at.is_some() {
            return Vec::new();
        }
        let mut names: Vec<String> = self.files.iter().map(StoredFile::blob_name).collect();
        names.push("manifest.age".into());
        names
    }
}

/// What the portal remembers about a key it has ever used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    /// Stable key id.
    pub id: KeyId,
    /// Canonical recipient (public key).
    pub recipient: String,
    /// Label from the recipients file.
    pub label: Option<String>,
    /// When the portal first loaded it (RFC 3339 UTC).
    pub first_seen: String,
    /// When it left the recipients file, if it did.
    pub retired_at: Option<String>,
}

/// One file's entry in the encrypted manifest. A file sent through the resumable path is
/// stored as several complete age files, one per piece: each piece has an entry of its own
/// (consecutive `NNN.age`), all repeating the whole file's name, type, size and SHA-256, and
/// `piece` says where its plaintext goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    /// Position, matching `NNN.age`.
    pub index: u32,
    /// The name the reporter's client gave (untrusted).
    pub name: String,
    /// The content type the client gave (untrusted).
    pub content_type: String,
    /// Plaintext size (of the whole file).
    pub size: u64,
    /// Plaintext SHA-256 (of the whole file), hex.
    pub sha256: String,
    /// For a piece of a file sent in pieces: which piece.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub piece: Option<Piece>,
}

/// Where one piece's plaintext belongs in its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Piece {
    /// Its number, from 0.
    pub n: u32,
    /// How many pieces the file has.
    pub of: u32,
    /// Offset of its first plaintext byte in the file.
    pub offset: u64,
    /// Its plaintext bytes.
    pub size: u64,
}

/// The encrypted manifest: everything the reporter wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always `sealdrop-manifest/1`.
    pub format: String,
    /// Submission id (binds the manifest to its record).
    pub id: String,
    /// Case number.
    pub case: String,
    /// Kind of report.
    pub category: Category,
    /// RFC 3339 UTC.
    pub received_at: String,
    /// The reporter's message.
    pub message: String,
    /// The reporter's contact details.
    pub contact: String,
    /// The name or handle the reporter asked to be credited as, if they asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit: Option<String>,
    /// The files.
    pub files: Vec<ManifestFile>,
}

/// The manifest format tag.
pub const MANIFEST_FORMAT: &str = "sealdrop-manifest/1";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_file_from_before_blake3_keeps_its_sha256_digest() {
        let old: StoredFile = serde_json::from_str(&format!(
            r#"{{"index":0,"size":3,"sha256":"{}"}}"#,
            "ab".repeat(32)
        ))
        .unwrap();
        assert_eq!(old.digest, "ab".repeat(32));
        assert_eq!(
            crate::digest::algo_of(&old.digest),
            Some(crate::digest::Algo::Sha256)
        );
        let new = serde_json::to_value(&old).unwrap();
        assert!(new.get("digest").is_some() && new.get("sha256").is_none());
    }
}
