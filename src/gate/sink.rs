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
    task: JoinHandle<Result<Sealed, SealError>>,
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
            let mut sealer = sealer?;
            let result = loop {
                match rx.blocking_recv() {
                    Some(Feed::Data(chunk)) => {
                        if let Err(e) = sealer.write(&chunk) {
                            break Err(e);
                        }
                    }
                    Some(Feed::End) => return sealer.finish(),
                    None => break Err(SealError::Io(std::io::Error::other("upload aborted"))),
                }
            };
            // Aborted or failed: nothing of this file may stay.
            drop(sealer);
            let _ = std::fs::remove_file(&path);
            result
        });
        Ok(Sink { tx, task })
    }

    /// Charges `chunk` as sealed to `meter` and hands it to the sealing thread; when that
    /// thread has stopped, its error.
    pub async fn send(&mut self, chunk: Bytes, meter: &mut dyn Meter) -> Result<(), ApiError> {
        meter.charge(crate::store::sealed_cost(chunk.len() as u64))?;
        if self.tx.send(Feed::Data(chunk)).await.is_ok() {
            return Ok(());
        }
        Err(match (&mut self.task).await {
            Ok(Err(e)) => e.into(),
            Ok(Ok(_)) => ApiError::internal("sink", "sealer ended early"),
            Err(e) => ApiError::internal("sink", e),
        })
    }

    /// Finishes the file (age finish, and fsync when synced).
    pub async fn finish(self) -> Result<Sealed, ApiError> {
        let _ = self.tx.send(Feed::End).await;
        self.task
            .await
            .map_err(|e| ApiError::internal("sink", e))?
            .map_err(ApiError::from)
    }

    /// Drops what was written and waits until the file is gone.
    pub async fn abort(self) {
        drop(self.tx);
        let _ = self.task.await;
    }
}
