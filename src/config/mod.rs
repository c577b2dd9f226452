//! The one `Config`: built-in defaults < TOML file < `SEALDROP_<SECTION>_<KEY>` environment
//! variables, validated once at start-up.

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod accessibility;
mod branding;
mod console;
mod csaf;
mod storage;
mod units;
mod workflow;
pub use accessibility::{Accessibility, Conformance};
pub use branding::{Branding, DEFAULT_ACCENT, FooterLink, Logo};
pub use console::{Console, MemberRule, Role};
pub use csaf::{Csaf, PublisherCategory};
pub use storage::{BlobStore, Metadata, Postgres, S3, valid_schema};
pub use units::{ByteSize, HumanDuration, MAX_URL_CHARS, web_link};
pub use workflow::{Notify, Retention, Secret, Sla, SmtpSecurity, looks_like_address};

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The TOML (or an environment override) did not fit the schema.
    #[error("invalid configuration in {origin}: {message}")]
    Parse {
        /// The file name, or "environment".
        origin: String,
        /// What the parser said (it names the key).
        message: String,
    },
    /// A value is out of range or inconsistent with another.
    #[error("invalid configuration: {key} {problem}")]
    Invalid {
        /// The offending key, `section.key`.
        key: &'static str,
        /// What is wrong with it.
        problem: String,
    },
}

/// The whole configuration.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `[server]`
    pub server: Server,
    /// `[storage]`
    pub storage: Storage,
    /// `[keys]`
    pub keys: Keys,
    /// `[limits]`
    pub limits: Limits,
    /// `[org]`
    pub org: Org,
    /// `[sla]`
    pub sla: Sla,
    /// `[retention]`
    pub retention: Retention,
    /// `[log]`
    pub log: Log,
    /// `[notify]`
    pub notify: Notify,
    /// `[branding]`
    pub branding: Branding,
    /// `[console]`
    pub console: Console,
    /// `[accessibility]`
    pub accessibility: Accessibility,
    /// `[csaf]`
    pub csaf: Csaf,
}

/// `[server]`: listeners.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Server {
    /// Public listen address. Plain HTTP is allowed only on a loopback address.
    pub listen: String,
    /// PEM certificate chain; empty for plain HTTP on loopback.
    pub tls_cert: PathBuf,
    /// PEM private key; empty for plain HTTP on loopback.
    pub tls_key: PathBuf,
    /// The admin Unix socket (mode 0600).
    pub admin_socket: PathBuf,
    /// Number of HTTP worker threads; 0 means one per core.
    pub workers: usize,
    /// The address reporters use (for invitation links); empty: derived from `listen`.
    pub public_url: String,
    /// Header the trusted proxies put the client address in; empty: `X-Forwarded-For`. Read
    /// only from `trusted_proxies`, and only for the per-client limits.
    pub client_ip_header: String,
    /// Reverse proxies (addresses or CIDR blocks) whose forwarding header is believed; empty:
    /// every request is limited by its peer address.
    pub trusted_proxies: Vec<String>,
}

impl Default for Server {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8443".into(),
            tls_cert: PathBuf::new(),
            tls_key: PathBuf::new(),
            admin_socket: "data/admin.sock".into(),
            workers: 0,
            public_url: String::new(),
            client_ip_header: String::new(),
            trusted_proxies: Vec::new(),
        }
    }
}

/// `[storage]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Storage {
    /// Root of the sled database, blobs and temporary uploads.
    pub data_dir: PathBuf,
    /// Uploads are refused (507) when less than this would remain free.
    pub min_free_bytes: ByteSize,
    /// Most memory sled's page cache takes (1 MiB to 16 GiB): the portal's memory stays near
    /// this however many cases pile up.
    pub cache_size: ByteSize,
    /// Where the records live: `sled` (in `data_dir`) or `postgres`.
    pub metadata: Metadata,
    /// How to reach PostgreSQL when `metadata = "postgres"`.
    pub postgres: Postgres,
    /// Where the ciphertext lives: `local` (in `data_dir/blobs`) or `s3`.
    pub blobs: BlobStore,
    /// How to reach the bucket when `blobs = "s3"`.
    pub s3: S3,
}

impl Default for Storage {
    fn default() -> Self {
        Self {
            data_dir: "data".into(),
            min_free_bytes: ByteSize(1 << 30),
            cache_size: ByteSize(64 << 20),
            metadata: Metadata::Sled,
            postgres: Postgres::default(),
            blobs: BlobStore::Local,
            s3: S3::default(),
        }
    }
}

/// `[keys]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Keys {
    /// The age recipients file (public keys only).
    pub recipients_file: PathBuf,
}

impl Default for Keys {
    fn default() -> Self {
        Self {
            recipients_file: "keys/recipients.txt".into(),
        }
    }
}

/// `[limits]`: every bound on what one request may cost.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest single file (plaintext bytes).
    pub max_file_size: ByteSize,
    /// Largest sum of file sizes in one submission.
    pub max_submission_size: ByteSize,
    /// Most files in one submission.
    pub max_files: usize,
    /// Longest message, in bytes of UTF-8.
    pub max_message_bytes: usize,
    /// Longest contact field, in bytes of UTF-8.
    pub max_contact_bytes: usize,
    /// Longest name to credit, in bytes of UTF-8.
    pub max_credit_bytes: usize,
    /// Longest message from the team to a reporter (`admin tell`), in bytes of UTF-8.
    pub max_letter_bytes: usize,
    /// Most messages to the reporter of one case.
    pub max_letters: usize,
    /// Largest multipart part header block (also the parser's buffer size).
    pub max_part_header_bytes: ByteSize,
    /// Uploads processed at once; more get 503 with `Retry-After`.
    pub max_concurrent_uploads: usize,
    /// An upload whose body sends nothing for this long is cut off with 408.
    pub body_idle_timeout: HumanDuration,
    /// A client must send its request line and headers within this time (else 408).
    pub request_header_timeout: HumanDuration,
    /// Reference lookups (status, follow-ups, invitations) per minute from one client address.
    pub lookups_per_minute: u32,
    /// New submissions per hour from one client (an IPv4 address or an IPv6 /64).
    pub submissions_per_hour: u32,
    /// Uploads one client may run at once.
    pub max_uploads_per_client: usize,
    /// After `min_upload_rate_grace`, an upload slower than this on average (bytes per second)
    /// is cut off with 408.
    pub min_upload_rate: ByteSize,
    /// How long an upload may be slower than `min_upload_rate` at first.
    pub min_upload_rate_grace: HumanDuration,
    /// How long a resumable upload may stay unfinished (counted from its creation); then its
    /// pieces are removed.
    pub upload_expiry: HumanDuration,
    /// How long an unfinished resumable upload keeps its place without a piece arriving (or
    /// a report naming it); then it is removed, well before `upload_expiry`, so that uploads
    /// that make no progress cannot hold the pool.
    pub upload_idle_expiry: HumanDuration,
    /// Unfinished resumable uploads one client may hold at once; never more than an eighth of
    /// `max_unfinished_uploads` (at least 1), so that a few addresses cannot take the pool.
    pub max_unfinished_uploads_per_client: usize,
    /// Unfinished resumable uploads held at once in all.
    pub max_unfinished_uploads: usize,
    /// Largest piece (one PATCH body) of a resumable upload.
    pub max_piece_size: ByteSize,
    /// Smallest piece (one PATCH body) of a resumable upload, except the one that ends it: each
    /// piece costs an age header, a disk block and an inode (capped at `max_piece_size`).
    pub min_piece_size: ByteSize,
    /// Most pieces one resumable upload may be sent in.
    pub max_upload_pieces: usize,
    /// The piece size the upload page sends (small enough for common gateways' body limits).
    pub browser_piece_size: ByteSize,
    /// Reference checks (the memory-hard hash of a reference, for status lookups, follow-ups
    /// and new reports) computed at once; more wait, and get 503 when none frees in time.
    pub max_reference_checks: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_file_size: ByteSize(10 << 30),
            max_submission_size: ByteSize(20 << 30),
            max_files: 100,
            max_message_bytes: 65536,
            max_contact_bytes: 1024,
            max_credit_bytes: 128,
            max_letter_bytes: 8192,
            max_letters: 100,
            max_part_header_bytes: ByteSize(64 << 10),
            max_concurrent_uploads: 64,
            body_idle_timeout: HumanDuration(Duration::from_secs(60)),
            request_header_timeout: HumanDuration(Duration::from_secs(10)),
            lookups_per_minute: 10,
            submissions_per_hour: 20,
            max_uploads_per_client: 4,
            min_upload_rate: ByteSize(8 << 10),
            min_upload_rate_grace: HumanDuration(Duration::from_secs(60)),
            upload_expiry: HumanDuration(Duration::from_secs(24 * 3600)),
            upload_idle_expiry: HumanDuration(Duration::from_secs(15 * 60)),
            max_unfinished_uploads_per_client: 8,
            max_unfinished_uploads: 256,
            max_piece_size: ByteSize(64 << 20),
            min_piece_size: ByteSize(64 << 10),
            max_upload_pieces: 10_000,
            browser_piece_size: ByteSize(8 << 20),
            max_reference_checks: 2,
        }
    }
}

impl Limits {
    /// The unfinished uploads one client may hold: `max_unfinished_uploads_per_client`, but
    /// never more than an eighth of the pool (at least 1).
    pub fn unfinished_per_client(&self) -> usize {
        self.max_unfinished_uploads_per_client
            .min((self.max_unfinished_uploads / 8).max(1))
    }

    /// How long an unfinished upload keeps its place without progress (never past its expiry).
    pub fn upload_idle(&self) -> Duration {
        self.upload_idle_expiry.0.min(self.upload_expiry.0)
    }

    /// The smallest piece that may leave a resumable upload unfinished.
    pub fn min_piece(&self) -> u64 {
        self.min_piece_size.0.min(self.max_piece_size.0)
    }
}

/// `[org]`: who runs this portal.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Org {
    /// Shown on every page.
    pub name: String,
    /// Where reporters send their e-mail quoting the reference.
    pub contact_email: String,
    /// The disclosure policy's address.
    pub policy_url: String,
    /// Page languages, the first is the default.
    pub languages: Vec<String>,
    /// Categories whose reports must carry contact details.
    pub contact_required_for: Vec<String>,
    /// A Markdown file with the disclosure policy shown at `/policy`; empty: the built-in
    /// policy (Dutch and English) with the `[sla]` numbers filled in.
    pub policy_file: PathBuf,
    /// The organisation's OpenPGP public key (ASCII armour), whose signatures `admin
    /// securitytxt install` and `admin advisory publish` accept; empty: no signed
    /// security.txt and no CSAF advisories.
    pub security_txt_signing_key: PathBuf,
}

impl Default for Org {
    fn default() -> Self {
        Self {
            name: "Example Organisation".into(),
            contact_email: "security@example.org".into(),
            policy_url: "/policy".into(),
            languages: vec!["nl".into(), "en".into()],
            contact_required_for: vec!["vulnerability".into()],
            policy_file: PathBuf::new(),
            security_txt_signing_key: PathBuf::new(),
        }
    }
}

/// `[log]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Log {
    /// `text` or `json`.
    pub format: String,
    /// A tracing filter such as `info` or `sealdrop=debug`.
    pub level: String,
}

impl Default for Log {
    fn default() -> Self {
        Self {
            format: "text".into(),
            level: "info".into(),
        }
    }
}

impl crate::hint::Hint for ConfigError {
    fn hint(&self) -> Option<String> {
        Some("deploy/sealdrop.example.toml documents every key with its default".into())
    }
}

/// Sections inside sections (`[storage.postgres]`): `SEALDROP_STORAGE_POSTGRES_URL` sets
/// `storage.postgres.url`.
const SUBSECTIONS: [(&str, &str); 2] = [("storage", "postgres"), ("storage", "s3")];

const SECTIONS: [&str; 13] = [
    "accessibility",
    "console",
    "csaf",
    "server",
    "storage",
    "keys",
    "limits",
    "org",
    "sla",
    "retention",
    "log",
    "notify",
    "branding",
];

impl Config {
    /// Loads defaults, then `file` (if any), then `SEALDROP_*` variables from `env`, resolves
    /// relative paths against the file's folder (or the working directory), and validates.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let (mut table, origin, base) = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                let table: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::Parse {
                    origin: path.display().to_string(),
                    message: e.to_string(),
                })?;
                // Absolute, so errors name the file actually looked for.
                let base = path.parent().map(Path::to_owned).unwrap_or_default();
                let base = if base.is_relative() {
                    std::env::current_dir()
                        .map(|d| d.join(&base))
                        .unwrap_or(base)
                } else {
                    base
                };
                (table, path.display().to_string(), base)
            }
            None => (
                toml::Table::new(),
                "built-in defaults".to_owned(),
                PathBuf::new(),
            ),
        };
        let overridden = apply_env(&mut table, env)?;
        let origin = if overridden.is_empty() {
            origin
        } else {
            format!(
                "{origin} with environment overrides {}",
                overridden.join(", ")
            )
        };
        let mut config: Config =
            table
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Parse {
                    origin,
                    message: e.to_string(),
                })?;
        config.resolve_paths(&base);
        config.validate()?;
        Ok(config)
    }

    fn resolve_paths(&mut self, base: &Path) {
        let join = |p: &mut PathBuf| {
            if !p.as_os_str().is_empty() && p.is_relative() {
                *p = base.join(&*p);
            }
        };
        join(&mut self.server.tls_cert);
        join(&mut self.server.tls_key);
        join(&mut self.server.admin_socket);
        join(&mut self.storage.data_dir);
        join(&mut self.storage.postgres.password_file);
        join(&mut self.storage.postgres.ca_file);
        join(&mut self.keys.recipients_file);
        join(&mut self.notify.smtp_ca_file);
        join(&mut self.org.policy_file);
        join(&mut self.org.security_txt_signing_key);
        join(&mut self.notify.webhook_ca_file);
        join(&mut self.branding.logo_file);
        join(&mut self.console.tls_cert);
        join(&mut self.console.tls_key);
        join(&mut self.console.oidc_client_secret_file);
    }

    /// The parsed public listen address.
    pub fn listen_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.server
            .listen
            .parse()
            .map_err(|_| ConfigError::Invalid {
                key: "server.listen",
                problem: format!(
                    "{:?} is not an IP address with a port, such as 127.0.0.1:8443",
                    self.server.listen
                ),
            })
    }

    /// True when TLS files are configured.
    pub fn tls_enabled(&self) -> bool {
        !self.server.tls_cert.as_os_str().is_empty()
    }

    /// Checks ranges and combinations; errors name the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, problem: &str| {
            Err(ConfigError::Invalid {
                key,
                problem: problem.to_owned(),
            })
        };
        let addr = self.listen_addr()?;
        if self.storage.metadata == Metadata::Postgres {
            self.storage.postgres.validate()?;
        }
        if !(1 << 20..=16 << 30).contains(&self.storage.cache_size.0) {
            return invalid("storage.cache_size", "must be between 1MiB and 16GiB");
        }
        if self.storage.blobs == BlobStore::S3 {
            self.storage.s3.validate()?;
        }
        let cert = !self.server.tls_cert.as_os_str().is_empty();
        let key = !self.server.tls_key.as_os_str().is_empty();
        if cert != key {
            return invalid(
                "server.tls_cert",
                "and server.tls_key must be set together (both PEM files) or both left empty",
            );
        }
        if !cert && !addr.ip().is_loopback() {
            return invalid(
                "server.listen",
                "is not a loopback address, so TLS is required: set server.tls_cert and \
                 server.tls_key, or listen on 127.0.0.1 behind a reverse proxy",
            );
        }
        // Links built from a wildcard or a LAN address (invitations, security.txt) reach nobody.
        if self.server.public_url.is_empty() && !addr.ip().is_loopback() {
            return invalid(
                "server.public_url",
                &format!(
                    "is empty, but server.listen {} is not a loopback address, so the links the \
                     portal hands out would point there: set server.public_url to the address \
                     reporters use (e.g. https://meldpunt.example.org)",
                    self.server.listen
                ),
            );
        }
        if self.server.admin_socket.as_os_str().is_empty() {
            return invalid("server.admin_socket", "must be a path");
        }
        let c = &self.console;
        if c.tls_cert.as_os_str().is_empty() != c.tls_key.as_os_str().is_empty() {
            return invalid(
                "console.tls_cert",
                "and console.tls_key must be set together (both PEM files) or both left empty",
            );
        }
        c.validate(addr, cert || !c.tls_cert.as_os_str().is_empty())?;
        let l = &self.limits;
        if l.max_file_size.0 == 0 || l.max_submission_size.0 == 0 {
            return invalid(
                "limits.max_file_size",
                "and max_submission_size must be > 0",
            );
        }
        if l.max_files == 0 {
            return invalid("limits.max_files", "must be at least 1");
        }
        if l.max_concurrent_uploads == 0 {
            return invalid("limits.max_concurrent_uploads", "must be at least 1");
        }
        if l.max_part_header_bytes.0 < 1024 || l.max_part_header_bytes.0 > (16 << 20) {
            return invalid(
                "limits.max_part_header_bytes",
                "must be between 1KiB and 16MiB",
            );
        }
        if l.body_idle_timeout.0.is_zero() {
            return invalid("limits.body_idle_timeout", "must be longer than 0s");
        }
        if l.lookups_per_minute == 0 {
            return invalid(
                "limits.lookups_per_minute",
                "must be at least 1 (it stops references from being guessed)",
            );
        }
        if l.submissions_per_hour == 0 {
            return invalid("limits.submissions_per_hour", "must be at least 1");
        }
        if l.max_uploads_per_client == 0 {
            return invalid("limits.max_uploads_per_client", "must be at least 1");
        }
        if l.upload_expiry.0 < Duration::from_secs(1) {
            return invalid("limits.upload_expiry", "must be at least 1s");
        }
        if l.max_unfinished_uploads_per_client == 0 || l.max_unfinished_uploads == 0 {
            return invalid(
                "limits.max_unfinished_uploads",
                "and max_unfinished_uploads_per_client must be at least 1",
            );
        }
        if l.max_upload_pieces == 0 {
            return invalid("limits.max_upload_pieces", "must be at least 1");
        }
        if l.upload_idle_expiry.0 < Duration::from_secs(1) {
            return invalid("limits.upload_idle_expiry", "must be at least 1s");
        }
        if l.min_piece_size.0 == 0 {
            return invalid("limits.min_piece_size", "must be at least 1 byte");
        }
        if l.max_reference_checks == 0 {
            return invalid("limits.max_reference_checks", "must be at least 1");
        }
        if l.max_piece_size.0 < 4096 {
            return invalid("limits.max_piece_size", "must be at least 4KiB");
        }
        if l.browser_piece_size.0 < 4096 || l.browser_piece_size.0 > l.max_piece_size.0 {
            return invalid(
                "limits.browser_piece_size",
                "must be at least 4KiB and at most limits.max_piece_size",
            );
        }
        if l.min_upload_rate.0 > (1 << 20) {
            return invalid(
                "limits.min_upload_rate",
                "must be at most 1MiB (per second): reporters on slow links must get through",
            );
        }
        if let Some(bad) = self
            .server
            .trusted_proxies
            .iter()
            .find_map(|p| crate::clientaddr::parse_proxy(p).err())
        {
            return Err(ConfigError::Invalid {
                key: "server.trusted_proxies",
                problem: bad,
            });
        }
        if !self.server.client_ip_header.is_empty() && self.server.trusted_proxies.is_empty() {
            return invalid(
                "server.client_ip_header",
                "is read only from trusted proxies: set server.trusted_proxies to your reverse \
                 proxy's address (e.g. [\"127.0.0.1\"]), or leave the header empty",
            );
        }
        if l.request_header_timeout.0.is_zero() {
            return invalid("limits.request_header_timeout", "must be longer than 0s");
        }
        if !matches!(self.log.format.as_str(), "text" | "json") {
            return invalid("log.format", "must be \"text\" or \"json\"");
        }
        if self.org.languages.is_empty() {
            return invalid("org.languages", "must name at least one language");
        }
        if let Some(l) = self
            .org
            .languages
            .iter()
            .find(|l| !matches!(l.as_str(), "nl" | "en"))
        {
            return Err(ConfigError::Invalid {
                key: "org.languages",
                problem: format!("has {l:?}; the pages exist in \"nl\" and \"en\""),
            });
        }
        if let Some(c) = self
            .org
            .contact_required_for
            .iter()
            .find(|c| c.parse::<crate::record::Category>().is_err())
        {
            return Err(ConfigError::Invalid {
                key: "org.contact_required_for",
                problem: format!("has {c:?}; categories are vulnerability, data-breach, incident"),
            });
        }
        if !self.server.public_url.is_empty()
            && !self.server.public_url.starts_with("https://")
            && !self.server.public_url.starts_with("http://")
        {
            return invalid(
                "server.public_url",
                "must start with https:// (the address reporters use, e.g. https://meldpunt.example.org)",
            );
        }
        self.sla.validate()?;
        self.retention.validate()?;
        self.notify.validate()?;
        self.branding.validate()?;
        self.accessibility.validate()?;
        self.csaf.validate()?;
        Ok(())
    }
}

/// Applies `SEALDROP_<SECTION>_<KEY>` variables to `table`; returns the names applied.
fn apply_env(
    table: &mut toml::Table,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Vec<String>, ConfigError> {
    let mut applied = Vec::new();
    for (name, value) in env {
        let Some(rest) = name.strip_prefix("SEALDROP_") else {
            continue;
        };
        if rest == "CONFIG" {
            continue;
        }
        let lower = rest.to_ascii_lowercase();
        let Some((section, key)) = SECTIONS.iter().find_map(|s| {
            lower
                .strip_prefix(s)
                .and_then(|k| k.strip_prefix('_'))
                .map(|k| (*s, k.to_owned()))
        }) else {
            return Err(ConfigError::Parse {
                origin: "environment".into(),
                message: format!(
                    "{name} names no known section; use SEALDROP_<SECTION>_<KEY> with a section \
                     of {}",
                    SECTIONS.join(", ")
                ),
            });
        };
        let sub = SUBSECTIONS.iter().find_map(|(s, sub)| {
            (*s == section)
                .then(|| key.strip_prefix(sub)?.strip_prefix('_'))
                .flatten()
                .map(|k| (*sub, k.to_owned()))
        });
        let (path, key) = match sub {
            Some((sub, k)) => (vec![section, sub], k),
            None => (vec![section], key),
        };
        let mut at = &mut *table;
        for part in &path {
            let entry = at
                .entry(*part)
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            let toml::Value::Table(inner) = entry else {
                return Err(ConfigError::Parse {
                    origin: "environment".into(),
                    message: format!("[{}] is not a table", path.join(".")),
                });
            };
            at = inner;
        }
        at.insert(key, env_value(&value));
        applied.push(name);
    }
    applied.sort();
    Ok(applied)
}

/// An environment value is TOML when it parses as TOML (numbers, booleans, arrays), else a string.
fn env_value(raw: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_match_the_documented_contract() {
        let c = Config::load(None, env(&[])).unwrap();
        assert_eq!(c.server.listen, "127.0.0.1:8443");
        assert_eq!(c.limits.max_file_size, ByteSize(10 << 30));
        assert_eq!(c.limits.max_files, 100);
        assert_eq!(c.sla.data_breach_notify_hours, 72);
    }

    #[test]
    fn environment_overrides_file_values_and_types() {
        let c = Config::load(
            None,
            env(&[
                ("SEALDROP_LIMITS_MAX_FILES", "7"),
                ("SEALDROP_LIMITS_MAX_FILE_SIZE", "1MiB"),
                ("SEALDROP_SERVER_LISTEN", "127.0.0.1:0"),
                ("SEALDROP_ORG_LANGUAGES", "[\"en\"]"),
                ("SEALDROP_CONFIG", "ignored.toml"),
                ("PATH", "/bin"),
            ]),
        )
        .unwrap();
        assert_eq!(c.limits.max_files, 7);
        assert_eq!(c.limits.max_file_size, ByteSize(1 << 20));
        assert_eq!(c.server.listen, "127.0.0.1:0");
        assert_eq!(c.org.languages, vec!["en".to_string()]);
    }

    #[test]
    fn the_upload_gate_limits_are_refused_below_their_edge_and_capped_above_it() {
        for (key, value, named) in [
            (
                "SEALDROP_LIMITS_UPLOAD_IDLE_EXPIRY",
                "0s",
                "limits.upload_idle_expiry",
            ),
            (
                "SEALDROP_LIMITS_MIN_PIECE_SIZE",
                "0B",
                "limits.min_piece_size",
            ),
            (
                "SEALDROP_LIMITS_MAX_REFERENCE_CHECKS",
                "0",
                "limits.max_reference_checks",
            ),
        ] {
            let err = Config::load(None, env(&[(key, value)])).unwrap_err();
            assert!(err.to_string().contains(named), "{err}");
        }
        let at_edge = |pairs: &[(&str, &str)]| Config::load(None, env(pairs)).unwrap().limits;
        let l = at_edge(&[
            ("SEALDROP_LIMITS_UPLOAD_IDLE_EXPIRY", "1s"),
            ("SEALDROP_LIMITS_MIN_PIECE_SIZE", "1B"),
            ("SEALDROP_LIMITS_MAX_REFERENCE_CHECKS", "1"),
        ]);
        assert_eq!(l.upload_idle(), Duration::from_secs(1));
        assert_eq!(l.min_piece(), 1);
        // Above their bounds they count as the bound.
        let l = at_edge(&[
            ("SEALDROP_LIMITS_UPLOAD_IDLE_EXPIRY", "48h"),
            ("SEALDROP_LIMITS_MIN_PIECE_SIZE", "1GiB"),
        ]);
        assert_eq!(l.upload_idle(), l.upload_expiry.0);
        assert_eq!(l.min_piece(), l.max_piece_size.0);
        // A client never holds more than an eighth of the unfinished uploads (at least one).
        let per_client = |pool: &str| {
            at_edge(&[("SEALDROP_LIMITS_MAX_UNFINISHED_UPLOADS", pool)]).unfinished_per_client()
        };
        assert_eq!(per_client("256"), 8);
        assert_eq!(per_client("63"), 7);
        assert_eq!(per_client("15"), 1);
        assert_eq!(per_client("1"), 1);
    }

    #[test]
    fn the_database_cache_is_checked_at_its_edges() {
        let load = |v: &str| Config::load(None, env(&[("SEALDROP_STORAGE_CACHE_SIZE", v)]));
        for (value, ok) in [
            ("1048575B", false),
            ("1MiB", true),
            ("16GiB", true),
            ("17179869185B", false),
        ] {
            match load(value) {
                Ok(c) => assert!(ok, "{value} was taken: {:?}", c.storage.cache_size),
                Err(e) => {
                    assert!(!ok, "{value}: {e}");
                    assert!(e.to_string().contains("storage.cache_size"), "{e}");
                }
            }
        }
        assert_eq!(Config::default().storage.cache_size.0, 64 << 20);
    }

    #[test]
    fn unknown_keys_are_errors_that_name_the_key() {
        let err = Config::load(None, env(&[("SEALDROP_LIMITS_MAX_FILEZ", "3")])).unwrap_err();
        assert!(err.to_string().contains("max_filez"), "{err}");
        let err = Config::load(None, env(&[("SEALDROP_NOPE_X", "3")])).unwrap_err();
        assert!(err.to_string().contains("SEALDROP_NOPE_X"), "{err}");
    }

    #[test]
    fn public_listen_without_tls_is_refused() {
        let err =
            Config::load(None, env(&[("SEALDROP_SERVER_LISTEN", "0.0.0.0:443")])).unwrap_err();
        assert!(err.to_string().contains("server.listen"), "{err}");
    }

    #[test]
    fn an_empty_public_url_is_refused_on_a_non_loopback_listener_and_the_error_says_what_to_set() {
        let tls = [
            ("SEALDROP_SERVER_TLS_CERT", "cert.pem"),
            ("SEALDROP_SERVER_TLS_KEY", "key.pem"),
        ];
        for listen in ["0.0.0.0:443", "[::]:443", "192.0.2.7:443", "128.0.0.1:443"] {
            let mut vars = tls.to_vec();
            vars.push(("SEALDROP_SERVER_LISTEN", listen));
            let err = Config::load(None, env(&vars)).unwrap_err().to_string();
            assert!(
                err.contains("server.public_url is empty"),
                "{listen}: {err}"
            );
            assert!(err.contains(listen), "{listen}: {err}");
            assert!(err.contains("set server.public_url to"), "{listen}: {err}");
            vars.push(("SEALDROP_SERVER_PUBLIC_URL", "https://meldpunt.example.org"));
            Config::load(None, env(&vars)).unwrap();
        }
    }

    #[test]
    fn loopback_listeners_work_with_an_empty_public_url() {
        for listen in ["127.0.0.1:8443", "127.255.255.254:0", "[::1]:8443"] {
            let c = Config::load(None, env(&[("SEALDROP_SERVER_LISTEN", listen)])).unwrap();
            assert_eq!(c.server.public_url, "");
        }
    }

    #[test]
    fn the_example_config_parses_and_documents_every_key_with_its_env_name() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/sealdrop.example.toml");
        Config::load(Some(&path), env(&[])).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let defaults = toml::Table::try_from(Config::default()).unwrap();
        let mut sections: Vec<(String, &toml::Table)> = Vec::new();
        for (section, keys) in &defaults {
            sections.push((section.clone(), keys.as_table().unwrap()));
            for (key, value) in keys.as_table().unwrap() {
                if let toml::Value::Table(sub) = value {
                    sections.push((format!("{section}.{key}"), sub));
                }
            }
        }
        for (section, keys) in sections {
            assert!(
                text.contains(&format!("[{section}]")),
                "[{section}] undocumented"
            );
            for (key, value) in keys {
                if value.is_table() {
                    continue;
                }
                assert!(
                    text.contains(&format!("\n{key} = ")),
                    "{section}.{key} undocumented"
                );
                let env =
                    format!("SEALDROP_{}_{}", section.replace('.', "_"), key).to_ascii_uppercase();
                assert!(text.contains(&env), "{env} undocumented");
            }
        }
    }

    #[test]
    fn a_variable_of_a_section_inside_a_section_sets_its_key() {
        let c = Config::load(
            None,
            env(&[
                ("SEALDROP_STORAGE_METADATA", "postgres"),
                ("SEALDROP_STORAGE_POSTGRES_URL", "host=db.example user=s"),
                ("SEALDROP_STORAGE_POSTGRES_POOL", "3"),
            ]),
        )
        .unwrap();
        assert_eq!(c.storage.metadata, Metadata::Postgres);
        assert_eq!(c.storage.postgres.url, "host=db.example user=s");
        assert_eq!(c.storage.postgres.pool, 3);
        assert!(c.storage.postgres.tls, "TLS stays on by default");
        let refused = Config::load(
            None,
            env(&[
                ("SEALDROP_STORAGE_METADATA", "postgres"),
                ("SEALDROP_STORAGE_POSTGRES_URL", "host=db.example user=s"),
                ("SEALDROP_STORAGE_POSTGRES_TLS", "false"),
            ]),
        );
        let e = refused.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("storage.postgres.tls"), "{e}");
    }
}
