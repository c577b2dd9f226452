//! The yearly account (`admin report --year`): how the portal's cases went in one year, from
//! the records alone (BIO/ENSIA accountability). Figures only, never reporter data.

use serde::{Deserialize, Serialize};

/// Query of `GET /v1/report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct YearQuery {
    /// The calendar year (in `sla.time_zone`).
    pub year: i16,
}

/// The account of one year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct YearReport {
    /// The year.
    pub year: i16,
    /// When it was computed (RFC 3339 UTC): open cases can still change it.
    pub computed_at: String,
    /// Reports per month (`YYYY-MM`) and category; follow-ups are not counted apart.
    pub months: Vec<MonthCount>,
    /// Promises kept and broken per kind.
    pub promises: Vec<PromiseTally>,
    /// Promises kept and broken per month of receipt (all kinds together): the chart.
    pub promises_by_month: Vec<MonthTally>,
    /// Time to acknowledgement, first assessment and resolution.
    pub times: Vec<TimeFigure>,
    /// Cases passed on to third parties, per recipient (as the team wrote it).
    pub shares: Vec<Share>,
    /// Publications (advisories) whose agreed date lies in the year and has come.
    pub publications: u32,
    /// The CSAF advisories published at `/.well-known/csaf/` in the year.
    #[serde(default)]
    pub advisories: AdvisoryTally,
    /// Data breaches and the 72-hour clock.
    pub breaches: Breaches,
}

/// Reports of one month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthCount {
    /// `YYYY-MM`.
    pub month: String,
    /// Vulnerabilities.
    pub vulnerability: u32,
    /// Data breaches.
    pub data_breach: u32,
    /// Incidents.
    pub incident: u32,
}

/// One promise kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromiseTally {
    /// `acknowledge`, `assess`, `resolve` or `notify-authority`.
    pub kind: String,
    /// Stopped on time.
    pub kept: u32,
    /// Stopped late, or running past due.
    pub broken: u32,
    /// Still running, not yet due.
    pub open: u32,
}

/// Kept and broken promises of the cases received in one month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthTally {
    /// `YYYY-MM`.
    pub month: String,
    /// Kept.
    pub kept: u32,
    /// Broken.
    pub broken: u32,
}

/// How long one step took, over the cases that took it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeFigure {
    /// `acknowledge`, `assess` or `resolve`.
    pub kind: String,
    /// `working-days` (days after the day of receipt that were working days) or `days`
    /// (calendar days, to a tenth).
    pub unit: String,
    /// Cases counted.
    pub count: u32,
    /// The median (the mean of the middle two for an even count).
    pub median: Option<f64>,
    /// The 90th percentile (nearest rank).
    pub p90: Option<f64>,
}

/// Shares with one third party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    /// To whom.
    pub with: String,
    /// How many times.
    pub count: u32,
}

/// CSAF advisories of the year.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AdvisoryTally {
    /// Advisories whose first version was released in the year.
    pub published: u32,
    /// Later versions (revisions) released in the year.
    pub revisions: u32,
}

/// Data breaches of the year and the authority's clock.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Breaches {
    /// Data breaches received.
    pub total: u32,
    /// Reported to the authority within the notification time (`sla.data_breach_notify_hours`).
    pub notified_in_time: u32,
    /// Reported later than that.
    pub notified_late: u32,
    /// Decided in time that no report was required.
    pub not_required_in_time: u32,
    /// Decided late that no report was required.
    pub not_required_late: u32,
    /// No decision yet.
    pub undecided: u32,
}
