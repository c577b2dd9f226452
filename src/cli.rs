//! Command-line interface (clap derive).

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
        /// Where to create the demo folder (default: a new folder in the system temp dir).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Address to listen on.
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
    /// Rebuild a data directory from `sealdrop admin backup` (no server needed).
    Restore {
        /// The backup (.tar).
        backup: PathBuf,
        /// The new data directory (must be new or empty).
        #[arg(long)]
        data_dir: PathBuf,
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

/// Admin subcommands.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// List cases with their state and the next deadline; warns before retention deletions.
    List {
        /// Only those encrypted to this key id (readable with it, maybe also with others).
        #[arg(long)]
        key: Option<String>,
        /// Only in this state: received, acknowledged, assessed, in-progress, resolved, rejected.
        #[arg(long)]
        status: Option<String>,
        /// Only of this category: vulnerability, data-breach, incident.
        #[arg(long)]
        category: Option<String>,
        /// Only cases with an overdue deadline.
        #[arg(long)]
        overdue: bool,
        /// Only cases with a deadline due within this time (e.g. 2d, 12h); overdue included.
        #[arg(long, value_name = "DURATION")]
        due_within: Option<String>,
        /// Also list follow-ups (files added later) as rows of their own.
        #[arg(long)]
        follow_ups: bool,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Move a case to a new state (with an optional note), stopping the clocks it reaches.
    Status {
        /// Case number, e.g. 2026-0042.
        case: String,
        /// acknowledged, assessed, in-progress, resolved or rejected.
        state: String,
        /// A short note for the history (no report content).
        #[arg(long)]
        note: Option<String>,
    },
    /// Record the data protection authority decision of a data breach (GDPR art. 33).
    Authority {
        /// Case number.
        case: String,
        /// notified or not-required.
        decision: String,
        /// A short note for the register (e.g. the authority's reference, or why not).
        #[arg(long)]
        note: Option<String>,
    },
    /// The breach register (GDPR art. 33(5)): every data-breach case with its clocks and states.
    Register {
        /// csv or json.
        #[arg(long, default_value = "csv")]
        format: String,
    },
    /// Mint a one-time upload link for a reporter who wrote to you first.
    Invite {
        /// How long the link works (e.g. 7d, 48h).
        #[arg(long, default_value = "7d")]
        expires: String,
        /// A note for your own records (no report content).
        #[arg(long)]
        note: Option<String>,
    },
    /// List invitations and whether they were used.
    Invites {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete a case's ciphertext now (and its follow-ups'), keeping a tombstone.
    Purge {
        /// Case number.
        case: String,
        /// Why, for the audit trail (required: a deletion cannot be undone).
        #[arg(long)]
        reason: String,
    },
    /// Add a note to a case's history without changing its state.
    Note {
        /// Case number.
        case: String,
        /// The note (one line, no report content).
        text: String,
    },
    /// Print the metrics (Prometheus text format).
    Metrics,
    /// Show one submission's record.
    Show {
        /// Case number, e.g. 2026-0042.
        case: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Export one submission's ciphertext bundle for offline decryption.
    Export {
        /// Case number.
        case: String,
        /// The .tar file to write (never overwritten).
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Replace a submission's ciphertext with a bundle re-keyed by `sealdrop rekey`.
    Import {
        /// The re-keyed bundle.
        bundle: PathBuf,
        /// The case it must belong to (default: the case named in the bundle).
        #[arg(long)]
        case: Option<String>,
    },
    /// Write a consistent online backup (records and ciphertext) while uploads go on.
    Backup {
        /// The .tar file to write (never overwritten).
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Print health figures (free space, submissions, keys, uploads running) as JSON; exits 1
    /// when the portal cannot take uploads.
    Health,
    /// Show the audit trail (keys, status changes, invitations, deletions).
    Audit {
        /// Print JSON.
        #[arg(long)]
        json: bool,
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
        key_id: String,
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
