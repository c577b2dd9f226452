//! The PostgreSQL engine (feature `postgres`): every tree in one table `kv(tree, key, value)`
//! of the configured schema, serializable transactions run again on a conflict, and
//! compare-and-swap as one conditional statement. A commit is durable when PostgreSQL answers
//! (`synchronous_commit` is forced on for the portal's sessions). Several portals may share
//! the database. The only module that uses `postgres`.

use super::tree::{Entries, Tree};
use crate::store::{Refusal, StoreError};
use postgres::error::SqlState;
use postgres::{Client, IsolationLevel};
use std::sync::{Arc, Mutex};

/// PostgreSQL's failure inside a transaction.
pub type Fail = postgres::Error;

/// How a transaction's closure stops: a refusal (rolled back), or PostgreSQL's failure (run
/// again when it is a serialization conflict).
pub enum Abort {
    /// The transaction's condition failed.
    Refused(Refusal),
    /// PostgreSQL failed.
    Pg(Fail),
}

/// How often a transaction runs again after serialization conflicts before it gives up.
const MAX_ATTEMPTS: usize = 64;

/// Where and how to reach the database.
#[derive(Clone)]
pub struct Settings {
    /// A libpq connection string or `postgresql://` URL (without the password).
    pub url: String,
    /// The password, read from a file by the caller.
    pub password: Option<Vec<u8>>,
    /// TLS to the server (`None`: plain TCP or a Unix socket, for loopback only).
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// The schema the portal's table lives in (a plain lower-case identifier).
    pub schema: String,
    /// Connections kept open for reuse.
    pub pool: usize,
}

impl Settings {
    /// From `[storage.postgres]` (checked by the config): reads the password file and the
    /// CA file, and builds TLS on ring.
    pub fn from_config(c: &crate::config::Postgres) -> Result<Settings, StoreError> {
        let unreadable = |key: &str, path: &std::path::Path, e: &dyn std::fmt::Display| {
            StoreError::Db(format!("{key} {}: {e}", path.display()))
        };
        let password = if c.password_file.as_os_str().is_empty() {
            None
        } else {
            let text = crate::os::read_private_text(&c.password_file, true)
                .map_err(|e| unreadable("storage.postgres.password_file", &c.password_file, &e))?;
            Some(text.lines().next().unwrap_or("").as_bytes().to_vec())
        };
        let tls = if c.tls {
            Some(Arc::new(client_tls(c)?))
        } else {
            None
        };
        Ok(Settings {
            url: c.url.clone(),
            password,
            tls,
            schema: c.schema.clone(),
            pool: c.pool,
        })
    }
}

/// TLS to PostgreSQL on ring, trusting the system's CAs and those of `ca_file`.
fn client_tls(c: &crate::config::Postgres) -> Result<rustls::ClientConfig, StoreError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    // The CA file alone when one is given (trusting every public CA too would let any of them
    // vouch for the database's name); the system's CAs otherwise.
    if c.ca_file.as_os_str().is_empty() {
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
    } else {
        let certs = CertificateDer::pem_file_iter(&c.ca_file)
            .and_then(|i| i.collect::<Result<Vec<_>, _>>())
            .map_err(|e| {
                StoreError::Db(format!(
                    "storage.postgres.ca_file {}: {e}",
                    c.ca_file.display()
                ))
            })?;
        for cert in certs {
            roots.add(cert).map_err(|e| {
                StoreError::Db(format!(
                    "storage.postgres.ca_file {}: {e}",
                    c.ca_file.display()
                ))
            })?;
        }
    }
    if roots.is_empty() {
        return Err(StoreError::Db(
            "storage.postgres.tls is on but no CA is trusted: set storage.postgres.ca_file".into(),
        ));
    }
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Db(format!("TLS to PostgreSQL: {e}")))
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
}

/// A lock every portal on the schema shares, held until dropped.
pub struct Exclusive {
    client: Client,
    key: String,
}

impl Drop for Exclusive {
    fn drop(&mut self) {
        // Closing the connection would release it too; this is at once.
        let _ = self
            .client
            .execute("SELECT pg_advisory_unlock(hashtext($1))", &[&self.key]);
    }
}

/// A PostgreSQL database; cheap to clone.
#[derive(Clone)]
pub struct Pg {
    inner: Arc<Inner>,
}

struct Inner {
    config: postgres::Config,
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    /// Connections for reuse, with when each was last given back.
    idle: Mutex<Vec<(Client, std::time::Instant)>>,
    pool: usize,
    /// The connection holding the background-work lock, while this portal holds it.
    leader: Mutex<Option<Client>>,
    /// The lock's key text (one lock per schema).
    leader_key: String,
    /// Statements with the schema filled in.
    sql: Sql,
}

struct Sql {
    get: String,
    upsert: String,
    delete: String,
    insert_new: String,
    update_if: String,
    delete_if: String,
    scan_from: String,
    scan_range: String,
    clear: String,
    any: String,
    next_id: String,
}

impl Sql {
    fn new(s: &str) -> Sql {
        Sql {
            get: format!("SELECT value FROM {s}.kv WHERE tree = $1 AND key = $2"),
            upsert: format!(
                "INSERT INTO {s}.kv (tree, key, value) VALUES ($1, $2, $3) \
                 ON CONFLICT (tree, key) DO UPDATE SET value = EXCLUDED.value"
            ),
            delete: format!("DELETE FROM {s}.kv WHERE tree = $1 AND key = $2"),
            insert_new: format!(
                "INSERT INTO {s}.kv (tree, key, value) VALUES ($1, $2, $3) \
                 ON CONFLICT (tree, key) DO NOTHING"
            ),
            update_if: format!(
                "UPDATE {s}.kv SET value = $4 WHERE tree = $1 AND key = $2 AND value = $3"
            ),
            delete_if: format!("DELETE FROM {s}.kv WHERE tree = $1 AND key = $2 AND value = $3"),
            scan_from: format!(
                "SELECT key, value FROM {s}.kv WHERE tree = $1 AND key >= $2 ORDER BY key"
            ),
            scan_range: format!(
                "SELECT key, value FROM {s}.kv WHERE tree = $1 AND key >= $2 AND key < $3 \
                 ORDER BY key"
            ),
            clear: format!("DELETE FROM {s}.kv WHERE tree = $1"),
            any: format!("SELECT EXISTS (SELECT 1 FROM {s}.kv WHERE tree = $1)"),
            next_id: format!("SELECT nextval('{s}.ids')"),
        }
    }
}

/// PostgreSQL's error as the store's: a lost or refused connection is
/// [`StoreError::Unavailable`] (the client may try again), a full disk is [`StoreError::Full`].
pub fn pg_err(e: postgres::Error) -> StoreError {
    let text = format!("PostgreSQL: {}", crate::causes::chain(&e));
    if e.is_closed() {
        return StoreError::Unavailable(text);
    }
    match e.code() {
        Some(c) if *c == SqlState::DISK_FULL || *c == SqlState::OUT_OF_MEMORY => StoreError::Full,
        Some(c)
            if *c == SqlState::ADMIN_SHUTDOWN
                || *c == SqlState::CRASH_SHUTDOWN
                || *c == SqlState::CANNOT_CONNECT_NOW
                || *c == SqlState::TOO_MANY_CONNECTIONS
                // A standby after a fail-over: the primary is elsewhere now.
                || *c == SqlState::READ_ONLY_SQL_TRANSACTION
                || c.code().starts_with("08") =>
        {
            StoreError::Unavailable(text)
        }
        Some(_) => StoreError::Db(text),
        // No SQL state: the connection itself failed (refused, reset, timed out).
        None => StoreError::Unavailable(text),
    }
}

/// True when running the transaction again may succeed.
fn retryable(e: &postgres::Error) -> bool {
    e.code().is_some_and(|c| {
        *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED
    })
}

fn tree_no(tree: Tree) -> i16 {
    // Nine trees: the index always fits.
    i16::try_from(tree.index()).unwrap_or(i16::MAX)
}

/// The smallest key above every key that starts with `prefix` (`None`: no such bound).
fn after_prefix(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// A connection borrowed from the pool; back into it when dropped, unless it broke.
struct Lease<'a> {
    client: Option<Client>,
    inner: &'a Inner,
    /// Set when the connection failed: it is not given back.
    broken: bool,
}

impl std::ops::Deref for Lease<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        self.client
            .as_ref()
            .unwrap_or_else(|| unreachable!("leased"))
    }
}

impl std::ops::DerefMut for Lease<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        self.client
            .as_mut()
            .unwrap_or_else(|| unreachable!("leased"))
    }
}

impl Lease<'_> {
    /// PostgreSQL's error as the store's; a connection that failed is not reused.
    fn fail(&mut self, e: postgres::Error) -> StoreError {
        let err = pg_err(e);
        if matches!(err, StoreError::Unavailable(_)) {
            self.broken = true;
        }
        err
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.client.take()
            && !self.broken
            && !c.is_closed()
            && let Ok(mut idle) = self.inner.idle.lock()
            && idle.len() < self.inner.pool
        {
            idle.push((c, std::time::Instant::now()));
        }
    }
}

impl Pg {
    /// Connects, and creates the schema, table and sequence when they are missing (under a
    /// lock, so that portals starting together do not race).
    pub fn open(settings: &Settings) -> Result<Pg, StoreError> {
        if !crate::config::valid_schema(&settings.schema) {
            return Err(StoreError::Db(format!(
                "storage.postgres.schema {:?} is not a plain lower-case name",
                settings.schema
            )));
        }
        let mut config: postgres::Config = settings.url.parse().map_err(|e| {
            StoreError::Db(format!(
                "storage.postgres.url is not a connection string: {e}"
            ))
        })?;
        // What the connection string means, not how it is spelled: no password in it, and
        // plain TCP only to loopback.
        if config.get_password().is_some() {
            return Err(StoreError::Db(
                "storage.postgres.url holds a password: put it in the file named by \
                 storage.postgres.password_file"
                    .into(),
            ));
        }
        if settings.tls.is_none() {
            let remote = config.get_hosts().iter().any(|h| match h {
                postgres::config::Host::Tcp(name) => {
                    name != "localhost"
                        && !name
                            .parse::<std::net::IpAddr>()
                            .is_ok_and(|ip| ip.is_loopback())
                }
                postgres::config::Host::Unix(_) => false,
            }) || config.get_hostaddrs().iter().any(|ip| !ip.is_loopback());
            if remote {
                return Err(StoreError::Db(
                    "storage.postgres.tls is off for a host that is not loopback: turn TLS on"
                        .into(),
                ));
            }
        }
        if let Some(p) = &settings.password {
            config.password(p);
        }
        // A dead peer is noticed within a minute instead of when TCP gives up.
        config
            .keepalives(true)
            .keepalives_idle(std::time::Duration::from_secs(30))
            .tcp_user_timeout(std::time::Duration::from_secs(60));
        if settings.tls.is_some() {
            // TLS or nothing: never the plain connection libpq's default `prefer` falls back to.
            config.ssl_mode(postgres::config::SslMode::Require);
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(std::time::Duration::from_secs(10));
        }
        config.application_name("sealdrop");
        let pg = Pg {
            inner: Arc::new(Inner {
                config,
                tls: settings
                    .tls
                    .as_ref()
                    .map(|c| tokio_postgres_rustls::MakeRustlsConnect::new((**c).clone())),
                idle: Mutex::new(Vec::new()),
                pool: settings.pool.max(1),
                leader: Mutex::new(None),
                leader_key: format!("sealdrop-background/{}", settings.schema),
                sql: Sql::new(&settings.schema),
            }),
        };
        let s = &settings.schema;
        let mut client = pg.client()?;
        let mut t = client.transaction().map_err(pg_err)?;
        t.batch_execute(&format!(
            "SELECT pg_advisory_xact_lock(hashtext('sealdrop-schema'));
             CREATE SCHEMA IF NOT EXISTS {s};
             CREATE TABLE IF NOT EXISTS {s}.kv (
                 tree smallint NOT NULL,
                 key bytea NOT NULL,
                 value bytea NOT NULL,
                 PRIMARY KEY (tree, key));
             CREATE SEQUENCE IF NOT EXISTS {s}.ids;"
        ))
        .map_err(pg_err)?;
        t.commit().map_err(pg_err)?;
        drop(client);
        Ok(pg)
    }

    fn client(&self) -> Result<Lease<'_>, StoreError> {
        let inner = &*self.inner;
        let reused = inner
            .idle
            .lock()
            .map_err(|_| StoreError::Db("connection pool poisoned".into()))?
            .pop();
        // A connection idle for a while may have died with a restart of the server, which a
        // synchronous client notices only when it is used: check it first (a round trip, only
        // for those).
        let client = match reused {
            Some((c, _)) if c.is_closed() => self.connect()?,
            Some((mut c, since)) if since.elapsed() > std::time::Duration::from_secs(1) => {
                if c.is_valid(std::time::Duration::from_secs(5)).is_ok() {
                    c
                } else {
                    self.connect()?
                }
            }
            Some((c, _)) => c,
            None => self.connect()?,
        };
        Ok(Lease {
            client: Some(client),
            inner,
            broken: false,
        })
    }

    fn connect(&self) -> Result<Client, StoreError> {
        let inner = &*self.inner;
        let mut c = match &inner.tls {
            Some(tls) => inner.config.connect(tls.clone()),
            None => inner.config.connect(postgres::NoTls),
        }
        .map_err(pg_err)?;
        // Every statement serializable (so plain compare-and-swaps and transactions see each
        // other's conflicts), and durable when PostgreSQL answers.
        c.batch_execute(
            "SET default_transaction_isolation TO 'serializable';
             SET synchronous_commit TO on;
             SET statement_timeout TO '120s';",
        )
        .map_err(pg_err)?;
        Ok(c)
    }

    /// True while this portal holds the background-work lock: a session lock on a connection
    /// of its own, taken when free and kept while that connection lives. When the holder dies
    /// its connection ends, PostgreSQL frees the lock, and the next portal to ask takes it.
    pub fn lead(&self) -> Result<bool, StoreError> {
        let mut slot = self
            .inner
            .leader
            .lock()
            .map_err(|_| StoreError::Db("leader lock poisoned".into()))?;
        if let Some(c) = slot.as_mut() {
            if !c.is_closed() && c.simple_query("SELECT 1").is_ok() {
                return Ok(true);
            }
            *slot = None;
        }
        let mut c = self.connect()?;
        let held: bool = c
            .query_one(
                "SELECT pg_try_advisory_lock(hashtext($1))",
                &[&self.inner.leader_key],
            )
            .map_err(pg_err)?
            .get(0);
        if held {
            *slot = Some(c);
        }
        Ok(held)
    }

    /// Waits for and takes the lock `name` that every portal on this schema shares (a session
    /// advisory lock on a connection of its own); it is released when the guard drops, or by
    /// PostgreSQL when this portal dies.
    pub fn exclusive(&self, name: &str) -> Result<Exclusive, StoreError> {
        let schema = self
            .inner
            .leader_key
            .trim_start_matches("sealdrop-background/");
        let key = format!("sealdrop-{name}/{schema}");
        let mut client = self.connect()?;
        // Waiting for another portal's backup may take longer than any statement may.
        client
            .batch_execute("SET statement_timeout = 0")
            .map_err(pg_err)?;
        client
            .execute("SELECT pg_advisory_lock(hashtext($1))", &[&key])
            .map_err(pg_err)?;
        Ok(Exclusive { client, key })
    }

    /// Runs one statement (its own transaction) again while it meets serialization conflicts.
    fn retry<T>(&self, mut f: impl FnMut(&mut Client) -> Result<T, Fail>) -> Result<T, StoreError> {
        let mut client = self.client()?;
        let mut attempt = 0;
        loop {
            match f(&mut client) {
                Err(e) if retryable(&e) && attempt < MAX_ATTEMPTS => attempt += 1,
                Err(e) => return Err(client.fail(e)),
                Ok(v) => return Ok(v),
            }
        }
    }

    pub fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let sql = &self.inner.sql.get;
        self.retry(|c| c.query_opt(sql, &[&tree_no(tree), &key]))
            .map(|row| row.map(|r| r.get(0)))
    }

    pub fn scan(&self, tree: Tree, prefix: &[u8]) -> Result<Entries, StoreError> {
        let sql = &self.inner.sql;
        let rows = match after_prefix(prefix) {
            Some(end) => self.retry(|c| c.query(&sql.scan_range, &[&tree_no(tree), &prefix, &end])),
            None => self.retry(|c| c.query(&sql.scan_from, &[&tree_no(tree), &prefix])),
        }?;
        Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    pub fn cas(
        &self,
        tree: Tree,
        key: &[u8],
        old: Option<&[u8]>,
        new: Option<&[u8]>,
    ) -> Result<bool, StoreError> {
        let sql = &self.inner.sql;
        let t = tree_no(tree);
        match (old, new) {
            (None, Some(new)) => self.retry(|c| c.execute(&sql.insert_new, &[&t, &key, &new])),
            (Some(old), Some(new)) => {
                self.retry(|c| c.execute(&sql.update_if, &[&t, &key, &old, &new]))
            }
            (Some(old), None) => self.retry(|c| c.execute(&sql.delete_if, &[&t, &key, &old])),
            (None, None) => return Ok(self.get(tree, key)?.is_none()),
        }
        .map(|n| n == 1)
    }

    pub fn set(&self, tree: Tree, key: &[u8], value: Option<&[u8]>) -> Result<(), StoreError> {
        let sql = &self.inner.sql;
        let t = tree_no(tree);
        match value {
            Some(v) => self.retry(|c| c.execute(&sql.upsert, &[&t, &key, &v])),
            None => self.retry(|c| c.execute(&sql.delete, &[&t, &key])),
        }
        .map(|_| ())
    }

    pub fn increment(&self, tree: Tree, key: &[u8]) -> Result<u64, StoreError> {
        self.transact(|tx| {
            let n = tx
                .get(tree, key)
                .map_err(Abort::Pg)?
                .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
                .map_or(0, u64::from_be_bytes)
                .saturating_add(1);
            tx.insert(tree, key, &n.to_be_bytes()).map_err(Abort::Pg)?;
            Ok(n)
        })
    }

    pub fn transact<T>(
        &self,
        f: impl Fn(&mut Tx<'_>) -> Result<T, Abort>,
    ) -> Result<T, StoreError> {
        let inner = &*self.inner;
        let mut client = self.client()?;
        for _ in 0..MAX_ATTEMPTS {
            // What this attempt came to; the transaction (and its borrow) ends with the block.
            let failed = {
                let t = client
                    .build_transaction()
                    .isolation_level(IsolationLevel::Serializable)
                    .start();
                match t {
                    Err(e) => e,
                    Ok(t) => {
                        let mut tx = Tx { t, sql: &inner.sql };
                        match f(&mut tx) {
                            Ok(v) => match tx.t.commit() {
                                Ok(()) => return Ok(v),
                                Err(e) if retryable(&e) => continue,
                                Err(e) => e,
                            },
                            // Dropping the transaction rolls it back.
                            Err(Abort::Refused(r)) => return Err(StoreError::Refused(r)),
                            Err(Abort::Pg(e)) if retryable(&e) => continue,
                            Err(Abort::Pg(e)) => e,
                        }
                    }
                }
            };
            return Err(client.fail(failed));
        }
        Err(StoreError::Unavailable(
            "PostgreSQL: too many conflicting writers".into(),
        ))
    }

    pub fn next_id(&self) -> Result<u64, StoreError> {
        let sql = &self.inner.sql.next_id;
        let n: i64 = self.retry(|c| c.query_one(sql, &[]))?.get(0);
        u64::try_from(n).map_err(|_| StoreError::Db("negative sequence value".into()))
    }

    pub fn clear(&self, tree: Tree) -> Result<(), StoreError> {
        let sql = &self.inner.sql.clear;
        self.retry(|c| c.execute(sql, &[&tree_no(tree)]))
            .map(|_| ())
    }

    pub fn is_empty(&self, tree: Tree) -> Result<bool, StoreError> {
        let sql = &self.inner.sql.any;
        let any: bool = self.retry(|c| c.query_one(sql, &[&tree_no(tree)]))?.get(0);
        Ok(!any)
    }
}

/// A serializable transaction of the portal.
pub struct Tx<'a> {
    t: postgres::Transaction<'a>,
    sql: &'a Sql,
}

impl Tx<'_> {
    pub fn get(&mut self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, Fail> {
        let row = self.t.query_opt(&self.sql.get, &[&tree_no(tree), &key])?;
        Ok(row.map(|r| r.get(0)))
    }

    pub fn insert(&mut self, tree: Tree, key: &[u8], value: &[u8]) -> Result<(), Fail> {
        self.t
            .execute(&self.sql.upsert, &[&tree_no(tree), &key, &value])?;
        Ok(())
    }

    pub fn remove(&mut self, tree: Tree, key: &[u8]) -> Result<(), Fail> {
        self.t.execute(&self.sql.delete, &[&tree_no(tree), &key])?;
        Ok(())
    }

    /// The sequence's next value (never negative: it starts at 1).
    pub fn next_id(&mut self) -> Result<u64, Fail> {
        let n: i64 = self.t.query_one(&self.sql.next_id, &[])?.get(0);
        Ok(n.unsigned_abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_after_a_prefix_covers_exactly_the_keys_that_start_with_it() {
        assert_eq!(after_prefix(b""), None);
        assert_eq!(after_prefix(b"csaf/"), Some(b"csaf0".to_vec()));
        assert_eq!(after_prefix(&[1, 0xff]), Some(vec![2]));
        assert_eq!(after_prefix(&[0xff, 0xff]), None);
    }
}
