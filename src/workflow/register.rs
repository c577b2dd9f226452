//! The breach register (GDPR art. 33(5)): every data-breach case with its notification clock,
//! the authority decision and its states, as rows and as CSV.

use super::{Policy, parse_ts, rfc3339, stops};
use crate::adminapi::RegisterRow;
use crate::deadlines::{self, ClockKind, ClockState};
use crate::record::{Category, Record};
use jiff::Timestamp;

impl Policy {
    /// The breach register rows of `records` at `now`.
    pub fn register(&self, records: &[Record], now: Timestamp) -> Vec<RegisterRow> {
        records
            .iter()
            .filter(|r| r.category == Category::DataBreach && r.parent.is_none())
            .map(|r| {
                let s = stops(r);
                let received = parse_ts(&r.received_at);
                // A tombstone has no clocks in views; the register still shows this one.
                let notify = received.map(|t| {
                    deadlines::clocks(&self.calendar, &self.promises, true, t, &s)
                        .into_iter()
                        .find(|c| c.kind == ClockKind::NotifyAuthority)
                });
                let notify = notify.flatten();
                RegisterRow {
                    case: r.case.clone(),
                    received_at: r.received_at.clone(),
                    status: r.status,
                    notify_due: notify.map(|c| rfc3339(c.due)).unwrap_or_default(),
                    notify_clock: notify.map(|c| c.state(now)),
                    authority_decision: r.authority.as_ref().map(|a| a.decision),
                    authority_decided_at: r.authority.as_ref().map(|a| a.at.clone()),
                    authority_note: r.authority.as_ref().and_then(|a| a.note.clone()),
                    acknowledged_at: s.acknowledged.map(rfc3339),
                    assessed_at: s.assessed.map(rfc3339),
                    closed_at: s.resolved.map(rfc3339),
                    purged_at: r.purged_at.clone(),
                    history: r
                        .history
                        .iter()
                        // Passing the case on is in `shared_with`, not among the states.
                        .filter(|h| h.shared_with.is_none())
                        .map(|h| match &h.note {
                            Some(n) => format!("{}@{} ({n})", h.status, h.at),
                            None => format!("{}@{}", h.status, h.at),
                        })
                        .collect::<Vec<_>>()
                        .join("; "),
                    expected_fix: r.disclosure.expected_fix.clone(),
                    credit: credit_cell(r),
                    publication: r.disclosure.publication.as_ref().map(|p| match &p.url {
                        Some(url) => format!("{} {url}", p.date),
                        None => p.date.clone(),
                    }),
                    shared_with: r
                        .history
                        .iter()
                        .filter_map(|h| Some(format!("{}@{}", h.shared_with.as_ref()?, h.at)))
                        .collect::<Vec<_>>()
                        .join("; "),
                    phases: crate::record::Phase::ALL
                        .iter()
                        .filter_map(|p| {
                            Some(format!("{p}@{}", r.handling.entered(*p, &r.received_at)?))
                        })
                        .collect::<Vec<_>>()
                        .join("; "),
                    coordinator: r.handling.coordinator.as_ref().map(ToString::to_string),
                    embargo_until: r.handling.embargo_until.clone(),
                }
            })
            .collect()
    }
}

/// The register's credit cell: `published <time>`, or `requested` while not published.
pub fn credit_cell(r: &Record) -> Option<String> {
    match (&r.disclosure.credit, r.disclosure.credit_requested) {
        (Some(c), _) => Some(format!("published {}", c.published_at)),
        (None, true) => Some("requested".into()),
        (None, false) => None,
    }
}

/// The register as CSV (RFC 4180: CRLF, fields quoted when needed).
pub fn register_csv(rows: &[RegisterRow]) -> String {
    let mut out = String::from(
        "case,received_at,status,notify_due,notify_clock,authority_decision,authority_decided_at,\
         authority_note,acknowledged_at,assessed_at,closed_at,purged_at,history,shared_with,\
         expected_fix,credit,publication,phases,coordinator,embargo_until\r\n",
    );
    for r in rows {
        let state = |s: Option<ClockState>| {
            s.and_then(|s| serde_json::to_value(s).ok())
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        };
        let fields = [
            r.case.clone(),
            r.received_at.clone(),
            r.status.to_string(),
            r.notify_due.clone(),
            state(r.notify_clock),
            r.authority_decision
                .map(|d| d.as_str().to_owned())
                .unwrap_or_default(),
            r.authority_decided_at.clone().unwrap_or_default(),
            r.authority_note.clone().unwrap_or_default(),
            r.acknowledged_at.clone().unwrap_or_default(),
            r.assessed_at.clone().unwrap_or_default(),
            r.closed_at.clone().unwrap_or_default(),
            r.purged_at.clone().unwrap_or_default(),
            r.history.clone(),
            r.shared_with.clone(),
            r.expected_fix.clone().unwrap_or_default(),
            r.credit.clone().unwrap_or_default(),
            r.publication.clone().unwrap_or_default(),
            r.phases.clone(),
            r.coordinator.clone().unwrap_or_default(),
            r.embargo_until.clone().unwrap_or_default(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

fn csv_field(f: &str) -> String {
    // A leading = + - @ would be run as a formula by spreadsheet programs.
    let f = if f.starts_with(['=', '+', '-', '@']) {
        format!("'{f}")
    } else {
        f.to_owned()
    };
    if f.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", f.replace('"', "\"\""))
    } else {
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_cannot_become_formulas() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_field("line\nbreak"), "\"line\nbreak\"");
    }
}
