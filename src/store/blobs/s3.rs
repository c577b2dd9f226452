//! The ciphertext in an S3-compatible bucket (`storage.blobs = "s3"`); the only user of
//! object_store. The store runs on blocking threads, so every call here blocks: the requests
//! run on a runtime of this module's own, on one thread, and the caller waits for the answer.
//!
//! Objects are created and never overwritten. A single PUT carries `If-None-Match: *`, so the
//! service itself refuses a second object at the same key. S3 has no such condition for
//! multipart uploads: a multipart object is started only after a HEAD finds its key free, and
//! its stored size is checked once it is complete. The keys hold random ids that no two
//! uploads share, so neither check should ever fire; they are there so a mistake (two portals
//! on one prefix with different databases) fails loudly instead of replacing evidence.
//!
//! Payloads are sent unsigned (`UNSIGNED-PAYLOAD`): the ciphertext is authenticated by age
//! and every read checks each file's SHA-256 against its record, so hashing it a third time
//! for the signature would only cost CPU.

use super::super::StoreError;
use futures_util::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as Key;
use object_store::{
    ClientOptions, MultipartUpload, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload,
};
use std::collections::VecDeque;
use std::future::Future;
use std::io::{self, Read};
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, SystemTime};

/// Objects up to this size are buffered without a slot (the manifests, small files): memory for
/// them is bounded by the uploads the portal admits.
const UNCOUNTED: usize = 256 << 10;

/// One object under the prefix.
#[derive(Debug, Clone)]
pub struct Listed {
    /// Its key after the prefix (`blobs/<folder>/<file>`).
    pub key: String,
    /// Its size in bytes.
    pub size: u64,
    /// When it was stored (for a multipart object: when its upload began, on some services).
    pub modified: SystemTime,
}

/// A bucket and prefix, with the runtime its requests run on.
pub struct Bucket {
    store: Arc<AmazonS3>,
    handle: tokio::runtime::Handle,
    /// Stops the runtime's thread when the bucket goes.
    _stop: tokio::sync::oneshot::Sender<()>,
    prefix: String,
    part_size: usize,
    grace: Duration,
    name: String,
    slots: Arc<Slots>,
}

impl std::fmt::Debug for Bucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bucket({})", self.name)
    }
}

/// Objects that may be buffered in memory at once (each holds up to two parts).
struct Slots {
    free: Mutex<usize>,
    freed: Condvar,
}

impl Slots {
    fn take(self: &Arc<Self>) -> Slot {
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        while *free == 0 {
            free = self.freed.wait(free).unwrap_or_else(|p| p.into_inner());
        }
        *free -= 1;
        Slot(Arc::clone(self))
    }
}

struct Slot(Arc<Slots>);

impl Drop for Slot {
    fn drop(&mut self) {
        *self.0.free.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        self.0.freed.notify_one();
    }
}

/// Reads the first line of a credentials file; a secret must be private to the portal.
fn read_line(key: &str, path: &Path, secret: bool) -> Result<String, StoreError> {
    let text = crate::os::read_private_text(path, secret)
        .map_err(|problem| StoreError::Db(format!("{key} {}: {problem}", path.display())))?;
    let line = text.lines().next().unwrap_or("").trim().to_owned();
    if line.is_empty() {
        return Err(StoreError::Db(format!(
            "{key} {} is empty: put the credential on its first line",
            path.display()
        )));
    }
    Ok(line)
}

/// Why a request failed, as the store says it: a service that cannot be reached, or answers
/// with a server error, is unavailable (503, try again); anything else is a storage error.
fn fail(what: &str, e: object_store::Error) -> StoreError {
    let text = crate::causes::chain(&e);
    let transient = match &e {
        object_store::Error::Generic { source, .. } => {
            let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(source.as_ref());
            let mut connection = false;
            while let Some(c) = cause {
                connection |= c
                    .downcast_ref::<object_store::client::HttpError>()
                    .is_some();
                cause = c.source();
            }
            // The client's status errors are not public types; their text is stable.
            connection
                || text.contains("non-2xx status code: 5")
                || text.contains("non-2xx status code: 429")
        }
        object_store::Error::JoinError { .. } => true,
        _ => false,
    };
    let text = format!("the object store, {what}: {text}");
    if transient {
        StoreError::Unavailable(text)
    } else {
        StoreError::Db(text)
    }
}

/// Starts `fut` on the runtime behind `handle`; its answer comes through the returned plain
/// channel, so that a thread of another runtime may wait for it.
fn spawn<T: Send + 'static>(
    handle: &tokio::runtime::Handle,
    fut: impl Future<Output = T> + Send + 'static,
) -> mpsc::Receiver<T> {
    let (tx, rx) = mpsc::sync_channel(1);
    handle.spawn(async move {
        let _ = tx.send(fut.await);
    });
    rx
}

/// Waits for a request started by [`spawn`]; a runtime that stopped is an unavailable store.
fn wait<T>(rx: mpsc::Receiver<object_store::Result<T>>, what: &str) -> Result<T, StoreError> {
    match rx.recv() {
        Ok(answer) => answer.map_err(|e| fail(what, e)),
        Err(_) => Err(StoreError::Unavailable(format!(
            "the object store, {what}: its runtime stopped"
        ))),
    }
}

impl Bucket {
    /// Connects to the bucket `[storage.s3]` names (checked by the config) and checks that it
    /// answers.
    pub fn open(c: &crate::config::S3) -> Result<Bucket, StoreError> {
        // reqwest's rustls has no provider of its own in this build: ring, the process-wide
        // default (an error only means one is installed already).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let access = read_line("storage.s3.access_key_file", &c.access_key_file, false)?;
        let secret = read_line("storage.s3.secret_key_file", &c.secret_key_file, true)?;
        // No limit on a whole request (a large object streams for as long as it takes); a
        // connection that stalls for `timeout` fails.
        let mut options = ClientOptions::new()
            .with_timeout_disabled()
            .with_read_timeout(c.timeout.0)
            .with_connect_timeout(Duration::from_secs(5).min(c.timeout.0))
            .with_allow_http(c.endpoint.starts_with("http://"));
        if !c.ca_file.as_os_str().is_empty() {
            let pem = std::fs::read(&c.ca_file).map_err(|e| {
                StoreError::Db(format!("storage.s3.ca_file {}: {e}", c.ca_file.display()))
            })?;
            let certificate = object_store::Certificate::from_pem(&pem).map_err(|e| {
                StoreError::Db(format!(
                    "storage.s3.ca_file {} holds no PEM certificate: {e}",
                    c.ca_file.display()
                ))
            })?;
            options = options
                .with_root_certificate(certificate)
                .with_no_system_certificates(true);
        }
        let retry = object_store::RetryConfig {
            max_retries: 3,
            retry_timeout: c.timeout.0,
            ..Default::default()
        };
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&c.bucket)
            .with_region(&c.region)
            .with_access_key_id(access)
            .with_secret_access_key(secret)
            .with_virtual_hosted_style_request(!c.path_style)
            .with_unsigned_payload(true)
            .with_conditional_put(object_store::aws::S3ConditionalPut::ETagMatch)
            .with_client_options(options)
            .with_retry(retry);
        if !c.endpoint.is_empty() {
            builder = builder.with_endpoint(c.endpoint.trim_end_matches('/'));
        }
        let store = builder
            .build()
            .map_err(|e| StoreError::Db(format!("storage.s3: {}", crate::causes::chain(&e))))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| StoreError::Db(format!("the object store's runtime: {e}")))?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("sealdrop-s3".into())
            .spawn(move || {
                let _ = runtime.block_on(stopped);
            })
            .map_err(|e| StoreError::Db(format!("the object store's thread: {e}")))?;
        let bucket = Bucket {
            store: Arc::new(store),
            handle,
            _stop: stop,
            prefix: c.prefix.clone(),
            part_size: usize::try_from(c.part_size.0).unwrap_or(usize::MAX),
            grace: c.orphan_grace.0,
            name: format!("bucket {} prefix {:?}", c.bucket, c.prefix),
            slots: Arc::new(Slots {
                free: Mutex::new(c.uploads),
                freed: Condvar::new(),
            }),
        };
        // Fail at start-up, not at the first upload, when the bucket cannot be reached.
        bucket.list_some("")?;
        Ok(bucket)
    }

    /// "bucket B prefix P", for messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How old an object without a record must be before the sweep removes it.
    pub fn grace(&self) -> Duration {
        self.grace
    }

    fn key(&self, rel: &str) -> Result<Key, StoreError> {
        Key::parse(format!("{}{rel}", self.prefix))
            .map_err(|e| StoreError::Db(format!("object key {rel:?}: {e}")))
    }

    /// Runs `fut` on the bucket's runtime and waits for it.
    fn run<T: Send + 'static>(
        &self,
        what: &str,
        fut: impl Future<Output = object_store::Result<T>> + Send + 'static,
    ) -> Result<T, StoreError> {
        wait(spawn(&self.handle, fut), what)
    }

    /// Stores the file at `path` as the new object `rel`, streamed in parts when it is larger
    /// than the part size.
    pub fn put_file(&self, rel: &str, path: &Path) -> Result<u64, StoreError> {
        let io = |source| StoreError::Io {
            op: "read",
            path: path.to_owned(),
            source,
        };
        let mut file = std::fs::File::open(path).map_err(io)?;
        let mut writer = self.create(rel)?;
        let mut buf = vec![0u8; 256 << 10];
        loop {
            let n = match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io(e)),
            };
            writer.write(&buf[..n])?;
        }
        writer.finish()
    }

    /// A new object `rel`, written in pieces and stored by [`Writer::finish`]; dropped
    /// unfinished, it leaves nothing.
    pub fn create(&self, rel: &str) -> Result<Writer<'_>, StoreError> {
        Ok(Writer {
            bucket: self,
            rel: rel.to_owned(),
            key: self.key(rel)?,
            buf: Vec::new(),
            slot: None,
            upload: None,
            in_flight: VecDeque::new(),
            written: 0,
        })
    }

    /// Reads object `rel`: its size and its bytes, fetched as they are read.
    pub fn read(&self, rel: &str) -> Result<(u64, Reader), StoreError> {
        let key = self.key(rel)?;
        let store = Arc::clone(&self.store);
        let got = self.run(
            &format!("reading {rel}"),
            async move { store.get(&key).await },
        )?;
        let size = got.meta.size;
        Ok((
            size,
            Reader {
                bucket_handle: self.handle.clone(),
                stream: Some(got.into_stream()),
                chunk: bytes::Bytes::new(),
            },
        ))
    }

    /// The small object `rel` whole, or `None` when there is none.
    pub fn get_small(&self, rel: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let key = self.key(rel)?;
        let store = Arc::clone(&self.store);
        let got = self.run(&format!("reading {rel}"), async move {
            match store.get(&key).await {
                Ok(r) => r.bytes().await.map(Some),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            }
        })?;
        Ok(got.map(|b| b.to_vec()))
    }

    /// Every object whose key starts with `rel` (a folder: `blobs/`).
    pub fn list(&self, rel: &str) -> Result<Vec<Listed>, StoreError> {
        self.listing(rel, usize::MAX)
    }

    /// At most one object under `rel`: does it hold anything?
    pub fn list_some(&self, rel: &str) -> Result<Vec<Listed>, StoreError> {
        self.listing(rel, 1)
    }

    fn listing(&self, rel: &str, most: usize) -> Result<Vec<Listed>, StoreError> {
        let folder = rel.trim_end_matches('/');
        let key = if self.prefix.is_empty() && folder.is_empty() {
            None
        } else {
            Some(self.key(folder)?)
        };
        let store = Arc::clone(&self.store);
        let metas = self.run(&format!("listing {rel}"), async move {
            let mut out = Vec::new();
            let mut listing = store.list(key.as_ref());
            while let Some(meta) = listing.next().await {
                out.push(meta?);
                if out.len() >= most {
                    break;
                }
            }
            Ok(out)
        })?;
        let prefix = self.prefix.clone();
        Ok(metas
            .into_iter()
            .filter_map(|m| {
                let key = m
                    .location
                    .as_ref()
                    .strip_prefix(prefix.as_str())?
                    .to_owned();
                let secs = u64::try_from(m.last_modified.timestamp()).unwrap_or(0);
                Some(Listed {
                    key,
                    size: m.size,
                    modified: SystemTime::UNIX_EPOCH + Duration::from_secs(secs),
                })
            })
            .collect())
    }

    /// Removes every object under the folder `rel` (`blobs/<folder>/`).
    pub fn delete_folder(&self, rel: &str) -> Result<usize, StoreError> {
        let listed = self.list(rel)?;
        let keys = listed
            .iter()
            .map(|l| self.key(&l.key))
            .collect::<Result<Vec<_>, _>>()?;
        let n = keys.len();
        let store = Arc::clone(&self.store);
        self.run(&format!("removing {rel}"), async move {
            for key in keys {
                match store.delete(&key).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        })?;
        Ok(n)
    }

    /// Removes the object `rel`.
    pub fn delete(&self, rel: &str) -> Result<(), StoreError> {
        let key = self.key(rel)?;
        let store = Arc::clone(&self.store);
        self.run(&format!("removing {rel}"), async move {
            match store.delete(&key).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(e),
            }
        })
    }

    /// Is the key free (no object there)?
    fn is_free(&self, key: &Key, rel: &str) -> Result<bool, StoreError> {
        let store = Arc::clone(&self.store);
        let key = key.clone();
        self.run(&format!("checking {rel}"), async move {
            match store.head(&key).await {
                Ok(_) => Ok(false),
                Err(object_store::Error::NotFound { .. }) => Ok(true),
                Err(e) => Err(e),
            }
        })
    }

    fn exists(rel: &str) -> StoreError {
        StoreError::Db(format!(
            "the object {rel} already exists in the bucket, and objects are never overwritten: \
             is another portal with another database writing to the same storage.s3.prefix?"
        ))
    }
}

/// A new object being written (see [`Bucket::create`]).
pub struct Writer<'a> {
    bucket: &'a Bucket,
    rel: String,
    key: Key,
    buf: Vec<u8>,
    /// Taken once more than a small object's worth is buffered.
    slot: Option<Slot>,
    upload: Option<Box<dyn MultipartUpload>>,
    in_flight: VecDeque<mpsc::Receiver<object_store::Result<()>>>,
    written: u64,
}

impl Writer<'_> {
    /// Adds `data` to the object; a full part goes up while the next one fills.
    pub fn write(&mut self, mut data: &[u8]) -> Result<(), StoreError> {
        if self.slot.is_none() && self.buf.len() + data.len() > UNCOUNTED {
            self.slot = Some(self.bucket.slots.take());
        }
        while !data.is_empty() {
            let room = self.bucket.part_size - self.buf.len();
            let n = room.min(data.len());
            self.buf.extend_from_slice(&data[..n]);
            data = &data[n..];
            self.written += n as u64;
            if self.buf.len() == self.bucket.part_size {
                self.send_part()?;
            }
        }
        Ok(())
    }

    fn send_part(&mut self) -> Result<(), StoreError> {
        if self.upload.is_none() {
            if !self.bucket.is_free(&self.key, &self.rel)? {
                return Err(Bucket::exists(&self.rel));
            }
            let store = Arc::clone(&self.bucket.store);
            let key = self.key.clone();
            let upload = self
                .bucket
                .run(&format!("starting {}", self.rel), async move {
                    store.put_multipart(&key).await
                })?;
            self.upload = Some(upload);
        }
        let Some(upload) = self.upload.as_mut() else {
            return Ok(());
        };
        let part = std::mem::take(&mut self.buf);
        let sending = upload.put_part(PutPayload::from(part));
        self.in_flight
            .push_back(spawn(&self.bucket.handle, sending));
        // One part in the air while the next one fills: at most two in memory.
        while self.in_flight.len() > 1 {
            self.wait_one()?;
        }
        Ok(())
    }

    fn wait_one(&mut self) -> Result<(), StoreError> {
        let Some(rx) = self.in_flight.pop_front() else {
            return Ok(());
        };
        wait(rx, &format!("storing a part of {}", self.rel))
    }

    /// Stores the object; returns its size.
    pub fn finish(mut self) -> Result<u64, StoreError> {
        let rel = self.rel.clone();
        if self.upload.is_none() {
            let store = Arc::clone(&self.bucket.store);
            let key = self.key.clone();
            let payload = PutPayload::from(std::mem::take(&mut self.buf));
            let options = PutOptions {
                mode: PutMode::Create,
                ..Default::default()
            };
            let created = self.bucket.run(&format!("storing {rel}"), async move {
                match store.put_opts(&key, payload, options).await {
                    Ok(_) => Ok(true),
                    Err(
                        object_store::Error::AlreadyExists { .. }
                        | object_store::Error::Precondition { .. },
                    ) => Ok(false),
                    Err(e) => Err(e),
                }
            })?;
            return if created {
                Ok(self.written)
            } else {
                Err(Bucket::exists(&rel))
            };
        }
        if !self.buf.is_empty() {
            self.send_part()?;
        }
        while !self.in_flight.is_empty() {
            self.wait_one()?;
        }
        let Some(mut upload) = self.upload.take() else {
            return Ok(self.written);
        };
        let completed = self.bucket.run(&format!("completing {rel}"), async move {
            let done = upload.complete().await;
            if done.is_err() {
                let _ = upload.abort().await;
            }
            done
        });
        self.slot = None;
        completed?;
        let stored = self.stored_size()?;
        if stored != self.written {
            // Left as it is: it may be another writer's (no record names it; the sweep takes
            // it after the grace period if it is an orphan).
            return Err(StoreError::Db(format!(
                "the object {rel} holds {stored} bytes after its upload, not the {} written: is \
                 another portal with another database writing to the same storage.s3.prefix?",
                self.written
            )));
        }
        Ok(self.written)
    }

    fn stored_size(&self) -> Result<u64, StoreError> {
        let store = Arc::clone(&self.bucket.store);
        let key = self.key.clone();
        self.bucket
            .run(&format!("checking {}", self.rel), async move {
                store.head(&key).await
            })
            .map(|m| m.size)
    }
}

impl Drop for Writer<'_> {
    fn drop(&mut self) {
        // An unfinished multipart upload is aborted, so the service frees its parts.
        if let Some(mut upload) = self.upload.take() {
            let slot = self.slot.take();
            self.bucket.handle.spawn(async move {
                let _ = upload.abort().await;
                drop(slot);
            });
        }
    }
}

/// An object's bytes, fetched chunk by chunk as they are read (constant memory).
pub struct Reader {
    bucket_handle: tokio::runtime::Handle,
    stream: Option<futures_util::stream::BoxStream<'static, object_store::Result<bytes::Bytes>>>,
    chunk: bytes::Bytes,
}

impl Read for Reader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.chunk.is_empty() {
            let Some(mut stream) = self.stream.take() else {
                return Ok(0);
            };
            let (next, stream) = spawn(&self.bucket_handle, async move {
                let next = stream.next().await;
                (next, stream)
            })
            .recv()
            .map_err(|_| io::Error::other("the object store's runtime stopped"))?;
            match next {
                None => return Ok(0),
                Some(Err(e)) => return Err(io::Error::other(fail("reading", e).to_string())),
                Some(Ok(bytes)) => {
                    self.chunk = bytes;
                    self.stream = Some(stream);
                }
            }
        }
        let n = out.len().min(self.chunk.len());
        out[..n].copy_from_slice(&self.chunk[..n]);
        let _ = self.chunk.split_to(n);
        Ok(n)
    }
}
