//! The CSAF advisories' part of the admin protocol: a draft for a case, its publication with
//! the team's detached signature, and the list.

use serde::{Deserialize, Serialize};

pub use crate::csaf::{Input as AdvisoryInput, Profile, Tlp};

/// Body of `POST /v1/submissions/{case}/advisory`: what the team gives (for a revision, what
/// is left out stays).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvisoryDraftRequest {
    /// The fields.
    pub input: AdvisoryInput,
}

/// Body of `POST /v1/advisories/publish`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvisoryPublishRequest {
    /// The advisory's id (`tracking.id`).
    pub id: String,
    /// The detached signature of the draft, as `gpg --detach-sign --armor` wrote it.
    pub signature: String,
}

/// An advisory or a draft as the team sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvisoryView {
    /// `tracking.id`.
    pub id: String,
    /// The case it is about.
    pub case: String,
    /// `draft` (waiting for its signature) or `published`.
    pub state: String,
    /// The version (revision number).
    pub version: u32,
    /// The title.
    pub title: String,
    /// The profile.
    pub profile: Option<Profile>,
    /// The TLP label.
    pub tlp: Tlp,
    /// The file name CSAF gives it (`adv-2026-001.json`).
    pub file_name: String,
    /// Where it is served once published (TLP:WHITE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// When this version was published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<String>,
    /// The fingerprint of the key that signed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    /// What the team should do about it, if anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attention: Option<String>,
    /// The document, exactly as it is (to be) signed and served.
    pub document: String,
}
