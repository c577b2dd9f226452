//! `[csaf]`: how the portal publishes CSAF 2.0 advisories (`admin advisory`,
//! `/.well-known/csaf/`): the id prefix, the publisher's category and namespace, and what the
//! provider metadata asks of aggregators. The signing key is `org.security_txt_signing_key`,
//! the organisation's OpenPGP public key that signs security.txt too.

use super::{ConfigError, HumanDuration};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Longest id prefix.
pub const MAX_PREFIX_CHARS: usize = 20;

/// The publisher's role in CSAF (`document.publisher.category`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PublisherCategory {
    /// It makes the products (or runs the services) the advisories are about.
    Vendor,
    /// It coordinates disclosure for others (a CVD desk, the IBD).
    Coordinator,
    /// It found the problems.
    Discoverer,
    /// It uses the products.
    User,
    /// None of these.
    Other,
}

impl PublisherCategory {
    /// The CSAF value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Vendor => "vendor",
            Self::Coordinator => "coordinator",
            Self::Discoverer => "discoverer",
            Self::User => "user",
            Self::Other => "other",
        }
    }
}

/// `[csaf]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Csaf {
    /// Advisory ids are `PREFIX-YYYY-NNN`: capital letters, digits and `-`, at most 20.
    pub id_prefix: String,
    /// `vendor`, `coordinator`, `discoverer`, `user` or `other`.
    pub publisher_category: PublisherCategory,
    /// The publisher's namespace, an `https://` address of the organisation; empty: the
    /// portal's public address.
    pub namespace: String,
    /// `list_on_CSAF_aggregators` in the provider metadata.
    pub list_on_aggregators: bool,
    /// `mirror_on_CSAF_aggregators` in the provider metadata.
    pub mirror_on_aggregators: bool,
    /// How old a draft may be when it is published: its dates are the draft's, and aggregators
    /// that poll `changes.csv` by time would miss an older one.
    pub max_draft_age: HumanDuration,
}

impl Default for Csaf {
    fn default() -> Self {
        Self {
            id_prefix: "ADV".into(),
            publisher_category: PublisherCategory::Vendor,
            namespace: String::new(),
            list_on_aggregators: true,
            mirror_on_aggregators: true,
            max_draft_age: HumanDuration(Duration::from_secs(24 * 3600)),
        }
    }
}

impl Csaf {
    /// Checks the prefix and the namespace.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let p = &self.id_prefix;
        if p.is_empty()
            || p.chars().count() > MAX_PREFIX_CHARS
            || !p
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(ConfigError::Invalid {
                key: "csaf.id_prefix",
                problem: format!(
                    "{p:?} must be 1 to {MAX_PREFIX_CHARS} capital letters, digits or '-' (e.g. \
                     ADV): file names are the id in lower case, so case alone must not tell two \
                     ids apart"
                ),
            });
        }
        let age = self.max_draft_age.0;
        if age < Duration::from_secs(60) || age > Duration::from_secs(30 * 24 * 3600) {
            return Err(ConfigError::Invalid {
                key: "csaf.max_draft_age",
                problem: "must lie between 1m and 30d (e.g. 24h)".into(),
            });
        }
        let n = &self.namespace;
        if !n.is_empty() && (!n.starts_with("https://") || n.contains(char::is_whitespace)) {
            return Err(ConfigError::Invalid {
                key: "csaf.namespace",
                problem: format!("{n:?} must be an https:// address of the organisation"),
            });
        }
        Ok(())
    }
}
