//! The running portal's shared state and its domain operations: start-up (keys, database,
//! recovery), admission of uploads, and the team's read operations.

use crate::clock::Clock;
use crate::config::Config;
use crate::error::ApiError;
use crate::keys::{KeyError, KeyRing, KeyRingHandle};
use crate::record::Record;
use crate::store::{Refusal, Store, StoreError, Upload};
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
    /// A blocking task panicked or was cancelled.
    #[error(transparent)]
    Task(#[from] TaskFailed),
    /// The receipt key could not be loaded, made or rotated.
    #[error(transparent)]
    Receipt(#[from] crate::receipt::ReceiptError),
    /// The console is not configured.
    #[error("the team's console is off: [console] listen is not set")]
    ConsoleOff,
    /// A signed security.txt was refused.
    #[error("security.txt refused: {0}")]
    SecurityTxt(#[from] crate::securitytxt::Refused),
    /// A CSAF advisory was refused.
    #[error("advisory refused: {0}")]
    Advisory(#[from] crate::csaf::Refused),
}

pub use crate::error::TaskFailed;

impl crate::hint::Hint for PortalError {
    fn hint(&self) -> Option<String> {
        match self {
            PortalError::Keys(k) => k.hint(),
            PortalError::Store(StoreError::Open { .. }) => Some(
                "is another sealdrop process using this data_dir? Stop it, or use `sealdrop admin` \
                 to talk to it"
                    .into(),
            ),
            PortalError::Store(StoreError::Refused(Refusal::Purged | Refusal::Replaced)) => Some(
                "the case changed while this ran; `sealdrop admin show CASE` shows it now".into(),
            ),
            PortalError::Store(crate::store::StoreError::Unavailable(_)) => Some(
                "check that the database (storage.postgres) and the object store (storage.s3) are \
                 running and reachable, and their TLS certificates (ca_file); the portal retries \
                 by itself once they run"
                    .into(),
            ),
            // These messages name the setting to check themselves.
            PortalError::Store(StoreError::Db(_)) => None,
            PortalError::Store(_) => Some("check that storage.data_dir exists and is writable".into()),
            PortalError::NoSuchCase(_) => Some("`sealdrop admin list` shows the case numbers".into()),
            PortalError::Workflow(w) => w.hint(),
            PortalError::Config(_) => {
                Some("deploy/sealdrop.example.toml documents every key with its default".into())
            }
            PortalError::Export(_) | PortalError::Task(_) => None,
            PortalError::Receipt(r) => r.hint(),
            PortalError::ConsoleOff => Some(
                "set [console] listen (e.g. 127.0.0.1:8444) in the config and restart".into(),
            ),
            PortalError::SecurityTxt(crate::securitytxt::Refused::NoKey(_)) => Some(
                "set org.security_txt_signing_key to the organisation's OpenPGP public key \
                 (`gpg --armor --export KEY > keys/security-txt.asc`) and restart"
                    .into(),
            ),
            PortalError::SecurityTxt(_) => Some(
                "run `sealdrop admin securitytxt render -o security.txt`, sign that with `gpg \
                 --clearsign security.txt` on your own machine and install security.txt.asc"
                    .into(),
            ),
            PortalError::Advisory(crate::csaf::Refused::NoKey(_)) => Some(
                "set org.security_txt_signing_key to the organisation's OpenPGP public key \
                 (`gpg --armor --export KEY > keys/openpgp.asc`) and restart"
                    .into(),
            ),
            PortalError::Advisory(crate::csaf::Refused::Signature(_)) => {
                Some(
                    "sign the draft exactly as `sealdrop admin advisory draft` wrote it, with \
                     `gpg --detach-sign --armor FILE.json`, and give the FILE.json.asc it makes"
                        .into(),
                )
            }
            PortalError::Advisory(crate::csaf::Refused::Unknown(_)) => {
                Some("`sealdrop admin advisory list` shows the advisories and drafts".into())
            }
            PortalError::Advisory(_) => None,
            PortalError::Import(_) => Some(
                "import only bundles made by `sealdrop rekey` from an export of the same case".into(),
            ),
        }
    }
}

impl From<crate::bundle::BundleError> for PortalError {
    fn from(e: crate::bundle::BundleError) -> Self {
        PortalError::Import(e.0)
    }
}

/// An admitted upload: its place in the store and its pass through the gate.
pub struct Admission {
    /// Slots and pace, held until the upload ends.
    pub pass: crate::gate::Pass,
    /// Its `tmp/` folder and space reservation.
    pub upload: Upload,
}

/// The shared state of a running portal. Its fields are private: handlers call its methods,
/// and every durable change goes through its [`Store`].
pub struct Portal {
    config: Config,
    keys: KeyRingHandle,
    store: Store,
    uploads: Arc<Semaphore>,
    /// Serialises edits of the recipients file, reloads and imports (taken before any lock of
    /// the store), through [`Portal::edit_lock`].
    edits: std::sync::Mutex<()>,
    policy: crate::workflow::Policy,
    lookups: crate::ratelimit::RateLimiter,
    submissions: crate::ratelimit::RateLimiter,
    upload_slots: crate::ratelimit::Concurrency,
    unfinished_slots: crate::ratelimit::Concurrency,
    client_addr: crate::clientaddr::ClientAddr,
    metrics: crate::metrics::Metrics,
    notifier: crate::notify::Notifier,
    receipts: crate::receipt::ReceiptKeys,
    /// The public list of credits while fresh (`cases::disclosure`).
    credits: std::sync::Mutex<CreditsCache>,
    /// The published CSAF advisories while fresh (`ops::csaf_folder`).
    advisories: std::sync::Mutex<AdvisoriesCache>,
    /// Reference derivations with the portal's salt, bounded (`limits.max_reference_checks`).
    reference_checks: crate::refcheck::ReferenceChecks,
    /// The team's console: sign-in links, pending sign-ins, sessions.
    console: crate::console::Console,
}

/// When the public list of credits was read, and what it held.
pub(crate) type CreditsCache = Option<(
    std::time::Instant,
    Arc<Vec<crate::workflow::PublishedCredit>>,
)>;

/// When the published advisories were read, and what they were.
pub(crate) type AdvisoriesCache = Option<(std::time::Instant, Arc<Vec<crate::csaf::Advisory>>)>;

impl Portal {
    /// Loads keys, opens storage and runs start-up recovery.
    pub fn open(config: Config) -> Result<Portal, PortalError> {
        Portal::open_with_clock(config, Clock::for_server())
    }

    /// [`Portal::open`] with the clock every stored time is read from.
    pub fn open_with_clock(config: Config, clock: Clock) -> Result<Portal, PortalError> {
        let ring = KeyRing::load(&config.keys.recipients_file)?;
        let (store, report) = Store::open(&config.storage, clock)?;
        if report.tmp_removed + report.orphans_removed + report.orphans_waiting > 0 {
            tracing::info!(
                unfinished_uploads_removed = report.tmp_removed,
                unacknowledged_blobs_removed = report.orphans_removed,
                unacknowledged_blobs_within_grace = report.orphans_waiting,
                "start-up recovery cleaned up"
            );
        }
        for id in &report.missing {
            tracing::error!(
                submission = %id,
                "RECORD WITHOUT ITS FILES: this submission's ciphertext is missing from its \
                 storage; restore it from backup"
            );
        }
        tracing::info!(keys = ring.keys().len(), key_ids = ?ring.ids(), "key ring loaded");
        store.record_ring(&ring, None, &crate::record::Actor::portal())?;
        let reference_salt = store.reference_salt()?;
        let receipts = crate::receipt::ReceiptKeys::open(
            &config.storage.data_dir,
            &crate::clock::rfc3339(clock.now()),
        )?;
        store
            .partials()
            .set_limit(config.limits.max_unfinished_uploads);
        store
            .partials()
            .set_idle_expiry(config.limits.upload_idle());
        let permits = config.limits.max_concurrent_uploads;
        let policy = crate::workflow::Policy::from_config(&config)?;
        let client_addr = crate::clientaddr::ClientAddr::new(
            &config.server.trusted_proxies,
            &config.server.client_ip_header,
        )
        .map_err(|problem| crate::config::ConfigError::Invalid {
            key: "server.trusted_proxies",
            problem,
        })?;
        Ok(Portal {
            lookups: crate::ratelimit::RateLimiter::per_minute(config.limits.lookups_per_minute),
            submissions: crate::ratelimit::RateLimiter::new(
                config.limits.submissions_per_hour,
                std::time::Duration::from_secs(3600),
            ),
            upload_slots: crate::ratelimit::Concurrency::new(config.limits.max_uploads_per_client),
            unfinished_slots: crate::ratelimit::Concurrency::new(
                config.limits.unfinished_per_client(),
            ),
            client_addr,
            metrics: crate::metrics::Metrics::default(),
            notifier: crate::notify::Notifier::start(
                &config,
                store.notices(),
                policy.clone(),
                clock,
            )?,
            policy,
            receipts,
            credits: std::sync::Mutex::new(None),
            advisories: std::sync::Mutex::new(None),
            reference_checks: crate::refcheck::ReferenceChecks::new(
                reference_salt,
                config.limits.max_reference_checks,
                crate::refcheck::WAIT,
            ),
            console: crate::console::Console::new(
                &config.console,
                if config.console.public_url.is_empty() {
                    format!("http://{}", config.console.listen)
                } else {
                    config.console.public_url.clone()
                },
            ),
            keys: KeyRingHandle::new(ring),
            store,
            uploads: Arc::new(Semaphore::new(permits)),
            edits: std::sync::Mutex::new(()),
            config,
        })
    }

    /// The team's console.
    pub fn console(&self) -> &crate::console::Console {
        &self.console
    }

    /// The validated configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The current key ring.
    pub fn keys(&self) -> &KeyRingHandle {
        &self.keys
    }

    /// The data directory.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Calendar, promises and retention.
    pub fn policy(&self) -> &crate::workflow::Policy {
        &self.policy
    }

    /// Reference lookups per client address.
    pub fn lookups(&self) -> &crate::ratelimit::RateLimiter {
        &self.lookups
    }

    /// Who a request comes from, for the per-client limits.
    pub fn client_addr(&self) -> &crate::clientaddr::ClientAddr {
        &self.client_addr
    }

    /// Counters for monitoring.
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.metrics
    }

    /// The receipt key (signs receipts; decrypts nothing).
    pub fn receipts(&self) -> &crate::receipt::ReceiptKeys {
        &self.receipts
    }

    /// Takes the edit lock: in this process, and among every portal sharing the database.
    pub(crate) fn edit_lock(&self) -> Result<crate::store::Held<'_>, PortalError> {
        Ok(self.store.hold(&self.edits, "edits")?)
    }

    /// The public list of credits while fresh.
    pub(crate) fn credits_cache(&self) -> &std::sync::Mutex<CreditsCache> {
        &self.credits
    }

    /// The published advisories while fresh.
    pub(crate) fn advisories_cache(&self) -> &std::sync::Mutex<AdvisoriesCache> {
        &self.advisories
    }

    /// The identity the receipt keys are published for (`ssh-keygen -Y verify -I`).
    pub fn receipt_principal(&self) -> String {
        crate::receipt::document::principal(&self.public_url())
    }

    /// Notifications to the team and acknowledgements to reporters.
    pub fn notifier(&self) -> &crate::notify::Notifier {
        &self.notifier
    }

    /// Runs blocking domain work (database, files) on the blocking pool: the one way handlers
    /// reach the portal's `*_blocking` operations.
    pub async fn blocking<T, E>(
        self: &Arc<Self>,
        f: impl FnOnce(&Portal) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<TaskFailed> + Send + 'static,
    {
        let portal = Arc::clone(self);
        tokio::task::spawn_blocking(move || f(&portal))
            .await
            .map_err(|e| E::from(TaskFailed(e.to_string())))?
    }

    /// Derives what `reference` unlocks (`Reference::derive`, memory-hard) on the blocking
    /// pool, at most `limits.max_reference_checks` at once, so that a flood of lookups cannot
    /// take the CPU from uploads: a request that finds no turn within a few seconds gets 503.
    pub async fn derive_reference(
        &self,
        reference: &crate::reference::Reference,
    ) -> Result<crate::reference::Derived, ApiError> {
        self.reference_checks.derive(reference).await
    }

    /// [`Portal::derive_reference`] for a new report: it waits for its turn however long the
    /// lookups keep the turns busy, instead of refusing a report whose body has arrived.
    pub async fn derive_new_reference(
        &self,
        reference: &crate::reference::Reference,
    ) -> Result<crate::reference::Derived, ApiError> {
        self.reference_checks.derive_for_report(reference).await
    }

    /// Now, by the portal's clock.
    pub fn now(&self) -> jiff::Timestamp {
        self.store.clock().now()
    }

    /// Admits a new upload from `client`: 429 when the client already runs
    /// `max_uploads_per_client` uploads, 503 when too many run in all, 507 when its declared
    /// size does not fit above `storage.min_free_bytes` beside what the running uploads have
    /// reserved. The admission's slots are freed when it is dropped. Its `tmp/` folder is made
    /// on the blocking pool.
    pub async fn admit_upload(
        self: &Arc<Self>,
        declared_len: Option<u64>,
        client: Option<std::net::IpAddr>,
    ) -> Result<Admission, ApiError> {
        let pass = self.admit(client)?;
        let upload = self
            .blocking(move |p| p.store.begin_upload(declared_len).map_err(ApiError::from))
            .await?;
        Ok(Admission { pass, upload })
    }

    /// The gate every request body that carries upload bytes passes (a form post, a
    /// follow-up, an invitation, one PATCH of a resumable upload): its slots (429 when the
    /// client already runs `max_uploads_per_client`, 503 when too many run in all) and its
    /// pace.
    pub fn admit(&self, client: Option<std::net::IpAddr>) -> Result<crate::gate::Pass, ApiError> {
        let slot = self
            .upload_slots
            .acquire(client)
            .ok_or(ApiError::TooManyUploads)?;
        let permit = Arc::clone(&self.uploads)
            .try_acquire_owned()
            .map_err(|_| ApiError::Busy)?;
        Ok(crate::gate::Pass::new((permit, slot), &self.config.limits))
    }

    /// One of the client's `max_unfinished_uploads_per_client` unfinished resumable uploads;
    /// 429 when it holds them all.
    pub fn unfinished_slot(
        &self,
        client: Option<std::net::IpAddr>,
    ) -> Result<crate::ratelimit::Slot, ApiError> {
        self.unfinished_slots
            .acquire(client)
            .ok_or(ApiError::TooManyUnfinished)
    }

    /// Counts a new report from `client` against `limits.submissions_per_hour` (429 with the
    /// seconds to wait).
    pub fn admit_submission(&self, client: Option<std::net::IpAddr>) -> Result<(), ApiError> {
        self.submissions
            .check(client)
            .map_err(ApiError::TooManySubmissions)
    }

    /// One record by case number.
    pub async fn show(&self, case: &str) -> Result<Record, PortalError> {
        self.store
            .record_async(case)
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
        self.store
            .export(record, out)
            .map_err(|e| PortalError::Export(e.to_string()))
    }

    /// Writes a consistent online backup to `out`; the number of records in it.
    pub fn backup_blocking(
        &self,
        out: impl Write,
    ) -> Result<usize, crate::store::backup::BackupError> {
        self.store.backup(out)
    }
}

impl Portal {
    /// Health figures for monitoring: free space, submissions, keys, uploads running.
    pub fn health_blocking(&self) -> Result<serde_json::Value, PortalError> {
        let free = self.store.free_bytes()?;
        let min = self.config.storage.min_free_bytes.0;
        let limit = self.config.limits.max_concurrent_uploads;
        Ok(serde_json::json!({
            "status": if free >= min { "ok" } else { "low-disk-space" },
            "free_bytes": free,
            "min_free_bytes": min,
            "reserved_bytes": self.store.reserved_bytes(),
            "submissions": self.store.records()?.len(),
            "active_keys": self.keys.current().ids(),
            "uploads_running": limit - self.uploads.available_permits(),
            "max_concurrent_uploads": limit,
            "database": self.store.engine(),
            "ciphertext": self.store.blob_engine(),
            "background": self.store.leads_background()?,
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
