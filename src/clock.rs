//! The one clock a running portal reads the time from. Every stored time, deadline, expiry and
//! retention decision asks it, so tests can run a portal "in the future" (old cases, expired
//! invitations, due retention) without editing its data.

use jiff::{SignedDuration, Timestamp};

/// Wall-clock time, optionally shifted by a fixed amount.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Clock {
    shift: SignedDuration,
}

/// The test-only environment variable that shifts the clock (`400d`, `-2h`, …): honoured only in
/// builds with the `fault-points` feature.
#[cfg(feature = "fault-points")]
pub const SHIFT_VAR: &str = "SEALDROPTEST_CLOCK_SHIFT";

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// A clock running `shift` ahead of the system clock (behind, when negative).
    pub fn shifted(shift: SignedDuration) -> Clock {
        Clock { shift }
    }

    /// The clock of a server process: the system clock, or in test builds the one that
    /// `SEALDROPTEST_CLOCK_SHIFT` asks for.
    pub fn for_server() -> Clock {
        #[cfg(feature = "fault-points")]
        if let Ok(text) = std::env::var(SHIFT_VAR) {
            let shift = text.parse::<jiff::Span>().ok().and_then(|span| {
                span.to_duration(jiff::SpanRelativeTo::days_are_24_hours())
                    .ok()
            });
            match shift {
                Some(shift) => return Clock::shifted(shift),
                None => {
                    tracing::error!(value = %text, "ignoring {SHIFT_VAR}: not a duration such as 400d or -2h")
                }
            }
        }
        Clock::system()
    }

    /// Now.
    pub fn now(&self) -> Timestamp {
        Timestamp::now()
            .checked_add(self.shift)
            .unwrap_or_else(|_| Timestamp::now())
    }

    /// Now, RFC 3339 UTC with seconds (the format every stored time uses).
    pub fn text(&self) -> String {
        rfc3339(self.now())
    }

    /// Now as Unix seconds (never negative).
    pub fn unix_seconds(&self) -> u64 {
        self.now().as_second().max(0) as u64
    }
}

/// RFC 3339 UTC with seconds: the format every stored time uses.
pub fn rfc3339(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shifted_clock_runs_ahead_by_its_shift() {
        let ahead = Clock::shifted(SignedDuration::from_hours(24 * 400));
        let diff = ahead.now().duration_since(Clock::system().now());
        assert!(
            (diff.as_secs() - 400 * 86_400).abs() < 5,
            "shift was {diff:?}"
        );
    }
}
