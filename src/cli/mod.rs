//! Command-line interface (clap derive): the commands, their arguments and how each value is
//! read, so that `--help`, the man page and the completions list what is accepted.

mod admin;
mod docs;
mod values;

pub use admin::{AdminCommand, AdvisoryCommand, AdvisoryDraft, ReportFormat, SecurityTxtCommand};
pub use docs::{write_completions, write_man_pages};
pub use values::{Span, Target};

use crate::keys::KeyId;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// sealdrop: the file-drop portal for security reports.
#[derive(Debug, Parser)]
#[command(name = "sealdrop", version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the portal.
    Serve {
        /// The TOML configuration file.
        #[arg(long, short, env = "SEALDROP_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Try sealdrop in one command: a throwaway folder with an identity, recipients, a
    /// self-signed certificate and a config, then the portal. Never for real reports.
    Demo {
        /// Where to create the demo folder (default: a new folder in the system temp dir); the
        /// folder of an earlier demo restarts it, with a fresh certificate if its own ran out.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Address to listen on (a restarted demo keeps the one in its sealdrop.toml).
        #[arg(long, default_value = "127.0.0.1:8443")]
        listen: String,
        /// Create the folder and print the commands, but do not start the portal.
        #[arg(long)]
        setup_only: bool,
    },
    /// Write a new age identity (private key) to FILE and print its recipient (public key).
    Keygen {
        /// The identity file to create (mode 0600; never overwritten).
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Team commands, through the running server's admin socket.
    Admin {
        /// The server's configuration file (for server.admin_socket).
        #[arg(long, short, env = "SEALDROP_CONFIG", global = true)]
        config: Option<PathBuf>,
        /// The admin socket, instead of reading it from the configuration.
        #[arg(long, global = true)]
        socket: Option<PathBuf>,
        /// The admin command.
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Key rotation, through the running server's admin socket.
    Keys {
        /// The server's configuration file (for server.admin_socket).
        #[arg(long, short, env = "SEALDROP_CONFIG", global = true)]
        config: Option<PathBuf>,
        /// The admin socket, instead of reading it from the configuration.
        #[arg(long, global = true)]
        socket: Option<PathBuf>,
        /// The keys command.
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Offline: re-encrypt an exported bundle to new recipients (then `admin import` it).
    Rekey {
        /// The bundle (.tar) from `sealdrop admin export`.
        bundle: PathBuf,
        /// Identity file(s) able to decrypt it (the old key).
        #[arg(short, long = "identity", required = true)]
        identities: Vec<PathBuf>,
        /// New recipient(s): age1… or an SSH public key.
        #[arg(short, long = "recipient")]
        recipients: Vec<String>,
        /// A recipients file with the new keys.
        #[arg(short = 'R', long = "recipients-file")]
        recipients_file: Option<PathBuf>,
        /// The new bundle to write (never overwritten).
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Offline: write a copy of an exported bundle for a third party (e.g. the IBD), encrypted
    /// to their keys, without the reporter's contact details and credit name; then record it
    /// with `sealdrop admin shared`.
    Share {
        /// The bundle (.tar) from `sealdrop admin export`.
        bundle: PathBuf,
        /// Identity file(s) able to decrypt it (the team's key).
        #[arg(short, long = "identity", required = true)]
        identities: Vec<PathBuf>,
        /// The third party's recipient(s): age1… or an SSH public key.
        #[arg(short, long = "recipient")]
        recipients: Vec<String>,
        /// A recipients file with the third party's keys.
        #[arg(short = 'R', long = "recipients-file")]
        recipients_file: Option<PathBuf>,
        /// The share bundle to write (never overwritten).
        #[arg(short, long)]
        output: PathBuf,
        /// Keep the contact details and the credit name (only with the reporter's consent).
        #[arg(long)]
        with_contact: bool,
        /// Leave out the reporter's message.
        #[arg(long)]
        without_message: bool,
        /// Keep only this file, numbered as `sealdrop open` lists them ([000] is 0); repeatable.
        #[arg(long = "file", value_name = "N")]
        files: Vec<u32>,
    },
    /// Offline: check a signed receipt (its text and its .sig) against the portal's published
    /// receipt keys.
    VerifyReceipt {
        /// The receipt's text, e.g. receipt-2026-0042.txt.
        receipt: PathBuf,
        /// Its signature (default: the receipt's path with `.sig` added).
        #[arg(long, value_name = "FILE")]
        sig: Option<PathBuf>,
        /// The portal's receipt keys, as served at /.well-known/sealdrop-receipt-keys or
        /// printed by `sealdrop admin receipt-key`.
        #[arg(long, value_name = "FILE")]
        allowed_signers: PathBuf,
        /// The identity to look up in that file (default: the host of the receipt's portal).
        #[arg(short = 'I', long)]
        identity: Option<String>,
    },
    /// Rebuild a data directory from `sealdrop admin backup` (no server needed).
    Restore {
        /// The backup (.tar).
        backup: PathBuf,
        /// The new data directory (must be new or empty), records in sled.
        #[arg(long, required_unless_present = "config", conflicts_with = "config")]
        data_dir: Option<PathBuf>,
        /// Restore into the storage this configuration names instead: its data_dir (new or
        /// empty), its records' engine (a PostgreSQL schema must be blank) and its ciphertext's
        /// (a bucket prefix must hold nothing).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Move a stopped portal's records and ciphertext to another storage (sled to PostgreSQL,
    /// the data folder to an S3 bucket, or back), checking every file's SHA-256 and comparing
    /// the records after the copy.
    Migrate {
        /// The configuration of the portal as it is (stop it first when its records are in
        /// sled).
        #[arg(long)]
        from: PathBuf,
        /// The configuration it moves to: a new or empty data_dir, and a blank PostgreSQL
        /// schema when storage.metadata = "postgres".
        #[arg(long)]
        to: PathBuf,
    },
    /// Write the man pages (sealdrop.1 and one per subcommand) into a folder.
    Manpage {
        /// The folder (created if needed; pages in it are replaced).
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Print the completion script for a shell, e.g. `sealdrop completions bash >
    /// /usr/share/bash-completion/completions/sealdrop`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Send a report from the terminal: each FILE goes up in pieces through the portal's
    /// resumable path (a dropped connection resumes where it stopped), then the report is
    /// committed and its reference printed.
    Send {
        /// The portal's address, e.g. https://portal.example.org (plain http:// only to this
        /// computer: 127.0.0.1, ::1, localhost).
        #[arg(long)]
        portal: String,
        /// vulnerability, data-breach or incident.
        #[arg(long)]
        category: String,
        /// A file with the message (UTF-8 text).
        #[arg(long)]
        message_file: Option<PathBuf>,
        /// How the team can reach you (e-mail address or phone number).
        #[arg(long, default_value = "")]
        contact: String,
        /// Ask to be named as the discoverer once the problem is solved, under this name or
        /// handle (only the security team can read it).
        #[arg(long, value_name = "NAME", default_value = "")]
        credit: String,
        /// Bytes per piece (small enough for the gateways in front of the portal).
        #[arg(long, default_value = "8MiB", value_parser = values::byte_size)]
        piece_size: u64,
        /// Retries per request after a dropped connection or a busy portal, from where the
        /// portal says the upload stands. A portal that has not answered yet is tried 3 times
        /// at most; a certificate it does not trust is not retried at all.
        #[arg(long, default_value_t = 8)]
        retries: u32,
        /// Also trust the CA certificates in this PEM file (for a demo: its cert.pem).
        #[arg(long)]
        ca_file: Option<PathBuf>,
        /// Save the portal's receipt (JSON, with the reference) to this new file.
        #[arg(long)]
        receipt: Option<PathBuf>,
        /// Save the signed receipt (without the reference): its text to this new file and the
        /// signature beside it with `.sig` added; check them with `sealdrop verify-receipt`.
        #[arg(long, value_name = "FILE")]
        signed_receipt: Option<PathBuf>,
        /// The files to send.
        files: Vec<PathBuf>,
    },
    /// Without any key: which keys can read each object of a bundle (or a single .age file),
    /// whether it is post-quantum, and its sizes.
    Inspect {
        /// Bundles (.tar) from `sealdrop admin export`, or .age files.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// A recipients file whose keys (retired lines too) name the stanzas: the portal's
        /// keys/recipients.txt.
        #[arg(short = 'R', long = "recipients-file")]
        recipients_files: Vec<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Verify and decrypt an exported bundle, offline.
    Open {
        /// The bundle (.tar) from `sealdrop admin export`.
        bundle: PathBuf,
        /// Identity file(s) able to decrypt it.
        #[arg(short, long = "identity", required = true)]
        identities: Vec<PathBuf>,
        /// Output folder (must be new or empty).
        #[arg(short, long)]
        output: PathBuf,
    },
}

/// Keys subcommands.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Re-read the recipients file and the TLS certificate (like SIGHUP).
    Reload,
    /// Validate a recipient, append it to the recipients file and reload.
    Add {
        /// age1… or an SSH public key (quote it).
        recipient: String,
        /// Who holds the identity, e.g. "alice, offline laptop".
        #[arg(long, default_value = "")]
        label: String,
    },
    /// Comment a key out of the recipients file (with date and reason) and reload.
    Retire {
        /// The key id (`sealdrop keys list`).
        #[arg(value_parser = values::key_id)]
        key_id: KeyId,
        /// Why, for the file and the audit trail.
        #[arg(long, default_value = "retired")]
        reason: String,
    },
    /// Every key ever used, with how many submissions it can read, alone or at all.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}
