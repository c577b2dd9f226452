//! How long a body may take, for every upload path alike: an idle timeout per chunk and, after
//! a grace period, a minimum average rate, so that connections trickling a byte now and then
//! cannot hold the upload slots.

use crate::config::{ByteSize, Limits};
use crate::error::ApiError;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The pacing of one request body, from its first byte.
pub struct Pace {
    idle: Duration,
    start: tokio::time::Instant,
    grace: Duration,
    min_rate: u64,
    received: AtomicU64,
}

impl Pace {
    /// The pace `limits` ask for, starting now.
    pub fn new(limits: &Limits) -> Pace {
        Pace {
            idle: limits.body_idle_timeout.0,
            start: tokio::time::Instant::now(),
            grace: limits.min_upload_rate_grace.0,
            min_rate: limits.min_upload_rate.0,
            received: AtomicU64::new(0),
        }
    }

    /// When the body must have sent more: the end of the grace period, or the moment the bytes
    /// received so far fall below the minimum average rate, whichever is later.
    fn rate_deadline(&self) -> Option<tokio::time::Instant> {
        if self.min_rate == 0 {
            return None;
        }
        let earned = Duration::from_secs_f64(
            self.received.load(Ordering::Relaxed) as f64 / self.min_rate as f64,
        );
        Some(self.start + self.grace.max(earned))
    }

    /// Counts bytes that arrived.
    pub fn count(&self, bytes: usize) {
        self.received.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// Awaits `fut` (the next piece of the body), failing with 408 `body-timeout` when the body
    /// sends nothing for the idle timeout, or `upload-too-slow` when it falls below the minimum
    /// average rate after the grace period.
    pub async fn within<T>(&self, fut: impl Future<Output = T>) -> Result<T, ApiError> {
        let idle_deadline = tokio::time::Instant::now() + self.idle;
        let rate_deadline = self.rate_deadline();
        let deadline = rate_deadline.map_or(idle_deadline, |r| r.min(idle_deadline));
        match tokio::time::timeout_at(deadline, fut).await {
            Ok(v) => Ok(v),
            Err(_) if rate_deadline.is_some_and(|r| r < idle_deadline) => {
                Err(ApiError::UploadTooSlow(ByteSize(self.min_rate)))
            }
            Err(_) => Err(ApiError::BodyTimeout),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(rate: u64, grace_ms: u64, idle_ms: u64) -> Limits {
        Limits {
            min_upload_rate: ByteSize(rate),
            min_upload_rate_grace: crate::config::HumanDuration(Duration::from_millis(grace_ms)),
            body_idle_timeout: crate::config::HumanDuration(Duration::from_millis(idle_ms)),
            ..Limits::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_trickle_below_the_rate_ends_after_the_grace_period_with_upload_too_slow() {
        let pace = Pace::new(&limits(1000, 1000, 5000));
        // 10 bytes every 500 ms: never idle, far below 1000 bytes/s.
        let mut result = Ok(());
        for _ in 0..10 {
            result = pace
                .within(tokio::time::sleep(Duration::from_millis(500)))
                .await;
            if result.is_err() {
                break;
            }
            pace.count(10);
        }
        assert_eq!(result, Err(ApiError::UploadTooSlow(ByteSize(1000))));
        assert!(tokio::time::Instant::now() - pace.start < Duration::from_millis(1600));
    }

    #[tokio::test(start_paused = true)]
    async fn silence_past_the_idle_timeout_is_a_body_timeout() {
        let pace = Pace::new(&limits(0, 0, 300));
        let r = pace
            .within(tokio::time::sleep(Duration::from_millis(400)))
            .await;
        assert_eq!(r, Err(ApiError::BodyTimeout));
    }
}
