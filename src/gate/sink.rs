//! The one channel-fed sealer every upload path writes through: bytes go from the network
//! task through a bounded channel to a blocking thread that encrypts them into one age file
//! (`seal::Sealer`). The bound keeps memory constant; the file exists only while the sink
//! does: a sink that is dropped or aborted before [`Sink::finish`] has its file removed by its
//! own thread, after that thread has let go of it, so an abandoned request can never leave a
//! half-written file behind for the next one to trip over.

use crate::error::ApiError;
use crate::keys::KeyRing;
use crate::seal::{SealError, Sealed, Sealer};
use crate::store::Meter;
use bytes::Bytes;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Chunks in flight between the network and the encrypting thread. This bound (with the
/// parser's buffer) is what keeps memory constant.
const CHANNEL_CHUNKS: usize = 16;

/// Whether the finished file is fsynced before `finish` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Fsynced: the file is part of a report being acknowledged.
    Synced,
    /// Not fsynced: a resumable piece, fsynced when a report adopts it.
    Unsynced,
}

enum Feed {
    Data(Bytes),
    End,
}

/// One age file being written from a stream of chunks.
pub struct Sink {
    tx: mpsc::Sender<Feed>,
    /// The sealing thread; taken once its end was awaited (a failed `send` awaits it).
    task: Option<JoinHandle<Result<Sealed, SealError>>>,
}

impl Sink {
    /// Starts sealing to `ring` into the new file `path` (which must not exist), after
    /// charging the file's header and block rounding to `meter`.
    pub fn start(
        ring: Arc<KeyRing>,
        path: PathBuf,
        durability: Durability,
        meter: &mut dyn Meter,
    ) -> Result<Sink, ApiError> {
        meter.charge(crate::store::file_cost(ring.keys().len()))?;
        let (tx, mut rx) = mpsc::channel::<Feed>(CHANNEL_CHUNKS);
        let task = tokio::task::spawn_blocking(move || {
            let sealer = match durability {
                Durability::Synced => Sealer::create(&ring, &path),
                Durability::Unsynced => Sealer::create_unsynced(&ring, &path),
            };
            let result = match sealer {
                // Another file by that name is not this sink's to remove.
                Err(SealError::Io(e)) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    return Err(SealError::Io(e));
                }
                Err(e) => Err(e),
                Ok(mut sealer) => loop {
                    match rx.blocking_recv() {
                        Some(Feed::Data(chunk)) => {
                            if let Err(e) = sealer.write(&chunk) {
                                break Err(e);
                            }
                        }
                        Some(Feed::End) => break sealer.finish(),
                        None => {
                            break Err(SealError::Io(std::io::Error::other("upload aborted")));
                        }
                    }
                },
            };
            // Aborted or failed anywhere (even while creating or finishing): nothing of this
            // file may stay.
            if result.is_err() {
                let _ = std::fs::remove_file(&path);
            }
            result
        });
        Ok(Sink {
            tx,
            task: Some(task),
        })
    }

    /// Charges `chunk` as sealed to `meter` and hands it to the sealing thread; when that
    /// thread has stopped, its error.
    pub async fn send(&mut self, chunk: Bytes, meter: &mut dyn Meter) -> Result<(), ApiError> {
        meter.charge(crate::store::sealed_cost(chunk.len() as u64))?;
        if self.tx.send(Feed::Data(chunk)).await.is_ok() {
            return Ok(());
        }
        // The sealing thread stopped early: its error is the real one (awaited once only).
        Err(match self.task.take() {
            Some(task) => match task.await {
                Ok(Err(e)) => e.into(),
                Ok(Ok(_)) => ApiError::internal("sink", "sealer ended early"),
                Err(e) => ApiError::internal("sink", e),
            },
            None => ApiError::internal("sink", "sealer already ended"),
        })
    }

    /// Finishes the file (age finish, and fsync when synced).
    pub async fn finish(mut self) -> Result<Sealed, ApiError> {
        let _ = self.tx.send(Feed::End).await;
        let task = self
            .task
            .take()
            .ok_or_else(|| ApiError::internal("sink", "sealer already ended"))?;
        task.await
            .map_err(|e| ApiError::internal("sink", e))?
            .map_err(ApiError::from)
    }

    /// Drops what was written and waits until the file is gone.
    pub async fn abort(mut self) {
        let task = self.task.take();
        drop(self);
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreError;
    use std::os::unix::fs::MetadataExt;

    /// Counts what is charged.
    #[derive(Default)]
    struct Tally(u64);

    impl Meter for Tally {
        fn charge(&mut self, bytes: u64) -> Result<(), StoreError> {
            self.0 += bytes;
            Ok(())
        }
    }

    fn ring(n: usize) -> Arc<KeyRing> {
        let lines: Vec<String> = (0..n)
            .map(|_| age::x25519::Identity::generate().to_public().to_string())
            .collect();
        Arc::new(KeyRing::parse(&lines.join("\n"), "test").unwrap())
    }

    fn dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("sealdrop-sink-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[tokio::test]
    async fn what_is_charged_covers_what_lands_on_disk_even_for_one_byte_pieces() {
        let d = dir("charge");
        for (n, size) in [(1usize, 1usize), (3, 1), (1, 70_000), (2, 300_000)] {
            let path = d.join(format!("{n}-{size}.age"));
            let mut tally = Tally::default();
            let mut sink =
                Sink::start(ring(n), path.clone(), Durability::Unsynced, &mut tally).unwrap();
            for chunk in vec![7u8; size].chunks(8192) {
                sink.send(Bytes::copy_from_slice(chunk), &mut tally)
                    .await
                    .unwrap();
            }
            let sealed = sink.finish().await.unwrap();
            let meta = std::fs::metadata(&path).unwrap();
            assert_eq!(sealed.ciphertext_size, meta.len());
            // Bytes in the file, and blocks the file system gave it.
            assert!(
                tally.0 >= meta.len(),
                "{n} keys, {size} bytes: {} < {}",
                tally.0,
                meta.len()
            );
            assert!(
                tally.0 >= meta.blocks() * 512,
                "{n} keys, {size} bytes: blocks"
            );
        }
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[tokio::test]
    async fn a_sealer_that_fails_reports_its_error_once_and_an_abort_after_it_is_harmless() {
        let d = dir("fail");
        let mut tally = Tally::default();
        // Its folder does not exist: the sealing thread fails at once.
        let path = d.join("missing").join("x.age");
        let mut sink = Sink::start(ring(1), path.clone(), Durability::Synced, &mut tally).unwrap();
        let mut failed = None;
        for _ in 0..100 {
            if let Err(e) = sink.send(Bytes::from_static(b"x"), &mut tally).await {
                failed = Some(e);
                break;
            }
        }
        assert!(failed.is_some(), "the failure never surfaced");
        // What the callers do next must not await the thread a second time.
        sink.abort().await;
        let mut sink = Sink::start(ring(1), path.clone(), Durability::Synced, &mut tally).unwrap();
        while sink
            .send(Bytes::from_static(b"x"), &mut tally)
            .await
            .is_ok()
        {}
        assert!(sink.finish().await.is_err());
        assert!(!path.exists());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[tokio::test]
    async fn an_aborted_or_dropped_sink_leaves_no_file() {
        let d = dir("abort");
        let mut tally = Tally::default();
        let aborted = d.join("aborted.age");
        let mut sink =
            Sink::start(ring(1), aborted.clone(), Durability::Synced, &mut tally).unwrap();
        sink.send(Bytes::from_static(b"evidence"), &mut tally)
            .await
            .unwrap();
        sink.abort().await;
        assert!(!aborted.exists());
        // Dropped, as when the request that fed it went away: its thread removes the file.
        let dropped = d.join("dropped.age");
        let mut sink =
            Sink::start(ring(1), dropped.clone(), Durability::Unsynced, &mut tally).unwrap();
        sink.send(Bytes::from_static(b"evidence"), &mut tally)
            .await
            .unwrap();
        drop(sink);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while dropped.exists() && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(!dropped.exists());
        std::fs::remove_dir_all(&d).unwrap();
    }
}
