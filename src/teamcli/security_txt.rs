//! `sealdrop admin securitytxt render | install | status | remove`.

use super::{Failure, fail, out, print_json};
use crate::adminapi::op;
use crate::adminapi::{NoQuery, SecurityTxtInstall, SecurityTxtRender, SecurityTxtState};
use crate::adminclient;
use crate::cli::SecurityTxtCommand;
use std::io::Write;
use std::path::Path;

/// Runs one `securitytxt` command.
pub fn run(socket: &Path, command: SecurityTxtCommand) -> Result<(), Failure> {
    match command {
        SecurityTxtCommand::Render { expires, output } => {
            let v = adminclient::call::<op::RenderSecurityTxt>(
                socket,
                None,
                &SecurityTxtRender { expires },
            )?;
            match output {
                None => out(&v.text),
                Some(path) => {
                    write_new(&path, &v.text)?;
                    eprintln!(
                        "Wrote {} (Expires {}). Sign it on your own machine with `gpg \
                         --clearsign {}` and install the .asc it makes with `sealdrop admin \
                         securitytxt install`.",
                        path.display(),
                        v.expires,
                        path.display()
                    );
                }
            }
            Ok(())
        }
        SecurityTxtCommand::Install { file } => {
            let text = std::fs::read_to_string(&file).map_err(|e| {
                fail(
                    format!("cannot read {}: {e}", file.display()),
                    "pass the file `gpg --clearsign` wrote (e.g. security.txt.asc)",
                )
            })?;
            let v = adminclient::call::<op::InstallSecurityTxt>(
                socket,
                None,
                &SecurityTxtInstall { file: text },
            )?;
            println!(
                "Installed: /.well-known/security.txt now serves {} byte for byte until {}.",
                file.display(),
                v.expires.as_deref().unwrap_or("its Expires")
            );
            Ok(())
        }
        SecurityTxtCommand::Status { json } => {
            let v = adminclient::call::<op::SecurityTxtStatus>(socket, None, &NoQuery {})?;
            if json {
                print_json(&v);
            } else {
                out(&describe(&v));
            }
            Ok(())
        }
        SecurityTxtCommand::Remove => {
            let v = adminclient::call::<op::RemoveSecurityTxt>(socket, None, &NoQuery {})?;
            out(&describe(&v));
            Ok(())
        }
    }
}

fn describe(v: &SecurityTxtState) -> String {
    let mut text = match (v.serving.as_str(), &v.expires, &v.signer) {
        ("signed", Some(expires), Some(signer)) => {
            format!("Serving the signed security.txt (signed by {signer}) until {expires}.\n")
        }
        (_, Some(expires), _) => {
            format!("Serving the unsigned rendering: the signed file expired at {expires}.\n")
        }
        _ => "Serving the unsigned rendering (no signed file is installed).\n".to_owned(),
    };
    if let Some(attention) = &v.attention {
        text.push_str(&format!("Attention: {attention}.\n"));
    }
    text
}

/// Writes `text` to the new file `path` (never overwriting), fsynced.
pub(super) fn write_new(path: &Path, text: &str) -> Result<(), Failure> {
    let failed = |e: std::io::Error| {
        let hint = if e.kind() == std::io::ErrorKind::AlreadyExists {
            "choose a new file name; sealdrop never overwrites"
        } else {
            "check the folder exists and is writable"
        };
        fail(format!("cannot write {}: {e}", path.display()), hint)
    };
    let mut file = crate::os::create_private_file(path).map_err(failed)?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(failed)
}
