//! What `sealdrop admin …` and `sealdrop keys …` do at the terminal: requests over the admin
//! socket, argument checks, and the printed answers (tables in `teamcli::view`).

mod advisory;
mod data;
mod disclosure;
mod receipts;
mod security_txt;
mod view;

use crate::adminapi::op::{self, Operation};
use crate::adminapi::{
    AddKeyRequest, AssignRequest, AuthorityRequest, CoordinationRequest, InviteRequest, KeyUsage,
    ListFilter, NoQuery, NoteRequest, PhaseRequest, PurgeRequest, ReloadReport, ReloadRequest,
    Reloaded, RetireRequest, StatusRequest, route,
};
use crate::adminclient::{self, AdminError};
use crate::cli::{AdminCommand, KeysCommand, Target};
use crate::hint::Hint;
use crate::open::terminal_safe;
use std::path::Path;

/// A failure as the person at the terminal sees it.
#[derive(Debug)]
pub struct Failure {
    /// What happened.
    pub message: String,
    /// What to do next.
    pub hint: Option<String>,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl Hint for Failure {
    fn hint(&self) -> Option<String> {
        self.hint.clone()
    }
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
fn print_json(v: &impl serde::Serialize) {
    let text = serde_json::to_string_pretty(v).unwrap_or_default();
    println!("{}", crate::terminal::json_safe(&text));
}

/// Runs one `sealdrop admin` command.
pub fn admin(socket: &Path, command: AdminCommand) -> Result<(), Failure> {
    match command {
        c @ (AdminCommand::Expect { .. }
        | AdminCommand::Tell { .. }
        | AdminCommand::Credit { .. }
        | AdminCommand::Publish { .. }) => disclosure::run(socket, c).unwrap_or(Ok(())),
        AdminCommand::List {
            key,
            status,
            category,
            overdue,
            due_within,
            follow_ups,
            json,
        } => {
            let filter = ListFilter {
                key: key.map(|k| k.0),
                status,
                category,
                overdue,
                due_within_secs: due_within.map(|d| d.0.as_secs()),
                addenda: follow_ups,
            };
            let cases = adminclient::call::<op::List>(socket, None, &filter)?;
            if json {
                print_json(&cases);
            } else {
                out(&view::case_table(&cases));
            }
            Ok(())
        }
        AdminCommand::Status {
            case,
            state: Target(status),
            note,
            expect,
        } => {
            let v = on_case::<op::SetStatus>(
                socket,
                &case,
                &StatusRequest {
                    status,
                    note,
                    expect,
                },
            )?;
            println!("Case {case} is now {status}.");
            out(&view::clocks(&v));
            Ok(())
        }
        AdminCommand::Authority {
            case,
            decision,
            note,
        } => {
            on_case::<op::Authority>(socket, &case, &AuthorityRequest { decision, note })?;
            println!(
                "Case {case}: authority decision {} recorded (see `sealdrop admin register`).",
                decision.as_str()
            );
            Ok(())
        }
        AdminCommand::Invite { expires, note } => {
            let v = adminclient::call::<op::CreateInvite>(
                socket,
                None,
                &InviteRequest {
                    expires_secs: expires.0.as_secs(),
                    note,
                },
            )?;
            out(&format!("{}\n", v.url));
            eprintln!(
                "{}",
                terminal_safe(&format!(
                    "One-time upload link {} (valid until {}). Send it to the reporter; it is shown only now.",
                    v.invite.id, v.invite.expires_at
                ))
            );
            Ok(())
        }
        AdminCommand::ConsoleLink { name, role } => {
            let v = adminclient::call::<op::CreateConsoleLink>(
                socket,
                None,
                &crate::adminapi::ConsoleLinkRequest { name, role },
            )?;
            out(&format!("{}\n", v.url));
            eprintln!(
                "One-time sign-in link to the console, valid for {} minutes and once. It is a \
                 password: hand it over privately.",
                v.expires_secs.div_ceil(60)
            );
            Ok(())
        }
        AdminCommand::SecurityTxt(command) => security_txt::run(socket, command),
        AdminCommand::Advisory(command) => advisory::run(socket, *command),
        AdminCommand::Report { year, format } => {
            let v = adminclient::call::<op::Report>(
                socket,
                None,
                &crate::adminapi::YearQuery { year },
            )?;
            match format {
                crate::cli::ReportFormat::Json => print_json(&v),
                // Every text field of it is made terminal-safe where the CSV is written.
                crate::cli::ReportFormat::Csv => print!("{}", crate::workflow::year_csv(&v)),
                crate::cli::ReportFormat::Text => out(&view::year_report(&v)),
            }
            Ok(())
        }
        AdminCommand::Invites { json } => {
            let v = adminclient::call::<op::Invites>(socket, None, &NoQuery {})?;
            if json {
                print_json(&v);
            } else {
                out(&view::invites(&v));
            }
            Ok(())
        }
        AdminCommand::Purge { case, reason } => {
            let v = on_case::<op::Purge>(socket, &case, &PurgeRequest { reason })?;
            out(&format!(
                "Deleted the ciphertext of {}; their tombstones stay in `admin list` and the register.\n",
                v.cases.join(", ")
            ));
            Ok(())
        }
        AdminCommand::Note { case, text } => {
            on_case::<op::Note>(socket, &case, &NoteRequest { note: text })?;
            println!("Note added to the history of case {case}.");
            Ok(())
        }
        AdminCommand::Shared { case, with, note } => receipts::shared(socket, &case, with, note),
        AdminCommand::Assign { case, to } => {
            let v = on_case::<op::Assign>(socket, &case, &AssignRequest { to })?;
            match &v.record.assignee {
                Some(who) => out(&format!("Case {case} is now handled by {who}.\n")),
                None => println!("Case {case} is now assigned to nobody."),
            }
            Ok(())
        }
        AdminCommand::Phase { case, phase, at } => {
            let v = on_case::<op::EnterPhase>(socket, &case, &PhaseRequest { phase, at })?;
            let when = v
                .record
                .handling
                .entered(phase, &v.record.received_at)
                .unwrap_or_default();
            out(&format!("Case {case} entered {phase} at {when}.\n"));
            Ok(())
        }
        AdminCommand::Coordinate {
            case,
            by,
            name,
            embargo,
        } => {
            let request = CoordinationRequest {
                coordinator: by,
                name,
                embargo,
            };
            let v = on_case::<op::Coordinate>(socket, &case, &request)?;
            out(&view::handling_lines(&v.record));
            Ok(())
        }
        AdminCommand::ReceiptKey { rotate, json } => receipts::receipt_key(socket, rotate, json),
        c @ (AdminCommand::Register { .. }
        | AdminCommand::Metrics
        | AdminCommand::Export { .. }
        | AdminCommand::Backup { .. }
        | AdminCommand::Health
        | AdminCommand::Import { .. }
        | AdminCommand::Audit { .. }) => data::run(socket, c).unwrap_or(Ok(())),
        AdminCommand::Show { case, json } => {
            let v = on_case::<op::Show>(socket, &case, &NoQuery {})?;
            if json {
                print_json(&v);
            } else {
                out(&view::show(&v));
            }
            Ok(())
        }
    }
}

/// Runs one `sealdrop keys` command.
pub fn keys(socket: &Path, command: KeysCommand) -> Result<(), Failure> {
    match command {
        KeysCommand::Reload => {
            let v: Reloaded = adminclient::post_json(socket, route::RELOAD, &ReloadRequest {})?;
            out(&format!(
                "Reloaded. Active keys: {}\n",
                view::key_list(&v.keys.active)
            ));
        }
        KeysCommand::Add { recipient, label } => {
            let v: ReloadReport =
                adminclient::post_json(socket, route::KEYS, &AddKeyRequest { recipient, label })?;
            out(&format!(
                "Added {}. Active keys: {}\n",
                view::key_list(&v.added),
                view::key_list(&v.active)
            ));
        }
        KeysCommand::Retire { key_id, reason } => {
            let v: ReloadReport = adminclient::post_json(
                socket,
                &route::with(route::RETIRE, &key_id.0),
                &RetireRequest { reason },
            )?;
            out(&format!(
                "Retired {key_id}. Active keys: {}\n",
                view::key_list(&v.active)
            ));
            println!(
                "Keep its identity until `sealdrop keys list` shows 0 submissions readable only with it."
            );
        }
        KeysCommand::List { json } => {
            let v: Vec<KeyUsage> = adminclient::get_json(socket, route::KEYS)?;
            if json {
                print_json(&v);
            } else {
                out(&view::keys(&v));
            }
        }
    }
    Ok(())
}

/// `path?query` (just `path` when the query is empty).
fn with_query(path: &str, query: &impl serde::Serialize) -> Result<String, Failure> {
    let q = serde_urlencoded::to_string(query).map_err(|e| {
        fail(
            format!("cannot write the request: {e}"),
            "check the options given",
        )
    })?;
    Ok(if q.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{q}")
    })
}

/// Calls operation `O` on `case` (checked to be a case number first).
fn on_case<O: Operation>(
    socket: &Path,
    case: &str,
    request: &O::Request,
) -> Result<O::Answer, Failure> {
    Ok(adminclient::call::<O>(
        socket,
        Some(path_segment(case)?),
        request,
    )?)
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
