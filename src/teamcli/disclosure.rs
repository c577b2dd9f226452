//! `sealdrop admin expect | tell | credit | publish`: the policy's promises beyond the clocks.

use super::{Failure, fail, on_case};
use crate::adminapi::op;
use crate::adminapi::{
    CreditRequest, ExpectRequest, PublicationRequest, TellRequest, WithdrawCreditRequest,
};
use crate::cli::AdminCommand;
use std::io::Read;
use std::path::Path;

/// Longest message file read (the server's `limits.max_letter_bytes` decides; this only keeps
/// a wrong file from being read whole).
const MAX_FILE_BYTES: u64 = 1 << 20;

/// Runs one of the disclosure commands; `None` when `command` is another one.
pub fn run(socket: &Path, command: AdminCommand) -> Option<Result<(), Failure>> {
    Some(match command {
        AdminCommand::Expect { case, date, note } => {
            on_case::<op::Expect>(socket, &case, &ExpectRequest { date, note }).map(|v| {
                let date = v.record.disclosure.expected_fix.unwrap_or_default();
                println!(
                    "Case {case}: expected fix date {date} (the reporter sees it on /status)."
                );
            })
        }
        AdminCommand::Tell { case, text, file } => {
            message(text, file.as_deref()).and_then(|text| {
                on_case::<op::Tell>(socket, &case, &TellRequest { text }).map(|v| {
                println!(
                    "Case {case}: message {} left for the reporter (sealed to their reference).",
                    v.record.disclosure.letters.len()
                );
            })
            })
        }
        AdminCommand::Credit {
            case,
            name: _,
            withdraw: true,
            note,
        } => on_case::<op::WithdrawCredit>(socket, &case, &WithdrawCreditRequest { note })
            .map(|_| println!("Case {case}: credit withdrawn from /acknowledgments.")),
        AdminCommand::Credit { case, name, .. } => on_case::<op::Credit>(
            socket,
            &case,
            &CreditRequest {
                name: name.unwrap_or_default(),
            },
        )
        .map(|_| println!("Case {case}: credit published on /acknowledgments.")),
        AdminCommand::Publish {
            case,
            date,
            url,
            note,
        } => on_case::<op::Publication>(socket, &case, &PublicationRequest { date, url, note })
            .map(|v| {
                let date = v
                    .record
                    .disclosure
                    .publication
                    .map(|p| p.date)
                    .unwrap_or_default();
                println!("Case {case}: publication agreed for {date}.");
            }),
        _ => return None,
    })
}

/// The message from the argument or the file.
fn message(text: Option<String>, file: Option<&Path>) -> Result<String, Failure> {
    let Some(path) = file else {
        return Ok(text.unwrap_or_default());
    };
    let shown = path.display();
    let mut bytes = Vec::new();
    // `--file -` reads the message from standard input (it stays out of the shell's history).
    let read = if path == Path::new("-") {
        std::io::stdin()
            .lock()
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes))
    };
    read.map_err(|e| {
        fail(
            format!("cannot read {shown}: {e}"),
            "give a readable UTF-8 file",
        )
    })?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(fail(
            format!("{shown} is larger than 1 MiB"),
            "a message to the reporter is short text; limits.max_letter_bytes caps it",
        ));
    }
    String::from_utf8(bytes)
        .map_err(|_| fail(format!("{shown} is not UTF-8 text"), "save it as UTF-8"))
}
