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

/// Marks `phase` entered at `at` (default now): an RFC 3339 time, or a date in `tz` (the
/// calendar's), which means that day: its start, or the previous phase's time when that lies
/// later the same day.
pub fn enter_phase(
    r: &mut Record,
    phase: Phase,
    at: Option<&str>,
    now: Timestamp,
    tz: &jiff::tz::TimeZone,
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
    let since = r
        .handling
        .entered(current, &r.received_at)
        .and_then(|t| super::parse_ts(&t));
    let at = match at {
        None => now,
        Some(text) => match text.parse::<jiff::civil::Date>() {
            Ok(day) => {
                let start = day
                    .to_zoned_datetime(tz.clone())
                    .map(|z| z.timestamp())
                    .map_err(|e| WorkflowError::BadTime(e.to_string()))?;
                let same_day = since.is_some_and(|s| s.to_zoned_datetime(tz.clone()).date() == day);
                match since {
                    Some(s) if same_day && s > start => s,
                    _ => start,
                }
            }
            Err(_) => parse_time(text)?,
        },
    };
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
    text.parse::<Timestamp>().map_err(|_| {
        WorkflowError::BadTime(format!(
            "{text:?} is neither a date (YYYY-MM-DD) nor an RFC 3339 time"
        ))
    })
}

fn checked_name(name: Option<String>) -> Result<Option<String>, WorkflowError> {
    let name = name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if name.as_ref().is_some_and(|n| {
        n.chars().count() > MAX_COORDINATOR_NAME || n.chars().any(char::is_control)
    }) {
        return Err(WorkflowError::BadCoordinator(format!(
            "the coordinator's name must be one line of at most {MAX_COORDINATOR_NAME} characters"
        )));
    }
    Ok(name)
}

/// Sets the coordinator (`kind` with an optional name; `None` clears it) and the embargo date
/// (`YYYY-MM-DD`; empty clears it); what is not given stays. A name alone renames the
/// coordinator the case has.
pub fn coordinate(
    r: &mut Record,
    coordinator: Option<Option<(CoordinatorKind, Option<String>)>>,
    name_alone: Option<String>,
    embargo: Option<&str>,
) -> Result<Change, WorkflowError> {
    alive(r)?;
    let mut said = Vec::new();
    if let Some(name) = name_alone {
        let Some(c) = r.handling.coordinator.as_mut() else {
            return Err(WorkflowError::BadCoordinator(
                "a name needs a coordinator: give --by too".into(),
            ));
        };
        c.name = checked_name(Some(name))?;
        said.push(format!("coordinator {c}"));
    }
    if let Some(c) = coordinator {
        r.handling.coordinator = match c {
            None => None,
            Some((kind, name)) => {
                let name = name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
                Some(Coordinator {
                    kind,
                    name: checked_name(name)?,
                })
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
        return Err(WorkflowError::BadCoordinator(
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

    fn utc() -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::UTC
    }

    #[test]
    fn a_date_means_that_local_day_and_the_day_of_receipt_is_allowed() {
        let ams = jiff::tz::TimeZone::get("Europe/Amsterdam").unwrap();
        let mut r = Record::for_tests(crate::record::Category::Vulnerability);
        // Received 2026-04-02T19:30:00Z: the same local day, later than its start.
        enter_phase(&mut r, Phase::Verified, Some("2026-04-02"), now(), &ams).unwrap();
        assert_eq!(r.handling.phases[0].at, "2026-04-02T19:30:00Z");
        // Just after local midnight, today's local date is not in the future.
        let just_after: Timestamp = "2026-04-30T22:30:00Z".parse().unwrap();
        enter_phase(
            &mut r,
            Phase::Released,
            Some("2026-05-01"),
            just_after,
            &ams,
        )
        .unwrap();
        assert_eq!(r.handling.phases[1].at, "2026-04-30T22:00:00Z");
    }

    #[test]
    fn phases_go_forward_once_each_between_the_last_one_and_now() {
        let mut r = Record::for_tests(crate::record::Category::Vulnerability);
        assert_eq!(r.handling.current(), Phase::Received);
        let e = enter_phase(&mut r, Phase::Received, None, now(), &utc()).unwrap_err();
        assert!(matches!(e, WorkflowError::PhaseOrder { .. }), "{e}");
        // Before the report came in: refused.
        let e =
            enter_phase(&mut r, Phase::Verified, Some("2026-04-01"), now(), &utc()).unwrap_err();
        assert!(matches!(e, WorkflowError::BadTime(_)), "{e}");
        enter_phase(&mut r, Phase::Verified, Some("2026-04-03"), now(), &utc()).unwrap();
        // Skipping a phase is allowed (no fix needed before release: a configuration change).
        let c = enter_phase(&mut r, Phase::Released, None, now(), &utc()).unwrap();
        assert_eq!(c.detail, "released at 2026-05-01T12:00:00Z");
        let e = enter_phase(&mut r, Phase::RemediationDeveloped, None, now(), &utc()).unwrap_err();
        assert!(e.to_string().contains("released"), "{e}");
        let e = enter_phase(
            &mut r,
            Phase::PostRelease,
            Some("2026-06-01"),
            now(),
            &utc(),
        )
        .unwrap_err();
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
            None,
            Some("2026-07-01"),
        )
        .unwrap();
        assert_eq!(
            c.detail,
            "coordinator vendor (Acme BV), embargo until 2026-07-01"
        );
        coordinate(&mut r, None, Some("Acme Group".into()), Some("")).unwrap();
        assert_eq!(
            r.handling.coordinator.as_ref().unwrap().name.as_deref(),
            Some("Acme Group")
        );
        assert_eq!(r.handling.embargo_until, None);
        assert!(r.handling.coordinator.is_some(), "left as it was");
        coordinate(&mut r, Some(None), None, None).unwrap();
        assert!(r.handling.is_empty());
        assert!(
            coordinate(&mut r, None, Some("x".into()), None).is_err(),
            "a name alone"
        );
        assert!(coordinate(&mut r, None, None, Some("1 July")).is_err());
        let long = "x".repeat(MAX_COORDINATOR_NAME + 1);
        assert!(
            coordinate(
                &mut r,
                Some(Some((CoordinatorKind::Cna, Some(long)))),
                None,
                None
            )
            .is_err()
        );
        assert!(coordinate(&mut r, None, None, None).is_err());
    }
}
