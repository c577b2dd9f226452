//! Group commit: the last durable steps of many concurrent uploads share their fsyncs and one
//! database flush. Acknowledged still means durable; the cost of durability is paid per batch.
//!
//! Per upload (before it is queued, in parallel): every file fsynced, its `tmp/<id>` folder
//! fsynced. Per batch, on the committer thread: rename each folder into `blobs/`, fsync `blobs/`
//! and `tmp/` once, insert every record, flush sled once, then answer everyone.
//!
//! Once a job is queued the committer alone cleans up after it, whatever happens to the request
//! that queued it: a reset connection after the last byte yields either a stored submission
//! (nobody hears the answer) or no trace, never a record without its files.

use super::db::Insert;
use super::{Blobs, Db, Guard, StoreError, Upload};
use crate::clock::Clock;
use crate::record::Record;
use std::sync::mpsc;
use tokio::sync::oneshot;

/// Most uploads committed in one batch.
const MAX_BATCH: usize = 256;

struct Job {
    /// Holds the upload's space reservation until the commit is decided.
    _upload: Upload,
    record: Record,
    ref_hash: Option<[u8; 32]>,
    guard: Guard,
    done: oneshot::Sender<Result<(), StoreError>>,
}

/// Handle to the committer thread.
#[derive(Clone)]
pub(super) struct Committer {
    tx: mpsc::Sender<Job>,
}

impl Committer {
    /// Starts the committer thread.
    pub(super) fn start(blobs: Blobs, db: Db, clock: Clock) -> Result<Committer, StoreError> {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("sealdrop-commit".into())
            .spawn(move || run(&blobs, &db, clock, &rx))
            .map_err(|e| StoreError::Db(format!("cannot start the committer: {e}")))?;
        Ok(Committer { tx })
    }

    /// Makes a prepared upload (files and its `tmp/` folder fsynced) durable with its record,
    /// if its guard holds. On error nothing of it remains in `blobs/` or the database.
    pub(super) async fn commit(
        &self,
        upload: Upload,
        record: Record,
        ref_hash: Option<[u8; 32]>,
        guard: Guard,
    ) -> Result<(), StoreError> {
        let (done, wait) = oneshot::channel();
        let job = Job {
            _upload: upload.hand_off(),
            record,
            ref_hash,
            guard,
            done,
        };
        if let Err(mpsc::SendError(job)) = self.tx.send(job) {
            // Never handed over after all: the upload's own drop removes its folder.
            drop(job._upload.take_back());
            return Err(StoreError::Db("the committer has stopped".into()));
        }
        wait.await
            .map_err(|_| StoreError::Db("the committer dropped a commit".into()))?
    }
}

fn run(blobs: &Blobs, db: &Db, clock: Clock, rx: &mpsc::Receiver<Job>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        // A panic in one batch must not stop every later commit; its waiters see the commit
        // dropped, and its folders stay in tmp/ or unreferenced in blobs/ for recovery.
        let now = clock.text();
        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            commit_batch(blobs, db, &now, batch)
        }))
        .is_err()
        {
            tracing::error!(
                "a group commit failed unexpectedly; its uploads were not acknowledged"
            );
        }
    }
}

fn commit_batch(blobs: &Blobs, db: &Db, now: &str, batch: Vec<Job>) {
    let mut moved = Vec::with_capacity(batch.len());
    for job in batch {
        match blobs.move_in(job.record.blob_dir()) {
            Ok(()) => moved.push(job),
            Err(e) => {
                blobs.discard_tmp(job.record.blob_dir());
                let _ = job.done.send(Err(e));
            }
        }
    }
    if moved.is_empty() {
        return;
    }
    crate::faultpoint::crash_point("renamed");
    let items: Vec<Insert<'_>> = moved
        .iter()
        .map(|j| Insert {
            record: &j.record,
            ref_hash: j.ref_hash.as_ref(),
            guard: &j.guard,
        })
        .collect();
    let result: Result<Vec<Result<(), StoreError>>, StoreError> = match blobs.sync_parents() {
        Err(e) => {
            // No record was written: the folders are unacknowledged orphans.
            for job in &moved {
                blobs.discard_committed(job.record.blob_dir());
            }
            Err(e)
        }
        Ok(()) => {
            crate::faultpoint::crash_point("parents-fsynced");
            match db.insert_many_durable(&items, now) {
                Ok(each) => {
                    // A refused guard stored no record: its folder goes again.
                    for (job, r) in moved.iter().zip(&each) {
                        if r.is_err() {
                            blobs.discard_committed(job.record.blob_dir());
                        }
                    }
                    Ok(each)
                }
                Err(e) => {
                    // The flush failed after the inserts, so the records may or may not be on
                    // disk. Take them out again; only when that is durable may the folders go
                    // too, or a record could come back after a restart without its files.
                    if db.remove_unacknowledged(&items).is_ok() {
                        for job in &moved {
                            blobs.discard_committed(job.record.blob_dir());
                        }
                    }
                    Err(e)
                }
            }
        }
    };
    drop(items);
    tracing::debug!(batch = moved.len(), "group commit");
    match result {
        Ok(each) => {
            for (job, r) in moved.into_iter().zip(each) {
                let _ = job.done.send(r);
            }
        }
        Err(e) => {
            let full = e.is_disk_full();
            for job in moved {
                let each = match &e {
                    _ if full => StoreError::Full,
                    // The database went away: the client may try again (503).
                    StoreError::Unavailable(why) => StoreError::Unavailable(why.clone()),
                    other => StoreError::Db(other.to_string()),
                };
                let _ = job.done.send(Err(each));
            }
        }
    }
}
