//! The append-only audit trail's entries: what happened (a typed kind), to which case or key,
//! when, and who did it.

use crate::keys::KeyId;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What an audit entry records. Stored as its kebab-case name; a name this version does not
/// know (written by a newer one) reads as [`AuditKind::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuditKind {
    /// A key entered the recipients file.
    KeyAdded,
    /// A key left the recipients file.
    KeyRetired,
    /// The recipients file was reloaded.
    KeysReloaded,
    /// A reload of the recipients file was refused.
    ReloadRefused,
    /// The TLS certificate was reloaded.
    TlsReloaded,
    /// A reload of the TLS certificate was refused.
    TlsReloadRefused,
    /// A case's ciphertext was replaced by a re-keyed bundle.
    Rekeyed,
    /// A case changed state.
    Status,
    /// The authority decision of a data breach was recorded.
    Authority,
    /// A one-time upload link was made.
    InviteCreated,
    /// A case's ciphertext was deleted.
    Purged,
    /// A case was shared with a third party.
    Shared,
    /// The receipt key was replaced.
    ReceiptKeyRotated,
    /// A note was added to a case.
    Note,
    /// The expected fix date was set or changed.
    Expect,
    /// A message was left for the reporter.
    Tell,
    /// The reporter's credit was published.
    Credit,
    /// The published credit was withdrawn.
    CreditWithdrawn,
    /// The agreed publication was recorded.
    Publication,
    /// A case was assigned to a team member.
    Assigned,
    /// A case's bundle (ciphertext) was exported.
    Exported,
    /// A one-time sign-in link to the console was made.
    ConsoleLink,
    /// A member signed in to the console.
    ConsoleSignIn,
    /// A sign-in to the console was refused.
    ConsoleSignInRefused,
    /// A case entered a phase of ISO/IEC 30111.
    Phase,
    /// A case's coordinator or embargo was set or cleared.
    Coordination,
    /// A signed security.txt was installed.
    SecurityTxtInstalled,
    /// The signed security.txt was removed (the unsigned rendering is served again).
    SecurityTxtRemoved,
    /// A CSAF advisory (or a revision of one) was drafted.
    AdvisoryDrafted,
    /// A CSAF advisory (or a revision of one) was published with its signature.
    AdvisoryPublished,
    /// A kind written by a newer version.
    #[serde(other)]
    Other,
}

impl AuditKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        use AuditKind::*;
        match self {
            KeyAdded => "key-added",
            KeyRetired => "key-retired",
            KeysReloaded => "keys-reloaded",
            ReloadRefused => "reload-refused",
            TlsReloaded => "tls-reloaded",
            TlsReloadRefused => "tls-reload-refused",
            Rekeyed => "rekeyed",
            Status => "status",
            Authority => "authority",
            InviteCreated => "invite-created",
            Purged => "purged",
            Shared => "shared",
            ReceiptKeyRotated => "receipt-key-rotated",
            Note => "note",
            Expect => "expect",
            Tell => "tell",
            Credit => "credit",
            CreditWithdrawn => "credit-withdrawn",
            Publication => "publication",
            Assigned => "assigned",
            Exported => "exported",
            ConsoleLink => "console-link",
            ConsoleSignIn => "console-sign-in",
            ConsoleSignInRefused => "console-sign-in-refused",
            Phase => "phase",
            Coordination => "coordination",
            SecurityTxtInstalled => "security-txt-installed",
            SecurityTxtRemoved => "security-txt-removed",
            AdvisoryDrafted => "advisory-drafted",
            AdvisoryPublished => "advisory-published",
            Other => "other",
        }
    }
}

impl fmt::Display for AuditKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who acted: a team member (`unix:NAME`, the local user of the admin socket; the console
/// adds signed-in members) or the portal itself (`portal`: a reload on a signal, the retention
/// purge, start-up).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor(String);

impl Actor {
    /// The portal acting on its own.
    pub fn portal() -> Actor {
        Actor("portal".into())
    }

    /// The local Unix user `name` (of the admin socket's peer).
    pub fn unix(name: &str) -> Actor {
        Actor(format!("unix:{}", one_line(name)))
    }

    /// The console's signed-in member `name` (`console:NAME`).
    pub fn console(name: &str) -> Actor {
        Actor(format!("console:{}", one_line(name)))
    }

    /// As recorded.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A name as one short line of printable characters (it ends up in the audit trail).
fn one_line(name: &str) -> String {
    name.chars().filter(|c| !c.is_control()).take(64).collect()
}

/// One entry of the append-only audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// RFC 3339 UTC.
    pub at: String,
    /// What happened.
    pub event: AuditKind,
    /// The key concerned, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<KeyId>,
    /// The case concerned, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<String>,
    /// Free text without reporter data.
    pub detail: String,
    /// Who acted: `unix:NAME` for the local user of the admin socket, `portal` for what the
    /// portal did by itself (a reload on a signal, the retention purge). Entries written
    /// before actors were recorded have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_keep_their_stored_names_and_unknown_ones_still_read() {
        for kind in [
            AuditKind::KeyAdded,
            AuditKind::CreditWithdrawn,
            AuditKind::Assigned,
        ] {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(serde_json::from_str::<AuditKind>(&json).unwrap(), kind);
        }
        let old =
            r#"{"at":"2026-01-01T00:00:00Z","event":"status","case":"2026-0001","detail":"x"}"#;
        let e: AuditEvent = serde_json::from_str(old).unwrap();
        assert_eq!((e.event, e.actor), (AuditKind::Status, None));
        let newer = r#"{"at":"2026-01-01T00:00:00Z","event":"something-new","detail":""}"#;
        let e: AuditEvent = serde_json::from_str(newer).unwrap();
        assert_eq!(e.event, AuditKind::Other);
    }
}
