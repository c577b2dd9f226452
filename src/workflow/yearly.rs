//! The yearly account: reports per category and month, promises kept and broken, how long
//! acknowledgement, first assessment and resolution took (median and 90th percentile), shares
//! with third parties, publications and the data-breach clock, all from the records alone.

use super::{Policy, parse_ts, rfc3339, stops};
use crate::adminapi::{
    Breaches, MonthCount, MonthTally, PromiseTally, Share, TimeFigure, YearReport,
};
use crate::deadlines::{ClockKind, ClockState};
use crate::record::{AuthorityDecision, Category, Record};
use jiff::Timestamp;
use std::collections::BTreeMap;

impl Policy {
    /// The account of `year` (local calendar year) at `now`: the cases received in it, not the
    /// follow-ups (they belong to their case).
    pub fn year_report(&self, records: &[Record], year: i16, now: Timestamp) -> YearReport {
        let cal = &self.calendar;
        let mut months: BTreeMap<String, MonthCount> = (1..=12)
            .map(|m| {
                let month = format!("{year:04}-{m:02}");
                (
                    month.clone(),
                    MonthCount {
                        month,
                        vulnerability: 0,
                        data_breach: 0,
                        incident: 0,
                    },
                )
            })
            .collect();
        let mut tally: BTreeMap<ClockKind, PromiseTally> = BTreeMap::new();
        let mut by_month: BTreeMap<String, MonthTally> = months
            .keys()
            .map(|m| {
                (
                    m.clone(),
                    MonthTally {
                        month: m.clone(),
                        kept: 0,
                        broken: 0,
                    },
                )
            })
            .collect();
        let (mut ack, mut assess, mut resolve) = (Vec::new(), Vec::new(), Vec::new());
        let mut breaches = Breaches::default();
        for r in records.iter().filter(|r| r.parent.is_none()) {
            let Some(received) = parse_ts(&r.received_at) else {
                continue;
            };
            let (y, month) = cal.local_month(received);
            if y != year {
                continue;
            }
            let count = months.get_mut(&month);
            if let Some(c) = count {
                match r.category {
                    Category::Vulnerability => c.vulnerability += 1,
                    Category::DataBreach => c.data_breach += 1,
                    Category::Incident => c.incident += 1,
                }
            }
            if breach_of(r) {
                breaches.total += 1;
            }
            // A deleted case keeps its count but no clocks (as everywhere else).
            if r.purged_at.is_some() {
                continue;
            }
            let s = stops(r);
            let breach = breach_of(r);
            for clock in crate::deadlines::clocks(cal, &self.promises, breach, received, &s) {
                let t = tally.entry(clock.kind).or_insert_with(|| PromiseTally {
                    kind: clock.kind.as_str().to_owned(),
                    kept: 0,
                    broken: 0,
                    open: 0,
                });
                let m = by_month.get_mut(&month);
                match clock.state(now) {
                    ClockState::Met => {
                        t.kept += 1;
                        if let Some(m) = m {
                            m.kept += 1;
                        }
                    }
                    ClockState::Late | ClockState::Overdue => {
                        t.broken += 1;
                        if let Some(m) = m {
                            m.broken += 1;
                        }
                    }
                    ClockState::Running => t.open += 1,
                }
                if clock.kind == ClockKind::NotifyAuthority {
                    let in_time = clock.state(now) == ClockState::Met;
                    match (r.authority.as_ref().map(|a| a.decision), in_time) {
                        (Some(AuthorityDecision::Notified), true) => breaches.notified_in_time += 1,
                        (Some(AuthorityDecision::Notified), false) => breaches.notified_late += 1,
                        (Some(AuthorityDecision::NotRequired), true) => {
                            breaches.not_required_in_time += 1
                        }
                        (Some(AuthorityDecision::NotRequired), false) => {
                            breaches.not_required_late += 1
                        }
                        (None, _) => breaches.undecided += 1,
                    }
                }
            }
            if let Some(at) = s.acknowledged {
                ack.push(f64::from(cal.working_days_between(received, at)));
            }
            if let Some(at) = s.assessed {
                assess.push(f64::from(cal.working_days_between(received, at)));
            }
            if let Some(at) = s.resolved {
                let days = (at - received).as_secs_f64() / 86_400.0;
                resolve.push((days * 10.0).round() / 10.0);
            }
        }
        let figure = |kind: ClockKind, unit: &str, mut values: Vec<f64>| {
            values.sort_by(f64::total_cmp);
            TimeFigure {
                kind: kind.as_str().to_owned(),
                unit: unit.to_owned(),
                count: u32::try_from(values.len()).unwrap_or(u32::MAX),
                median: median(&values),
                p90: percentile(&values, 90),
            }
        };
        let mut shares: BTreeMap<String, u32> = BTreeMap::new();
        let mut publications = 0;
        let today = now
            .to_zoned_datetime(cal.time_zone().clone())
            .date()
            .to_string();
        for r in records {
            for h in &r.history {
                let in_year = parse_ts(&h.at).is_some_and(|t| cal.local_month(t).0 == year);
                if let (Some(with), true) = (&h.shared_with, in_year) {
                    *shares.entry(with.clone()).or_default() += 1;
                }
            }
            // Agreed dates still ahead are not publications yet.
            if let Some(p) = &r.disclosure.publication
                && p.date.get(..4) == Some(format!("{year:04}").as_str())
                && p.date <= today
            {
                publications += 1;
            }
        }
        YearReport {
            year,
            computed_at: rfc3339(now),
            months: months.into_values().collect(),
            promises: tally.into_values().collect(),
            promises_by_month: by_month.into_values().collect(),
            times: vec![
                figure(ClockKind::Acknowledge, "working-days", ack),
                figure(ClockKind::Assess, "working-days", assess),
                figure(ClockKind::Resolve, "days", resolve),
            ],
            shares: shares
                .into_iter()
                .map(|(with, count)| Share { with, count })
                .collect(),
            publications,
            // From the published advisories, not the records (`ops::report`).
            advisories: Default::default(),
            breaches,
        }
    }
}

fn breach_of(r: &Record) -> bool {
    r.category == Category::DataBreach
}

/// The median of sorted `values`: the middle one, or the mean of the middle two.
fn median(values: &[f64]) -> Option<f64> {
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

/// The `p`-th percentile of sorted `values` by nearest rank: the smallest value with at least
/// p % of the values at or below it.
fn percentile(values: &[f64], p: usize) -> Option<f64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let rank = (p * n).div_ceil(100).max(1);
    Some(values[rank - 1])
}

/// The account as CSV (RFC 4180): one line per figure, `section,key,value`.
pub fn year_csv(r: &YearReport) -> String {
    let mut out = String::from("section,key,value\r\n");
    let mut line = |section: &str, key: &str, value: String| {
        out.push_str(&format!("{section},{key},{value}\r\n"));
    };
    for m in &r.months {
        line(
            "reports",
            &format!("{}/vulnerability", m.month),
            m.vulnerability.to_string(),
        );
        line(
            "reports",
            &format!("{}/data-breach", m.month),
            m.data_breach.to_string(),
        );
        line(
            "reports",
            &format!("{}/incident", m.month),
            m.incident.to_string(),
        );
    }
    for p in &r.promises {
        line("promises", &format!("{}/kept", p.kind), p.kept.to_string());
        line(
            "promises",
            &format!("{}/broken", p.kind),
            p.broken.to_string(),
        );
        line("promises", &format!("{}/open", p.kind), p.open.to_string());
    }
    for m in &r.promises_by_month {
        line(
            "promises-by-month",
            &format!("{}/kept", m.month),
            m.kept.to_string(),
        );
        line(
            "promises-by-month",
            &format!("{}/broken", m.month),
            m.broken.to_string(),
        );
    }
    let num = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    for t in &r.times {
        line(
            "time",
            &format!("{}/{}/count", t.kind, t.unit),
            t.count.to_string(),
        );
        line(
            "time",
            &format!("{}/{}/median", t.kind, t.unit),
            num(t.median),
        );
        line("time", &format!("{}/{}/p90", t.kind, t.unit), num(t.p90));
    }
    for s in &r.shares {
        // The recipient is the team's text: quoted, and never read as a formula.
        let with = crate::terminal::terminal_safe(&s.with).replace('"', "\"\"");
        let with = if with.starts_with(['=', '+', '-', '@']) {
            format!("'{with}")
        } else {
            with
        };
        line("shares", &format!("\"{with}\""), s.count.to_string());
    }
    line("publications", "total", r.publications.to_string());
    line(
        "advisories",
        "published",
        r.advisories.published.to_string(),
    );
    line(
        "advisories",
        "revisions",
        r.advisories.revisions.to_string(),
    );
    let b = &r.breaches;
    for (key, value) in [
        ("total", b.total),
        ("notified-in-time", b.notified_in_time),
        ("notified-late", b.notified_late),
        ("not-required-in-time", b.not_required_in_time),
        ("not-required-late", b.not_required_late),
        ("undecided", b.undecided),
    ] {
        line("data-breaches", key, value.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn medians_and_percentiles_by_nearest_rank() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[1.0, 2.0, 4.0, 9.0]), Some(3.0));
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&ten, 90), Some(9.0));
        let eleven: Vec<f64> = (1..=11).map(f64::from).collect();
        assert_eq!(percentile(&eleven, 90), Some(10.0));
        assert_eq!(percentile(&[5.0], 90), Some(5.0));
    }
}
