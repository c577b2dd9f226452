//! The `sealdrop admin` subcommands.

use super::values::{self, Span, Target};
use crate::adminapi::RegisterFormat;
use crate::keys::KeyId;
use crate::record::{AuthorityDecision, Category, Status};
use clap::Subcommand;
use std::path::PathBuf;

/// Admin subcommands.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// List cases with their state and the next deadline; warns before retention deletions.
    List {
        /// Only those encrypted to this key id (readable with it, maybe also with others).
        #[arg(long, value_name = "KEY_ID", value_parser = values::key_id)]
        key: Option<KeyId>,
        /// Only in this state.
        #[arg(long, value_name = "STATE")]
        status: Option<Status>,
        /// Only of this category.
        #[arg(long)]
        category: Option<Category>,
        /// Only cases with an overdue deadline.
        #[arg(long)]
        overdue: bool,
        /// Only cases with a deadline due within this time (e.g. 2d, 12h); overdue included.
        #[arg(long, value_name = "DURATION", value_parser = Span::parser())]
        due_within: Option<Span>,
        /// Also list follow-ups (files added later) as rows of their own.
        #[arg(long)]
        follow_ups: bool,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Move a case to a new state (with an optional note), stopping the clocks it reaches.
    Status {
        /// Case number, e.g. 2026-0042.
        case: String,
        /// The new state (states only move forward, or to rejected).
        state: Target,
        /// A short note for the history (no report content).
        #[arg(long)]
        note: Option<String>,
        /// With `assessed`: the expected fix date (YYYY-MM-DD) the reporter will see.
        #[arg(long, value_name = "DATE")]
        expect: Option<String>,
    },
    /// Set or change the expected fix date of an open case (the reporter sees it on /status).
    Expect {
        /// Case number.
        case: String,
        /// The expected fix date, YYYY-MM-DD.
        date: String,
        /// A short note for the history (internal; the reporter does not see it).
        #[arg(long)]
        note: Option<String>,
    },
    /// Leave a message for the reporter: shown on /status after they enter their reference,
    /// sealed so that only the reference opens it.
    Tell {
        /// Case number.
        case: String,
        /// The message (or use --file).
        #[arg(required_unless_present = "file", conflicts_with = "file")]
        text: Option<String>,
        /// Read the message from this file (UTF-8, at most limits.max_letter_bytes); `-` reads
        /// standard input, which keeps the text out of the shell's history.
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
    },
    /// Publish the credit a reporter asked for on /acknowledgments (resolved cases only), or
    /// withdraw it.
    Credit {
        /// Case number.
        case: String,
        /// The name or handle to publish (as the reporter gave it in the manifest).
        #[arg(long = "as", value_name = "NAME", required_unless_present = "withdraw")]
        name: Option<String>,
        /// Withdraw the published credit.
        #[arg(long, conflicts_with = "name")]
        withdraw: bool,
        /// A short note for the history (with --withdraw).
        #[arg(long, requires = "withdraw")]
        note: Option<String>,
    },
    /// Record the publication agreed with the reporter (resolved cases only); reminds the team
    /// when the date comes.
    Publish {
        /// Case number.
        case: String,
        /// The agreed date, YYYY-MM-DD.
        #[arg(long, value_name = "DATE")]
        date: String,
        /// Where it is (or will be) published; the reporter sees the link from the date on.
        #[arg(long, value_name = "URL")]
        url: Option<String>,
        /// A short note for the history (internal).
        #[arg(long)]
        note: Option<String>,
    },
    /// Record the data protection authority decision of a data breach (GDPR art. 33).
    Authority {
        /// Case number.
        case: String,
        /// What was decided.
        decision: AuthorityDecision,
        /// A short note for the register (e.g. the authority's reference, or why not).
        #[arg(long)]
        note: Option<String>,
    },
    /// The breach register (GDPR art. 33(5)): every data-breach case with its clocks and states.
    Register {
        /// The shape of the register.
        #[arg(long, value_enum, default_value_t = RegisterFormat::Csv)]
        format: RegisterFormat,
    },
    /// The yearly account: reports per category and month, promises kept and broken, times to
    /// acknowledgement, assessment and resolution, shares, publications and data breaches.
    Report {
        /// The calendar year.
        #[arg(long)]
        year: i16,
        /// `text` (readable), `csv` or `json`.
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
    },
    /// Mint a one-time upload link for a reporter who wrote to you first.
    Invite {
        /// How long the link works (e.g. 7d, 48h; at most 90d).
        #[arg(long, value_name = "DURATION", default_value = "7d", value_parser = Span::invitation_parser())]
        expires: Span,
        /// A note for your own records (no report content).
        #[arg(long)]
        note: Option<String>,
    },
    /// A one-time sign-in link to the team's console (for members without the organisation's
    /// identity provider, and the demo). Valid once, for `console.link_lifetime`.
    ConsoleLink {
        /// The member's name in the audit trail (e.g. an e-mail address).
        #[arg(long = "as", value_name = "NAME")]
        name: String,
        /// `handler` (every case action) or `admin` (also purge, invitations, the audit trail
        /// and the key list).
        #[arg(long, value_name = "ROLE", default_value = "handler")]
        role: crate::config::Role,
    },
    /// List invitations and whether they were used.
    Invites {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete a case's ciphertext now (and its follow-ups'), keeping a tombstone.
    Purge {
        /// Case number.
        case: String,
        /// Why, for the audit trail (required: a deletion cannot be undone).
        #[arg(long)]
        reason: String,
    },
    /// Add a note to a case's history without changing its state.
    Note {
        /// Case number.
        case: String,
        /// The note (one line, no report content).
        text: String,
    },
    /// Record that a case was passed on (e.g. to the IBD) with `sealdrop share`: in its
    /// history, in `admin show` and in the register.
    Shared {
        /// Case number.
        case: String,
        /// Who received it, e.g. IBD.
        #[arg(long = "with", value_name = "WHOM")]
        with: String,
        /// A short note (e.g. what was left out, or the recipient's reference; no report
        /// content).
        #[arg(long)]
        note: Option<String>,
    },
    /// Say which team member handles a case (shown in `list` and `show`, audited).
    Assign {
        /// Case number.
        case: String,
        /// The team member (one short line); `--to ''` assigns the case to nobody.
        #[arg(long = "to", value_name = "NAME")]
        to: String,
    },
    /// Record that a case entered a phase of ISO/IEC 30111 (received → verified →
    /// remediation-developed → released → post-release; forward only, each once).
    Phase {
        /// Case number.
        case: String,
        /// `verified`, `remediation-developed`, `released` or `post-release`.
        #[arg(value_parser = values::phase)]
        phase: crate::record::Phase,
        /// When (YYYY-MM-DD or RFC 3339; default now; not before the previous phase).
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
    },
    /// Set who coordinates a case and until when it is under embargo.
    Coordinate {
        /// Case number.
        case: String,
        /// `ibd`, `ncsc`, `vendor` or `cna`; `none` clears it.
        #[arg(long = "by", value_name = "COORDINATOR")]
        by: Option<String>,
        /// The vendor's or CNA's name.
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
        /// Nothing is published before this date (YYYY-MM-DD); `none` clears it.
        #[arg(long, value_name = "DATE")]
        embargo: Option<String>,
    },
    /// Print the receipt keys as an allowed-signers file (what `ssh-keygen -Y verify -f`
    /// reads; also served at /.well-known/sealdrop-receipt-keys), or rotate the key.
    ReceiptKey {
        /// Replace the signing key by a new one; the old public key stays published with its
        /// validity period, so receipts it signed keep verifying.
        #[arg(long)]
        rotate: bool,
        /// Print JSON (identity, allowed-signers text and every key with its dates).
        #[arg(long)]
        json: bool,
    },
    /// Print the metrics (Prometheus text format).
    Metrics,
    /// Show one submission's record.
    Show {
        /// Case number, e.g. 2026-0042.
        case: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Export one submission's ciphertext bundle for offline decryption.
    Export {
        /// Case number.
        case: String,
        /// The .tar file to write (never overwritten).
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Replace a submission's ciphertext with a bundle re-keyed by `sealdrop rekey`.
    Import {
        /// The re-keyed bundle.
        bundle: PathBuf,
        /// The case it must belong to (default: the case named in the bundle).
        #[arg(long)]
        case: Option<String>,
    },
    /// Write a consistent online backup (records and ciphertext) while uploads go on.
    Backup {
        /// The .tar file to write (never overwritten).
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Print health figures (free space, submissions, keys, uploads running) as JSON; exits 1
    /// when the portal cannot take uploads.
    Health,
    /// Show the audit trail (keys, status changes, invitations, deletions).
    Audit {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The signed security.txt: render the file to sign on your own machine, install the
    /// signed file, see what is served, or go back to the unsigned rendering.
    #[command(name = "securitytxt", subcommand)]
    SecurityTxt(SecurityTxtCommand),
    /// CSAF 2.0 advisories: draft one for a resolved case, publish it with the signature made
    /// on your own machine, list them.
    #[command(subcommand)]
    Advisory(Box<AdvisoryCommand>),
}

/// The shape of `admin report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// A readable account.
    Text,
    /// RFC 4180 CSV: `section,key,value`.
    Csv,
    /// The figures as JSON.
    Json,
}

/// `sealdrop admin securitytxt` subcommands.
#[derive(Debug, Subcommand)]
pub enum SecurityTxtCommand {
    /// Print (or write with -o) the security.txt to sign: `gpg --clearsign` it offline.
    Render {
        /// Its `Expires`: YYYY-MM-DD or RFC 3339, less than a year ahead (default: 180 days).
        #[arg(long, value_name = "DATE")]
        expires: Option<String>,
        /// Write it to this new file instead of printing it.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Check a signed security.txt (signature, fields, Expires) and serve it byte for byte.
    Install {
        /// The file `gpg --clearsign` wrote (e.g. security.txt.asc).
        file: PathBuf,
    },
    /// What `/.well-known/security.txt` serves, and what needs doing.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove the signed file: the portal serves the unsigned rendering again.
    Remove,
}

/// `sealdrop admin advisory` subcommands.
#[derive(Debug, Subcommand)]
pub enum AdvisoryCommand {
    /// Write the CSAF 2.0 advisory of a resolved case (or its next revision) as a draft to sign:
    /// `gpg --detach-sign --armor` the file offline, then `publish`. For a revision, what you
    /// leave out stays as it was.
    Draft(Box<AdvisoryDraft>),
    /// Check the detached signature of a draft and publish it in /.well-known/csaf/.
    Publish {
        /// The advisory's id (`admin advisory list`).
        id: String,
        /// The file `gpg --detach-sign --armor` wrote (e.g. adv-2026-001.json.asc).
        #[arg(long, value_name = "FILE")]
        signature: PathBuf,
    },
    /// Print (or write with -o) one advisory's document exactly as it is to be signed (the
    /// pending draft) or as it is served (with --published).
    Show {
        /// The advisory's id.
        id: String,
        /// The published version, not the pending draft.
        #[arg(long)]
        published: bool,
        /// Write it to this new file instead of printing it.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Every advisory and draft.
    List {
        /// Print JSON (with the documents).
        #[arg(long)]
        json: bool,
    },
}

/// `sealdrop admin advisory draft`.
#[derive(Debug, clap::Args)]
pub struct AdvisoryDraft {
    /// Case number.
    pub case: String,
    /// `security-advisory` (a vulnerability and its fix), `incident-response` or
    /// `informational`.
    #[arg(long)]
    pub profile: Option<crate::csaf::Profile>,
    /// The title.
    #[arg(long)]
    pub title: Option<String>,
    /// What the problem was, for the public.
    #[arg(long)]
    pub summary: Option<String>,
    /// The product or service affected.
    #[arg(long)]
    pub product: Option<String>,
    /// Who makes the product, when it is not your organisation (a supplier).
    #[arg(long)]
    pub vendor: Option<String>,
    /// The versions affected, e.g. "<2.3" (leave out for a service).
    #[arg(long, value_name = "RANGE")]
    pub affected: Option<String>,
    /// The first fixed version, e.g. 2.3.
    #[arg(long, value_name = "VERSION")]
    pub fixed: Option<String>,
    /// What users should do, or what was done.
    #[arg(long)]
    pub remediation: Option<String>,
    /// A reference: "URL" or "URL summary" (repeat; replaces the earlier ones).
    #[arg(long = "reference", value_name = "URL [SUMMARY]")]
    pub references: Vec<String>,
    /// The CVSS v3 base vector, e.g. CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H.
    #[arg(long, value_name = "VECTOR")]
    pub cvss: Option<String>,
    /// The CVE id, if one was assigned.
    #[arg(long)]
    pub cve: Option<String>,
    /// The TLP label: WHITE (default; the only one published), GREEN, AMBER or RED.
    #[arg(long)]
    pub tlp: Option<crate::csaf::Tlp>,
    /// The document's language (default en).
    #[arg(long)]
    pub lang: Option<String>,
    /// What this revision changes (required once the advisory is published).
    #[arg(long, value_name = "TEXT")]
    pub change: Option<String>,
    /// Write the document to this new file (to sign) instead of printing it.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}
