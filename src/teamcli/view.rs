//! Plain-text tables and summaries of the admin API's answers, for the terminal.

use crate::adminapi::{AuditEvent, CaseView, ClockView, Invite, KeyUsage};
use crate::deadlines::ClockState;
use crate::keys::KeyId;
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
            0 => r.files.len().to_string(),
            follow_ups => format!("{}+{follow_ups}", r.files.len()),
        };
        let keys: Vec<&str> = r.key_ids.iter().map(|k| k.0.as_str()).collect();
        let _ = writeln!(
            o,
            "{:<13} {:<13} {:<21} {:<12} {:>5}  {:<44} {}",
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
    let _ = writeln!(o, "history:\n  {}  received", r.received_at);
    for h in &r.history {
        let note = h
            .note
            .as_ref()
            .map(|n| format!(" – {n}"))
            .unwrap_or_default();
        match &h.shared_with {
            Some(with) => {
                let _ = writeln!(o, "  {}  shared with {with}{note}", h.at);
            }
            None => {
                let _ = writeln!(o, "  {}  {}{note}", h.at, h.status);
            }
        }
    }
    let clocks = clocks(v);
    if !clocks.is_empty() {
        let _ = writeln!(o, "deadlines:");
        o.push_str(&clocks);
    }
    o
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
        "{:<13} {:<8} {:>8} {:>6}  {:<20} {:<20} label",
        "key id", "state", "readable", "only", "first seen", "retired"
    );
    for k in list {
        let _ = writeln!(
            o,
            "{:<13} {:<8} {:>8} {:>6}  {:<20} {:<20} {}",
            k.info.id.0,
            if k.active { "active" } else { "retired" },
            k.readable,
            k.sole,
            k.info.first_seen,
            or_dash(k.info.retired_at.as_deref()),
            k.info.label.as_deref().unwrap_or("")
        );
    }
    o
}

/// `admin audit`.
pub fn audit(events: &[AuditEvent]) -> String {
    let mut o = String::new();
    for e in events {
        let line = format!(
            "{}  {:<19} {:<13} {:<10} {}",
            e.at,
            e.event,
            or_dash(e.key_id.as_ref().map(|k| k.0.as_str())),
            or_dash(e.case.as_deref()),
            e.detail
        );
        let _ = writeln!(o, "{}", line.trim_end());
    }
    o
}
