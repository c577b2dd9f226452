//! The one gate every way of uploading passes: the form post, the follow-up, the invitation
//! and each resumable piece. A [`Pass`] is the only way to hold upload slots (global and per
//! client) and carries the body's [`Pace`] (idle timeout and minimum average rate); the bytes
//! go through the one channel-fed sealer ([`Sink`]), which charges what is really written
//! (age headers, tags, block rounding) to a free-space reservation before writing it. A new
//! path cannot forget a limit: it has no way to admit, pace, reserve or seal beside the gate.

pub mod pace;
pub mod sink;

pub use pace::Pace;
pub use sink::{Durability, Sink};

use tokio::sync::OwnedSemaphorePermit;

/// An admitted request body: its slots (freed when dropped) and its pace.
pub struct Pass {
    _slots: (OwnedSemaphorePermit, crate::ratelimit::Slot),
    pace: std::sync::Arc<Pace>,
}

impl Pass {
    pub(crate) fn new(
        slots: (OwnedSemaphorePermit, crate::ratelimit::Slot),
        limits: &crate::config::Limits,
    ) -> Pass {
        Pass {
            _slots: slots,
            pace: std::sync::Arc::new(Pace::new(limits)),
        }
    }

    /// How long the body may take (shared with the code that reads the body).
    pub fn pace(&self) -> std::sync::Arc<Pace> {
        std::sync::Arc::clone(&self.pace)
    }
}
