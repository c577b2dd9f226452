//! Per-client limits: token buckets (reference lookups, new submissions) and a count of
//! concurrent uploads. A client is its IPv4 address or its IPv6 /64 (one subscriber's network:
//! an IPv6 user can pick any address in it). Addresses live only in these in-memory maps, never
//! in logs or on disk.
//!
//! The maps are bounded. When a bucket table is full, an entry whose bucket is full again is
//! dropped first (that forgets nothing: a full bucket is what a new client gets); if none is,
//! the fullest bucket goes, which hands its owner at most the tokens it was missing. A new client
//! therefore always gets a bucket of its own and never shares one with an attacker.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Most clients tracked at once by one limiter.
pub const MAX_TRACKED: usize = 65_536;

/// The key a client is limited by: its IPv4 address, or its IPv6 address cut to the /64
/// (IPv4-mapped IPv6 addresses count as IPv4).
pub fn client_key(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V4(_) => addr,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// A per-client limiter: a burst of `capacity`, refilled at `capacity` per `period`.
#[derive(Debug)]
pub struct RateLimiter {
    capacity: f64,
    per_sec: f64,
    max_tracked: usize,
    buckets: Mutex<HashMap<Option<IpAddr>, Bucket>>,
}

impl RateLimiter {
    /// `n` requests per minute per client, with a burst of `n`.
    pub fn per_minute(n: u32) -> RateLimiter {
        RateLimiter::new(n, Duration::from_secs(60))
    }

    /// `n` requests per `period` per client, with a burst of `n`.
    pub fn new(n: u32, period: Duration) -> RateLimiter {
        let capacity = f64::from(n.max(1));
        RateLimiter {
            capacity,
            per_sec: capacity / period.as_secs_f64().max(0.001),
            max_tracked: MAX_TRACKED,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `addr`; `Err(seconds)` says when the next one is available.
    pub fn check(&self, addr: Option<IpAddr>) -> Result<(), u64> {
        self.check_at(addr, Instant::now())
    }

    fn refilled(&self, b: &Bucket, now: Instant) -> f64 {
        (b.tokens + now.duration_since(b.at).as_secs_f64() * self.per_sec).min(self.capacity)
    }

    fn check_at(&self, addr: Option<IpAddr>, now: Instant) -> Result<(), u64> {
        let mut map = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let key = addr.map(client_key);
        if !map.contains_key(&key) && map.len() >= self.max_tracked {
            map.retain(|_, b| self.refilled(b, now) < self.capacity);
            if map.len() >= self.max_tracked {
                let fullest = map
                    .iter()
                    .max_by(|a, b| self.refilled(a.1, now).total_cmp(&self.refilled(b.1, now)))
                    .map(|(k, _)| *k);
                if let Some(k) = fullest {
                    map.remove(&k);
                }
            }
        }
        let capacity = self.capacity;
        let b = map.entry(key).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let tokens =
            (b.tokens + now.duration_since(b.at).as_secs_f64() * self.per_sec).min(capacity);
        b.at = now;
        if tokens >= 1.0 {
            b.tokens = tokens - 1.0;
            Ok(())
        } else {
            b.tokens = tokens;
            Err(((1.0 - tokens) / self.per_sec).ceil().max(1.0) as u64)
        }
    }
}

/// Concurrent uploads per client, at most `max` each.
#[derive(Debug)]
pub struct Concurrency {
    max: usize,
    running: Arc<Mutex<HashMap<Option<IpAddr>, usize>>>,
}

/// One running upload's slot; freed when dropped.
#[derive(Debug)]
pub struct Slot {
    key: Option<IpAddr>,
    running: Arc<Mutex<HashMap<Option<IpAddr>, usize>>>,
}

impl Concurrency {
    /// At most `max` uploads at once per client.
    pub fn new(max: usize) -> Concurrency {
        Concurrency {
            max: max.max(1),
            running: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// A slot for `addr`, or `None` when it already runs `max` uploads.
    pub fn acquire(&self, addr: Option<IpAddr>) -> Option<Slot> {
        let key = addr.map(client_key);
        let mut map = self.running.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(key).or_insert(0);
        if *n >= self.max {
            return None;
        }
        *n += 1;
        Some(Slot {
            key,
            running: Arc::clone(&self.running),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut map = self.running.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn a_burst_of_n_passes_then_the_address_waits_while_others_do_not() {
        let l = RateLimiter::per_minute(3);
        let (a, b) = (ip("192.0.2.1"), ip("192.0.2.2"));
        let t = Instant::now();
        for _ in 0..3 {
            assert!(l.check_at(a, t).is_ok());
        }
        let wait = l.check_at(a, t).unwrap_err();
        assert_eq!(wait, 20, "one token every 20 s at 3 per minute");
        assert!(l.check_at(b, t).is_ok());
        assert!(l.check_at(a, t + Duration::from_secs(20)).is_ok());
        assert!(l.check_at(a, t + Duration::from_secs(21)).is_err());
    }

    #[test]
    fn ipv6_clients_are_limited_by_their_slash_64_and_mapped_ipv4_as_ipv4() {
        let l = RateLimiter::per_minute(2);
        let t = Instant::now();
        assert!(l.check_at(ip("2001:db8:1:2::1"), t).is_ok());
        assert!(l.check_at(ip("2001:db8:1:2:ffff::9"), t).is_ok());
        assert!(
            l.check_at(ip("2001:db8:1:2:abcd::1"), t).is_err(),
            "same /64, same bucket"
        );
        assert!(l.check_at(ip("2001:db8:1:3::1"), t).is_ok(), "another /64");
        assert!(l.check_at(ip("198.51.100.7"), t).is_ok());
        assert!(l.check_at(ip("::ffff:198.51.100.7"), t).is_ok());
        assert!(
            l.check_at(ip("198.51.100.7"), t).is_err(),
            "mapped counts as IPv4"
        );
    }

    #[test]
    fn a_full_table_never_puts_a_new_client_in_a_shared_bucket() {
        let mut l = RateLimiter::per_minute(1);
        l.max_tracked = 4;
        let t = Instant::now();
        let attacker: Vec<_> = (1..=4).map(|i| ip(&format!("203.0.113.{i}"))).collect();
        for a in &attacker {
            assert!(l.check_at(*a, t).is_ok());
        }
        // The table is full of exhausted buckets; new clients still each get their own.
        for i in 1..=20 {
            let reporter = ip(&format!("198.51.100.{i}"));
            assert!(l.check_at(reporter, t).is_ok(), "reporter {i} was refused");
        }
        assert!(l.buckets.lock().unwrap().len() <= 4);
    }

    #[test]
    fn concurrency_slots_are_per_client_and_freed_on_drop() {
        let c = Concurrency::new(2);
        let a = ip("192.0.2.1");
        let s1 = c.acquire(a).unwrap();
        let _s2 = c.acquire(a).unwrap();
        assert!(c.acquire(a).is_none());
        assert!(c.acquire(ip("192.0.2.2")).is_some());
        drop(s1);
        assert!(c.acquire(a).is_some());
    }
}
