//! Plain-text tables and summaries of the admin API's JSON, for the terminal.

use serde_json::Value;
use std::fmt::Write;

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("-")
}

/// The running clock due first, as `due (state)`.
fn next_clock(case: &Value) -> String {
    let clocks = case["clocks"].as_array().cloned().unwrap_or_default();
    let running: Vec<&Value> = clocks
        .iter()
        .filter(|c| matches!(c["state"].as_str(), Some("running" | "overdue")))
        .collect();
    match running
        .iter()
        .min_by_key(|c| c["due"].as_str().unwrap_or(""))
    {
        Some(c) => format!(
            "{} {}{}",
            s(&c["kind"]),
            s(&c["due_local"]),
            if c["state"] == "overdue" {
                " OVERDUE"
            } else {
                ""
            }
        ),
        None => "-".into(),
    }
}

/// `admin list`: one row per case, then retention warnings.
pub fn case_table(rows: &Value) -> String {
    let rows = rows.as_array().cloned().unwrap_or_default();
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{:<13} {:<13} {:<21} {:<12} {:>5}  {:<44} keys",
        "case", "category", "received", "status", "files", "next deadline"
    );
    for r in &rows {
        let keys: Vec<&str> = r["key_ids"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let status = if r["purged_at"].is_string() {
            "deleted".to_owned()
        } else {
            s(&r["status"]).to_owned()
        };
        let files = r["files"].as_array().map_or(0, Vec::len);
        let follow_ups = r["addenda"].as_array().map_or(0, Vec::len);
        let files = if follow_ups > 0 {
            format!("{files}+{follow_ups}")
        } else {
            files.to_string()
        };
        let _ = writeln!(
            o,
            "{:<13} {:<13} {:<21} {:<12} {:>5}  {:<44} {}",
            s(&r["case"]),
            s(&r["category"]),
            s(&r["received_local"]),
            status,
            files,
            next_clock(r),
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
    for r in &rows {
        if r["delete_soon"] == true {
            let _ = writeln!(
                o,
                "warning: case {} will be deleted on {} (in {} days); export it first if you must keep it",
                s(&r["case"]),
                s(&r["delete_after"]),
                r["delete_in_days"]
            );
        }
    }
    o
}

/// The clocks of one case, earliest due first.
pub fn clocks(case: &Value) -> String {
    let mut o = String::new();
    let mut all = case["clocks"].as_array().cloned().unwrap_or_default();
    all.sort_by(|a, b| s(&a["due"]).cmp(s(&b["due"])));
    for c in all {
        let mark = match c["state"].as_str() {
            Some("met") => "met".to_owned(),
            Some("late") => "LATE (done after the deadline)".to_owned(),
            Some("overdue") => "OVERDUE".to_owned(),
            _ => "due".to_owned(),
        };
        let _ = writeln!(
            o,
            "  {:<62} {:<24} {}",
            s(&c["what"]),
            s(&c["due_local"]),
            mark
        );
    }
    o
}

/// `admin show`.
pub fn show(v: &Value) -> String {
    let mut o = String::new();
    let line = |o: &mut String, k: &str, val: &str| {
        let _ = writeln!(o, "{:<14} {}", format!("{k}:"), val);
    };
    line(&mut o, "case", s(&v["case"]));
    if v["parent"].is_string() {
        line(&mut o, "follow-up to", s(&v["parent"]));
    }
    line(&mut o, "id", s(&v["id"]));
    line(&mut o, "category", s(&v["category"]));
    line(
        &mut o,
        "received",
        &format!("{} ({})", s(&v["received_local"]), s(&v["received_at"])),
    );
    line(&mut o, "status", s(&v["status"]));
    if v["purged_at"].is_string() {
        line(&mut o, "deleted", s(&v["purged_at"]));
    }
    if v["delete_after"].is_string() {
        line(&mut o, "delete after", s(&v["delete_after"]));
    }
    if let Some(a) = v["authority"].as_object() {
        line(
            &mut o,
            "authority",
            &format!(
                "{} at {}{}",
                a.get("decision").and_then(Value::as_str).unwrap_or("?"),
                a.get("at").and_then(Value::as_str).unwrap_or("?"),
                a.get("note")
                    .and_then(Value::as_str)
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default()
            ),
        );
    }
    if v["invite"].is_string() {
        line(&mut o, "invitation", s(&v["invite"]));
    }
    let keys: Vec<&str> = v["key_ids"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    line(&mut o, "key ids", &keys.join(", "));
    let _ = writeln!(
        o,
        "manifest:      {} bytes, digest {}",
        v["manifest"]["size"],
        s(&v["manifest"]["digest"])
    );
    for f in v["files"].as_array().cloned().unwrap_or_default() {
        let _ = writeln!(
            o,
            "file {:03}:      {} bytes, digest {}",
            f["index"].as_u64().unwrap_or(0),
            f["size"],
            s(&f["digest"])
        );
    }
    if let Some(a) = v["addenda"].as_array().filter(|a| !a.is_empty()) {
        let list: Vec<&str> = a.iter().filter_map(Value::as_str).collect();
        line(&mut o, "follow-ups", &list.join(", "));
    }
    let history = v["history"].as_array().cloned().unwrap_or_default();
    let _ = writeln!(o, "history:\n  {}  received", s(&v["received_at"]));
    for h in history {
        let _ = writeln!(
            o,
            "  {}  {}{}",
            s(&h["at"]),
            s(&h["status"]),
            h["note"]
                .as_str()
                .map(|n| format!(" – {n}"))
                .unwrap_or_default()
        );
    }
    let clocks = clocks(v);
    if !clocks.is_empty() {
        let _ = writeln!(o, "deadlines:");
        o.push_str(&clocks);
    }
    o
}

/// `admin invites`.
pub fn invites(v: &Value) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{:<13} {:<21} {:<21} {:<35} note",
        "invitation", "created", "expires", "used"
    );
    for i in v.as_array().cloned().unwrap_or_default() {
        let used = match (i["consumed_at"].as_str(), i["case"].as_str()) {
            (Some(at), Some(case)) => format!("{at} {case}"),
            _ => "-".into(),
        };
        let _ = writeln!(
            o,
            "{:<13} {:<21} {:<21} {:<35} {}",
            s(&i["id"]),
            s(&i["created_at"]),
            s(&i["expires_at"]),
            used,
            i["note"].as_str().unwrap_or("")
        );
    }
    o
}
