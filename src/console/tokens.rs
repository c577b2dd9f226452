//! Secrets handed to a browser (session cookies, sign-in links, pending sign-ins), kept
//! server-side under their SHA-256 only: whoever reads the table (or a memory dump of it) holds
//! no usable token. Each entry expires; the table is bounded and drops the oldest when full.

use crate::digest::sha256;
use rand::RngCore;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// A new random token: 32 bytes, URL-safe base64 without padding (43 characters).
pub fn new_token() -> String {
    use base64::Engine;
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

struct Entry<T> {
    value: T,
    expires: Instant,
    created: Instant,
}

/// Entries of `T` by the hash of their token.
pub struct Table<T> {
    max: usize,
    entries: Mutex<HashMap<[u8; 32], Entry<T>>>,
}

impl<T: Clone> Table<T> {
    /// A table of at most `max` live entries.
    pub fn new(max: usize) -> Table<T> {
        Table {
            max: max.max(1),
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Entry<T>>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stores `value` under a new token valid until `expires`; returns the token.
    pub fn insert(&self, value: T, expires: Instant) -> String {
        let token = new_token();
        self.insert_as(&token, value, expires);
        token
    }

    /// Stores `value` under `token` (a random value made elsewhere) until `expires`.
    pub fn insert_as(&self, token: &str, value: T, expires: Instant) {
        let now = Instant::now();
        let mut map = self.lock();
        map.retain(|_, e| e.expires > now);
        if map.len() >= self.max
            && let Some(oldest) = map.iter().min_by_key(|(_, e)| e.created).map(|(k, _)| *k)
        {
            map.remove(&oldest);
        }
        map.insert(
            sha256(token.as_bytes()),
            Entry {
                value,
                expires,
                created: now,
            },
        );
    }

    /// Takes the entry of `token` out (single use); `None` if unknown or expired.
    pub fn take(&self, token: &str) -> Option<T> {
        let e = self.lock().remove(&sha256(token.as_bytes()))?;
        (e.expires > Instant::now()).then_some(e.value)
    }

    /// Updates the entry of `token` in place with `f`, which answers the new expiry or `None`
    /// to end it; answers the value after `f`, or `None` when the entry is unknown, expired or
    /// ended.
    pub fn touch(&self, token: &str, f: impl FnOnce(&mut T) -> Option<Instant>) -> Option<T> {
        let key = sha256(token.as_bytes());
        let mut map = self.lock();
        let entry = map.get_mut(&key)?;
        let now = Instant::now();
        if entry.expires <= now {
            map.remove(&key);
            return None;
        }
        match f(&mut entry.value) {
            Some(expires) if expires > now => {
                entry.expires = expires;
                Some(entry.value.clone())
            }
            _ => {
                map.remove(&key);
                None
            }
        }
    }

    /// Removes the entry of `token`, if any.
    pub fn remove(&self, token: &str) {
        self.lock().remove(&sha256(token.as_bytes()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn tokens_are_single_use_expire_and_are_kept_hashed() {
        let t: Table<u32> = Table::new(2);
        let later = Instant::now() + Duration::from_secs(60);
        let a = t.insert(1, later);
        assert_eq!(a.len(), 43);
        assert!(t.lock().keys().all(|k| k != a.as_bytes()));
        assert_eq!(t.take(&a), Some(1));
        assert_eq!(t.take(&a), None, "a second use");
        let gone = t.insert(2, Instant::now());
        assert_eq!(t.take(&gone), None, "expired");
        let (b, c, d) = (t.insert(3, later), t.insert(4, later), t.insert(5, later));
        assert_eq!(t.take(&b), None, "the oldest left a full table");
        assert_eq!((t.take(&c), t.take(&d)), (Some(4), Some(5)));
    }

    #[test]
    fn touch_extends_or_ends() {
        let t: Table<u32> = Table::new(4);
        let a = t.insert(1, Instant::now() + Duration::from_secs(60));
        let v = t.touch(&a, |v| {
            *v += 1;
            Some(Instant::now() + Duration::from_secs(60))
        });
        assert_eq!(v, Some(2));
        assert_eq!(t.touch(&a, |_| None), None);
        assert_eq!(t.take(&a), None);
    }
}
