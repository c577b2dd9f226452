//! Free-space reservations: every upload reserves what it will still write, so that concurrent
//! uploads together can never take the data file system below `storage.min_free_bytes`.
//!
//! The rule: an upload is admitted (or may grow) only while
//! `free − Σ(reserved and not yet written) − wanted ≥ min_free`. Bytes an upload has written are
//! already missing from `free`, so they are taken off its reservation as they are written.

use super::StoreError;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// How much an upload of unknown length reserves at a time.
pub const GROW_STEP: u64 = 16 << 20;
/// Headroom per upload for bytes in flight and age's overhead (16 bytes per 64 KiB chunk plus
/// a header per file).
const SLACK: u64 = 1 << 20;

/// What sealing `plain` bytes handed over at once really costs on disk: the bytes, and age's
/// 16-byte tag per 64 KiB chunk (one more for a chunk begun).
pub fn sealed_cost(plain: u64) -> u64 {
    plain.saturating_add(16 * (plain / 65_536 + 1))
}

/// What one more age file costs on disk besides its payload: its header (at most 2 KiB per
/// recipient: a post-quantum stanza is about 1.6 KiB) and the rounding of its last block.
pub fn file_cost(recipients: usize) -> u64 {
    4096 + 512 + 2048 * recipients as u64
}

/// Something that charges bytes about to be written against the free space.
pub trait Meter {
    /// Reserves `bytes` before they are written ([`StoreError::Full`] when they do not fit).
    fn charge(&mut self, bytes: u64) -> Result<(), StoreError>;
}

impl Meter for Reservation {
    fn charge(&mut self, bytes: u64) -> Result<(), StoreError> {
        self.write(bytes)
    }
}

/// The reservations against one file system.
#[derive(Debug)]
pub struct Space {
    min_free: u64,
    probe: PathBuf,
    /// Bytes reserved by running uploads and not yet written.
    outstanding: Mutex<u64>,
}

/// One upload's share of the free space; released when dropped.
#[derive(Debug)]
pub struct Reservation {
    space: Arc<Space>,
    /// Reserved and not yet written.
    left: u64,
}

impl Space {
    /// Reservations against the file system holding `probe`, keeping `min_free` bytes free.
    pub fn new(probe: PathBuf, min_free: u64) -> Arc<Space> {
        Arc::new(Space {
            min_free,
            probe,
            outstanding: Mutex::new(0),
        })
    }

    /// Bytes available to this process on the data file system.
    pub fn free_bytes(&self) -> Result<u64, StoreError> {
        crate::os::free_bytes(&self.probe).map_err(|source| StoreError::Io {
            op: "statvfs",
            path: self.probe.clone(),
            source,
        })
    }

    /// Bytes reserved by running uploads and not yet written.
    pub fn outstanding(&self) -> u64 {
        *self.outstanding.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn take(&self, bytes: u64, must_fit: u64) -> Result<(), StoreError> {
        let mut outstanding = self.outstanding.lock().unwrap_or_else(|p| p.into_inner());
        let free = self.free_bytes()?;
        let needed = self
            .min_free
            .saturating_add(*outstanding)
            .saturating_add(bytes.max(must_fit));
        if free < needed {
            tracing::warn!(
                free_bytes = free,
                reserved_bytes = *outstanding,
                "upload refused: low disk space"
            );
            return Err(StoreError::Full);
        }
        *outstanding += bytes;
        Ok(())
    }

    /// Reserves room for the first step of an upload. Its `declared` size must fit as a whole
    /// now, but only a step is held: a slow client declaring a huge upload cannot keep space
    /// from everyone else; the reservation grows as the bytes arrive.
    pub fn reserve(self: &Arc<Self>, declared: Option<u64>) -> Result<Reservation, StoreError> {
        let whole = declared.map_or(0, |d| d.saturating_add(d / 4096).saturating_add(SLACK));
        let bytes = whole.clamp(SLACK, GROW_STEP + SLACK);
        self.take(bytes, whole)?;
        Ok(Reservation {
            space: Arc::clone(self),
            left: bytes,
        })
    }
}

impl Reservation {
    /// Counts `bytes` about to be written, reserving more first when the reservation is used up.
    pub fn write(&mut self, bytes: u64) -> Result<(), StoreError> {
        if bytes > self.left {
            let more = (bytes - self.left).max(GROW_STEP);
            self.space.take(more, 0)?;
            self.left += more;
        }
        self.left -= bytes;
        let mut outstanding = self
            .space
            .outstanding
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        *outstanding = outstanding.saturating_sub(bytes);
        Ok(())
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        let mut outstanding = self
            .space
            .outstanding
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        *outstanding = outstanding.saturating_sub(self.left);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upload_must_fit_whole_but_holds_only_a_step_and_steps_add_up() {
        let space = Space::new(std::env::temp_dir(), 0);
        let free = space.free_bytes().unwrap();
        assert!(
            space.reserve(Some(free * 2)).is_err(),
            "too large to ever fit"
        );
        let a = space.reserve(Some(free / 2)).unwrap();
        assert_eq!(
            space.outstanding(),
            GROW_STEP + SLACK,
            "only a step is held"
        );
        let b = space.reserve(Some(free / 2)).unwrap();
        assert_eq!(space.outstanding(), 2 * (GROW_STEP + SLACK));
        drop(a);
        drop(b);
        assert_eq!(space.outstanding(), 0);
    }

    #[test]
    fn written_bytes_leave_the_reservation_and_growth_is_checked() {
        let space = Space::new(std::env::temp_dir(), 0);
        let mut r = space.reserve(None).unwrap();
        let first = space.outstanding();
        r.write(1000).unwrap();
        assert_eq!(space.outstanding(), first - 1000);
        r.write(GROW_STEP * 2).unwrap();
        assert!(space.outstanding() < GROW_STEP * 2);
        let free = space.free_bytes().unwrap();
        assert!(
            r.write(free * 2).is_err(),
            "growing past the disk is refused"
        );
        drop(r);
        assert_eq!(space.outstanding(), 0);
    }
}
