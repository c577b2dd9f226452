//! CSAF 2.0 advisories (OASIS Common Security Advisory Framework): the document the portal
//! writes for a resolved case from what the team gives and from the case itself, its revisions
//! (same id, a longer history), and the provider folder it is served from
//! (`/.well-known/csaf/`). The team signs each document on its own machine (`gpg
//! --detach-sign --armor`); the portal holds no OpenPGP private key. No HTTP, no store: the
//! rules only.

mod document;
pub mod provider;
mod score;

pub use document::{Facts, compose};

use serde::{Deserialize, Serialize};

/// Longest title, product, version or CVE text.
pub const MAX_SHORT_CHARS: usize = 200;
/// Longest summary or remediation.
pub const MAX_TEXT_CHARS: usize = 20_000;
/// Most references.
pub const MAX_REFERENCES: usize = 20;

/// Which CSAF profile a document follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// `csaf_security_advisory`: a vulnerability in a product or service, and its fix.
    SecurityAdvisory,
    /// `csaf_security_incident_response`: what happened in an incident and what to do.
    IncidentResponse,
    /// `csaf_informational_advisory`: information without a vulnerability.
    Informational,
}

impl Profile {
    /// `document.category`.
    pub fn category(self) -> &'static str {
        match self {
            Self::SecurityAdvisory => "csaf_security_advisory",
            Self::IncidentResponse => "csaf_security_incident_response",
            Self::Informational => "csaf_informational_advisory",
        }
    }
}

impl std::str::FromStr for Profile {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "security-advisory" => Ok(Self::SecurityAdvisory),
            "incident-response" => Ok(Self::IncidentResponse),
            "informational" => Ok(Self::Informational),
            _ => Err(format!(
                "{s:?} is not a profile: security-advisory, incident-response or informational"
            )),
        }
    }
}

/// The Traffic Light Protocol label (CSAF 2.0 uses TLP 1.0's labels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Tlp {
    /// Anyone may read it; the only label the public provider folder serves.
    White,
    /// The community.
    Green,
    /// The recipients' organisations.
    Amber,
    /// The recipients alone.
    Red,
}

impl Tlp {
    /// The label as CSAF writes it.
    pub fn label(self) -> &'static str {
        match self {
            Self::White => "WHITE",
            Self::Green => "GREEN",
            Self::Amber => "AMBER",
            Self::Red => "RED",
        }
    }
}

impl std::str::FromStr for Tlp {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_uppercase().trim_start_matches("TLP:") {
            "WHITE" | "CLEAR" => Ok(Self::White),
            "GREEN" => Ok(Self::Green),
            "AMBER" => Ok(Self::Amber),
            "RED" => Ok(Self::Red),
            _ => Err(format!(
                "{s:?} is not a TLP label: WHITE, GREEN, AMBER or RED"
            )),
        }
    }
}

/// What the team gives for an advisory. For a revision, what is left out stays as it was.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct Input {
    /// The profile (required for the first revision).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<Profile>,
    /// The title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// What the problem was, for the public.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The product or service affected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// Who makes it (default: the organisation itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// The versions affected (a range such as `<2.3` or `vers:semver/<2.3.0`); none: a service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affected: Option<String>,
    /// The first fixed version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    /// What users should do (or what was done, for a service).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<String>,
    /// `https://` references, each `URL` or `URL summary`; replace the earlier ones when given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// A CVSS v3 vector (`CVSS:3.1/AV:N/…`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cvss: Option<String>,
    /// A CVE id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cve: Option<String>,
    /// The TLP label (default WHITE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tlp: Option<Tlp>,
    /// The language (default `en`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// For a revision: what changed (one line; required from the second revision on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<String>,
}

impl Input {
    /// The earlier revision's input with what `self` gives laid over it (`change` is never
    /// carried over). An empty text clears a field (`--cve ""`), an empty reference the list.
    pub fn over(&self, earlier: &Input) -> Input {
        let pick = |a: &Option<String>, b: &Option<String>| match a.as_deref().map(str::trim) {
            Some("") => None,
            Some(_) => a.clone(),
            None => b.clone(),
        };
        Input {
            profile: self.profile.or(earlier.profile),
            title: pick(&self.title, &earlier.title),
            summary: pick(&self.summary, &earlier.summary),
            product: pick(&self.product, &earlier.product),
            vendor: pick(&self.vendor, &earlier.vendor),
            affected: pick(&self.affected, &earlier.affected),
            fixed: pick(&self.fixed, &earlier.fixed),
            remediation: pick(&self.remediation, &earlier.remediation),
            references: if self.references.is_empty() {
                earlier.references.clone()
            } else {
                self.references
                    .iter()
                    .filter(|r| !r.trim().is_empty())
                    .cloned()
                    .collect()
            },
            cvss: pick(&self.cvss, &earlier.cvss),
            cve: pick(&self.cve, &earlier.cve),
            tlp: self.tlp.or(earlier.tlp),
            lang: pick(&self.lang, &earlier.lang),
            change: self.change.clone(),
        }
    }
}

/// One entry of `tracking.revision_history`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Revision {
    /// `1`, `2`, …
    pub number: u32,
    /// RFC 3339.
    pub date: String,
    /// What changed.
    pub summary: String,
}

/// An advisory as the portal keeps it: a draft waiting for its signature, or published.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Advisory {
    /// `tracking.id`, kept by every revision.
    pub id: String,
    /// The case it is about.
    pub case: String,
    /// What the team gave, every revision laid over the one before.
    pub input: Input,
    /// The revision history, oldest first; the last is this document's version.
    pub history: Vec<Revision>,
    /// The reporter's credit the document names (as agreed when it was drafted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit: Option<String>,
    /// The document, exactly as signed and served.
    pub document: String,
    /// The detached signature (ASCII armour), once published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// The fingerprint of the key that signed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    /// When it was published (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<String>,
}

impl Advisory {
    /// The version (the last revision's number).
    pub fn version(&self) -> u32 {
        self.history.last().map_or(0, |r| r.number)
    }

    /// `initial_release_date`: the first revision's date.
    pub fn initial(&self) -> &str {
        self.history.first().map_or("", |r| r.date.as_str())
    }

    /// `current_release_date`: the last revision's date.
    pub fn current(&self) -> &str {
        self.history.last().map_or("", |r| r.date.as_str())
    }

    /// Its path in the TLP:WHITE folder: `YYYY/file.json`, the year of its first release.
    pub fn path(&self) -> String {
        format!(
            "{}/{}",
            &self.initial().get(..4).unwrap_or("0000"),
            file_name(&self.id)
        )
    }
}

/// The file name CSAF 2.0 §5.1 gives a document with `tracking.id` `id`: lower case, every run
/// of characters other than `+`, `-`, `a-z`, `0-9` replaced by `_`, then `.json`.
pub fn file_name(id: &str) -> String {
    let mut out = String::new();
    let mut in_run = false;
    for c in id.to_lowercase().chars() {
        if c == '+' || c == '-' || c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
            in_run = false;
        } else if !in_run {
            out.push('_');
            in_run = true;
        }
    }
    out + ".json"
}

/// The id of the `n`th advisory of `year`: `PREFIX-YYYY-NNN`.
pub fn new_id(prefix: &str, year: i16, n: usize) -> String {
    format!("{prefix}-{year}-{n:03}")
}

/// How many of `published` had their first version released in `year` (UTC), and how many
/// later versions were released in it.
pub fn released_in(published: &[Advisory], year: i16) -> (u32, u32) {
    let in_year = |r: &&Revision| r.date.get(..4) == Some(format!("{year:04}").as_str());
    let mut first = 0;
    let mut later = 0;
    for a in published {
        for r in a.history.iter().filter(in_year) {
            if r.number == 1 {
                first += 1;
            } else {
                later += 1;
            }
        }
    }
    (first, later)
}

/// Why an advisory was not drafted or published.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Something the team gave cannot go into the document.
    #[error("{0}")]
    Input(String),
    /// The case is not in a state to be advised on.
    #[error("{0}")]
    Case(String),
    /// Only TLP:WHITE documents go into the public folder.
    #[error(
        "the draft is TLP:{0}: only TLP:WHITE advisories are published in the public provider \
         folder; share this one directly, or draft it again with --tlp WHITE"
    )]
    NotWhite(&'static str),
    /// No key, or a bad one.
    #[error("{0}")]
    NoKey(String),
    /// The signature does not fit the draft (with what it is and what to do).
    #[error("{0}")]
    Signature(String),
    /// No such draft or advisory.
    #[error("{0}")]
    Unknown(String),
    /// The draft was replaced while it was being published.
    #[error(
        "the draft of {0} was replaced while this ran (someone drafted it again): get the new \
         draft with `sealdrop admin advisory show {0} -o FILE`, sign that and publish it"
    )]
    Replaced(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_follow_the_csaf_rule() {
        assert_eq!(file_name("ADV-2026-001"), "adv-2026-001.json");
        assert_eq!(file_name("Org: 2026/7 (b)"), "org_2026_7_b_.json");
        assert_eq!(file_name("a+b"), "a+b.json");
    }

    #[test]
    fn a_revision_keeps_what_it_leaves_out_and_replaces_references_whole() {
        let first = Input {
            title: Some("T".into()),
            references: vec!["https://a".into(), "https://b".into()],
            change: Some("first".into()),
            ..Input::default()
        };
        let next = Input {
            summary: Some("S".into()),
            references: vec!["https://c".into()],
            ..Input::default()
        };
        let merged = next.over(&first);
        assert_eq!(merged.title.as_deref(), Some("T"));
        assert_eq!(merged.summary.as_deref(), Some("S"));
        assert_eq!(merged.references, vec!["https://c".to_owned()]);
        assert_eq!(merged.change, None);
        let cleared = Input {
            title: Some(" ".into()),
            references: vec![String::new()],
            ..Input::default()
        }
        .over(&first);
        assert_eq!(cleared.title, None);
        assert!(cleared.references.is_empty());
    }

    #[test]
    fn profiles_and_labels_parse_as_the_cli_writes_them() {
        assert_eq!(
            "incident-response".parse::<Profile>(),
            Ok(Profile::IncidentResponse)
        );
        assert!("advisory".parse::<Profile>().is_err());
        assert_eq!("tlp:clear".parse::<Tlp>(), Ok(Tlp::White));
        assert_eq!("amber".parse::<Tlp>(), Ok(Tlp::Amber));
    }
}
