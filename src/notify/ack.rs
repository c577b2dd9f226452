//! The reporters' acknowledgement mails, from memory only (the address is never stored): a
//! bounded queue, a few sender threads so that one slow or dead server conversation cannot hold
//! up the others, retries scheduled (never slept on a sender) for transient failures, and an
//! immediate end for permanent ones. Log lines name the case, never the address.

use crate::outbound::smtp;
use std::collections::BinaryHeap;
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// Waits before the 2nd, 3rd … attempt (about 25 minutes in all).
const RETRIES: [u64; 6] = [5, 30, 60, 120, 300, 1000];
/// Acknowledgements waiting at most (beyond it new ones are refused, not queued).
pub const QUEUE: usize = 256;
/// Sender threads.
const SENDERS: usize = 4;

/// One acknowledgement to send.
pub struct Ack {
    /// The case, for the log.
    pub case: String,
    /// The mail (its only recipient is the reporter).
    pub message: smtp::Message,
}

struct Pending {
    due: Instant,
    attempt: usize,
    ack: Ack,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        self.due == other.due
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    // Earliest first in a max-heap.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other.due.cmp(&self.due)
    }
}

/// The queue's entry point.
#[derive(Clone)]
pub struct Queue {
    tx: mpsc::SyncSender<Ack>,
}

impl Queue {
    /// Starts the scheduler and the sender threads.
    pub fn start(settings: smtp::Settings) -> std::io::Result<Queue> {
        let (tx, rx) = mpsc::sync_channel::<Ack>(QUEUE);
        // Work goes out only when a sender is free; the rest waits in the scheduler.
        let (work_tx, work_rx) = mpsc::sync_channel::<Pending>(SENDERS);
        let (done_tx, done_rx) = mpsc::channel::<Pending>();
        let work_rx = Arc::new(Mutex::new(work_rx));
        let settings = Arc::new(settings);
        for n in 0..SENDERS {
            let (work_rx, done_tx, settings) =
                (Arc::clone(&work_rx), done_tx.clone(), Arc::clone(&settings));
            std::thread::Builder::new()
                .name(format!("sealdrop-ack-{n}"))
                .spawn(move || sender(&settings, &work_rx, &done_tx))?;
        }
        std::thread::Builder::new()
            .name("sealdrop-ack".into())
            .spawn(move || schedule(&rx, &work_tx, &done_rx))?;
        Ok(Queue { tx })
    }

    /// Queues one acknowledgement; false when the queue is full or stopped.
    pub fn push(&self, ack: Ack) -> bool {
        match self.tx.try_send(ack) {
            Ok(()) => true,
            Err(mpsc::TrySendError::Full(ack)) => {
                tracing::warn!(case = %ack.case, "acknowledgement not queued: the queue is full");
                false
            }
            Err(mpsc::TrySendError::Disconnected(_)) => false,
        }
    }
}

/// Holds what waits (new, or for a retry); hands what is due to a free sender. While it holds
/// `QUEUE` acknowledgements it takes no new one, so the queue in front of it fills and
/// [`Queue::push`] refuses: the addresses held in memory stay bounded.
fn schedule(
    rx: &mpsc::Receiver<Ack>,
    work: &mpsc::SyncSender<Pending>,
    done: &mpsc::Receiver<Pending>,
) {
    let mut waiting: BinaryHeap<Pending> = BinaryHeap::new();
    let mut open = true;
    loop {
        while let Ok(p) = done.try_recv() {
            waiting.push(p);
        }
        let now = Instant::now();
        while waiting.peek().is_some_and(|p| p.due <= now) {
            let Some(p) = waiting.pop() else { break };
            match work.try_send(p) {
                Ok(()) => {}
                Err(mpsc::TrySendError::Full(p)) => {
                    waiting.push(p);
                    break;
                }
                Err(mpsc::TrySendError::Disconnected(_)) => return,
            }
        }
        let wait = waiting
            .peek()
            .map_or(Duration::from_millis(200), |p| {
                p.due.saturating_duration_since(now)
            })
            .clamp(Duration::from_millis(5), Duration::from_millis(200));
        if !open || waiting.len() >= QUEUE {
            if !open && waiting.is_empty() {
                return;
            }
            std::thread::sleep(wait);
            continue;
        }
        match rx.recv_timeout(wait) {
            Ok(ack) => waiting.push(Pending {
                due: Instant::now(),
                attempt: 0,
                ack,
            }),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => open = false,
        }
    }
}

/// Sends one attempt of whatever is due; a transient failure goes back for a later attempt.
fn sender(
    settings: &smtp::Settings,
    work: &Mutex<mpsc::Receiver<Pending>>,
    done: &mpsc::Sender<Pending>,
) {
    loop {
        let next = work.lock().unwrap_or_else(|p| p.into_inner()).recv();
        let Ok(mut p) = next else {
            return;
        };
        let case = p.ack.case.clone();
        match smtp::send(settings, &p.ack.message) {
            Ok(()) => tracing::info!(case = %case, "acknowledgement sent to the reporter"),
            Err(e) if e.is_permanent() => tracing::error!(case = %case, error = %e,
                "acknowledgement to the reporter refused for good; the address is not kept, so tell the reporter another way if they write"),
            Err(e) => match RETRIES.get(p.attempt) {
                Some(wait) => {
                    tracing::warn!(case = %case, attempt = p.attempt + 1, error = %e,
                        "acknowledgement to the reporter not sent yet; retrying");
                    p.attempt += 1;
                    p.due = Instant::now() + Duration::from_secs(*wait);
                    if done.send(p).is_err() {
                        return;
                    }
                }
                None => tracing::error!(case = %case, error = %e,
                    "acknowledgement to the reporter given up; the address is not kept, so tell the reporter another way if they write"),
            },
        }
    }
}
