//! The running portal's shared state and its domain operations: start-up (keys, database,
//! recovery), admission of uploads, and the team's read operations.

use crate::config::Config;
use crate::error::ApiError;
use crate::intake::Intake;
use crate::keys::{KeyError, KeyRing, KeyRingHandle};
use crate::record::Record;
use crate::store::{Blobs, Committer, Db, StoreError, blobs};
use std::io::Write;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Why the portal could not start or an operation failed.
#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    /// Keys could not be loaded.
    #[error(transparent)]
    Keys(#[from] KeyError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No such case.
    #[error("no submission with case number {0}")]
    NoSuchCase(String),
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// A workflow change was refused.
    #[error(transparent)]
    Workflow(crate::workflow::WorkflowError),
    /// Writing an export failed.
    #[error("export failed: {0}")]
    Export(String),
    /// An import was refused.
    #[error("import refused: {0}")]
    Import(String),
}

impl PortalError {
    /// What to do next.
    pub fn hint(&self) -> Option<String> {
        match self {
            PortalError::Keys(k) => k.hint(),
            PortalError::Store(StoreError::Db(m)) if m.contains("cannot open") => Some(
                "is another sealdrop process using this data_dir? Stop it, or use `sealdrop admin` \
                 to talk to it"
                    .into(),
            ),
            PortalError::Store(_) => Some("check that storage.data_dir exists and is writable".into()),
            PortalError::NoSuchCase(_) => Some("`sealdrop admin list` shows the case numbers".into()),
            PortalError::Workflow(w) => w.hint(),
            PortalError::Config(_) => {
                Some("deploy/sealdrop.example.toml documents every key with its default".into())
            }
            PortalError::Export(_) => None,
            PortalError::Import(_) => Some(
                "import only bundles made by `sealdrop rekey` from an export of the same case".into(),
            ),
        }
    }
}

impl From<String> for PortalError {
    fn from(s: String) -> Self {
        PortalError::Import(s)
    }
}

/// The shared state of a running portal.
pub struct Portal {
    /// The validated configuration.
    pub config: Config,
    /// The current key ring.
    pub keys: KeyRingHandle,
    /// Records.
    pub db: Db,
    /// Ciphertext files.
    pub blobs: Blobs,
    /// Group commit of finished uploads.
    pub committer: Committer,
    uploads: Arc<Semaphore>,
    /// Serialises edits of the recipients file, reloads and imports.
    pub(crate) edit_lock: std::sync::Mutex<()>,
    /// Calendar, promises and retention.
    pub policy: crate::workflow::Policy,
    /// Reference lookups per client address.
    pub lookups: crate::ratelimit::RateLimiter,
    /// Counters for monitoring.
    pub metrics: crate::metrics::Metrics,
    /// Notifications to the team and acknowledgements to reporters.
    pub notifier: crate::notify::Notifier,
}

impl Portal {
    /// Loads keys, opens storage and runs start-up recovery.
    pub fn open(config: Config) -> Result<Portal, PortalError> {
        let ring = KeyRing::load(&config.keys.recipients_file)?;
        blobs::create_private_dir(&config.storage.data_dir)?;
        let db = Db::open(&config.storage.data_dir.join("db"))?;
        let blobs = Blobs::open(&config.storage.data_dir)?;
        let expected: Vec<(String, String, Vec<String>)> = db
            .list()?
            .into_iter()
            .filter(|r| r.purged_at.is_none())
            .map(|r| (r.id.clone(), r.blob_dir().to_owned(), r.blob_names()))
            .collect();
        let report = blobs.recover(&expected)?;
        if report.tmp_removed + report.orphans_removed > 0 {
            tracing::info!(
                unfinished_uploads_removed = report.tmp_removed,
                unacknowledged_blobs_removed = report.orphans_removed,
                "start-up recovery cleaned up"
            );
        }
        for id in &report.missing {
            tracing::error!(
                submission = %id,
                "RECORD WITHOUT ITS FILES: this submission's ciphertext is missing from the data \
                 directory; restore it from backup"
            );
        }
        tracing::info!(keys = ring.keys().len(), key_ids = ?ring.ids(), "key ring loaded");
        crate::rotation::record_ring(&db, &ring)?;
        let permits = config.limits.max_concurrent_uploads;
        let policy = crate::workflow::Policy::from_config(&config)?;
        Ok(Portal {
            lookups: crate::ratelimit::RateLimiter::per_minute(config.limits.lookups_per_minute),
            metrics: crate::metrics::Metrics::default(),
            notifier: crate::notify::Notifier::start(&config, db.clone(), policy.clone())?,
            policy,
            keys: KeyRingHandle::new(ring),
            committer: Committer::start(blobs.clone(), db.clone())?,
            db,
            blobs,
            uploads: Arc::new(Semaphore::new(permits)),
            edit_lock: std::sync::Mutex::new(()),
            config,
        })
    }

    /// Refuses with 507 when less than `min_free_bytes` would remain after `incoming` bytes.
    pub fn check_free_space(&self, incoming: u64) -> Result<(), ApiError> {
        let free = self.blobs.free_bytes()?;
        if free
            < self
                .config
                .storage
                .min_free_bytes
                .0
                .saturating_add(incoming)
        {
            tracing::warn!(free_bytes = free, "upload refused: low disk space");
            return Err(ApiError::InsufficientStorage);
        }
        Ok(())
    }

    /// Admits a new upload (503 when too many run, 507 when space is short).
    pub fn begin_upload(self: &Arc<Self>, declared_len: Option<u64>) -> Result<Intake, ApiError> {
        let permit = Arc::clone(&self.uploads)
            .try_acquire_owned()
            .map_err(|_| ApiError::Busy)?;
        self.check_free_space(declared_len.unwrap_or(0))?;
        let id = new_id();
        let dir = self.blobs.begin(&id)?;
        Ok(Intake::new(Arc::clone(self), permit, id, dir))
    }

    /// One record by case number.
    pub async fn show(&self, case: &str) -> Result<Record, PortalError> {
        let key = case.to_owned();
        self.db
            .call(move |db| db.by_case(&key))
            .await?
            .ok_or_else(|| PortalError::NoSuchCase(case.to_owned()))
    }

    /// Writes the export bundle of `record` (blocking).
    pub fn export_blocking(&self, record: &Record, out: impl Write) -> Result<(), PortalError> {
        if let Some(at) = &record.purged_at {
            return Err(crate::workflow::WorkflowError::Purged {
                case: record.case.clone(),
                at: at.clone(),
            }
            .into());
        }
        crate::bundle::write(record, &self.blobs.dir(record.blob_dir()), out)
            .map_err(|e| PortalError::Export(e.to_string()))
    }
}

impl Portal {
    /// Health figures for monitoring: free space, submissions, keys, uploads running.
    pub fn health_blocking(&self) -> Result<serde_json::Value, PortalError> {
        let free = self.blobs.free_bytes()?;
        let min = self.config.storage.min_free_bytes.0;
        let limit = self.config.limits.max_concurrent_uploads;
        Ok(serde_json::json!({
            "status": if free >= min { "ok" } else { "low-disk-space" },
            "free_bytes": free,
            "min_free_bytes": min,
            "submissions": self.db.list()?.len(),
            "active_keys": self.keys.current().ids(),
            "uploads_running": limit - self.uploads.available_permits(),
            "max_concurrent_uploads": limit,
        }))
    }
}

impl Portal {
    /// True when reports of `category` must carry contact details.
    pub fn contact_required(&self, category: crate::record::Category) -> bool {
        self.config
            .org
            .contact_required_for
            .iter()
            .any(|c| c == category.as_str())
    }

    /// Uploads in progress.
    pub fn uploads_running(&self) -> usize {
        self.config.limits.max_concurrent_uploads - self.uploads.available_permits()
    }
}

/// A random submission id: 128 bits, hex. Never derived from user input.
fn new_id() -> String {
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    crate::digest::hex(&b)
}
