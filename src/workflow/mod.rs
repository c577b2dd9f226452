//! The security team's case workflow: status changes with their history, the authority decision
//! of a data breach, a case's deadline clocks, list filters, retention dates and the breach
//! register. Pure functions on records; the portal stores the results.

use crate::adminapi::{CaseView, ClockView, ListFilter};
use crate::config::{Config, ConfigError};
use crate::deadlines::{self, Calendar, Clock, ClockKind, ClockState, Promises, Stops};
use crate::record::{Authority, AuthorityDecision, Category, Record, Status, StatusChange};
use jiff::Timestamp;
use serde::Serialize;
use std::time::Duration;

mod disclosure;
pub mod handling;
mod register;
mod reporter;
mod yearly;
pub use disclosure::DisclosureError;
pub use register::register_csv;
pub use reporter::{CreditView, Happened, PublicationView, PublishedCredit, TimelineEntry};
pub use yearly::year_csv;

/// Longest team note on a status change or decision.
pub const MAX_NOTE_CHARS: usize = 500;
/// Longest an upload invitation may stay valid, in days.
pub const MAX_INVITE_DAYS: u64 = 90;

/// Why a workflow change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkflowError {
    /// The case is closed.
    #[error("case {case} is {status}; a closed case does not change state")]
    Final {
        /// The case.
        case: String,
        /// Its final state.
        status: Status,
    },
    /// A move backwards.
    #[error("case {case} is {from}; it cannot go back to {to}")]
    Backwards {
        /// The case.
        case: String,
        /// Current state.
        from: Status,
        /// Requested state.
        to: Status,
    },
    /// Nothing to change.
    #[error("case {case} is already {status}")]
    Same {
        /// The case.
        case: String,
        /// Its state.
        status: Status,
    },
    /// A data breach closed without the authority decision.
    #[error("case {0} is a data breach without a recorded authority decision")]
    BreachUndecided(String),
    /// Authority decision on a case that is not a data breach.
    #[error("case {0} is not a data breach")]
    NotABreach(String),
    /// Decision already recorded.
    #[error("case {case}: the authority decision ({decision}) was already recorded at {at}")]
    AlreadyDecided {
        /// The case.
        case: String,
        /// What was recorded.
        decision: &'static str,
        /// When.
        at: String,
    },
    /// A follow-up has no workflow of its own.
    #[error("{case} is a follow-up to case {parent}")]
    Addendum {
        /// The follow-up.
        case: String,
        /// Its case.
        parent: String,
    },
    /// The ciphertext was deleted.
    #[error("case {case} was deleted at {at} (only its tombstone remains)")]
    Purged {
        /// The case.
        case: String,
        /// When.
        at: String,
    },
    /// A bad note.
    #[error("the note must be one line of at most {MAX_NOTE_CHARS} characters")]
    BadNote,
    /// An invitation validity outside 1 second to `MAX_INVITE_DAYS`.
    #[error("an invitation is valid between 1 second and {MAX_INVITE_DAYS} days")]
    InviteValidity,
    /// An expected fix date, message, credit or publication was refused.
    #[error(transparent)]
    Disclosure(#[from] DisclosureError),
    /// A phase that is not after the case's current one.
    #[error(
        "case {case} is in phase {current}; it cannot enter {asked} now (phases go forward, each once)"
    )]
    PhaseOrder {
        /// The case.
        case: String,
        /// Its phase now.
        current: crate::record::Phase,
        /// The phase asked for.
        asked: crate::record::Phase,
    },
    /// A time or date that cannot be used.
    #[error("{0}")]
    BadTime(String),
    /// A coordinator kind that does not exist.
    #[error("{0}")]
    BadCoordinator(String),
}

impl crate::hint::Hint for WorkflowError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            WorkflowError::Final { .. } => {
                "open a new case for new findings; the history of this one stays as it is".into()
            }
            WorkflowError::Backwards { .. } => format!(
                "states only move forward: {} (or rejected)",
                Status::ALL.map(Status::as_str)[..5].join(" → ")
            ),
            WorkflowError::Same { .. } => "`sealdrop admin show CASE` shows the history".into(),
            WorkflowError::BreachUndecided(case) => format!(
                "record it first: sealdrop admin authority {case} notified|not-required --note TEXT"
            ),
            WorkflowError::NotABreach(_) => {
                "only data-breach cases have an authority decision; record other facts with \
                 `sealdrop admin note`"
                    .into()
            }
            WorkflowError::Purged { .. } => {
                "its tombstone stays in `sealdrop admin list` and the register; nothing else \
                 of it is left"
                    .into()
            }
            WorkflowError::AlreadyDecided { case, .. } => format!(
                "a recorded decision is part of the register and is not changed; record later facts \
                 with: sealdrop admin note {case} TEXT"
            ),
            WorkflowError::Addendum { parent, .. } => format!(
                "follow-ups share their case's state and retention: act on case {parent} (a purge \
                 of {parent} deletes its follow-ups too)"
            ),
            WorkflowError::BadNote => "keep notes short and free of report content".into(),
            WorkflowError::PhaseOrder { .. } => format!(
                "phases (ISO/IEC 30111) go forward: {}; `sealdrop admin show CASE` shows them",
                crate::record::Phase::ALL
                    .map(crate::record::Phase::as_str)
                    .join(" → ")
            ),
            WorkflowError::BadCoordinator(_) => {
                "--by ibd, ncsc, vendor or cna (with --name for a vendor or CNA), or none".into()
            }
            WorkflowError::BadTime(_) => {
                "give a date (YYYY-MM-DD) or an RFC 3339 time, e.g. 2026-12-04T10:00:00Z".into()
            }
            WorkflowError::Disclosure(d) => return d.hint(),
            WorkflowError::InviteValidity => {
                format!(
                    "invitations are valid between 1 second and {MAX_INVITE_DAYS} days, e.g. --expires 7d"
                )
            }
        })
    }
}

/// A team note: trimmed, one line, at most `MAX_NOTE_CHARS`; empty means none.
pub fn check_note(note: Option<&str>) -> Result<Option<String>, WorkflowError> {
    match note.map(str::trim) {
        None | Some("") => Ok(None),
        Some(n) if n.chars().count() > MAX_NOTE_CHARS || n.chars().any(char::is_control) => {
            Err(WorkflowError::BadNote)
        }
        Some(n) => Ok(Some(n.to_owned())),
    }
}

fn open_case(record: &Record) -> Result<(), WorkflowError> {
    if let Some(at) = &record.purged_at {
        return Err(WorkflowError::Purged {
            case: record.case.clone(),
            at: at.clone(),
        });
    }
    if let Some(parent) = &record.parent {
        return Err(WorkflowError::Addendum {
            case: record.case.clone(),
            parent: parent.clone(),
        });
    }
    Ok(())
}

/// The policy in force: calendar, promises and retention.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Working days.
    pub calendar: Calendar,
    /// The promises.
    pub promises: Promises,
    /// Days from closing to deletion (0: never automatically).
    pub delete_after_days: u32,
    /// Days of warning before a deletion.
    pub warn_days: u32,
}

impl Policy {
    /// From the configuration.
    pub fn from_config(config: &Config) -> Result<Policy, ConfigError> {
        Ok(Policy {
            calendar: config.sla.calendar()?,
            promises: config.sla.promises(),
            delete_after_days: config.retention.delete_after_days,
            warn_days: config.retention.warn_days,
        })
    }

    /// Moves `record` to `to` at `now`, with the team's note. Closing a case sets its deletion
    /// date.
    pub fn change_status(
        &self,
        record: &mut Record,
        to: Status,
        note: Option<&str>,
        now: Timestamp,
    ) -> Result<(), WorkflowError> {
        open_case(record)?;
        let case = record.case.clone();
        let from = record.status;
        if from == to {
            return Err(WorkflowError::Same { case, status: to });
        }
        if from.is_final() {
            return Err(WorkflowError::Final { case, status: from });
        }
        if to < from && to != Status::Rejected || to == Status::Received {
            return Err(WorkflowError::Backwards { case, from, to });
        }
        if to == Status::Resolved
            && record.category == Category::DataBreach
            && record.authority.is_none()
        {
            return Err(WorkflowError::BreachUndecided(case));
        }
        let note = check_note(note)?;
        record.status = to;
        record.history.push(StatusChange {
            at: rfc3339(now),
            status: to,
            note,
            shared_with: None,
        });
        if to.is_final() && self.delete_after_days > 0 {
            let today = now
                .to_zoned_datetime(self.calendar.time_zone().clone())
                .date();
            record.delete_after = today
                .checked_add(jiff::Span::new().days(i64::from(self.delete_after_days)))
                .ok()
                .map(|d| d.to_string());
        }
        Ok(())
    }

    /// Records the authority decision of a data breach.
    pub fn decide_authority(
        &self,
        record: &mut Record,
        decision: AuthorityDecision,
        note: Option<&str>,
        now: Timestamp,
    ) -> Result<(), WorkflowError> {
        open_case(record)?;
        if record.category != Category::DataBreach {
            return Err(WorkflowError::NotABreach(record.case.clone()));
        }
        if let Some(a) = &record.authority {
            return Err(WorkflowError::AlreadyDecided {
                case: record.case.clone(),
                decision: a.decision.as_str(),
                at: a.at.clone(),
            });
        }
        record.authority = Some(Authority {
            decision,
            at: rfc3339(now),
            note: check_note(note)?,
        });
        Ok(())
    }

    /// Adds a note to a case's history without changing its state.
    pub fn add_note(
        &self,
        record: &mut Record,
        note: &str,
        now: Timestamp,
    ) -> Result<(), WorkflowError> {
        open_case(record)?;
        let note = check_note(Some(note))?.ok_or(WorkflowError::BadNote)?;
        record.history.push(StatusChange {
            at: rfc3339(now),
            status: record.status,
            note: Some(note),
            shared_with: None,
        });
        Ok(())
    }

    /// Records in the history that the case was passed on to `with` (e.g. the IBD), with an
    /// optional note. Closed cases too: sharing often follows the fix.
    pub fn record_shared(
        &self,
        record: &mut Record,
        with: &str,
        note: Option<&str>,
        now: Timestamp,
    ) -> Result<(), WorkflowError> {
        open_case(record)?;
        let with = check_note(Some(with))?.ok_or(WorkflowError::BadNote)?;
        record.history.push(StatusChange {
            at: rfc3339(now),
            status: record.status,
            note: check_note(note)?,
            shared_with: Some(with),
        });
        Ok(())
    }

    /// The clocks of a case (none for a follow-up or a tombstone).
    pub fn clocks(&self, record: &Record) -> Vec<Clock> {
        if record.parent.is_some() || record.purged_at.is_some() {
            return Vec::new();
        }
        let Some(received) = parse_ts(&record.received_at) else {
            return Vec::new();
        };
        deadlines::clocks(
            &self.calendar,
            &self.promises,
            record.category == Category::DataBreach,
            received,
            &stops(record),
        )
    }

    /// The team's view of a case at `now`.
    pub fn view(&self, record: Record, now: Timestamp) -> CaseView {
        let clocks: Vec<ClockView> = self
            .clocks(&record)
            .into_iter()
            .map(|c| self.clock_view(&c, now))
            .collect();
        let overdue = clocks.iter().any(|c| c.state == ClockState::Overdue);
        let next_due = clocks
            .iter()
            .filter(|c| matches!(c.state, ClockState::Running | ClockState::Overdue))
            .map(|c| c.due.clone())
            .min();
        let today = now
            .to_zoned_datetime(self.calendar.time_zone().clone())
            .date();
        let delete_in_days = record
            .delete_after
            .as_deref()
            .filter(|_| record.purged_at.is_none() && record.status.is_final())
            .and_then(|d| d.parse::<jiff::civil::Date>().ok())
            .and_then(|d| today.until(d).ok())
            .map(|span| i64::from(span.get_days()));
        let expected_fix_passed = self.expected_fix_passed(&record, now);
        let publication_due = self.publication_this_week(&record, now);
        CaseView {
            received_local: parse_ts(&record.received_at)
                .map(|t| self.local(t))
                .unwrap_or_default(),
            record,
            clocks,
            overdue,
            next_due,
            delete_soon: delete_in_days.is_some_and(|d| d <= i64::from(self.warn_days)),
            delete_in_days,
            expected_fix_passed,
            publication_due,
        }
    }

    fn clock_view(&self, c: &Clock, now: Timestamp) -> ClockView {
        ClockView {
            kind: c.kind,
            what: c.kind.describe().to_owned(),
            due: rfc3339(c.due),
            due_local: self.local(c.due),
            stopped_at: c.stopped_at.map(rfc3339),
            state: c.state(now),
        }
    }

    /// `YYYY-MM-DD HH:MM TZ` in the policy's zone; a due instant at local midnight reads as
    /// `24:00` of the day before, which is how people say "by the end of Tuesday".
    pub fn local(&self, t: Timestamp) -> String {
        let z = t.to_zoned_datetime(self.calendar.time_zone().clone());
        if z.hour() == 0 && z.minute() == 0 && z.second() == 0 {
            let before = (t - jiff::SignedDuration::from_secs(1))
                .to_zoned_datetime(self.calendar.time_zone().clone());
            return format!("{} 24:00 {}", before.date(), before.strftime("%Z"));
        }
        z.strftime("%Y-%m-%d %H:%M %Z").to_string()
    }

    /// True when a closed case's deletion date has come at `now`.
    pub fn purge_due(&self, record: &Record, now: Timestamp) -> bool {
        if record.purged_at.is_some() || !record.status.is_final() || self.delete_after_days == 0 {
            return false;
        }
        let today = now
            .to_zoned_datetime(self.calendar.time_zone().clone())
            .date();
        record
            .delete_after
            .as_deref()
            .and_then(|d| d.parse::<jiff::civil::Date>().ok())
            .is_some_and(|d| d <= today)
    }
}

/// When each clock of `record` stopped: the first time the case reached the state that stops it.
pub fn stops(record: &Record) -> Stops {
    let first = |min: Status| {
        record
            .history
            .iter()
            .find(|c| c.status >= min)
            .and_then(|c| parse_ts(&c.at))
    };
    let rejected = record
        .history
        .iter()
        .find(|c| c.status == Status::Rejected)
        .and_then(|c| parse_ts(&c.at));
    Stops {
        acknowledged: first(Status::Acknowledged),
        assessed: first(Status::Assessed),
        resolved: first(Status::Resolved),
        authority_decided: record
            .authority
            .as_ref()
            .and_then(|a| parse_ts(&a.at))
            .or(rejected),
    }
}

impl ListFilter {
    /// True when `view` passes at `now`.
    pub fn matches(&self, view: &CaseView, now: Timestamp) -> bool {
        let r = &view.record;
        if r.parent.is_some() && !self.addenda {
            return false;
        }
        if let Some(k) = &self.key
            && !r.key_ids.iter().any(|id| &id.0 == k)
        {
            return false;
        }
        if self.status.is_some_and(|s| s != r.status)
            || self.category.is_some_and(|c| c != r.category)
        {
            return false;
        }
        if self.overdue && !view.overdue {
            return false;
        }
        if let Some(secs) = self.due_within_secs {
            // Any number of seconds may come in: past the last timestamp means "ever".
            let limit = now
                .checked_add(Duration::from_secs(secs))
                .unwrap_or(Timestamp::MAX);
            let soon = view.clocks.iter().any(|c| {
                matches!(c.state, ClockState::Running | ClockState::Overdue)
                    && parse_ts(&c.due).is_some_and(|d| d <= limit)
            });
            if !soon {
                return false;
            }
        }
        true
    }
}

/// What a reporter may learn with their reference: the state, the promised dates and, on the
/// status page, the expected fix date, credit, publication and the timeline.
#[derive(Debug, Clone, Serialize)]
pub struct ReporterStatus {
    /// Current state.
    pub status: Status,
    /// The promised dates.
    pub promises: Vec<ReporterPromise>,
    /// The expected fix date the team gave, `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_fix: Option<String>,
    /// Whether the reporter asked to be credited, and the credit once published.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit: Option<CreditView>,
    /// The agreed publication.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publication: Option<PublicationView>,
    /// What happened, newest first (messages from the team included).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<TimelineEntry>,
}

/// One promised date.
#[derive(Debug, Clone, Serialize)]
pub struct ReporterPromise {
    /// Which promise.
    pub kind: ClockKind,
    /// By when, in the policy's time zone.
    pub due: String,
    /// Whether it has been kept already.
    pub done: bool,
    /// Once kept: whether on time (absent while it is still open).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_time: Option<bool>,
}

impl Policy {
    /// The reporter's view of a case. A promise counts as kept only when its state was reached;
    /// a case closed without action shows the others as not applicable, never as done.
    pub fn reporter_status(&self, record: &Record) -> ReporterStatus {
        let reached = |min: Status| {
            record
                .history
                .iter()
                .any(|h| h.status >= min && h.status != Status::Rejected)
        };
        ReporterStatus {
            status: record.status,
            promises: self
                .clocks(record)
                .into_iter()
                // The authority clock is the team's obligation, not a promise to the reporter.
                .filter(|c| c.kind != ClockKind::NotifyAuthority)
                .map(|c| {
                    let done = match c.kind {
                        ClockKind::Acknowledge => reached(Status::Acknowledged),
                        ClockKind::Assess => reached(Status::Assessed),
                        _ => reached(Status::Resolved),
                    };
                    ReporterPromise {
                        kind: c.kind,
                        due: self.local(c.due),
                        done,
                        on_time: c.stopped_at.filter(|_| done).map(|at| at <= c.due),
                    }
                })
                .collect(),
            expected_fix: None,
            credit: None,
            publication: None,
            timeline: Vec::new(),
        }
    }
}

pub use crate::clock::rfc3339;

/// Parses an RFC 3339 timestamp as records store them.
pub fn parse_ts(s: &str) -> Option<Timestamp> {
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy::from_config(&Config::default()).unwrap()
    }

    fn record(category: Category) -> Record {
        Record::for_tests(category)
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn rejecting_is_possible_from_every_open_state_and_final_states_stay() {
        let p = policy();
        for from in [Status::Received, Status::Acknowledged, Status::InProgress] {
            let mut r = record(Category::Incident);
            r.status = from;
            p.change_status(&mut r, Status::Rejected, None, at("2026-04-03T10:00:00Z"))
                .unwrap();
            assert_eq!(r.status, Status::Rejected);
            let err = p
                .change_status(&mut r, Status::Resolved, None, at("2026-04-03T10:00:00Z"))
                .unwrap_err();
            assert!(matches!(err, WorkflowError::Final { .. }));
        }
    }

    #[test]
    fn closing_sets_the_deletion_date_in_the_policy_time_zone() {
        let p = policy();
        let mut r = record(Category::Vulnerability);
        // 23:30 UTC on 30 June is already 1 July in Amsterdam.
        p.change_status(&mut r, Status::Resolved, None, at("2026-06-30T23:30:00Z"))
            .unwrap();
        assert_eq!(r.delete_after.as_deref(), Some("2027-07-01"));
        assert!(!p.purge_due(&r, at("2027-06-30T12:00:00Z")));
        assert!(p.purge_due(&r, at("2027-06-30T22:30:00Z")));
    }

    #[test]
    fn a_later_state_stops_the_earlier_clocks_and_rejection_stops_the_breach_clock() {
        let p = policy();
        let mut r = record(Category::DataBreach);
        p.change_status(&mut r, Status::Assessed, None, at("2026-04-03T09:00:00Z"))
            .unwrap();
        let s = stops(&r);
        assert_eq!(s.acknowledged, s.assessed);
        assert!(s.resolved.is_none() && s.authority_decided.is_none());
        p.change_status(&mut r, Status::Rejected, None, at("2026-04-04T09:00:00Z"))
            .unwrap();
        let s = stops(&r);
        assert_eq!(s.resolved, Some(at("2026-04-04T09:00:00Z")));
        assert_eq!(s.authority_decided, s.resolved);
    }

    #[test]
    fn due_times_at_local_midnight_read_as_24_00_of_the_day_before() {
        let p = policy();
        // Maundy Thursday evening 2026: Good Friday and Easter Monday are closed.
        let r = record(Category::Vulnerability);
        let clocks = p.clocks(&r);
        assert_eq!(p.local(clocks[0].due), "2026-04-07 24:00 CEST");
        assert_eq!(p.local(at("2026-04-07T08:15:00Z")), "2026-04-07 10:15 CEST");
    }
}
