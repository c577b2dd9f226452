//! How a case is handled in the terms of ISO/IEC 30111: the phases it has entered, the
//! coordinator it is handled with, and the embargo agreed. Clear metadata, no reporter data.

use serde::{Deserialize, Serialize};
use std::fmt;

/// ISO/IEC 30111's phases, in their order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// The report came in (the case's `received_at`).
    Received,
    /// The vulnerability was reproduced and confirmed.
    Verified,
    /// A fix or mitigation exists.
    RemediationDeveloped,
    /// The fix was deployed or published.
    Released,
    /// After the release: lessons learned, variants looked for, the case wound up.
    PostRelease,
}

impl Phase {
    /// Every phase, in order.
    pub const ALL: [Phase; 5] = [
        Phase::Received,
        Phase::Verified,
        Phase::RemediationDeveloped,
        Phase::Released,
        Phase::PostRelease,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Received => "received",
            Phase::Verified => "verified",
            Phase::RemediationDeveloped => "remediation-developed",
            Phase::Released => "released",
            Phase::PostRelease => "post-release",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Phase {
    type Err = String;

    fn from_str(s: &str) -> Result<Phase, String> {
        Phase::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown phase {s:?}; one of {}",
                    Phase::ALL.map(Phase::as_str).join(", ")
                )
            })
    }
}

/// When a case entered a phase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseMark {
    /// The phase.
    pub phase: Phase,
    /// When (RFC 3339 UTC).
    pub at: String,
}

/// Who coordinates the case with the organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CoordinatorKind {
    /// The IBD (Informatiebeveiligingsdienst voor gemeenten).
    Ibd,
    /// The NCSC.
    Ncsc,
    /// The vendor of the affected product.
    Vendor,
    /// A CVE Numbering Authority.
    Cna,
}

impl CoordinatorKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            CoordinatorKind::Ibd => "ibd",
            CoordinatorKind::Ncsc => "ncsc",
            CoordinatorKind::Vendor => "vendor",
            CoordinatorKind::Cna => "cna",
        }
    }
}

impl std::str::FromStr for CoordinatorKind {
    type Err = String;

    fn from_str(s: &str) -> Result<CoordinatorKind, String> {
        [
            CoordinatorKind::Ibd,
            CoordinatorKind::Ncsc,
            CoordinatorKind::Vendor,
            CoordinatorKind::Cna,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
        .ok_or_else(|| format!("unknown coordinator {s:?}; one of ibd, ncsc, vendor, cna"))
    }
}

/// The coordinator of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coordinator {
    /// Which kind.
    pub kind: CoordinatorKind,
    /// Its name (the vendor's or the CNA's), one short line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl fmt::Display for Coordinator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "{} ({name})", self.kind.as_str()),
            None => f.write_str(self.kind.as_str()),
        }
    }
}

/// The ISO/IEC 30111 facts of a case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handling {
    /// The phases entered after `received`, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phases: Vec<PhaseMark>,
    /// Who coordinates it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coordinator: Option<Coordinator>,
    /// Nothing is published before this date (`YYYY-MM-DD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embargo_until: Option<String>,
}

impl Handling {
    /// True when nothing is recorded (kept out of the stored record).
    pub fn is_empty(&self) -> bool {
        self.phases.is_empty() && self.coordinator.is_none() && self.embargo_until.is_none()
    }

    /// The phase the case is in now.
    pub fn current(&self) -> Phase {
        self.phases.last().map_or(Phase::Received, |m| m.phase)
    }

    /// When the case entered `phase` (`received_at` for the first).
    pub fn entered(&self, phase: Phase, received_at: &str) -> Option<String> {
        if phase == Phase::Received {
            return Some(received_at.to_owned());
        }
        self.phases
            .iter()
            .find(|m| m.phase == phase)
            .map(|m| m.at.clone())
    }
}
