//! Plain-text tables and summaries of the admin API's answers, for the terminal.

use crate::adminapi::{AuditEvent, CaseView, ClockView, Invite, KeyUsage};
use crate::deadlines::ClockState;
use crate::keys::KeyId;
use crate::record::Change;
use std::fmt::Write;

fn or_dash(v: Option<&str>) -> &str {
    v.unwrap_or("-")
}

/// Key ids joined by `, `.
pub fn key_list(ids: &[KeyId]) -> String {
    let ids: Vec<&str> = ids.iter().map(|k| k.0.as_str()).collect();
    if ids.is_empty() {
        "none".into()
    } else {
        ids.join(", ")
    }
}

fn running(c: &ClockView) -> bool {
    matches!(c.state, ClockState::Running | ClockState::Overdue)
}

/// The running clock due first, as `kind due [OVERDUE]`.
fn next_clock(case: &CaseView) -> String {
    match case
        .clocks
        .iter()
        .filter(|c| running(c))
        .min_by(|a, b| a.due.cmp(&b.due))
    {
        Some(c) => format!(
            "{} {}{}",
            c.kind.as_str(),
            c.due_local,
            if c.state == ClockState::Overdue {
                " OVERDUE"
            } else {
                ""
            }
        ),
        None => "-".into(),
    }
}

/// `admin list`: one row per case, then retention warnings.
pub fn case_table(rows: &[CaseView]) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{:<13} {:<13} {:<21} {:<12} {:>5}  {:<44} keys",
        "case", "category", "received", "status", "files", "next deadline"
    );
    for v in rows {
        let r = &v.record;
        let status = if r.purged_at.is_some() {
            "deleted"
        } else {
            r.status.as_str()
        };
        let files = match r.addenda.len() {
            0 => r.file_count().to_string(),
            follow_ups => format!("{}+{follow_ups}", r.file_count()),
        };
        let keys: Vec<&str> = r.key_ids.iter().map(|k| k.0.as_str()).collect();
        let handler = r
            .assignee
            .as_ref()
            .map(|a| format!("  (handled by {a})"))
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "{:<13} {:<13} {:<21} {:<12} {:>5}  {:<44} {}{handler}",
            r.case,
            r.category.as_str(),
            v.received_local,
            status,
            files,
            next_clock(v),
            keys.join(",")
        );
    }
    if rows.is_empty() {
        let _ = writeln!(o, "(no cases match)");
    } else {
        let _ = writeln!(
            o,
            "(times in the policy's time zone; files 2+1 = 2 files and 1 follow-up)"
        );
    }
    for v in rows.iter().filter(|v| v.expected_fix_passed) {
        let _ = writeln!(
            o,
            "warning: case {} is still {} after its expected fix date {}; give the reporter a new \
             date (sealdrop admin expect {} DATE) or tell them why (sealdrop admin tell)",
            v.record.case,
            v.record.status,
            or_dash(v.record.disclosure.expected_fix.as_deref()),
            v.record.case
        );
    }
    for v in rows.iter().filter(|v| v.publication_due) {
        let p = v.record.disclosure.publication.as_ref();
        let _ = writeln!(
            o,
            "reminder: the publication agreed for case {} is due ({})",
            v.record.case,
            or_dash(p.map(|p| p.date.as_str()))
        );
    }
    for v in rows.iter().filter(|v| v.delete_soon) {
        let _ = writeln!(
            o,
            "warning: case {} will be deleted on {} (in {} days); export it first if you must keep it",
            v.record.case,
            or_dash(v.record.delete_after.as_deref()),
            v.delete_in_days.unwrap_or_default()
        );
    }
    o
}

/// The clocks of one case, earliest due first.
pub fn clocks(case: &CaseView) -> String {
    let mut o = String::new();
    let mut all: Vec<&ClockView> = case.clocks.iter().collect();
    all.sort_by(|a, b| a.due.cmp(&b.due));
    for c in all {
        let mark = match c.state {
            ClockState::Met => "met",
            ClockState::Late => "LATE (done after the deadline)",
            ClockState::Overdue => "OVERDUE",
            ClockState::Running => "due",
        };
        let _ = writeln!(o, "  {:<62} {:<24} {}", c.what, c.due_local, mark);
    }
    o
}

/// The ISO/IEC 30111 lines of `admin show` (and of `admin coordinate`): every phase with when
/// the case entered it, the coordinator and the embargo.
pub fn handling_lines(r: &crate::record::Record) -> String {
    use crate::record::Phase;
    let h = &r.handling;
    let phases: Vec<String> = Phase::ALL
        .iter()
        .map(|p| match h.entered(*p, &r.received_at) {
            Some(at) => format!("{p} {at}"),
            None => format!("{p} -"),
        })
        .collect();
    let mut o = format!("{:<14} {}\n", "phases:", phases.join(", "));
    if let Some(c) = &h.coordinator {
        o.push_str(&format!("{:<14} {c}\n", "coordinator:"));
    }
    if let Some(e) = &h.embargo_until {
        o.push_str(&format!("{:<14} {e}\n", "embargo until:"));
    }
    o
}

/// `admin show`.
pub fn show(v: &CaseView) -> String {
    let r = &v.record;
    let mut o = String::new();
    let line = |o: &mut String, k: &str, val: &str| {
        let _ = writeln!(o, "{:<14} {}", format!("{k}:"), val);
    };
    line(&mut o, "case", &r.case);
    if let Some(parent) = &r.parent {
        line(&mut o, "follow-up to", parent);
    }
    line(&mut o, "id", &r.id);
    line(&mut o, "category", r.category.as_str());
    line(
        &mut o,
        "received",
        &format!("{} ({})", v.received_local, r.received_at),
    );
    line(&mut o, "status", r.status.as_str());
    if let Some(who) = &r.assignee {
        line(&mut o, "handled by", who);
    }
    o.push_str(&handling_lines(r));
    if let Some(at) = &r.purged_at {
        line(&mut o, "deleted", at);
    }
    if let Some(date) = &r.delete_after {
        line(&mut o, "delete after", date);
    }
    if let Some(a) = &r.authority {
        let note = a
            .note
            .as_ref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        line(
            &mut o,
            "authority",
            &format!("{} at {}{note}", a.decision.as_str(), a.at),
        );
    }
    if let Some(invite) = &r.invite {
        line(&mut o, "invitation", invite);
    }
    line(&mut o, "key ids", &key_list(&r.key_ids));
    let _ = writeln!(
        o,
        "manifest:      {} bytes, digest {}",
        r.manifest.size, r.manifest.digest
    );
    for f in &r.files {
        let _ = writeln!(
            o,
            "file {:03}:      {} bytes, digest {}",
            f.index, f.size, f.digest
        );
    }
    if !r.addenda.is_empty() {
        line(&mut o, "follow-ups", &r.addenda.join(", "));
    }
    disclosure(&mut o, v);
    let mut history: Vec<(&str, String)> = r
        .history
        .iter()
        .map(|h| {
            let what = match &h.shared_with {
                Some(with) => format!("shared with {with}"),
                None => h.status.to_string(),
            };
            (h.at.as_str(), format!("{what}{}", dash_note(&h.note)))
        })
        .collect();
    history.extend(r.disclosure.events.iter().map(|e| {
        (
            e.at.as_str(),
            format!("{}{}", change(&e.change), dash_note(&e.note)),
        )
    }));
    // Stable: entries of the same instant keep their order.
    history.sort_by(|a, b| a.0.cmp(b.0));
    let _ = writeln!(o, "history:\n  {}  received", r.received_at);
    for (at, what) in history {
        let _ = writeln!(o, "  {at}  {what}");
    }
    let clocks = clocks(v);
    if !clocks.is_empty() {
        let _ = writeln!(o, "deadlines:");
        o.push_str(&clocks);
    }
    o
}

fn dash_note(note: &Option<String>) -> String {
    note.as_ref().map(|n| format!(" – {n}")).unwrap_or_default()
}

fn change(c: &Change) -> String {
    match c {
        Change::ExpectedFix { date } => format!("expected fix date {date}"),
        Change::Told { bytes } => format!("message to the reporter ({bytes} bytes)"),
        Change::CreditPublished { name } => format!("credit published as {name:?}"),
        Change::CreditWithdrawn => "credit withdrawn".into(),
        Change::Publication { date, url } => match url {
            Some(url) => format!("publication agreed for {date}: {url}"),
            None => format!("publication agreed for {date}"),
        },
    }
}

/// The disclosure lines of `admin show`: expected fix date, messages, credit, publication.
fn disclosure(o: &mut String, v: &CaseView) {
    let d = &v.record.disclosure;
    let line = |o: &mut String, k: &str, val: &str| {
        let _ = writeln!(o, "{:<14} {}", format!("{k}:"), val);
    };
    if let Some(date) = &d.expected_fix {
        let passed = if v.expected_fix_passed {
            " (PASSED)"
        } else {
            ""
        };
        line(o, "expected fix", &format!("{date}{passed}"));
    }
    if !d.letters.is_empty() {
        line(
            o,
            "messages",
            &format!("{} to the reporter", d.letters.len()),
        );
    }
    if d.letterbox.is_none() && v.record.parent.is_none() {
        line(
            o,
            "messages",
            "none possible (received before messages existed)",
        );
    }
    match (&d.credit, d.credit_requested) {
        (Some(c), _) => line(
            o,
            "credit",
            &format!("published {:?} at {}", c.name, c.published_at),
        ),
        (None, true) => line(o, "credit", "requested (the name is in the manifest)"),
        (None, false) => {}
    }
    if let Some(p) = &d.publication {
        let url = p
            .url
            .as_deref()
            .map(|u| format!(" {u}"))
            .unwrap_or_default();
        line(o, "publication", &format!("{}{url}", p.date));
    }
}

/// `admin invites`.
pub fn invites(list: &[Invite]) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{:<13} {:<21} {:<21} {:<35} note",
        "invitation", "created", "expires", "used"
    );
    for i in list {
        let used = match (&i.consumed_at, &i.case) {
            (Some(at), Some(case)) => format!("{at} {case}"),
            _ => "-".into(),
        };
        let _ = writeln!(
            o,
            "{:<13} {:<21} {:<21} {:<35} {}",
            i.id,
            i.created_at,
            i.expires_at,
            used,
            i.note.as_deref().unwrap_or("")
        );
    }
    o
}

/// `keys list`: active keys first, each group oldest first.
pub fn keys(list: &[KeyUsage]) -> String {
    let mut list: Vec<&KeyUsage> = list.iter().collect();
    list.sort_by(|a, b| {
        (!a.active, &a.info.first_seen, &a.info.id).cmp(&(
            !b.active,
            &b.info.first_seen,
            &b.info.id,
        ))
    });
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{:<13} {:<8} {:<16} {:>8} {:>6}  {:<20} {:<20} label",
        "key id", "state", "type", "readable", "only", "first seen", "retired"
    );
    let active: Vec<&&KeyUsage> = list.iter().filter(|k| k.active).collect();
    let post_quantum = !active.is_empty() && active.iter().all(|k| k.kind.post_quantum());
    for k in &list {
        let _ = writeln!(
            o,
            "{:<13} {:<8} {:<16} {:>8} {:>6}  {:<20} {:<20} {}",
            k.info.id.0,
            if k.active { "active" } else { "retired" },
            k.kind.as_str(),
            k.readable,
            k.sole,
            k.info.first_seen,
            or_dash(k.info.retired_at.as_deref()),
            k.info.label.as_deref().unwrap_or("")
        );
    }
    let _ = writeln!(
        o,
        "The active set is {}.",
        if post_quantum {
            "post-quantum (every active key is mlkem768p256tag)"
        } else {
            "classic: not safe against a future quantum computer (a post-quantum set is \
             age1tagpq1… keys only)"
        }
    );
    o
}

/// `admin audit`.
pub fn audit(events: &[AuditEvent]) -> String {
    let mut o = String::new();
    for e in events {
        let line = format!(
            "{}  {:<19} {:<13} {:<10} {:<16} {}",
            e.at,
            e.event.as_str(),
            or_dash(e.key_id.as_ref().map(|k| k.0.as_str())),
            or_dash(e.case.as_deref()),
            or_dash(e.actor.as_deref()),
            e.detail
        );
        let _ = writeln!(o, "{}", line.trim_end());
    }
    o
}

/// `admin report --year`: the yearly account for people.
pub fn year_report(r: &crate::adminapi::YearReport) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "Account of {} (computed {}; open cases can still change it)\n",
        r.year, r.computed_at
    );
    let _ = writeln!(o, "Reports per month:");
    let _ = writeln!(
        o,
        "  {:<8} {:>13} {:>11} {:>8} {:>6}",
        "month", "vulnerability", "data breach", "incident", "total"
    );
    let (mut v, mut d, mut i) = (0, 0, 0);
    for m in &r.months {
        let _ = writeln!(
            o,
            "  {:<8} {:>13} {:>11} {:>8} {:>6}",
            m.month,
            m.vulnerability,
            m.data_breach,
            m.incident,
            m.vulnerability + m.data_breach + m.incident
        );
        (v, d, i) = (v + m.vulnerability, d + m.data_breach, i + m.incident);
    }
    let _ = writeln!(
        o,
        "  {:<8} {:>13} {:>11} {:>8} {:>6}\n",
        "year",
        v,
        d,
        i,
        v + d + i
    );
    let _ = writeln!(o, "Promises:");
    for p in &r.promises {
        let _ = writeln!(
            o,
            "  {:<17} kept {:>4}  broken {:>4}  still running {:>4}",
            p.kind, p.kept, p.broken, p.open
        );
    }
    let _ = writeln!(o, "\nHow long it took:");
    for t in &r.times {
        let num = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
        let _ = writeln!(
            o,
            "  {:<12} median {:>5}  90th percentile {:>5}  {} ({} cases)",
            t.kind,
            num(t.median),
            num(t.p90),
            t.unit,
            t.count
        );
    }
    let _ = writeln!(o, "\nShared with third parties:");
    if r.shares.is_empty() {
        let _ = writeln!(o, "  nobody");
    }
    for s in &r.shares {
        let _ = writeln!(o, "  {:<24} {}", s.with, s.count);
    }
    let _ = writeln!(o, "\nPublications (agreed dates come): {}", r.publications);
    let _ = writeln!(
        o,
        "CSAF advisories: {} published, {} revisions",
        r.advisories.published, r.advisories.revisions
    );
    let b = &r.breaches;
    let _ = writeln!(
        o,
        "\nData breaches: {}; reported to the authority in time {}, late {}; no report \
         required (decided in time {}, late {}); undecided {}",
        b.total,
        b.notified_in_time,
        b.notified_late,
        b.not_required_in_time,
        b.not_required_late,
        b.undecided
    );
    o
}
