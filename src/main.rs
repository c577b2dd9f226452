//! The `sealdrop` binary: parse the command line, run it, print `error: …` and `hint: …`.

#![forbid(unsafe_code)]

use clap::Parser;
use sealdrop::cli::{Cli, Command};
use sealdrop::config::Config;
use sealdrop::hint::Hint;
use sealdrop::{demo, keys, open, portal, rekey, teamcli};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// A failure as the person at the terminal sees it.
struct Failure {
    message: String,
    hint: Option<String>,
}

impl<E: Hint> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure {
            message: e.to_string(),
            hint: e.hint(),
        }
    }
}

fn fail(message: impl Into<String>, hint: impl Into<String>) -> Failure {
    Failure {
        message: message.into(),
        hint: Some(hint.into()),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            // Messages can quote what a hostile bundle or server said.
            eprintln!("error: {}", open::terminal_safe(&f.message));
            if let Some(h) = f.hint {
                eprintln!("hint: {}", open::terminal_safe(&h));
            }
            ExitCode::FAILURE
        }
    }
}

/// The admin socket: given directly, or read from the configuration.
fn admin_socket(config: Option<&Path>, socket: Option<PathBuf>) -> Result<PathBuf, Failure> {
    match socket {
        Some(s) => Ok(s),
        None => Ok(load_config(config)?.server.admin_socket),
    }
}

/// The records' engine a configuration names, for messages.
fn engine_name(config: &Config) -> String {
    match config.storage.metadata {
        sealdrop::config::Metadata::Sled => "sled".into(),
        sealdrop::config::Metadata::Postgres => {
            format!("postgres (schema {})", config.storage.postgres.schema)
        }
    }
}

fn load_config(path: Option<&Path>) -> Result<Config, Failure> {
    Ok(Config::load(path, std::env::vars())?)
}

fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Serve { config } => serve(load_config(config.as_deref())?, false),
        Command::Demo {
            dir,
            listen,
            setup_only,
        } => {
            let d = demo::prepare(dir, &listen)?;
            let exe = std::env::args().next().unwrap_or_else(|| "sealdrop".into());
            println!("{}", demo::banner(&d, &exe));
            if setup_only {
                return Ok(());
            }
            serve(load_config(Some(&d.config))?, true)
        }
        Command::Keygen { output } => {
            let recipient = keys::keygen(&output)?;
            println!("{recipient}");
            eprintln!(
                "Identity written to {}. Keep it offline; put the line above in keys/recipients.txt on the server.",
                output.display()
            );
            Ok(())
        }
        Command::Admin {
            config,
            socket,
            command,
        } => {
            let socket = admin_socket(config.as_deref(), socket)?;
            Ok(teamcli::admin(&socket, command)?)
        }
        Command::Keys {
            config,
            socket,
            command,
        } => {
            let socket = admin_socket(config.as_deref(), socket)?;
            Ok(teamcli::keys(&socket, command)?)
        }
        Command::Rekey {
            bundle,
            identities,
            recipients,
            recipients_file,
            output,
        } => rekey_bundle(
            &bundle,
            &identities,
            &recipients,
            recipients_file.as_deref(),
            &output,
        ),
        Command::Share {
            bundle,
            identities,
            recipients,
            recipients_file,
            output,
            with_contact,
            without_message,
            files,
        } => {
            let selection = rekey::Selection {
                contact: with_contact,
                message: !without_message,
                files: (!files.is_empty()).then_some(files),
                shared: true,
            };
            let to = (&recipients[..], recipients_file.as_deref());
            share(&bundle, &identities, to, &output, &selection)
        }
        Command::VerifyReceipt {
            receipt,
            sig,
            allowed_signers,
            identity,
        } => verify_receipt(&receipt, sig, &allowed_signers, identity.as_deref()),
        Command::Restore {
            backup,
            data_dir,
            config,
        } => {
            let file = std::fs::File::open(&backup).map_err(|e| {
                fail(
                    format!("cannot read {}: {e}", backup.display()),
                    "check the path",
                )
            })?;
            let input = std::io::BufReader::new(file);
            match (data_dir, config) {
                (Some(data_dir), _) => {
                    let n = sealdrop::store::backup::restore(input, &data_dir)?;
                    println!(
                        "Restored {n} submission(s) into {}. Point storage.data_dir at it and start the server.",
                        data_dir.display()
                    );
                }
                (None, config) => {
                    let config = load_config(config.as_deref())?;
                    let n = sealdrop::store::backup::restore_to(input, &config.storage)?;
                    println!(
                        "Restored {n} submission(s) into {} and {}. Start the server with this configuration.",
                        engine_name(&config),
                        config.storage.data_dir.display()
                    );
                }
            }
            Ok(())
        }
        Command::Migrate { from, to } => {
            let source = load_config(Some(&from))?;
            let target = load_config(Some(&to))?;
            // Its start-up recovery would remove a running portal's uploads in progress.
            if std::os::unix::net::UnixStream::connect(&source.server.admin_socket).is_ok() {
                return Err(fail(
                    format!(
                        "the portal of {} is running (its admin socket {} answers)",
                        from.display(),
                        source.server.admin_socket.display()
                    ),
                    "stop it (and every other portal on its database) first",
                ));
            }
            let moved = sealdrop::store::migrate::migrate(&source.storage, &target.storage)?;
            println!(
                "Moved {} submission(s) from {} to {} and {}: every file's SHA-256 checked, \
                 the records compared after the copy. Start the portal with {}; keep the old \
                 storage until it runs.",
                moved.submissions,
                engine_name(&source),
                moved.engine,
                target.storage.data_dir.display(),
                to.display()
            );
            Ok(())
        }
        Command::Manpage { output } => {
            let written = sealdrop::cli::write_man_pages(&output).map_err(|e| {
                fail(
                    format!("cannot write the man pages into {}: {e}", output.display()),
                    "pass -o with a folder you can write to",
                )
            })?;
            println!(
                "Wrote {} man pages into {}; `man -l {}` shows the first.",
                written.len(),
                output.display(),
                output.join("sealdrop.1").display()
            );
            Ok(())
        }
        Command::Completions { shell } => {
            sealdrop::cli::write_completions(shell, &mut std::io::stdout()).map_err(|e| {
                fail(
                    format!("cannot write the completions: {e}"),
                    "redirect the output to a file",
                )
            })
        }
        Command::Send {
            portal,
            category,
            message_file,
            contact,
            credit,
            piece_size,
            retries,
            ca_file,
            receipt,
            signed_receipt,
            files,
        } => send(
            sealdrop::send::Request {
                portal,
                category,
                message: match &message_file {
                    Some(path) => std::fs::read_to_string(path).map_err(|e| {
                        fail(
                            format!("cannot read the message file {}: {e}", path.display()),
                            "give --message-file a UTF-8 text file",
                        )
                    })?,
                    None => String::new(),
                },
                contact,
                credit,
                files,
                piece_size,
                retries,
                ca_file,
            },
            receipt.as_deref(),
            signed_receipt.as_deref(),
        ),
        Command::Open {
            bundle,
            identities,
            output,
        } => open_bundle(&bundle, &identities, &output),
        Command::Inspect {
            paths,
            recipients_files,
            json,
        } => inspect(&paths, &recipients_files, json),
    }
}

/// `sealdrop rekey`: the bundle re-encrypted to new recipients, offline.
fn rekey_bundle(
    bundle: &Path,
    identities: &[PathBuf],
    recipients: &[String],
    recipients_file: Option<&Path>,
    output: &Path,
) -> Result<(), Failure> {
    let ids = keys::Identities::load(identities)?;
    let ring = new_ring(recipients, recipients_file)?;
    let done = rekey::rekey(bundle, &ids, &ring, output)?;
    println!(
        "Re-keyed case {}: manifest and {} file(s) now encrypted to {}; written to {}",
        open::terminal_safe(&done.case),
        done.files,
        open::terminal_safe(&done.key_ids.join(", ")),
        output.display()
    );
    println!(
        "Install it on the server: sealdrop admin import {}",
        output.display()
    );
    Ok(())
}

/// `sealdrop share`: what `selection` keeps of the bundle, re-encrypted to a third party.
fn share(
    bundle: &Path,
    identities: &[PathBuf],
    (recipients, recipients_file): (&[String], Option<&Path>),
    output: &Path,
    selection: &rekey::Selection,
) -> Result<(), Failure> {
    let ids = keys::Identities::load(identities)?;
    let ring = new_ring(recipients, recipients_file)?;
    let done = rekey::reseal(bundle, &ids, &ring, output, selection)?;
    println!(
        "Share of case {} written to {}: {} file(s){}{}, encrypted to {}",
        open::terminal_safe(&done.case),
        output.display(),
        done.files,
        if selection.message {
            " and the message"
        } else {
            ""
        },
        if selection.contact {
            ", WITH the contact details"
        } else {
            ", without contact details or credit name"
        },
        open::terminal_safe(&done.key_ids.join(", ")),
    );
    println!(
        "Record it: sealdrop admin shared {} --with WHOM --note TEXT",
        open::terminal_safe(&done.case)
    );
    Ok(())
}

/// `sealdrop verify-receipt`: checks a signed receipt against the portal's published keys.
fn verify_receipt(
    receipt: &Path,
    sig: Option<PathBuf>,
    allowed_signers: &Path,
    identity: Option<&str>,
) -> Result<(), Failure> {
    let sig = sig.unwrap_or_else(|| PathBuf::from(format!("{}.sig", receipt.display())));
    let read = |p: &Path| {
        std::fs::read(p).map_err(|e| {
            fail(
                format!("cannot read {}: {e}", p.display()),
                "pass the receipt's text, its .sig (--sig) and the portal's keys \
                 (--allowed-signers)",
            )
        })
    };
    let (text, signature, list) = (read(receipt)?, read(&sig)?, read(allowed_signers)?);
    let v = sealdrop::receipt::verify::verify(
        &text,
        &String::from_utf8_lossy(&signature),
        &String::from_utf8_lossy(&list),
        identity,
    )?;
    println!(
        "Good receipt: case {}, received {}, from {}, signed by {} (receipt key of {}).",
        open::terminal_safe(&v.case),
        open::terminal_safe(&v.received_at),
        open::terminal_safe(&v.portal),
        v.key,
        open::terminal_safe(&v.principal)
    );
    Ok(())
}

/// `sealdrop open`: the bundle verified and decrypted into `output`.
fn open_bundle(bundle: &Path, identities: &[PathBuf], output: &Path) -> Result<(), Failure> {
    let ids = keys::Identities::load(identities)?;
    let report = open::open(bundle, &ids, output)?;
    println!(
        "Opened case {}: {} file(s) verified and decrypted into {}",
        open::terminal_safe(&report.case),
        report.files.len(),
        output.display()
    );
    println!("Read {} first.", output.join("report.txt").display());
    Ok(())
}

/// `sealdrop inspect`: what each object is sealed to, told without a key.
fn inspect(paths: &[PathBuf], recipients_files: &[PathBuf], json: bool) -> Result<(), Failure> {
    let mut known = Vec::new();
    for file in recipients_files {
        let text = std::fs::read_to_string(file).map_err(|e| {
            fail(
                format!("cannot read {}: {e}", file.display()),
                "pass an age recipients file (the portal's keys/recipients.txt)",
            )
        })?;
        known.extend(keys::known_keys(&text, &file.display().to_string())?);
    }
    let mut all = Vec::new();
    for path in paths {
        all.push(sealdrop::inspect::inspect(path, &known)?);
    }
    if json {
        let text = serde_json::to_string_pretty(&all)
            .map_err(|e| fail(e.to_string(), "report this as a bug"))?;
        println!("{}", sealdrop::terminal::json_safe(&text));
    } else {
        for found in &all {
            print!("{}", sealdrop::inspect::render(found));
        }
    }
    Ok(())
}

/// The recipients given with `-r` (repeatable) and `-R FILE`, as one ring.
fn new_ring(recipients: &[String], file: Option<&Path>) -> Result<keys::KeyRing, Failure> {
    let mut text = recipients.join("\n");
    if let Some(file) = file {
        let more = std::fs::read_to_string(file).map_err(|e| {
            fail(
                format!("cannot read {}: {e}", file.display()),
                "pass an age recipients file",
            )
        })?;
        text.push('\n');
        text.push_str(&more);
    }
    if text.trim().is_empty() {
        return Err(fail(
            "no new recipient given",
            "pass -r age1… (repeatable) or -R recipients.txt",
        ));
    }
    Ok(keys::KeyRing::parse(&text, "the new recipients")?)
}

/// Writes `bytes` to the new file `path` (mode 0600 whatever the umask).
fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    sealdrop::os::create_private_file(path).and_then(|mut f| f.write_all(bytes))
}

fn send(
    request: sealdrop::send::Request,
    receipt: Option<&Path>,
    signed_receipt: Option<&Path>,
) -> Result<(), Failure> {
    if request.files.is_empty() && request.message.trim().is_empty() {
        return Err(fail(
            "nothing to send",
            "name at least one FILE, or give --message-file",
        ));
    }
    let sent = sealdrop::send::send(&request)?;
    let r = &sent.receipt;
    let text = |k: &str| open::terminal_safe(r[k].as_str().unwrap_or(""));
    if let Some(path) = signed_receipt {
        let signed = &r["signed_receipt"];
        let (Some(body), Some(sig)) = (signed["text"].as_str(), signed["signature"].as_str())
        else {
            eprintln!("reference: {}", text("reference"));
            return Err(fail(
                format!(
                    "the report was stored (case {}), but the portal sent no signed receipt",
                    text("case")
                ),
                "write the reference above down now; ask the team for a receipt by e-mail",
            ));
        };
        let sig_path = PathBuf::from(format!("{}.sig", path.display()));
        write_new(path, body.as_bytes())
            .and_then(|()| write_new(&sig_path, sig.as_bytes()))
            .map_err(|e| {
                fail(
                    format!(
                        "the report was stored (case {}), but its signed receipt could not be \
                         saved to {}: {e}",
                        text("case"),
                        path.display()
                    ),
                    "write the reference below down now; it is shown only once",
                )
            })
            .inspect_err(|_| eprintln!("reference: {}", text("reference")))?;
        println!(
            "Signed receipt saved: {} and {} (check: sealdrop verify-receipt {} --allowed-signers KEYS)",
            path.display(),
            sig_path.display(),
            path.display()
        );
    }
    if let Some(path) = receipt {
        let json = serde_json::to_vec_pretty(r).unwrap_or_default();
        write_new(path, &json)
            .map_err(|e| {
                fail(
                    format!(
                        "the report was stored (case {}), but its receipt could not be saved to {}: {e}",
                        text("case"),
                        path.display()
                    ),
                    "write the reference below down now; it is shown only once",
                )
            })
            .inspect_err(|_| eprintln!("reference: {}", text("reference")))?;
    }
    println!("Report stored: case {}", text("case"));
    println!("reference: {}", text("reference"));
    println!(
        "Keep the reference: it is shown only once, and it lets you check the status and add files."
    );
    Ok(())
}

/// Runs the portal; `demo` also prints a one-time sign-in link to the console.
fn serve(config: Config, demo: bool) -> Result<(), Failure> {
    sealdrop::logging::init(&config.log.format, &config.log.level);
    // Pages must never show translation keys instead of texts.
    sealdrop::i18n::check()?;
    if let Err(e) = sealdrop::os::disable_core_dumps() {
        return Err(fail(
            format!("cannot disable core dumps: {e}"),
            "core dumps would hold plaintext; run where setrlimit(RLIMIT_CORE) is allowed",
        ));
    }
    let portal = Arc::new(portal::Portal::open(config)?);
    actix_web::rt::System::new().block_on(sealdrop::http::run(portal, demo))?;
    Ok(())
}
