//! The admin protocol of the Unix socket: every route's path, request and answer type, and the
//! one error body with its stable codes. The server answers with these types and the CLI reads
//! them back into the same types, so neither side can drift from the other.
//!
//! Answers that are stored data (a [`Record`], an [`Invite`], an [`AuditEvent`]) are sent as
//! they are stored; the views computed for the team ([`CaseView`], [`RegisterRow`],
//! [`KeyUsage`], …) are defined here, and the portal's operations return them.

mod advisory;
mod disclosure;
mod error;
pub mod op;
mod yearly;
pub use advisory::{
    AdvisoryDraftRequest, AdvisoryInput, AdvisoryPublishRequest, AdvisoryView, Profile, Tlp,
};
pub use yearly::{
    AdvisoryTally, Breaches, MonthCount, MonthTally, PromiseTally, Share, TimeFigure, YearQuery,
    YearReport,
};

use crate::deadlines::{ClockKind, ClockState};
use crate::keys::KeyId;
use crate::record::{AuthorityDecision, Category, Status};
use serde::{Deserialize, Serialize};

pub use disclosure::{
    CreditRequest, ExpectRequest, PublicationRequest, TellRequest, WithdrawCreditRequest,
};
pub use error::{ErrorBody, ErrorCode, INTERNAL_MESSAGE};

pub use crate::receipt::allowed::KeyEntry;
pub use crate::record::{AuditEvent, KeyInfo, Record};
pub use crate::store::Invite;

/// The route patterns (actix syntax: `{case}` and `{id}` are one path segment each).
pub mod route {
    /// `GET` with [`ListFilter`](super::ListFilter) as the query: `Vec<CaseView>`.
    pub const SUBMISSIONS: &str = "/v1/submissions";
    /// `GET`: one [`CaseView`](super::CaseView).
    pub const SUBMISSION: &str = "/v1/submissions/{case}";
    /// `POST` [`StatusRequest`](super::StatusRequest): the [`CaseView`](super::CaseView).
    pub const STATUS: &str = "/v1/submissions/{case}/status";
    /// `POST` [`AuthorityRequest`](super::AuthorityRequest): the [`CaseView`](super::CaseView).
    pub const AUTHORITY: &str = "/v1/submissions/{case}/authority";
    /// `POST` [`NoteRequest`](super::NoteRequest): the [`CaseView`](super::CaseView).
    pub const NOTE: &str = "/v1/submissions/{case}/note";
    /// `POST` [`SharedRequest`](super::SharedRequest): the [`CaseView`](super::CaseView).
    pub const SHARED: &str = "/v1/submissions/{case}/shared";
    /// `POST` [`PurgeRequest`](super::PurgeRequest): [`Purged`](super::Purged).
    pub const PURGE: &str = "/v1/submissions/{case}/purge";
    /// `POST`: set or change the expected fix date ([`super::ExpectRequest`]).
    pub const EXPECT: &str = "/v1/submissions/{case}/expect";
    /// `POST`: leave a message for the reporter ([`super::TellRequest`]).
    pub const TELL: &str = "/v1/submissions/{case}/tell";
    /// `POST`: publish the reporter's credit ([`super::CreditRequest`]).
    pub const CREDIT: &str = "/v1/submissions/{case}/credit";
    /// `POST`: withdraw the published credit ([`super::WithdrawCreditRequest`]).
    pub const WITHDRAW_CREDIT: &str = "/v1/submissions/{case}/credit/withdraw";
    /// `POST`: record the agreed publication ([`super::PublicationRequest`]).
    pub const PUBLICATION: &str = "/v1/submissions/{case}/publication";
    /// `POST`: who handles the case ([`super::AssignRequest`]).
    pub const ASSIGN: &str = "/v1/submissions/{case}/assign";
    /// `POST`: the case entered a phase of ISO/IEC 30111 ([`super::PhaseRequest`]).
    pub const PHASE: &str = "/v1/submissions/{case}/phase";
    /// `POST`: its coordinator and embargo ([`super::CoordinationRequest`]).
    pub const COORDINATION: &str = "/v1/submissions/{case}/coordination";
    /// `GET`: the case's bundle (`application/x-tar`).
    pub const EXPORT: &str = "/v1/submissions/{case}/export";
    /// `POST` a re-keyed bundle (`application/x-tar`): the new [`Record`](super::Record).
    pub const IMPORT: &str = "/v1/submissions/{case}/import";
    /// `GET` with [`YearQuery`](super::YearQuery): the [`YearReport`](super::YearReport).
    pub const REPORT: &str = "/v1/report";
    /// `GET` with [`RegisterQuery`](super::RegisterQuery): `Vec<RegisterRow>` or CSV.
    pub const REGISTER: &str = "/v1/register";
    /// `GET`: `Vec<Invite>`; `POST` [`InviteRequest`](super::InviteRequest):
    /// [`NewInvite`](super::NewInvite).
    pub const INVITES: &str = "/v1/invites";
    /// `POST` [`ConsoleLinkRequest`](super::ConsoleLinkRequest):
    /// [`ConsoleLink`](super::ConsoleLink).
    pub const CONSOLE_LINKS: &str = "/v1/console/links";
    /// `GET`: [`SecurityTxtState`](super::SecurityTxtState); `POST`
    /// [`SecurityTxtInstall`](super::SecurityTxtInstall): the new state.
    pub const SECURITY_TXT: &str = "/v1/security-txt";
    /// `GET` with [`SecurityTxtRender`](super::SecurityTxtRender): the file to sign.
    pub const SECURITY_TXT_RENDER: &str = "/v1/security-txt/render";
    /// `POST`: remove the signed file ([`SecurityTxtState`](super::SecurityTxtState)).
    pub const SECURITY_TXT_REMOVE: &str = "/v1/security-txt/remove";
    /// `POST` [`AdvisoryDraftRequest`](super::AdvisoryDraftRequest): the case's CSAF
    /// advisory (or its next revision) as a draft to sign ([`AdvisoryView`](super::AdvisoryView)).
    pub const ADVISORY: &str = "/v1/submissions/{case}/advisory";
    /// `GET`: `Vec<AdvisoryView>`, published and drafts.
    pub const ADVISORIES: &str = "/v1/advisories";
    /// `POST` [`AdvisoryPublishRequest`](super::AdvisoryPublishRequest): the published
    /// [`AdvisoryView`](super::AdvisoryView).
    pub const ADVISORY_PUBLISH: &str = "/v1/advisories/publish";
    /// `GET`: Prometheus text.
    pub const METRICS: &str = "/v1/metrics";
    /// `GET`: `Vec<KeyUsage>`; `POST` [`AddKeyRequest`](super::AddKeyRequest):
    /// [`ReloadReport`](super::ReloadReport).
    pub const KEYS: &str = "/v1/keys";
    /// `POST` [`RetireRequest`](super::RetireRequest): [`ReloadReport`](super::ReloadReport).
    pub const RETIRE: &str = "/v1/keys/{id}/retire";
    /// `POST` [`ReloadRequest`](super::ReloadRequest): [`Reloaded`](super::Reloaded).
    pub const RELOAD: &str = "/v1/reload";
    /// `GET`: `Vec<AuditEvent>`.
    pub const AUDIT: &str = "/v1/audit";
    /// `GET`: a backup (`application/x-tar`).
    pub const BACKUP: &str = "/v1/backup";
    /// `GET`: [`Health`](super::Health).
    pub const HEALTH: &str = "/v1/health";
    /// `GET`: [`ReceiptKeys`](super::ReceiptKeys).
    pub const RECEIPT_KEYS: &str = "/v1/receipt-keys";
    /// `POST` [`ReloadRequest`](super::ReloadRequest) (`{}`): the
    /// [`ReceiptKeys`](super::ReceiptKeys) after a rotation.
    pub const RECEIPT_KEY_ROTATE: &str = "/v1/receipt-keys/rotate";

    /// `pattern` with its one `{…}` segment filled in (the caller checks `segment`).
    pub fn with(pattern: &str, segment: &str) -> String {
        match (pattern.find('{'), pattern.find('}')) {
            (Some(open), Some(close)) if open < close => {
                format!("{}{segment}{}", &pattern[..open], &pattern[close + 1..])
            }
            _ => pattern.to_owned(),
        }
    }
}

/// Body of `POST /v1/console/links`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleLinkRequest {
    /// The member's name in the audit trail (one short line).
    pub name: String,
    /// What the member may do.
    pub role: crate::config::Role,
}

/// A one-time sign-in link to the console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleLink {
    /// The link (single use).
    pub url: String,
    /// Seconds it stays valid.
    pub expires_secs: u64,
}

/// Body of `POST /v1/submissions/{case}/phase`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseRequest {
    /// The phase entered (`verified`, `remediation-developed`, `released`, `post-release`).
    pub phase: crate::record::Phase,
    /// When (a date or RFC 3339; default now).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

/// Body of `POST /v1/submissions/{case}/coordination`: what is left out stays.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoordinationRequest {
    /// `ibd`, `ncsc`, `vendor`, `cna`, or `none` to clear.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coordinator: Option<String>,
    /// The coordinator's name (a vendor's, a CNA's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The embargo date (`YYYY-MM-DD`), or `none` to clear.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embargo: Option<String>,
}

/// Query of `GET /v1/security-txt/render`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityTxtRender {
    /// `Expires` (`YYYY-MM-DD` or RFC 3339, under a year ahead); default 180 days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// The security.txt the portal renders, to be signed on the team's machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityTxtText {
    /// The file.
    pub text: String,
    /// Its `Expires`.
    pub expires: String,
}

/// Body of `POST /v1/security-txt`: a signed security.txt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityTxtInstall {
    /// The whole signed file, as `gpg --clearsign` wrote it.
    pub file: String,
}

/// What `/.well-known/security.txt` serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityTxtState {
    /// `signed` (the installed file, byte for byte) or `unsigned` (the rendering).
    pub serving: String,
    /// The installed signed file's `Expires`, if one is installed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// The fingerprint of the key that signed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    /// When it was installed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installed_at: Option<String>,
    /// What the team should do, if anything (expired, expiring, out of date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attention: Option<String>,
}

/// The request of a read that takes no parameters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoQuery {}

/// Body of `POST /v1/submissions/{case}/assign`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignRequest {
    /// The team member who handles the case (one short line); empty: nobody.
    pub to: String,
}

/// Query of `GET /v1/submissions`: the filters of `admin list`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListFilter {
    /// Only those encrypted to this key id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Only in this state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
    /// Only of this category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    /// Only with an overdue clock.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub overdue: bool,
    /// Only with a running clock due within this many seconds (overdue included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_within_secs: Option<u64>,
    /// Also list follow-ups as rows of their own.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub addenda: bool,
}

/// One clock as the team sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockView {
    /// Which clock.
    pub kind: ClockKind,
    /// What it is for, in words.
    pub what: String,
    /// Due, RFC 3339 UTC.
    pub due: String,
    /// Due, in the policy's time zone.
    pub due_local: String,
    /// When it stopped.
    pub stopped_at: Option<String>,
    /// Met, late, running or overdue.
    pub state: ClockState,
}

/// A record with its clocks, for the team: the answer of list, show and every case change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseView {
    /// The record.
    #[serde(flatten)]
    pub record: Record,
    /// When it arrived, in the policy's time zone.
    pub received_local: String,
    /// Its clocks.
    pub clocks: Vec<ClockView>,
    /// Any clock overdue.
    pub overdue: bool,
    /// The earliest due time of a running clock.
    pub next_due: Option<String>,
    /// Days until its ciphertext is deleted (closed cases).
    pub delete_in_days: Option<i64>,
    /// The deletion is within `retention.warn_days`.
    pub delete_soon: bool,
    /// The case is open and its expected fix date has passed.
    #[serde(default)]
    pub expected_fix_passed: bool,
    /// The agreed publication's date came less than a week ago (`admin list` reminds of it).
    #[serde(default)]
    pub publication_due: bool,
}

/// Body of `POST …/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusRequest {
    /// The state to move to.
    pub status: Status,
    /// A short note for the history.
    #[serde(default)]
    pub note: Option<String>,
    /// With `assessed` (or any move of an open case): the expected fix date, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<String>,
}

/// Body of `POST …/authority`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorityRequest {
    /// What was decided.
    pub decision: AuthorityDecision,
    /// A short note for the register.
    #[serde(default)]
    pub note: Option<String>,
}

/// Body of `POST …/note`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteRequest {
    /// The note (one line).
    pub note: String,
}

/// Body of `POST …/shared`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharedRequest {
    /// Who received the case (one short line, e.g. `IBD`).
    pub with: String,
    /// A short note.
    #[serde(default)]
    pub note: Option<String>,
}

/// Body of `POST …/purge`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgeRequest {
    /// Why, for the audit trail (empty: "deleted on request").
    #[serde(default)]
    pub reason: String,
}

/// What a purge removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Purged {
    /// The cases whose ciphertext was deleted (a case and its follow-ups).
    pub cases: Vec<String>,
}

/// The two shapes of the breach register.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RegisterFormat {
    /// RFC 4180 CSV, for spreadsheets.
    #[default]
    Csv,
    /// `Vec<RegisterRow>`.
    Json,
}

/// Query of `GET /v1/register` (no format: JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterQuery {
    /// CSV or JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<RegisterFormat>,
}

/// One line of the breach register (GDPR art. 33(5)): facts the server knows, never content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterRow {
    /// Case number.
    pub case: String,
    /// When the report arrived (the team became aware no later than this).
    pub received_at: String,
    /// Current state.
    pub status: Status,
    /// When the authority had to be notified.
    pub notify_due: String,
    /// Met, late, running or overdue.
    pub notify_clock: Option<ClockState>,
    /// The decision, once recorded.
    pub authority_decision: Option<AuthorityDecision>,
    /// When it was recorded.
    pub authority_decided_at: Option<String>,
    /// The team's note on it.
    pub authority_note: Option<String>,
    /// First acknowledged.
    pub acknowledged_at: Option<String>,
    /// First assessed.
    pub assessed_at: Option<String>,
    /// Resolved or rejected.
    pub closed_at: Option<String>,
    /// Ciphertext deleted (tombstone).
    pub purged_at: Option<String>,
    /// The state history with the team's notes: `state@time (note)` joined by `; `.
    pub history: String,
    /// The expected fix date the team gave, `YYYY-MM-DD`.
    #[serde(default)]
    pub expected_fix: Option<String>,
    /// Credit: `requested`, or `published` with its date.
    #[serde(default)]
    pub credit: Option<String>,
    /// The agreed publication: `date url`.
    #[serde(default)]
    pub publication: Option<String>,
    /// To whom the case was passed on: `whom@time` joined by `; ` (empty: to nobody).
    #[serde(default)]
    pub shared_with: String,
    /// ISO/IEC 30111: the phases entered, `phase@time` joined by `; ` (received first).
    #[serde(default)]
    pub phases: String,
    /// Who coordinates it (`ibd`, `vendor (Acme BV)`, …).
    #[serde(default)]
    pub coordinator: Option<String>,
    /// Nothing is published before this date.
    #[serde(default)]
    pub embargo_until: Option<String>,
}

/// The portal's receipt keys: every key it ever signed receipts with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptKeys {
    /// The identity they are published for (`ssh-keygen -Y verify -I`).
    pub principal: String,
    /// The allowed-signers file (also at `/.well-known/sealdrop-receipt-keys`).
    pub allowed_signers: String,
    /// The keys, oldest first; the last one without `retired_at` signs now.
    pub keys: Vec<KeyEntry>,
}

/// Body of `POST /v1/invites`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteRequest {
    /// How long the link works, in seconds (1 second to 90 days).
    pub expires_secs: u64,
    /// A note for the team's records.
    #[serde(default)]
    pub note: Option<String>,
}

/// A new invitation, as the team gets it (the token in `url` is shown only this once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewInvite {
    /// The link to send the reporter.
    pub url: String,
    /// The stored invitation.
    #[serde(flatten)]
    pub invite: Invite,
}

/// Body of `POST /v1/keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddKeyRequest {
    /// `age1…` or an SSH public key.
    pub recipient: String,
    /// Who holds the identity.
    #[serde(default)]
    pub label: String,
}

/// Body of `POST /v1/keys/{id}/retire`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetireRequest {
    /// Why, for the recipients file and the audit trail.
    #[serde(default)]
    pub reason: String,
}

/// What a reload of the recipients file changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReloadReport {
    /// Ids now in force.
    pub active: Vec<KeyId>,
    /// Ids that appeared.
    pub added: Vec<KeyId>,
    /// Ids that left the file.
    pub retired: Vec<KeyId>,
}

/// One key with the number of stored submissions it can read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyUsage {
    /// What is known about the key.
    #[serde(flatten)]
    pub info: KeyInfo,
    /// True while it is in the recipients file.
    pub active: bool,
    /// Its type (x25519, p256tag, mlkem768p256tag, ssh); post-quantum only the third.
    pub kind: crate::keys::KeyKind,
    /// Stored submissions encrypted to it.
    pub readable: usize,
    /// Stored submissions encrypted to it and to no other key: while this is above zero,
    /// destroying its identity destroys those submissions.
    pub sole: usize,
}

/// Body of `POST /v1/reload`: nothing to say (`{}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReloadRequest {}

/// What became of one part of a reload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PartState {
    /// The new keys or certificate are in force.
    Reloaded,
    /// Refused; the previous ones stay in force.
    Refused,
    /// The public listener does not use TLS.
    NotInUse,
}

/// Answer of `POST /v1/reload` when every part took effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reloaded {
    /// The keys.
    pub keys: ReloadReport,
    /// The TLS certificate: reloaded or not in use.
    pub tls: PartState,
    /// True when a new certificate was loaded.
    pub tls_reloaded: bool,
}

/// Whether the portal can take uploads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HealthStatus {
    /// Yes.
    Ok,
    /// Free space is below `storage.min_free_bytes`.
    LowDiskSpace,
}

/// Answer of `GET /v1/health`: what monitoring needs, without reporter data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// Whether uploads are possible.
    pub status: HealthStatus,
    /// Free bytes on the data file system.
    pub free_bytes: u64,
    /// `storage.min_free_bytes`.
    pub min_free_bytes: u64,
    /// Bytes reserved by running uploads.
    pub reserved_bytes: u64,
    /// Records stored.
    pub submissions: usize,
    /// Ids of the keys in force.
    pub active_keys: Vec<KeyId>,
    /// Uploads in progress.
    pub uploads_running: usize,
    /// `limits.max_concurrent_uploads`.
    pub max_concurrent_uploads: usize,
    /// What `/.well-known/security.txt` serves (an expired signed file: the rendering again).
    pub security_txt: SecurityTxtState,
    /// The engine holding the records: `sled` or `postgres`.
    #[serde(default)]
    pub database: String,
    /// Where the ciphertext lives: `local` (the data folder) or `s3`.
    #[serde(default)]
    pub ciphertext: String,
    /// True when this portal does the background work (notifier, retention): always with
    /// sled; with PostgreSQL, on exactly one of the portals sharing the database.
    #[serde(default)]
    pub background: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_is_filled_in_at_its_one_segment() {
        assert_eq!(
            route::with(route::STATUS, "2026-0042"),
            "/v1/submissions/2026-0042/status"
        );
        assert_eq!(
            route::with(route::RETIRE, "0123456789ab"),
            "/v1/keys/0123456789ab/retire"
        );
        assert_eq!(route::with(route::KEYS, "x"), "/v1/keys");
    }
}
