//! The policy's promises beyond the clocks: the expected fix date, messages to the reporter,
//! credit and publication, as pure changes to a record (the reporter's view is `reporter`).

use super::{Policy, check_note, open_case, parse_ts, rfc3339};
use crate::record::{Change, Credit, DisclosureEvent, Letter, Publication, Record, Status};
use jiff::Timestamp;
use jiff::civil::Date;

/// Longest link to a publication.
pub use crate::config::MAX_URL_CHARS;

/// Why a disclosure change was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DisclosureError {
    /// The case is closed (expected fix dates belong to open cases).
    #[error("case {0} is closed; its expected fix date no longer changes")]
    Closed(String),
    /// Not yet resolved.
    #[error("case {case} is {status}; {what} is recorded once the case is resolved")]
    NotResolved {
        /// The case.
        case: String,
        /// Its state.
        status: Status,
        /// What was asked.
        what: &'static str,
    },
    /// A date before the case was received, or not a date.
    #[error("{0:?} is not a date on or after the day the case was received (YYYY-MM-DD)")]
    BadDate(String),
    /// An expected fix date that has passed already.
    #[error("{0} has passed; an expected fix date lies ahead")]
    PastDate(String),
    /// A link that is not an absolute http(s) URL.
    #[error(
        "the link must be an absolute https:// or http:// URL of at most {MAX_URL_CHARS} characters"
    )]
    BadUrl,
    /// The case has no letterbox (received before messages existed).
    #[error("case {0} was received before messages to reporters existed; it has no letterbox")]
    NoLetterbox(String),
    /// An empty message.
    #[error("the message is empty")]
    EmptyLetter,
    /// A message over `limits.max_letter_bytes`.
    #[error("the message is longer than {0} bytes")]
    LetterTooLong(usize),
    /// More than `limits.max_letters` messages.
    #[error("case {case} already has {max} messages to its reporter")]
    TooManyLetters {
        /// The case.
        case: String,
        /// The limit.
        max: usize,
    },
    /// Credit for a reporter who did not ask.
    #[error("the reporter of case {0} did not ask to be credited")]
    CreditNotRequested(String),
    /// An unusable name to credit.
    #[error("the name to credit must be one line of 1 to {0} bytes")]
    BadCreditName(usize),
    /// Nothing to withdraw.
    #[error("case {0} has no published credit")]
    NoCredit(String),
    /// Nothing to withdraw from a purged case: the purge took the name off.
    #[error("case {0} was purged and keeps no published credit name")]
    PurgedCredit(String),
}

impl crate::hint::Hint for DisclosureError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            DisclosureError::Closed(case) => {
                format!("tell the reporter instead: sealdrop admin tell {case} TEXT")
            }
            DisclosureError::NotResolved { case, .. } => {
                format!("resolve it first: sealdrop admin status {case} resolved")
            }
            DisclosureError::BadDate(_) => "give a date such as 2027-02-15".into(),
            DisclosureError::PastDate(_) => {
                "give today's date or a later one; tell the reporter why it moved with `admin tell`"
                    .into()
            }
            DisclosureError::BadUrl => "e.g. --url https://example.org/advisories/2027-01".into(),
            DisclosureError::NoLetterbox(_) => {
                "only the reporter's reference could open a message, and the server never had a \
                 key for it: write to the reporter by e-mail (the address is in the decrypted \
                 manifest)"
                    .into()
            }
            DisclosureError::EmptyLetter => {
                "write the message as an argument or --file FILE".into()
            }
            DisclosureError::LetterTooLong(_) => {
                "shorten it, or raise limits.max_letter_bytes".into()
            }
            DisclosureError::TooManyLetters { .. } => {
                "raise limits.max_letters, or write to the reporter by e-mail".into()
            }
            DisclosureError::CreditNotRequested(_) => {
                "a reporter who did not ask stays anonymous; agree on it by e-mail first".into()
            }
            DisclosureError::BadCreditName(_) => {
                "use the name or handle the reporter gave (in the decrypted manifest)".into()
            }
            DisclosureError::NoCredit(case) => {
                format!("publish one with: sealdrop admin credit {case} --as NAME")
            }
            DisclosureError::PurgedCredit(_) => {
                "nothing is left to withdraw: the purge removed the name from the case and from \
                 /acknowledgments"
                    .into()
            }
        })
    }
}

/// A publication link: an absolute http(s) URL without spaces or control characters.
pub fn check_url(url: &str) -> Result<String, DisclosureError> {
    crate::config::web_link(url).ok_or(DisclosureError::BadUrl)
}

fn event(record: &mut Record, now: Timestamp, change: Change, note: Option<String>) {
    record.disclosure.events.push(DisclosureEvent {
        at: rfc3339(now),
        change,
        note,
    });
}

fn resolved(record: &Record, what: &'static str) -> Result<(), DisclosureError> {
    if record.status == Status::Resolved {
        return Ok(());
    }
    Err(DisclosureError::NotResolved {
        case: record.case.clone(),
        status: record.status,
        what,
    })
}

impl Policy {
    fn received_day(&self, record: &Record) -> Option<Date> {
        parse_ts(&record.received_at).map(|t| {
            t.to_zoned_datetime(self.calendar.time_zone().clone())
                .date()
        })
    }

    fn check_date(&self, record: &Record, date: &str) -> Result<Date, DisclosureError> {
        let bad = || DisclosureError::BadDate(date.chars().take(40).collect());
        let parsed: Date = date.trim().parse().map_err(|_| bad())?;
        if self.received_day(record).is_some_and(|r| parsed < r) {
            return Err(bad());
        }
        Ok(parsed)
    }

    /// Sets or changes the expected fix date of an open case.
    pub fn expect_fix(
        &self,
        record: &mut Record,
        date: &str,
        note: Option<&str>,
        now: Timestamp,
    ) -> Result<(), super::WorkflowError> {
        open_case(record)?;
        if record.status.is_final() {
            return Err(DisclosureError::Closed(record.case.clone()).into());
        }
        let date = self.check_date(record, date)?;
        let today = now
            .to_zoned_datetime(self.calendar.time_zone().clone())
            .date();
        if date < today {
            return Err(DisclosureError::PastDate(date.to_string()).into());
        }
        let date = date.to_string();
        let note = check_note(note)?;
        record.disclosure.expected_fix = Some(date.clone());
        event(record, now, Change::ExpectedFix { date }, note);
        Ok(())
    }

    /// Leaves a message for the reporter: `seal` turns the text into a letter for the case's
    /// letterbox recipient.
    pub fn tell(
        &self,
        record: &mut Record,
        text: &str,
        limits: (usize, usize),
        seal: impl FnOnce(&str, &str) -> Result<String, crate::letterbox::LetterError>,
        now: Timestamp,
    ) -> Result<(), super::WorkflowError> {
        let (max_bytes, max_letters) = limits;
        open_case(record)?;
        let Some(letterbox) = record.disclosure.letterbox.clone() else {
            return Err(DisclosureError::NoLetterbox(record.case.clone()).into());
        };
        let text = text.trim();
        if text.is_empty() {
            return Err(DisclosureError::EmptyLetter.into());
        }
        if text.len() > max_bytes {
            return Err(DisclosureError::LetterTooLong(max_bytes).into());
        }
        if record.disclosure.letters.len() >= max_letters {
            return Err(DisclosureError::TooManyLetters {
                case: record.case.clone(),
                max: max_letters,
            }
            .into());
        }
        let sealed = seal(&letterbox, text).map_err(|_| {
            super::WorkflowError::from(DisclosureError::NoLetterbox(record.case.clone()))
        })?;
        record.disclosure.letters.push(Letter {
            at: rfc3339(now),
            sealed,
            by: None,
        });
        event(record, now, Change::Told { bytes: text.len() }, None);
        Ok(())
    }

    /// Publishes the credit a reporter asked for, under `name`, once the case is resolved.
    pub fn publish_credit(
        &self,
        record: &mut Record,
        name: &str,
        max_name_bytes: usize,
        now: Timestamp,
    ) -> Result<(), super::WorkflowError> {
        open_case(record)?;
        if !record.disclosure.credit_requested {
            return Err(DisclosureError::CreditNotRequested(record.case.clone()).into());
        }
        resolved(record, "a credit")?;
        let name = name.trim();
        if name.is_empty() || name.len() > max_name_bytes || name.chars().any(char::is_control) {
            return Err(DisclosureError::BadCreditName(max_name_bytes).into());
        }
        record.disclosure.credit = Some(Credit {
            name: name.to_owned(),
            published_at: rfc3339(now),
        });
        event(
            record,
            now,
            Change::CreditPublished {
                name: name.to_owned(),
            },
            None,
        );
        Ok(())
    }

    /// Withdraws a published credit, from a purged case too: a reporter who asks to be
    /// forgotten can always be.
    pub fn withdraw_credit(
        &self,
        record: &mut Record,
        note: Option<&str>,
        now: Timestamp,
    ) -> Result<(), super::WorkflowError> {
        if let Some(parent) = &record.parent {
            return Err(super::WorkflowError::Addendum {
                case: record.case.clone(),
                parent: parent.clone(),
            });
        }
        if !record.disclosure.holds_a_credit_name() {
            return Err(match &record.purged_at {
                Some(_) => DisclosureError::PurgedCredit(record.case.clone()),
                None => DisclosureError::NoCredit(record.case.clone()),
            }
            .into());
        }
        let note = check_note(note)?;
        // A withdrawn name is gone from the history too; the events keep that it was published.
        record
            .disclosure
            .forget_credit_name(crate::record::WITHDRAWN_NAME);
        event(record, now, Change::CreditWithdrawn, note);
        Ok(())
    }

    /// Records the agreed publication (date, and the link once known) of a resolved case.
    pub fn agree_publication(
        &self,
        record: &mut Record,
        date: &str,
        url: Option<&str>,
        note: Option<&str>,
        now: Timestamp,
    ) -> Result<(), super::WorkflowError> {
        open_case(record)?;
        resolved(record, "a publication")?;
        let date = self.check_date(record, date)?.to_string();
        let url = url.map(check_url).transpose()?;
        let note = check_note(note)?;
        let reminded_at = record
            .disclosure
            .publication
            .as_ref()
            .filter(|p| p.date == date)
            .and_then(|p| p.reminded_at.clone());
        record.disclosure.publication = Some(Publication {
            date: date.clone(),
            url: url.clone(),
            reminded_at,
        });
        event(record, now, Change::Publication { date, url }, note);
        Ok(())
    }

    /// True when an open case's expected fix date has passed at `now`.
    pub fn expected_fix_passed(&self, record: &Record, now: Timestamp) -> bool {
        let today = now
            .to_zoned_datetime(self.calendar.time_zone().clone())
            .date();
        !record.status.is_final()
            && record
                .disclosure
                .expected_fix
                .as_deref()
                .and_then(|d| d.parse::<Date>().ok())
                .is_some_and(|d| d < today)
    }

    /// Why `record`'s advisory may not be published at `now`: an embargo or an agreed
    /// publication date still ahead (local days); `None` when it may.
    pub fn advisory_held_back(&self, record: &Record, now: Timestamp) -> Option<String> {
        let today = now
            .to_zoned_datetime(self.calendar.time_zone().clone())
            .date();
        let ahead = |d: &str| d.parse::<Date>().is_ok_and(|d| d > today);
        if let Some(until) = record
            .handling
            .embargo_until
            .as_deref()
            .filter(|d| ahead(d))
        {
            return Some(format!(
                "case {} is under embargo until {until}: publish from that day on, or change \
                 the embargo with `sealdrop admin coordinate {} --embargo DATE`",
                record.case, record.case
            ));
        }
        if let Some(p) = record
            .disclosure
            .publication
            .as_ref()
            .filter(|p| ahead(&p.date))
        {
            return Some(format!(
                "the publication agreed with the reporter of case {} is on {}: publish from \
                 that day on, or agree another date (`sealdrop admin publish {} --date DATE`)",
                record.case, p.date, record.case
            ));
        }
        None
    }

    /// True from an agreed publication's date for a week: what `admin list` reminds of.
    pub fn publication_this_week(&self, record: &Record, now: Timestamp) -> bool {
        let today = now
            .to_zoned_datetime(self.calendar.time_zone().clone())
            .date();
        record.purged_at.is_none()
            && record.disclosure.publication.as_ref().is_some_and(|p| {
                p.date.parse::<Date>().is_ok_and(|d| {
                    d <= today
                        && d.checked_add(jiff::Span::new().days(7))
                            .is_ok_and(|e| today < e)
                })
            })
    }

    /// True when a publication's date has come and the notifier has not reminded of it yet.
    pub fn publication_due(&self, record: &Record, now: Timestamp) -> bool {
        let today = now
            .to_zoned_datetime(self.calendar.time_zone().clone())
            .date();
        record.purged_at.is_none()
            && record.disclosure.publication.as_ref().is_some_and(|p| {
                p.reminded_at.is_none() && p.date.parse::<Date>().is_ok_and(|d| d <= today)
            })
    }
}

#[cfg(test)]
mod tests;
