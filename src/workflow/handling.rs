//! The rules of ISO/IEC 30111 handling: a case enters its phases forward only, each once, at a
//! time between the previous phase and now; a coordinator and an embargo date are set or
//! cleared.

use super::WorkflowError;
use crate::record::{AuditKind, Coordinator, CoordinatorKind, Phase, PhaseMark, Record};
use crate::store::Change;
use jiff::Timestamp;

/// The longest coordinator name.
pub const MAX_COORDINATOR_NAME: usize = 64;

fn alive(r: &Record) -> Result<(), WorkflowError> {
    match &r.purged_at {
        Some(at) => Err(WorkflowError::Purged {
            case: r.case.clone(),
            at: at.clone(),
        }),
        None => Ok(()),
    }
}

/// Marks `phase` entered at `at` (RFC 3339, or a date meaning its start in UTC; default now).
pub fn enter_phase(
    r: &mut Record,
    phase: Phase,
    at: Option<&str>,
    now: Timestamp,
) -> Result<Change, WorkflowError> {
    alive(r)?;
    let current = r.handling.current();
    if phase <= current {
        return Err(WorkflowError::PhaseOrder {
            case: r.case.clone(),
            current,
            asked: phase,
        });
    }
    let at = match at {
        None => now,
        Some(text) => parse_time(text)?,
    };
    let since = r
        .handling
        .entered(current, &r.received_at)
        .and_then(|t| super::parse_ts(&t));
    if at > now || since.is_some_and(|s| at < s) {
        return Err(WorkflowError::BadTime(format!(
            "{} must lie between the case entering {current} and now",
            crate::clock::rfc3339(at)
        )));
    }
    let at = crate::clock::rfc3339(at);
    r.handling.phases.push(PhaseMark {
        phase,
        at: at.clone(),
    });
    Ok(Change::new(AuditKind::Phase, format!("{phase} at {at}")))
}

fn parse_time(text: &str) -> Result<Timestamp, WorkflowError> {
    if let Ok(day) = text.parse::<jiff::civil::Date>() {
        return day
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp())
            .map_err(|e| WorkflowError::BadTime(e.to_string()));
    }
    text.parse::<Timestamp>().map_err(|_| {
        WorkflowError::BadTime(format!(
            "{text:?} is neither a date (YYYY-MM-DD) nor an RFC 3339 time"
        ))
    })
}

/// Sets the coordinator (`kind` with an optional name; `None` clears it) and the embargo date
/// (`YYYY-MM-DD`; empty clears it); what is not given stays.
pub fn coordinate(
    r: &mut Record,
    coordinator: Option<Option<(CoordinatorKind, Option<String>)>>,
    embargo: Option<&str>,
) -> Result<Change, WorkflowError> {
    alive(r)?;
    let mut said = Vec::new();
    if let Some(c) = coordinator {
        r.handling.coordinator = match c {
            None => None,
            Some((kind, name)) => {
                let name = name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
                if name.as_ref().is_some_and(|n| {
                    n.chars().count() > MAX_COORDINATOR_NAME || n.chars().any(char::is_control)
                }) {
                    return Err(WorkflowError::BadNote);
                }
                Some(Coordinator { kind, name })
            }
        };
        said.push(match &r.handling.coordinator {
            Some(c) => format!("coordinator {c}"),
            None => "no coordinator".into(),
        });
    }
    if let Some(date) = embargo {
        let date = date.trim();
        if date.is_empty() {
            r.handling.embargo_until = None;
            said.push("no embargo".into());
        } else {
            let day = date.parse::<jiff::civil::Date>().map_err(|_| {
                WorkflowError::BadTime(format!("{date:?} is not a date (YYYY-MM-DD)"))
            })?;
            r.handling.embargo_until = Some(day.to_string());
            said.push(format!("embargo until {day}"));
        }
    }
    if said.is_empty() {
        return Err(WorkflowError::BadTime(
            "give a coordinator, an embargo date, or both".into(),
        ));
    }
    Ok(Change::new(AuditKind::Coordination, said.join(", ")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn now() -> Timestamp {
        "2026-05-01T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn phases_go_forward_once_each_between_the_last_one_and_now() {
        let mut r = Record::for_tests(crate::record::Category::Vulnerability);
        assert_eq!(r.handling.current(), Phase::Received);
        let e = enter_phase(&mut r, Phase::Received, None, now()).unwrap_err();
        assert!(matches!(e, WorkflowError::PhaseOrder { .. }), "{e}");
        // Before the report came in: refused.
        let e = enter_phase(&mut r, Phase::Verified, Some("2026-04-01"), now()).unwrap_err();
        assert!(matches!(e, WorkflowError::BadTime(_)), "{e}");
        enter_phase(&mut r, Phase::Verified, Some("2026-04-03"), now()).unwrap();
        // Skipping a phase is allowed (no fix needed before release: a configuration change).
        let c = enter_phase(&mut r, Phase::Released, None, now()).unwrap();
        assert_eq!(c.detail, "released at 2026-05-01T12:00:00Z");
        let e = enter_phase(&mut r, Phase::RemediationDeveloped, None, now()).unwrap_err();
        assert!(e.to_string().contains("released"), "{e}");
        let e = enter_phase(&mut r, Phase::PostRelease, Some("2026-06-01"), now()).unwrap_err();
        assert!(matches!(e, WorkflowError::BadTime(_)), "in the future: {e}");
        assert_eq!(
            r.handling
                .entered(Phase::Verified, &r.received_at)
                .as_deref(),
            Some("2026-04-03T00:00:00Z")
        );
        assert_eq!(
            r.handling
                .entered(Phase::RemediationDeveloped, &r.received_at),
            None
        );
    }

    #[test]
    fn a_coordinator_and_an_embargo_are_set_and_cleared() {
        let mut r = Record::for_tests(crate::record::Category::Vulnerability);
        let c = coordinate(
            &mut r,
            Some(Some((CoordinatorKind::Vendor, Some("Acme BV".into())))),
            Some("2026-07-01"),
        )
        .unwrap();
        assert_eq!(
            c.detail,
            "coordinator vendor (Acme BV), embargo until 2026-07-01"
        );
        coordinate(&mut r, None, Some("")).unwrap();
        assert_eq!(r.handling.embargo_until, None);
        assert!(r.handling.coordinator.is_some(), "left as it was");
        coordinate(&mut r, Some(None), None).unwrap();
        assert!(r.handling.is_empty());
        assert!(coordinate(&mut r, None, Some("1 July")).is_err());
        let long = "x".repeat(MAX_COORDINATOR_NAME + 1);
        assert!(coordinate(&mut r, Some(Some((CoordinatorKind::Cna, Some(long)))), None).is_err());
        assert!(coordinate(&mut r, None, None).is_err());
    }
}
