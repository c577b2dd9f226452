//! Token buckets per client address, for reference lookups (status, follow-ups, invitations):
//! they make guessing references pointless. Addresses live only in this in-memory map, never in
//! logs or on disk.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most addresses tracked at once; beyond it, idle entries are dropped, and if none is idle all
/// unknown addresses share one bucket (so a flood of addresses cannot exhaust memory).
const MAX_TRACKED: usize = 65_536;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// A per-address limiter: `capacity` requests at once, refilled at `capacity` per minute.
#[derive(Debug)]
pub struct RateLimiter {
    capacity: f64,
    per_sec: f64,
    buckets: Mutex<HashMap<Option<IpAddr>, Bucket>>,
}

impl RateLimiter {
    /// `n` requests per minute per address, with a burst of `n`.
    pub fn per_minute(n: u32) -> RateLimiter {
        RateLimiter {
            capacity: f64::from(n.max(1)),
            per_sec: f64::from(n.max(1)) / 60.0,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `addr`; `Err(seconds)` says when the next one is available.
    pub fn check(&self, addr: Option<IpAddr>) -> Result<(), u64> {
        self.check_at(addr, Instant::now())
    }

    fn check_at(&self, addr: Option<IpAddr>, now: Instant) -> Result<(), u64> {
        let mut map = match self.buckets.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut key = addr;
        if !map.contains_key(&key) && map.len() >= MAX_TRACKED {
            let full = Duration::from_secs_f64(self.capacity / self.per_sec);
            map.retain(|_, b| now.duration_since(b.at) < full);
            if map.len() >= MAX_TRACKED {
                key = None;
            }
        }
        let capacity = self.capacity;
        let b = map.entry(key).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let elapsed = now.duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * self.per_sec).min(capacity);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - b.tokens) / self.per_sec).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_n_passes_then_the_address_waits_while_others_do_not() {
        let l = RateLimiter::per_minute(3);
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let t = Instant::now();
        for _ in 0..3 {
            assert!(l.check_at(Some(a), t).is_ok());
        }
        let wait = l.check_at(Some(a), t).unwrap_err();
        assert_eq!(wait, 20, "one token every 20 s at 3 per minute");
        assert!(l.check_at(Some(b), t).is_ok());
        assert!(l.check_at(Some(a), t + Duration::from_secs(20)).is_ok());
        assert!(l.check_at(Some(a), t + Duration::from_secs(21)).is_err());
    }
}
