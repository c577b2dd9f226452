//! The case as the reporter may see it: state and promises (from `workflow`), the expected fix
//! date, credit, publication and the timeline of what happened, newest first.

use super::{Policy, ReporterStatus, parse_ts};
use crate::record::{Change, Record, Status};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::Serialize;

/// One entry of the reporter's timeline.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineEntry {
    /// RFC 3339 UTC.
    pub at: String,
    /// The same instant in the policy's time zone.
    pub local: String,
    /// What happened.
    #[serde(flatten)]
    pub what: Happened,
}

/// What a reporter may see of a case's history.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Happened {
    /// The report arrived.
    Received,
    /// The case moved to a state.
    Status {
        /// The new state.
        status: Status,
    },
    /// A message from the team.
    Message {
        /// Its text (opened with the reporter's reference, for this answer only).
        text: String,
    },
    /// The reporter added files or a message.
    FilesAdded {
        /// How many files.
        files: usize,
    },
    /// The team gave (or changed) the expected fix date.
    ExpectedFix {
        /// `YYYY-MM-DD`.
        date: String,
    },
    /// The reporter's credit was published.
    Credited {
        /// As published.
        name: String,
    },
    /// The published credit was withdrawn.
    CreditWithdrawn,
    /// A publication was agreed.
    Publication {
        /// `YYYY-MM-DD`.
        date: String,
    },
}

impl Happened {
    /// Where an entry stands among entries of the same instant, in the order a case lives.
    fn rank(&self) -> u8 {
        match self {
            Happened::Received => 0,
            Happened::Status { .. } => 1,
            Happened::ExpectedFix { .. } => 2,
            Happened::Message { .. } => 3,
            Happened::FilesAdded { .. } => 4,
            Happened::Credited { .. } | Happened::CreditWithdrawn => 5,
            Happened::Publication { .. } => 6,
        }
    }
}

/// One published credit, as the public `/acknowledgments` page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishedCredit {
    /// `YYYY-MM` of publication, in the policy's time zone.
    pub month: String,
    /// The name as published.
    pub name: String,
}

/// The reporter's credit as they may see it.
#[derive(Debug, Clone, Serialize)]
pub struct CreditView {
    /// They asked to be named.
    pub requested: bool,
    /// The name as published, once published.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
}

/// The agreed publication as the reporter may see it.
#[derive(Debug, Clone, Serialize)]
pub struct PublicationView {
    /// The agreed date, `YYYY-MM-DD`.
    pub date: String,
    /// The link, once the date has come.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl Policy {
    /// The case as the reporter may see it: `status` (state and promises) plus the expected fix
    /// date, credit, publication and the timeline, newest first. `letters` are the opened
    /// messages (time, text); `addenda` the case's follow-up records.
    pub fn reporter_case(
        &self,
        record: &Record,
        addenda: &[Record],
        letters: Vec<(String, String)>,
        now: Timestamp,
    ) -> ReporterStatus {
        let mut status = self.reporter_status(record);
        let d = &record.disclosure;
        status.expected_fix = d.expected_fix.clone();
        status.credit = Some(CreditView {
            requested: d.credit_requested,
            published: d.credit.as_ref().map(|c| c.name.clone()),
        });
        let today = now
            .to_zoned_datetime(self.calendar.time_zone().clone())
            .date();
        status.publication = d.publication.as_ref().map(|p| PublicationView {
            date: p.date.clone(),
            url: p
                .url
                .clone()
                .filter(|_| p.date.parse::<Date>().is_ok_and(|d| d <= today)),
        });
        let mut entries: Vec<(String, Happened)> =
            vec![(record.received_at.clone(), Happened::Received)];
        let mut last = Status::Received;
        for h in &record.history {
            if h.status != last {
                entries.push((h.at.clone(), Happened::Status { status: h.status }));
                last = h.status;
            }
        }
        entries.extend(
            letters
                .into_iter()
                .map(|(at, text)| (at, Happened::Message { text })),
        );
        entries.extend(addenda.iter().filter(|a| a.purged_at.is_none()).map(|a| {
            (
                a.received_at.clone(),
                Happened::FilesAdded {
                    files: a.file_count(),
                },
            )
        }));
        entries.extend(d.events.iter().filter_map(|e| {
            let what = match &e.change {
                Change::ExpectedFix { date } => Happened::ExpectedFix { date: date.clone() },
                Change::CreditPublished { name } if crate::record::is_forgotten_name(name) => {
                    return None;
                }
                Change::CreditPublished { name } => Happened::Credited { name: name.clone() },
                Change::CreditWithdrawn => Happened::CreditWithdrawn,
                Change::Publication { date, .. } => Happened::Publication { date: date.clone() },
                Change::Told { .. } => return None,
            };
            Some((e.at.clone(), what))
        }));
        // Newest first. Times are kept to the second, so entries of one instant are put in the
        // order a case lives through them (received, state, expected date, messages, files,
        // credit, publication), and of two of a kind the one written later comes first.
        let mut entries: Vec<(usize, Timestamp, String, Happened)> = entries
            .into_iter()
            .enumerate()
            .filter_map(|(i, (at, what))| parse_ts(&at).map(|t| (i, t, at, what)))
            .collect();
        entries.sort_by(|a, b| {
            b.1.cmp(&a.1)
                .then(b.3.rank().cmp(&a.3.rank()))
                .then(b.0.cmp(&a.0))
        });
        status.timeline = entries
            .into_iter()
            .map(|(_, t, at, what)| TimelineEntry {
                at,
                local: self.local(t),
                what,
            })
            .collect();
        status
    }
}
