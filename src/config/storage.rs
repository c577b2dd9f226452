//! `[storage]`'s engines: where the records live (`metadata`: sled in the data folder, or
//! PostgreSQL for several portals on one database) and how the portal reaches PostgreSQL
//! (`[storage.postgres]`).

use super::ConfigError;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

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
