//! What a case promises and tells the reporter beyond its state: the expected fix date, the
//! team's messages (sealed to the reporter's letterbox), credit and publication, and the events
//! that changed them. Stored in the clear except the messages; the name a reporter asked to be
//! credited as stays inside the encrypted manifest until the team publishes a credit.

use serde::{Deserialize, Serialize};

/// The disclosure side of a case (all empty for a follow-up and for cases from before it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disclosure {
    /// The age recipient derived from the reference (`letterbox`): messages are sealed to it.
    /// `None` for cases received before messages existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub letterbox: Option<String>,
    /// The reporter asked to be named as the discoverer (the name is in the manifest).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub credit_requested: bool,
    /// The expected fix date the team gave, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_fix: Option<String>,
    /// Messages to the reporter, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub letters: Vec<Letter>,
    /// The published credit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit: Option<Credit>,
    /// The agreed publication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publication: Option<Publication>,
    /// Every change of the above, oldest first (the case's disclosure history).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<DisclosureEvent>,
}

impl Disclosure {
    /// True when nothing is set (kept out of the record's JSON).
    pub fn is_empty(&self) -> bool {
        self == &Disclosure::default()
    }

    /// Takes the published credit off and writes `placeholder` for every published name in the
    /// history (the events keep that a credit was published, not to whom). Returns the credit
    /// that was published, if one was.
    pub fn forget_credit_name(&mut self, placeholder: &str) -> Option<Credit> {
        for e in &mut self.events {
            if let Change::CreditPublished { name } = &mut e.change {
                *name = placeholder.to_owned();
            }
        }
        self.credit.take()
    }

    /// True when a published name is still here, in the credit or in the history.
    pub fn holds_a_credit_name(&self) -> bool {
        self.credit.is_some()
            || self.events.iter().any(|e| {
                matches!(&e.change, Change::CreditPublished { name } if !is_forgotten_name(name))
            })
    }
}

/// One message to the reporter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Letter {
    /// RFC 3339 UTC.
    pub at: String,
    /// Base64 of an age file sealed to the letterbox.
    pub sealed: String,
    /// Who wrote it (the audit trail's actor); absent in letters written before this was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// A published credit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credit {
    /// The name or handle, as published.
    pub name: String,
    /// RFC 3339 UTC.
    pub published_at: String,
}

/// An agreed publication about the problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publication {
    /// The agreed date, `YYYY-MM-DD`.
    pub date: String,
    /// Where it is (or will be) published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// When the reminder for the date was sent (RFC 3339 UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminded_at: Option<String>,
}

/// What a published name becomes in the history once the credit is withdrawn.
pub const WITHDRAWN_NAME: &str = "(withdrawn)";

/// What a published name becomes in the history of a purged case.
pub const PURGED_NAME: &str = "(purged)";

/// True for the placeholders that stand where a published name was.
pub fn is_forgotten_name(name: &str) -> bool {
    name == WITHDRAWN_NAME || name == PURGED_NAME
}

/// What changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Change {
    /// The expected fix date was set or changed.
    ExpectedFix {
        /// `YYYY-MM-DD`.
        date: String,
    },
    /// A message was left for the reporter (its text is only in the letter).
    Told {
        /// Bytes of text.
        bytes: usize,
    },
    /// A credit was published.
    CreditPublished {
        /// As published.
        name: String,
    },
    /// A published credit was withdrawn.
    CreditWithdrawn,
    /// A publication was agreed (or its date or link changed).
    Publication {
        /// `YYYY-MM-DD`.
        date: String,
        /// The link, if known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        url: Option<String>,
    },
}

/// One entry of the disclosure history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisclosureEvent {
    /// RFC 3339 UTC.
    pub at: String,
    /// What changed.
    #[serde(flatten)]
    pub change: Change,
    /// The team's note (internal, never shown to the reporter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}
