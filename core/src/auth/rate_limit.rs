//! A sliding-window limit: at most `limit` hits in any `window_ms`.
//!
//! Kept per key (a client IP, a username) by the rate-limiter Durable
//! Object, which stores [`Window`] between hits so the limit holds across
//! Worker isolates and restarts.

use serde::{Deserialize, Serialize};

use crate::Timestamp;

/// The recent hits of one key, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    hits: Vec<i64>,
}

/// The answer to one hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    /// Go ahead; the hit was counted.
    Allowed,
    /// Over the limit; the hit was not counted. Retry after this many ms.
    Refused {
        /// Milliseconds until a hit would be allowed.
        retry_after_ms: u64,
    },
}

impl Window {
    /// Counts a hit at `now` if fewer than `limit` hits happened in the last
    /// `window_ms`; refused hits are not counted, so the retry time is true.
    pub fn hit(&mut self, now: Timestamp, limit: u32, window_ms: i64) -> Decision {
        let now = now.millis();
        self.hits.retain(|&t| t > now - window_ms && t <= now);
        if self.hits.len() < limit as usize {
            self.hits.push(now);
            return Decision::Allowed;
        }
        let oldest = self.hits.first().copied().unwrap_or(now);
        Decision::Refused {
            retry_after_ms: (oldest + window_ms - now).max(1) as u64,
        }
    }
}

/// Whole seconds for a `Retry-After` header, rounded up.
#[must_use]
pub fn retry_after_secs(ms: u64) -> u64 {
    ms.div_ceil(1000).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eleventh_hit_in_a_minute_is_refused() {
        let mut w = Window::default();
        for i in 0..10 {
            assert_eq!(
                w.hit(Timestamp(1000 + i * 100), 10, 60_000),
                Decision::Allowed
            );
        }
        assert_eq!(
            w.hit(Timestamp(5000), 10, 60_000),
            Decision::Refused {
                retry_after_ms: 56_000
            }
        );
        // Refused hits do not count: once the oldest ages out, one more fits.
        assert_eq!(w.hit(Timestamp(61_000), 10, 60_000), Decision::Allowed);
        assert!(matches!(
            w.hit(Timestamp(61_001), 10, 60_000),
            Decision::Refused { .. }
        ));
    }

    #[test]
    fn window_slides() {
        let mut w = Window::default();
        assert_eq!(w.hit(Timestamp(0), 1, 1000), Decision::Allowed);
        assert_eq!(
            w.hit(Timestamp(999), 1, 1000),
            Decision::Refused { retry_after_ms: 1 }
        );
        assert_eq!(w.hit(Timestamp(1000), 1, 1000), Decision::Allowed);
    }

    #[test]
    fn zero_limit_refuses_everything() {
        let mut w = Window::default();
        assert!(matches!(
            w.hit(Timestamp(0), 0, 1000),
            Decision::Refused { .. }
        ));
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(1), 1);
        assert_eq!(retry_after_secs(1000), 1);
        assert_eq!(retry_after_secs(1001), 2);
        assert_eq!(retry_after_secs(56_000), 56);
    }
}
