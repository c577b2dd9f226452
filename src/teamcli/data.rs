//! `sealdrop admin register | metrics | export | backup | import | health | audit`: what the
//! team takes out of the portal (or puts back), as files, tables or JSON.

use super::{Failure, fail, out, path_segment, print_json, view, with_query};
use crate::adminapi::op;
use crate::adminapi::{
    Health, HealthStatus, NoQuery, Record, RegisterFormat, RegisterQuery, RegisterRow, route,
};
use crate::adminclient::{self, AdminError};
use crate::cli::AdminCommand;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Runs one of these commands; `None` when `command` is another one.
pub fn run(socket: &Path, command: AdminCommand) -> Option<Result<(), Failure>> {
    let ours = matches!(
        command,
        AdminCommand::Register { .. }
            | AdminCommand::Metrics
            | AdminCommand::Export { .. }
            | AdminCommand::Backup { .. }
            | AdminCommand::Health
            | AdminCommand::Import { .. }
            | AdminCommand::Audit { .. }
    );
    ours.then(|| exec(socket, command))
}

fn exec(socket: &Path, command: AdminCommand) -> Result<(), Failure> {
    match command {
        AdminCommand::Register { format } => {
            let query = RegisterQuery {
                format: Some(format),
            };
            let path = with_query(route::REGISTER, &query)?;
            match format {
                RegisterFormat::Json => {
                    let rows: Vec<RegisterRow> = adminclient::get_json(socket, &path)?;
                    print_json(&rows);
                }
                RegisterFormat::Csv => {
                    let (_, body) = adminclient::read_ok(adminclient::get(socket, &path)?)?;
                    std::io::stdout()
                        .write_all(&body)
                        .map_err(AdminError::from)?;
                }
            }
            Ok(())
        }
        AdminCommand::Metrics => {
            let (_, body) = adminclient::read_ok(adminclient::get(socket, route::METRICS)?)?;
            out(&String::from_utf8_lossy(&body));
            Ok(())
        }
        AdminCommand::Export { case, output } => {
            let n = download(
                socket,
                &route::with(route::EXPORT, path_segment(&case)?),
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
            let n = download(socket, route::BACKUP, &output)?;
            println!("Backup written to {} ({n} bytes).", output.display());
            println!(
                "Restore it with: sealdrop restore {} --data-dir NEW_DIR",
                output.display()
            );
            Ok(())
        }
        AdminCommand::Health => {
            let v: Health = adminclient::get_json(socket, route::HEALTH)?;
            print_json(&v);
            if v.status != HealthStatus::Ok {
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
                &route::with(route::IMPORT, path_segment(&case)?),
                Some(("application/x-tar", len, &mut file)),
            )?;
            let record: Record = adminclient::json_response(resp)?;
            out(&format!(
                "Case {case} re-keyed: now readable with key(s) {}\n",
                view::key_list(&record.key_ids)
            ));
            Ok(())
        }
        AdminCommand::Audit { json } => {
            let events = adminclient::call::<op::Audit>(socket, None, &NoQuery {})?;
            if json {
                print_json(&events);
            } else {
                out(&view::audit(&events));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Streams `GET path` into a new file `output` (mode 0600 whatever the umask, via
/// `output.partial`, fsynced, never overwriting); returns the bytes written.
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
        resp.read_to_end(&mut body).map_err(AdminError::from)?;
        return Err(adminclient::server_error(resp.status, &body).into());
    }
    let partial = PathBuf::from(format!("{}.partial", output.display()));
    let result = (|| -> std::io::Result<u64> {
        let mut file = crate::os::create_private_file(&partial)?;
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
