//! The `sealdrop` binary: parse the command line, run it, print `error: …` and `hint: …`.

#![forbid(unsafe_code)]

use clap::Parser;
use sealdrop::cli::{AdminCommand, Cli, Command};
use sealdrop::config::Config;
use sealdrop::{adminclient, demo, keys, open, portal};
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
    open::OpenError
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
            let socket = match socket {
                Some(s) => s,
                None => load_config(config.as_deref())?.server.admin_socket,
            };
            admin(&socket, command)
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
    let portal = Arc::new(portal::Portal::open(config)?);
    actix_web::rt::System::new().block_on(sealdrop::http::run(portal))?;
    Ok(())
}

fn admin(socket: &Path, command: AdminCommand) -> Result<(), Failure> {
    match command {
        AdminCommand::List { json } => {
            let value = adminclient::get_json(socket, "/v1/submissions")?;
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
        AdminCommand::Export { case, output } => export(socket, &case, &output),
    }
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

fn export(socket: &Path, case: &str, output: &Path) -> Result<(), Failure> {
    if output.exists() {
        return Err(fail(
            format!("{} already exists", output.display()),
            "choose a new file name; export never overwrites",
        ));
    }
    let mut resp = adminclient::get(
        socket,
        &format!("/v1/submissions/{}/export", path_segment(case)?),
    )?;
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
    let n = result.map_err(|e| {
        fail(
            format!("export of case {case} failed: {e}"),
            "run the export again; nothing was written",
        )
    })?;
    println!("Exported case {case} to {} ({n} bytes).", output.display());
    println!(
        "Decrypt it offline: sealdrop open {} -i IDENTITY -o DIR",
        output.display()
    );
    Ok(())
}
