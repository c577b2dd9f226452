//! The `sealdrop` binary: parse the command line, run it, print `error: …` and `hint: …`.

#![forbid(unsafe_code)]

use clap::Parser;
use sealdrop::cli::{AdminCommand, Cli, Command, KeysCommand};
use sealdrop::config::Config;
use sealdrop::{adminclient, demo, keys, open, portal, rekey};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// A failure as the person at the terminal sees it.
struct Failure {
    message: String,
    hint: Option<String>,
}

macro_rules! failure_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Failure {
            fn from(e: $t) -> Self {
                Failure { message: e.to_string(), hint: e.hint() }
            }
        }
    )*};
}
failure_from!(
    keys::KeyError,
    portal::PortalError,
    adminclient::AdminError,
    open::OpenError,
    sealdrop::backup::BackupError
);

impl From<sealdrop::config::ConfigError> for Failure {
    fn from(e: sealdrop::config::ConfigError) -> Self {
        Failure {
            message: e.to_string(),
            hint: Some("deploy/sealdrop.example.toml documents every key with its default".into()),
        }
    }
}

impl From<sealdrop::http::ServeError> for Failure {
    fn from(e: sealdrop::http::ServeError) -> Self {
        let hint = match &e {
            sealdrop::http::ServeError::Tls(_) => Some(
                "server.tls_cert and server.tls_key must be PEM files that belong together".into(),
            ),
            sealdrop::http::ServeError::Bind { .. } => Some(
                "is another process using that address or socket? Change server.listen or stop it"
                    .into(),
            ),
            sealdrop::http::ServeError::Run(_) => None,
        };
        Failure {
            message: e.to_string(),
            hint,
        }
    }
}

impl From<demo::DemoError> for Failure {
    fn from(e: demo::DemoError) -> Self {
        Failure {
            message: e.to_string(),
            hint: Some("pass --dir with a new folder".into()),
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
            eprintln!("error: {}", f.message);
            if let Some(h) = f.hint {
                eprintln!("hint: {h}");
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

fn load_config(path: Option<&Path>) -> Result<Config, Failure> {
    Ok(Config::load(path, std::env::vars())?)
}

fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Serve { config } => serve(load_config(config.as_deref())?),
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
            serve(load_config(Some(&d.config))?)
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
            admin(&socket, command)
        }
        Command::Keys {
            config,
            socket,
            command,
        } => {
            let socket = admin_socket(config.as_deref(), socket)?;
            keys_command(&socket, command)
        }
        Command::Rekey {
            bundle,
            identities,
            recipients,
            recipients_file,
            output,
        } => {
            let ids = keys::Identities::load(&identities)?;
            let mut text = recipients.join("\n");
            if let Some(file) = recipients_file {
                let more = std::fs::read_to_string(&file).map_err(|e| {
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
            let ring = keys::KeyRing::parse(&text, "the new recipients")?;
            let done = rekey::rekey(&bundle, &ids, &ring, &output)?;
            println!(
                "Re-keyed case {}: manifest and {} file(s) now encrypted to {}; written to {}",
                done.case,
                done.files,
                done.key_ids.join(", "),
                output.display()
            );
            println!(
                "Install it on the server: sealdrop admin import {}",
                output.display()
            );
            Ok(())
        }
        Command::Restore { backup, data_dir } => {
            let file = std::fs::File::open(&backup).map_err(|e| {
                fail(
                    format!("cannot read {}: {e}", backup.display()),
                    "check the path",
                )
            })?;
            let n = sealdrop::backup::restore(std::io::BufReader::new(file), &data_dir)?;
            println!(
                "Restored {n} submission(s) into {}. Point storage.data_dir at it and start the server.",
                data_dir.display()
            );
            Ok(())
        }
        Command::Open {
            bundle,
            identities,
            output,
        } => {
            let ids = keys::Identities::load(&identities)?;
            let report = open::open(&bundle, &ids, &output)?;
            println!(
                "Opened case {}: {} file(s) verified and decrypted into {}",
                report.case,
                report.files.len(),
                output.display()
            );
            println!("Read {} first.", output.join("report.txt").display());
            Ok(())
        }
    }
}

fn serve(config: Config) -> Result<(), Failure> {
    sealdrop::logging::init(&config.log.format, &config.log.level);
    if let Err(e) = sealdrop::os::disable_core_dumps() {
        return Err(fail(
            format!("cannot disable core dumps: {e}"),
            "core dumps would hold plaintext; run where setrlimit(RLIMIT_CORE) is allowed",
        ));
    }
    let portal = Arc::new(portal::Portal::open(config)?);
    actix_web::rt::System::new().block_on(sealdrop::http::run(portal))?;
    Ok(())
}

fn admin(socket: &Path, command: AdminCommand) -> Result<(), Failure> {
    match command {
        AdminCommand::List { key, json } => {
            let path = match key {
                Some(k) => format!("/v1/submissions?key={}", path_segment(&k)?),
                None => "/v1/submissions".to_owned(),
            };
            let value = adminclient::get_json(socket, &path)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&value).unwrap_or_default()
                );
                return Ok(());
            }
            let rows = value.as_array().cloned().unwrap_or_default();
            println!(
                "{:<11} {:<14} {:<21} {:<9} {:>5}  keys",
                "case", "category", "received", "status", "files"
            );
            for r in &rows {
                let keys: Vec<&str> = r["key_ids"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|k| k.as_str()).collect())
                    .unwrap_or_default();
                println!(
                    "{:<11} {:<14} {:<21} {:<9} {:>5}  {}",
                    r["case"].as_str().unwrap_or("?"),
                    r["category"].as_str().unwrap_or("?"),
                    r["received_at"].as_str().unwrap_or("?"),
                    r["status"].as_str().unwrap_or("?"),
                    r["files"].as_array().map_or(0, Vec::len),
                    keys.join(",")
                );
            }
            if rows.is_empty() {
                println!("(no submissions yet)");
            }
            Ok(())
        }
        AdminCommand::Show { case, json } => {
            let value = adminclient::get_json(
                socket,
                &format!("/v1/submissions/{}", path_segment(&case)?),
            )?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&value).unwrap_or_default()
                );
                return Ok(());
            }
            println!("case:        {}", value["case"].as_str().unwrap_or("?"));
            println!("id:          {}", value["id"].as_str().unwrap_or("?"));
            println!("category:    {}", value["category"].as_str().unwrap_or("?"));
            println!(
                "received:    {}",
                value["received_at"].as_str().unwrap_or("?")
            );
            println!("status:      {}", value["status"].as_str().unwrap_or("?"));
            println!(
                "delete after {}",
                value["delete_after"].as_str().unwrap_or("?")
            );
            println!("key ids:     {}", value["key_ids"]);
            println!(
                "manifest:    {} bytes, sha256 {}",
                value["manifest"]["size"],
                value["manifest"]["sha256"].as_str().unwrap_or("?")
            );
            for f in value["files"].as_array().cloned().unwrap_or_default() {
                println!(
                    "file {:03}:    {} bytes, sha256 {}",
                    f["index"].as_u64().unwrap_or(0),
                    f["size"],
                    f["sha256"].as_str().unwrap_or("?")
                );
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
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            if v["status"] != "ok" {
                return Err(fail(
                    "the portal cannot take uploads",
                    "free disk space on the data directory",
                ));
            }
            Ok(())
        }
        AdminCommand::Import { bundle, case } => {
            let index = sealdrop::bundle::read_index(&bundle)
                .map_err(|e| fail(e, "import a bundle written by `sealdrop rekey`"))?;
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
            println!(
                "Case {case} re-keyed: now readable with key(s) {}",
                record["key_ids"]
            );
            Ok(())
        }
        AdminCommand::Audit { json } => {
            let value = adminclient::get_json(socket, "/v1/audit")?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&value).unwrap_or_default()
                );
                return Ok(());
            }
            for e in value.as_array().cloned().unwrap_or_default() {
                println!(
                    "{}  {:<19} {:<13} {:<10} {}",
                    e["at"].as_str().unwrap_or("?"),
                    e["event"].as_str().unwrap_or("?"),
                    e["key_id"].as_str().unwrap_or("-"),
                    e["case"].as_str().unwrap_or("-"),
                    e["detail"].as_str().unwrap_or("")
                );
            }
            Ok(())
        }
    }
}

fn keys_command(socket: &Path, command: KeysCommand) -> Result<(), Failure> {
    let print =
        |v: &serde_json::Value| println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
    match command {
        KeysCommand::Reload => {
            let v = adminclient::post_json(socket, "/v1/reload", &serde_json::json!({}))?;
            println!("Reloaded. Active keys: {}", v["keys"]["active"]);
        }
        KeysCommand::Add { recipient, label } => {
            let v = adminclient::post_json(
                socket,
                "/v1/keys",
                &serde_json::json!({ "recipient": recipient, "label": label }),
            )?;
            println!("Added {}. Active keys: {}", v["added"], v["active"]);
        }
        KeysCommand::Retire { key_id, reason } => {
            let v = adminclient::post_json(
                socket,
                &format!("/v1/keys/{}/retire", path_segment(&key_id)?),
                &serde_json::json!({ "reason": reason }),
            )?;
            println!("Retired {key_id}. Active keys: {}", v["active"]);
            println!(
                "Keep its identity until `sealdrop keys list` shows 0 submissions readable only with it."
            );
        }
        KeysCommand::List { json } => {
            let v = adminclient::get_json(socket, "/v1/keys")?;
            if json {
                print(&v);
                return Ok(());
            }
            println!(
                "{:<13} {:<8} {:>8} {:>6}  {:<20} {:<20} label",
                "key id", "state", "readable", "only", "first seen", "retired"
            );
            for k in v.as_array().cloned().unwrap_or_default() {
                println!(
                    "{:<13} {:<8} {:>8} {:>6}  {:<20} {:<20} {}",
                    k["id"].as_str().unwrap_or("?"),
                    if k["active"].as_bool() == Some(true) {
                        "active"
                    } else {
                        "retired"
                    },
                    k["readable"],
                    k["sole"],
                    k["first_seen"].as_str().unwrap_or("?"),
                    k["retired_at"].as_str().unwrap_or("-"),
                    k["label"].as_str().unwrap_or("")
                );
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
