//! `[storage]`'s engines: where the records live (`metadata`: sled in the data folder, or
//! PostgreSQL for several portals on one database), where the ciphertext lives (`blobs`: the
//! data folder, or an S3-compatible bucket), and how the portal reaches each
//! (`[storage.postgres]`, `[storage.s3]`).

use super::{ByteSize, ConfigError, HumanDuration};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// Most connections one portal keeps open to PostgreSQL.
pub const MAX_POOL: usize = 256;

/// The engine that holds the records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Metadata {
    /// sled in `data_dir/db`: one portal process.
    #[default]
    Sled,
    /// PostgreSQL (`[storage.postgres]`; a build with the `postgres` feature): several portals.
    Postgres,
}

/// The engine that holds the ciphertext.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BlobStore {
    /// Files in `data_dir/blobs`.
    #[default]
    Local,
    /// Objects in an S3-compatible bucket (`[storage.s3]`; a build with the `s3` feature).
    S3,
}

/// Smallest multipart piece S3 accepts (every part but the last).
pub const MIN_PART: u64 = 5 << 20;
/// Largest part size the portal uses (S3 allows 5 GiB; each part is held in memory).
pub const MAX_PART: u64 = 256 << 20;

/// `[storage.s3]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct S3 {
    /// The service's URL (`https://s3.example.org`); empty: Amazon S3 in `region`.
    pub endpoint: String,
    /// The region the signatures name (most other services accept any).
    pub region: String,
    /// The bucket (it must exist).
    pub bucket: String,
    /// Where in the bucket this portal's objects go (`sealdrop/`); empty: the bucket's root.
    pub prefix: String,
    /// A file holding the access key id (first line).
    pub access_key_file: PathBuf,
    /// A file holding the secret access key (first line), readable by the portal only.
    pub secret_key_file: PathBuf,
    /// PEM file of the CA that signed the service's certificate (the system's CAs otherwise).
    pub ca_file: PathBuf,
    /// Path-style addresses (`endpoint/bucket/key`), as most services other than Amazon want;
    /// false: virtual-hosted (`bucket.endpoint/key`).
    pub path_style: bool,
    /// Objects larger than this go up as multipart uploads in parts of this size (5 MiB to
    /// 256 MiB).
    pub part_size: ByteSize,
    /// Objects without a record are removed at start-up once they are this old: longer than
    /// any upload takes from its first stored object to its record (another portal may be
    /// committing it).
    pub orphan_grace: HumanDuration,
    /// How long a connection may stall (connecting, or waiting for data) before the request
    /// fails: a stopped service gives 503 after about this long.
    pub timeout: HumanDuration,
    /// Files over 256 KiB one portal sends to the bucket at once (1 to 64; others wait their
    /// turn): each holds up to two parts in memory, so memory stays under
    /// `2 × part_size × uploads` however many reports arrive.
    pub uploads: usize,
}

impl Default for S3 {
    fn default() -> Self {
        Self {
            endpoint: String::new(),
            region: "us-east-1".into(),
            bucket: String::new(),
            prefix: String::new(),
            access_key_file: PathBuf::new(),
            secret_key_file: PathBuf::new(),
            ca_file: PathBuf::new(),
            path_style: true,
            part_size: ByteSize(8 << 20),
            orphan_grace: HumanDuration(Duration::from_secs(24 * 3600)),
            timeout: HumanDuration(Duration::from_secs(30)),
            uploads: 4,
        }
    }
}

impl S3 {
    /// Checks the section when the ciphertext goes to S3.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, problem: &str| {
            Err(ConfigError::Invalid {
                key,
                problem: problem.to_owned(),
            })
        };
        if self.bucket.is_empty()
            || self.bucket.len() > 63
            || !self
                .bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.".contains(&b))
        {
            return invalid(
                "storage.s3.bucket",
                "must name the bucket (3 to 63 characters: a-z, 0-9, '-' and '.')",
            );
        }
        if !valid_prefix(&self.prefix) {
            return invalid(
                "storage.s3.prefix",
                "must be empty or folder names ending in '/' (a-z, 0-9, '-', '_', '.'), such as \
                 \"sealdrop/\"",
            );
        }
        if self.access_key_file.as_os_str().is_empty()
            || self.secret_key_file.as_os_str().is_empty()
        {
            return invalid(
                "storage.s3.access_key_file",
                "and storage.s3.secret_key_file must name the files holding the credentials",
            );
        }
        let host = endpoint_host(&self.endpoint);
        if self.endpoint.starts_with("http://") {
            if !host.as_deref().is_some_and(local_host) {
                return invalid(
                    "storage.s3.endpoint",
                    "uses plain http for a host that is not loopback: use https (and ca_file if \
                     the service's CA is not a system CA)",
                );
            }
        } else if !self.endpoint.is_empty() && !self.endpoint.starts_with("https://") {
            return invalid(
                "storage.s3.endpoint",
                "must be an https:// URL (http:// only for loopback), or empty for Amazon S3",
            );
        }
        if self.endpoint.starts_with("http") && host.is_none() {
            return invalid("storage.s3.endpoint", "names no host");
        }
        if !(MIN_PART..=MAX_PART).contains(&self.part_size.0) {
            return invalid("storage.s3.part_size", "must be between 5 MiB and 256 MiB");
        }
        if self.orphan_grace.0 < Duration::from_secs(60) {
            return invalid(
                "storage.s3.orphan_grace",
                "must be at least a minute: objects of uploads still being committed would go",
            );
        }
        if self.timeout.0 < Duration::from_secs(1) || self.timeout.0 > Duration::from_secs(600) {
            return invalid("storage.s3.timeout", "must be between 1s and 10m");
        }
        if !(1..=64).contains(&self.uploads) {
            return invalid("storage.s3.uploads", "must be between 1 and 64");
        }
        Ok(())
    }
}

/// The host of an `http(s)://host[:port]/…` URL.
fn endpoint_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        authority.split(':').next()?
    };
    (!host.is_empty() && !authority.contains('@')).then(|| host.to_owned())
}

/// True for `""` and for `a/`, `a/b/`: plain folder names, each ending in `/`.
pub fn valid_prefix(p: &str) -> bool {
    p.is_empty()
        || (p.len() <= 200
            && p.ends_with('/')
            && p[..p.len() - 1].split('/').all(|part| {
                !part.is_empty()
                    && part != "."
                    && part != ".."
                    && part.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b)
                    })
            }))
}

/// `[storage.postgres]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Postgres {
    /// A libpq connection string (`host=db.example port=5432 user=sealdrop dbname=sealdrop`) or
    /// a `postgresql://` URL, without the password. Several hosts with
    /// `target_session_attrs=read-write` follow a fail-over.
    pub url: String,
    /// A file holding the password (first line), readable by the portal only.
    pub password_file: PathBuf,
    /// TLS to the server. Off is allowed only for a loopback host or a Unix socket.
    pub tls: bool,
    /// PEM file of the CA that signed the server's certificate (the system's CAs otherwise).
    pub ca_file: PathBuf,
    /// The schema the portal's table lives in (created when missing).
    pub schema: String,
    /// Connections one portal keeps open for reuse (1 to 256).
    pub pool: usize,
}

impl Default for Postgres {
    fn default() -> Self {
        Self {
            url: String::new(),
            password_file: PathBuf::new(),
            tls: true,
            ca_file: PathBuf::new(),
            schema: "sealdrop".into(),
            pool: 8,
        }
    }
}

impl Postgres {
    /// Checks the section when PostgreSQL holds the records.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, problem: &str| {
            Err(ConfigError::Invalid {
                key,
                problem: problem.to_owned(),
            })
        };
        if self.url.trim().is_empty() {
            return invalid(
                "storage.postgres.url",
                "is empty: give the connection string of the database (host=… user=… dbname=…)",
            );
        }
        if self.url.contains("password") || has_url_password(&self.url) {
            return invalid(
                "storage.postgres.url",
                "holds a password: put it in the file named by storage.postgres.password_file",
            );
        }
        if !(1..=MAX_POOL).contains(&self.pool) {
            return invalid("storage.postgres.pool", "must be between 1 and 256");
        }
        if !valid_schema(&self.schema) {
            return invalid(
                "storage.postgres.schema",
                "must be a plain lower-case name (a-z, 0-9, _; at most 63 characters)",
            );
        }
        if !self.tls && !self.hosts().iter().all(|h| local_host(h)) {
            return invalid(
                "storage.postgres.tls",
                "is off for a host that is not loopback: turn TLS on (and set ca_file if the \
                 server's CA is not a system CA)",
            );
        }
        Ok(())
    }

    /// The hosts the connection string names (empty: libpq's default, a local socket).
    fn hosts(&self) -> Vec<String> {
        if let Some(rest) = self
            .url
            .strip_prefix("postgresql://")
            .or_else(|| self.url.strip_prefix("postgres://"))
        {
            let authority = rest.split(['/', '?']).next().unwrap_or("");
            let hosts = authority.rsplit('@').next().unwrap_or("");
            return hosts
                .split(',')
                .map(|h| {
                    if let Some(v6) = h.strip_prefix('[') {
                        v6.split(']').next().unwrap_or("").to_owned()
                    } else {
                        h.split(':').next().unwrap_or("").to_owned()
                    }
                })
                .filter(|h| !h.is_empty())
                .collect();
        }
        self.url
            .split_whitespace()
            .filter_map(|kv| {
                kv.strip_prefix("host=")
                    .or_else(|| kv.strip_prefix("hostaddr="))
            })
            .flat_map(|v| v.split(','))
            .map(str::to_owned)
            .collect()
    }
}

fn has_url_password(url: &str) -> bool {
    url.split_once("://")
        .map(|(_, rest)| rest.split(['/', '?']).next().unwrap_or(""))
        .and_then(|authority| authority.rsplit_once('@'))
        .is_some_and(|(user, _)| user.contains(':'))
}

fn local_host(h: &str) -> bool {
    h.starts_with('/')
        || h == "localhost"
        || h.parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// True for a plain lower-case SQL identifier.
pub fn valid_schema(s: &str) -> bool {
    s.len() <= 63
        && s.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(url: &str, tls: bool) -> Postgres {
        Postgres {
            url: url.into(),
            tls,
            ..Postgres::default()
        }
    }

    #[test]
    fn plain_tcp_only_to_loopback_and_no_password_in_the_url() {
        assert!(
            pg("host=127.0.0.1 port=5432 user=s dbname=s", false)
                .validate()
                .is_ok()
        );
        assert!(pg("host=/run/postgresql user=s", false).validate().is_ok());
        assert!(
            pg("postgresql://s@localhost:5432/s", false)
                .validate()
                .is_ok()
        );
        assert!(pg("postgresql://s@[::1]:5432/s", false).validate().is_ok());
        assert!(pg("host=db.example user=s", false).validate().is_err());
        assert!(
            pg("postgresql://s@127.0.0.1,db.example/s", false)
                .validate()
                .is_err()
        );
        assert!(pg("host=db.example user=s", true).validate().is_ok());
        assert!(
            pg("postgresql://s:secret@db.example/s", true)
                .validate()
                .is_err()
        );
        assert!(pg("host=db.example password=x", true).validate().is_err());
        assert!(pg("", true).validate().is_err());
    }

    fn s3(endpoint: &str) -> S3 {
        S3 {
            endpoint: endpoint.into(),
            bucket: "sealdrop".into(),
            access_key_file: "/k".into(),
            secret_key_file: "/s".into(),
            ..S3::default()
        }
    }

    #[test]
    fn s3_plain_http_only_to_loopback_and_names_checked() {
        assert!(s3("").validate().is_ok());
        assert!(s3("https://s3.example.org").validate().is_ok());
        assert!(s3("http://127.0.0.1:8333").validate().is_ok());
        assert!(s3("http://[::1]:8333/").validate().is_ok());
        assert!(s3("http://localhost:8333").validate().is_ok());
        assert!(s3("http://s3.example.org").validate().is_err());
        assert!(s3("http://user@127.0.0.1").validate().is_err());
        assert!(s3("s3.example.org").validate().is_err());
        assert!(s3("https://").validate().is_err());
        let mut c = s3("");
        c.bucket = "Sealdrop".into();
        assert!(c.validate().is_err());
        c.bucket = String::new();
        assert!(c.validate().is_err());
        let mut c = s3("");
        c.secret_key_file = PathBuf::new();
        assert!(c.validate().is_err());
        for (p, ok) in [
            ("", true),
            ("sealdrop/", true),
            ("a/b-c_d.e/", true),
            ("sealdrop", false),
            ("/sealdrop/", false),
            ("a//", false),
            ("../", false),
            ("a/./", false),
            ("A/", false),
        ] {
            assert_eq!(valid_prefix(p), ok, "{p:?}");
        }
    }

    #[test]
    fn s3_part_size_grace_and_timeout_are_checked_at_their_edges() {
        let mut c = s3("");
        for (n, ok) in [
            (MIN_PART - 1, false),
            (MIN_PART, true),
            (MAX_PART, true),
            (MAX_PART + 1, false),
        ] {
            c.part_size = ByteSize(n);
            assert_eq!(c.validate().is_ok(), ok, "part size {n}");
        }
        c.part_size = ByteSize(MIN_PART);
        for (secs, ok) in [(59, false), (60, true)] {
            c.orphan_grace = HumanDuration(Duration::from_secs(secs));
            assert_eq!(c.validate().is_ok(), ok, "grace {secs}");
        }
        for (secs, ok) in [(0, false), (1, true), (600, true), (601, false)] {
            c.timeout = HumanDuration(Duration::from_secs(secs));
            assert_eq!(c.validate().is_ok(), ok, "timeout {secs}");
        }
        c.timeout = HumanDuration(Duration::from_secs(30));
        for (n, ok) in [(0, false), (1, true), (64, true), (65, false)] {
            c.uploads = n;
            assert_eq!(c.validate().is_ok(), ok, "uploads {n}");
        }
    }

    #[test]
    fn the_pool_and_schema_are_checked_at_their_edges() {
        let mut p = pg("host=db.example", true);
        for (n, ok) in [
            (0, false),
            (1, true),
            (MAX_POOL, true),
            (MAX_POOL + 1, false),
        ] {
            p.pool = n;
            assert_eq!(p.validate().is_ok(), ok, "pool {n}");
        }
        p.pool = 8;
        for (s, ok) in [
            ("sealdrop", true),
            ("_t1", true),
            ("Sealdrop", false),
            ("a;drop table kv", false),
            ("1a", false),
            ("", false),
        ] {
            p.schema = s.into();
            assert_eq!(p.validate().is_ok(), ok, "schema {s:?}");
        }
        p.schema = "a".repeat(63);
        assert!(p.validate().is_ok());
        p.schema = "a".repeat(64);
        assert!(p.validate().is_err());
    }
}
