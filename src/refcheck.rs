//! Reference checks in flight: each derivation of a reference (Argon2id with the portal's salt,
//! `reference::Reference::derive`) runs on the blocking pool, at most `limits.max_reference_checks`
//! at once. A request that finds no turn within the wait gets 503 `busy`, so a flood of status
//! lookups cannot take the CPU from uploads.

use crate::digest::Argon2Memory;
use crate::error::ApiError;
use crate::reference::{Derived, Reference};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;

/// How long a derivation waits for its turn by default.
pub const WAIT: Duration = Duration::from_secs(5);

/// The bounded derivations of one portal.
pub struct ReferenceChecks {
    salt: [u8; 16],
    turns: Arc<Semaphore>,
    wait: Duration,
    /// Working memory of finished derivations, used again (at most one per turn).
    memory: Arc<Mutex<Vec<Argon2Memory>>>,
}

impl ReferenceChecks {
    /// At most `max` derivations with `salt` at once; a request waits up to `wait` for a turn.
    pub fn new(salt: [u8; 16], max: usize, wait: Duration) -> ReferenceChecks {
        ReferenceChecks {
            salt,
            turns: Arc::new(Semaphore::new(max.max(1))),
            wait,
            memory: Arc::default(),
        }
    }

    /// What `reference` unlocks on this portal (503 `busy` when no turn frees in time).
    pub async fn derive(&self, reference: &Reference) -> Result<Derived, ApiError> {
        let turn = tokio::time::timeout(self.wait, Arc::clone(&self.turns).acquire_owned())
            .await
            .map_err(|_| ApiError::Busy)?
            .map_err(|e| ApiError::internal("reference", e))?;
        self.run(reference, turn).await
    }

    /// The same for a new report, whose body has already arrived: it waits for its turn as
    /// long as it takes (still one of the bounded turns), rather than refuse what it holds.
    pub async fn derive_for_report(&self, reference: &Reference) -> Result<Derived, ApiError> {
        let turn = Arc::clone(&self.turns)
            .acquire_owned()
            .await
            .map_err(|e| ApiError::internal("reference", e))?;
        self.run(reference, turn).await
    }

    async fn run(
        &self,
        reference: &Reference,
        turn: tokio::sync::OwnedSemaphorePermit,
    ) -> Result<Derived, ApiError> {
        let (reference, salt, pool) = (reference.clone(), self.salt, Arc::clone(&self.memory));
        tokio::task::spawn_blocking(move || {
            let _turn = turn;
            let taken = pool.lock().unwrap_or_else(|p| p.into_inner()).pop();
            let mut memory = taken.unwrap_or_default();
            let derived = reference.derive_in(&salt, &mut memory);
            pool.lock().unwrap_or_else(|p| p.into_inner()).push(memory);
            derived
        })
        .await
        .map_err(|e| ApiError::internal("reference", e))
    }

    /// Derivations running now.
    #[cfg(test)]
    fn running(&self, max: usize) -> usize {
        max.saturating_sub(self.turns.available_permits())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn no_more_than_the_bound_run_and_a_request_without_a_turn_gets_busy() {
        let checks = ReferenceChecks::new(*b"sealdrop-kat-slt", 1, Duration::from_millis(50));
        let r = Reference::generate();
        // The one turn is taken (as by a long derivation): the next request waits, then 503.
        let held = Arc::clone(&checks.turns).acquire_owned().await.unwrap();
        assert_eq!(checks.running(1), 1);
        assert_eq!(checks.derive(&r).await.unwrap_err(), ApiError::Busy);
        drop(held);
        let d = checks.derive(&r).await.unwrap();
        assert_eq!(d.lookup, r.derive(b"sealdrop-kat-slt").lookup);
        assert_eq!(checks.running(1), 0);
    }

    #[tokio::test]
    async fn many_requests_at_once_share_the_turns_and_all_get_their_answer() {
        let checks = Arc::new(ReferenceChecks::new(
            *b"sealdrop-kat-slt",
            2,
            Duration::from_secs(30),
        ));
        let peak = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let tasks: Vec<_> = (0..12)
            .map(|_| {
                let (checks, peak) = (Arc::clone(&checks), Arc::clone(&peak));
                tokio::spawn(async move {
                    let r = Reference::generate();
                    let d = checks.derive(&r).await.unwrap();
                    peak.fetch_max(checks.running(2), std::sync::atomic::Ordering::SeqCst);
                    d.lookup
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        assert!(peak.load(std::sync::atomic::Ordering::SeqCst) <= 2);
    }
}
