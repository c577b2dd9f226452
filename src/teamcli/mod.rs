//! What `sealdrop admin …` and `sealdrop keys …` do at the terminal: requests over the admin
//! socket, argument checks, and the printed answers (tables in `teamcli::view`).

mod view;

use crate::adminclient::{self, AdminError};
use crate::cli::{AdminCommand, KeysCommand};
use crate::config::HumanDuration;
use crate::error::Hint;
use crate::open::{is_terminal_unsafe, terminal_safe};
use crate::record::{Category, Status};
use crate::workflow::MAX_INVITE_DAYS;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// A failure as the person at the terminal sees it.
#[derive(Debug)]
pub struct Failure {
    /// What happened.
    pub message: String,
    /// What to do next.
    pub hint: Option<String>,
}

impl From<AdminError> for Failure {
    fn from(e: AdminError) -> Self {
        Failure {
            hint: e.hint(),
            message: e.to_string(),
        }
    }
}

fn fail(message: impl Into<String>, hint: impl Into<String>) -> Failure {
    Failure {
        message: message.into(),
        hint: Some(hint.into()),
    }
}

/// Prints what the server sent (which can quote a bundle, a reporter or another admin)
/// terminal-safe.
fn out(text: &str) {
    print!("{}", terminal_safe(text));
}

/// Prints JSON with every character a terminal would act on written as a `\u` escape: the
/// same JSON to a program, nothing hidden or reordered on a screen.
fn print_json(v: &serde_json::Value) {
    let text = serde_json::to_string_pretty(v).unwrap_or_default();
    let mut safe = String::with_capacity(text.len());
    for c in text.chars() {
        // Outside strings serde_json writes only ASCII; its newlines are layout, not data.
        if c != '\n' && is_terminal_unsafe(c) {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                safe.push_str(&format!("\\u{u:04x}"));
            }
        } else {
            safe.push(c);
        }
    }
    println!("{safe}");
}

/// Runs one `sealdrop admin` command.
pub fn admin(socket: &Path, command: AdminCommand) -> Result<(), Failure> {
    match command {
        AdminCommand::List {
            key,
            status,
            category,
            overdue,
            due_within,
            follow_ups,
            json,
        } => {
            let mut query = Vec::new();
            if let Some(k) = key {
                query.push(format!("key={}", path_segment(&k)?));
            }
            if let Some(s) = status {
                if s.parse::<Status>().is_err() {
                    return Err(fail(
                        format!("{s:?} is not a state"),
                        "states: received, acknowledged, assessed, in-progress, resolved, rejected",
                    ));
                }
                query.push(format!("status={s}"));
            }
            if let Some(c) = category {
                if c.parse::<Category>().is_err() {
                    return Err(fail(
                        format!("{c:?} is not a category"),
                        "categories: vulnerability, data-breach, incident",
                    ));
                }
                query.push(format!("category={c}"));
            }
            if overdue {
                query.push("overdue=true".into());
            }
            if let Some(d) = due_within {
                if !d.trim().ends_with(|c: char| c.is_ascii_alphabetic()) {
                    return Err(fail(
                        format!("--due-within {d} has no unit"),
                        "write durations like 2d, 12h or 90m",
                    ));
                }
                let d = HumanDuration::parse(&d)
                    .map_err(|e| fail(e, "write durations like 2d, 12h or 90m"))?;
                query.push(format!("due_within_secs={}", d.0.as_secs()));
            }
            if follow_ups {
                query.push("addenda=true".into());
            }
            let path = if query.is_empty() {
                "/v1/submissions".to_owned()
            } else {
                format!("/v1/submissions?{}", query.join("&"))
            };
            let value = adminclient::get_json(socket, &path)?;
            if json {
                print_json(&value);
                return Ok(());
            }
            out(&view::case_table(&value));
            Ok(())
        }
        AdminCommand::Status { case, state, note } => {
            if state.parse::<Status>().is_err() {
                return Err(fail(
                    format!("{state:?} is not a state"),
                    "states: acknowledged, assessed, in-progress, resolved, rejected",
                ));
            }
            let v = adminclient::post_json(
                socket,
                &format!("/v1/submissions/{}/status", path_segment(&case)?),
                &serde_json::json!({ "status": state, "note": note }),
            )?;
            println!("Case {case} is now {state}.");
            out(&view::clocks(&v));
            Ok(())
        }
        AdminCommand::Authority {
            case,
            decision,
            note,
        } => {
            if !matches!(decision.as_str(), "notified" | "not-required") {
                return Err(fail(
                    format!("{decision:?} is not a decision"),
                    "use notified or not-required",
                ));
            }
            adminclient::post_json(
                socket,
                &format!("/v1/submissions/{}/authority", path_segment(&case)?),
                &serde_json::json!({ "decision": decision, "note": note }),
            )?;
            println!(
                "Case {case}: authority decision {decision} recorded (see `sealdrop admin register`)."
            );
            Ok(())
        }
        AdminCommand::Register { format } => {
            match format.as_str() {
                "json" => print_json(&adminclient::get_json(socket, "/v1/register")?),
                "csv" => {
                    let mut resp = adminclient::get(socket, "/v1/register?format=csv")?;
                    let mut body = Vec::new();
                    resp.read_to_end(&mut body).map_err(AdminError::from)?;
                    if resp.status != 200 {
                        let value = serde_json::from_slice(&body).unwrap_or_default();
                        return Err(adminclient::server_error(resp.status, &value).into());
                    }
                    std::io::stdout()
                        .write_all(&body)
                        .map_err(AdminError::from)?;
                }
                other => {
                    return Err(fail(
                        format!("unknown format {other:?}"),
                        "use --format csv or --format json",
                    ));
                }
            }
            Ok(())
        }
        AdminCommand::Invite { expires, note } => {
            let d = HumanDuration::parse(&expires).map_err(|e| {
                fail(
                    e,
                    "invitations work between 1 second and 90 days; write durations like 7d or 48h",
                )
            })?;
            if d.0.as_secs() < 1 || d.0.as_secs() > MAX_INVITE_DAYS * 86_400 {
                return Err(fail(
                    format!("--expires {expires} is out of range"),
                    format!("invitations are valid between 1 second and {MAX_INVITE_DAYS} days"),
                ));
            }
            let v = adminclient::post_json(
                socket,
                "/v1/invites",
                &serde_json::json!({ "expires_secs": d.0.as_secs(), "note": note }),
            )?;
            out(&format!("{}\n", v["url"].as_str().unwrap_or("?")));
            eprintln!(
                "{}",
                terminal_safe(&format!(
                    "One-time upload link {} (valid until {}). Send it to the reporter; it is shown only now.",
                    v["id"].as_str().unwrap_or("?"),
                    v["expires_at"].as_str().unwrap_or("?")
                ))
            );
            Ok(())
        }
        AdminCommand::Invites { json } => {
            let v = adminclient::get_json(socket, "/v1/invites")?;
            if json {
                print_json(&v);
            } else {
                out(&view::invites(&v));
            }
            Ok(())
        }
        AdminCommand::Purge { case, reason } => {
            let v = adminclient::post_json(
                socket,
                &format!("/v1/submissions/{}/purge", path_segment(&case)?),
                &serde_json::json!({ "reason": reason }),
            )?;
            let cases: Vec<&str> = v["cases"]
                .as_array()
                .map(|a| a.iter().filter_map(serde_json::Value::as_str).collect())
                .unwrap_or_default();
            out(&format!(
                "Deleted the ciphertext of {}; their tombstones stay in `admin list` and the register.\n",
                cases.join(", ")
            ));
            Ok(())
        }
        AdminCommand::Note { case, text } => {
            adminclient::post_json(
                socket,
                &format!("/v1/submissions/{}/note", path_segment(&case)?),
                &serde_json::json!({ "note": text }),
            )?;
            println!("Note added to the history of case {case}.");
            Ok(())
        }
        AdminCommand::Metrics => {
            let mut resp = adminclient::get(socket, "/v1/metrics")?;
            let mut body = Vec::new();
            resp.read_to_end(&mut body).map_err(AdminError::from)?;
            std::io::stdout()
                .write_all(&body)
                .map_err(AdminError::from)?;
            Ok(())
        }
        AdminCommand::Show { case, json } => {
            let value = adminclient::get_json(
                socket,
                &format!("/v1/submissions/{}", path_segment(&case)?),
            )?;
            if json {
                print_json(&value);
            } else {
                out(&view::show(&value));
            }
            Ok(())
        }
        AdminCommand::Export { case, output } => {
            let n = download(
                socket,
                &format!("/v1/submissions/{}/export", path_segment(&case)?),
                &output,
            )?;
            println!("Exported case {case} to {} ({n} bytes).", output.display());
            println!(
                "Decrypt it offline: sealdrop open {} -i IDENTITY -o DIR",
                output.display()
            );
            Ok(())
        }
        AdminCommand::Backup { output } => {
            let n = download(socket, "/v1/backup", &output)?;
            println!("Backup written to {} ({n} bytes).", output.display());
            println!(
                "Restore it with: sealdrop restore {} --data-dir NEW_DIR",
                output.display()
            );
            Ok(())
        }
        AdminCommand::Health => {
            let v = adminclient::get_json(socket, "/v1/health")?;
            print_json(&v);
            if v["status"] != "ok" {
                return Err(fail(
                    "the portal cannot take uploads",
                    "free disk space on the data directory",
                ));
            }
            Ok(())
        }
        AdminCommand::Import { bundle, case } => {
            let index = crate::bundle::read_index(&bundle)
                .map_err(|e| fail(e.0, "import a bundle written by `sealdrop rekey`"))?;
            let case = case.unwrap_or_else(|| index.case.clone());
            let mut file = std::fs::File::open(&bundle).map_err(|e| {
                fail(
                    format!("cannot read {}: {e}", bundle.display()),
                    "check the path",
                )
            })?;
            let len = file.metadata().map(|m| m.len()).unwrap_or(0);
            let resp = adminclient::send(
                socket,
                "POST",
                &format!("/v1/submissions/{}/import", path_segment(&case)?),
                Some(("application/x-tar", len, &mut file)),
            )?;
            let record = adminclient::json_response(resp)?;
            out(&format!(
                "Case {case} re-keyed: now readable with key(s) {}\n",
                record["key_ids"]
            ));
            Ok(())
        }
        AdminCommand::Audit { json } => {
            let value = adminclient::get_json(socket, "/v1/audit")?;
            if json {
                print_json(&value);
                return Ok(());
            }
            for e in value.as_array().cloned().unwrap_or_default() {
                out(&format!(
                    "{}  {:<19} {:<13} {:<10} {}\n",
                    e["at"].as_str().unwrap_or("?"),
                    e["event"].as_str().unwrap_or("?"),
                    e["key_id"].as_str().unwrap_or("-"),
                    e["case"].as_str().unwrap_or("-"),
                    e["detail"].as_str().unwrap_or("")
                ));
            }
            Ok(())
        }
    }
}

/// Runs one `sealdrop keys` command.
pub fn keys(socket: &Path, command: KeysCommand) -> Result<(), Failure> {
    match command {
        KeysCommand::Reload => {
            let v = adminclient::post_json(socket, "/v1/reload", &serde_json::json!({}))?;
            out(&format!("Reloaded. Active keys: {}\n", v["keys"]["active"]));
        }
        KeysCommand::Add { recipient, label } => {
            let v = adminclient::post_json(
                socket,
                "/v1/keys",
                &serde_json::json!({ "recipient": recipient, "label": label }),
            )?;
            out(&format!(
                "Added {}. Active keys: {}\n",
                v["added"], v["active"]
            ));
        }
        KeysCommand::Retire { key_id, reason } => {
            let v = adminclient::post_json(
                socket,
                &format!("/v1/keys/{}/retire", path_segment(&key_id)?),
                &serde_json::json!({ "reason": reason }),
            )?;
            out(&format!("Retired {key_id}. Active keys: {}\n", v["active"]));
            println!(
                "Keep its identity until `sealdrop keys list` shows 0 submissions readable only with it."
            );
        }
        KeysCommand::List { json } => {
            let v = adminclient::get_json(socket, "/v1/keys")?;
            if json {
                print_json(&v);
                return Ok(());
            }
            println!(
                "{:<13} {:<8} {:>8} {:>6}  {:<20} {:<20} label",
                "key id", "state", "readable", "only", "first seen", "retired"
            );
            for k in v.as_array().cloned().unwrap_or_default() {
                out(&format!(
                    "{:<13} {:<8} {:>8} {:>6}  {:<20} {:<20} {}\n",
                    k["id"].as_str().unwrap_or("?"),
                    if k["active"].as_bool() == Some(true) {
                        "active"
                    } else {
                        "retired"
                    },
                    k["readable"].as_u64().unwrap_or(0),
                    k["sole"].as_u64().unwrap_or(0),
                    k["first_seen"].as_str().unwrap_or("?"),
                    k["retired_at"].as_str().unwrap_or("-"),
                    k["label"].as_str().unwrap_or("")
                ));
            }
        }
    }
    Ok(())
}

fn path_segment(case: &str) -> Result<&str, Failure> {
    if case.is_empty() || !case.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(fail(
            format!("{case:?} is not a case number"),
            "case numbers look like 2026-0042",
        ));
    }
    Ok(case)
}

/// Streams `GET path` into a new file `output` (via `output.partial`, fsynced, never
/// overwriting); returns the bytes written.
fn download(socket: &Path, path: &str, output: &Path) -> Result<u64, Failure> {
    if output.exists() {
        return Err(fail(
            format!("{} already exists", output.display()),
            "choose a new file name; sealdrop never overwrites",
        ));
    }
    let mut resp = adminclient::get(socket, path)?;
    if resp.status != 200 {
        let mut body = Vec::new();
        resp.read_to_end(&mut body)
            .map_err(adminclient::AdminError::from)?;
        let value = serde_json::from_slice(&body).unwrap_or_default();
        return Err(adminclient::server_error(resp.status, &value).into());
    }
    let partial = PathBuf::from(format!("{}.partial", output.display()));
    let result = (|| -> std::io::Result<u64> {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&partial)?;
        let n = std::io::copy(&mut resp, &mut file)?;
        file.flush()?;
        file.sync_all()?;
        std::fs::hard_link(&partial, output)?;
        Ok(n)
    })();
    let _ = std::fs::remove_file(&partial);
    result.map_err(|e| {
        fail(
            format!("download to {} failed: {e}", output.display()),
            "run the command again; nothing was written",
        )
    })
}
