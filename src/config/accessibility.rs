//! `[accessibility]`: what the accessibility statement (`/accessibility`, WCAG 2.1 AA /
//! EN 301 549, the Dutch toegankelijkheidsverklaring) says beyond what the portal's own tests
//! check: when the pages were last checked and how, the problems known, and where to report one.

use super::ConfigError;
use serde::{Deserialize, Serialize};

/// Most known problems listed.
pub const MAX_KNOWN_ISSUES: usize = 20;
/// Longest text of one known problem, and of the method.
pub const MAX_TEXT_CHARS: usize = 500;

/// How far the pages meet WCAG 2.1 AA, as the organisation states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Conformance {
    /// Every success criterion met, as far as the organisation knows.
    Full,
    /// Met in part: the known problems say where not.
    Partial,
}

/// `[accessibility]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Accessibility {
    /// `full` or `partial`.
    pub conformance: Conformance,
    /// The date of the last check of the pages (`YYYY-MM-DD`); empty: not stated.
    pub last_checked: String,
    /// How that check was done (one line), e.g. "an audit by an accredited inspector".
    pub method: String,
    /// Where to report an accessibility problem: an e-mail address or an https link; empty:
    /// `org.contact_email`.
    pub contact: String,
    /// The problems known, one line each.
    pub known_issues: Vec<String>,
}

impl Default for Accessibility {
    fn default() -> Self {
        Self {
            conformance: Conformance::Partial,
            last_checked: String::new(),
            method: String::new(),
            contact: String::new(),
            known_issues: Vec::new(),
        }
    }
}

fn invalid(key: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key,
        problem: problem.into(),
    }
}

fn one_line(text: &str) -> bool {
    text.chars().count() <= MAX_TEXT_CHARS && !text.chars().any(char::is_control)
}

impl Accessibility {
    /// Checks the date, the contact and the texts.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !self.last_checked.is_empty() && self.last_checked.parse::<jiff::civil::Date>().is_err()
        {
            return Err(invalid(
                "accessibility.last_checked",
                format!("{:?} is not a date (YYYY-MM-DD)", self.last_checked),
            ));
        }
        if !one_line(&self.method) {
            return Err(invalid(
                "accessibility.method",
                format!("must be one line of at most {MAX_TEXT_CHARS} characters"),
            ));
        }
        let c = self.contact.trim();
        let mail = c.contains('@') && !c.contains(char::is_whitespace);
        if !c.is_empty() && !c.starts_with("https://") && !mail {
            return Err(invalid(
                "accessibility.contact",
                "must be an e-mail address or an https:// link",
            ));
        }
        if self.known_issues.len() > MAX_KNOWN_ISSUES {
            return Err(invalid(
                "accessibility.known_issues",
                format!(
                    "has {} entries; at most {MAX_KNOWN_ISSUES}",
                    self.known_issues.len()
                ),
            ));
        }
        if self
            .known_issues
            .iter()
            .any(|i| i.trim().is_empty() || !one_line(i))
        {
            return Err(invalid(
                "accessibility.known_issues",
                format!("each entry must be one line of 1 to {MAX_TEXT_CHARS} characters"),
            ));
        }
        if self.conformance == Conformance::Full && !self.known_issues.is_empty() {
            return Err(invalid(
                "accessibility.conformance",
                "is full, but known_issues lists problems: say partial",
            ));
        }
        Ok(())
    }
}
