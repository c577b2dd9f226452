//! `sealdrop admin advisory draft | publish | list`.

use super::security_txt::write_new;
use super::{Failure, fail, on_case, out, print_json};
use crate::adminapi::op;
use crate::adminapi::{
    AdvisoryDraftRequest, AdvisoryInput, AdvisoryPublishRequest, AdvisoryView, NoQuery,
};
use crate::adminclient;
use crate::cli::{AdvisoryCommand, AdvisoryDraft};
use std::path::Path;

/// Runs one `advisory` command.
pub fn run(socket: &Path, command: AdvisoryCommand) -> Result<(), Failure> {
    match command {
        AdvisoryCommand::Draft(d) => {
            let AdvisoryDraft { case, output, .. } = *d;
            let input = AdvisoryInput {
                profile: d.profile,
                title: d.title,
                summary: d.summary,
                product: d.product,
                vendor: d.vendor,
                affected: d.affected,
                fixed: d.fixed,
                remediation: d.remediation,
                references: d.references,
                cvss: d.cvss,
                cve: d.cve,
                tlp: d.tlp,
                lang: d.lang,
                change: d.change,
            };
            let v = on_case::<op::DraftAdvisory>(socket, &case, &AdvisoryDraftRequest { input })?;
            match output {
                None => print!("{}", v.document),
                Some(path) => {
                    write_new(&path, &v.document)?;
                    eprintln!(
                        "Wrote {} ({} version {}, a draft). Sign it on your own machine with `gpg \
                         --detach-sign --armor {}` and publish it with `sealdrop admin advisory \
                         publish {} --signature {}.asc`.",
                        path.display(),
                        v.id,
                        v.version,
                        path.display(),
                        v.id,
                        path.display()
                    );
                }
            }
            Ok(())
        }
        AdvisoryCommand::Publish { id, signature } => {
            let text = std::fs::read_to_string(&signature).map_err(|e| {
                fail(
                    format!("cannot read {}: {e}", signature.display()),
                    "pass the .asc file `gpg --detach-sign --armor` wrote",
                )
            })?;
            let v = adminclient::call::<op::PublishAdvisory>(
                socket,
                None,
                &AdvisoryPublishRequest {
                    id,
                    signature: text,
                },
            )?;
            out(&format!(
                "Published {} version {} (signed by {}) at {}.\n",
                v.id,
                v.version,
                v.signer.as_deref().unwrap_or("?"),
                v.url.as_deref().unwrap_or("the provider folder")
            ));
            // The first publication adds security.txt's CSAF line: say when it must be re-signed.
            let txt = adminclient::call::<op::SecurityTxtStatus>(socket, None, &NoQuery {})?;
            if let Some(attention) = txt.attention {
                out(&format!("security.txt: {attention}.\n"));
            }
            Ok(())
        }
        AdvisoryCommand::Show {
            id,
            published,
            output,
        } => {
            let all = adminclient::call::<op::Advisories>(socket, None, &NoQuery {})?;
            let want = if published { "published" } else { "draft" };
            let found = all
                .into_iter()
                .find(|a| a.id == id && a.state == want)
                .ok_or_else(|| {
                    fail(
                        format!("advisory {id} has no {want} version"),
                        "`sealdrop admin advisory list` shows the advisories and drafts",
                    )
                })?;
            match output {
                None => print!("{}", found.document),
                Some(path) => write_new(&path, &found.document)?,
            }
            Ok(())
        }
        AdvisoryCommand::List { json } => {
            let all = adminclient::call::<op::Advisories>(socket, None, &NoQuery {})?;
            if json {
                print_json(&all);
            } else {
                out(&table(&all));
            }
            Ok(())
        }
    }
}

fn table(all: &[AdvisoryView]) -> String {
    if all.is_empty() {
        return "No advisories yet: `sealdrop admin advisory draft CASE …` writes one.\n".into();
    }
    let mut text = String::from("ID  CASE  STATE  VERSION  TLP  TITLE\n");
    for a in all {
        text.push_str(&format!(
            "{}  {}  {}  {}  {}  {}\n",
            a.id,
            a.case,
            a.state,
            a.version,
            a.tlp.label(),
            a.title
        ));
        if let Some(attention) = &a.attention {
            text.push_str(&format!("    attention: {attention}\n"));
        }
    }
    text
}
