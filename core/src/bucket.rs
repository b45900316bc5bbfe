//! The per-user token bucket that limits sends, edits and deletes in a room.

/// Tokens refill continuously at `per_second` up to `burst`; each write
/// takes one.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenBucket {
    tokens: f64,
    updated_ms: i64,
}

impl TokenBucket {
    /// A full bucket at `now_ms`.
    #[must_use]
    pub fn full(burst: u32, now_ms: i64) -> Self {
        Self {
            tokens: f64::from(burst),
            updated_ms: now_ms,
        }
    }

    /// Takes one token at `now_ms`, or says how many ms until one is there.
    pub fn take(&mut self, now_ms: i64, burst: u32, per_second: u32) -> Result<(), u64> {
        let elapsed = (now_ms - self.updated_ms).max(0) as f64 / 1000.0;
        self.tokens = (self.tokens + elapsed * f64::from(per_second)).min(f64::from(burst));
        self.updated_ms = now_ms.max(self.updated_ms);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        if per_second == 0 {
            return Err(60_000);
        }
        let missing = 1.0 - self.tokens;
        Err(((missing / f64::from(per_second)) * 1000.0).ceil().max(1.0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::TokenBucket;

    #[test]
    fn burst_then_refill() {
        let mut b = TokenBucket::full(10, 0);
        for _ in 0..10 {
            assert_eq!(b.take(0, 10, 5), Ok(()));
        }
        assert_eq!(b.take(0, 10, 5), Err(200));
        assert_eq!(b.take(100, 10, 5), Err(100));
        assert_eq!(b.take(200, 10, 5), Ok(()));
        // Long idle refills only up to the burst.
        for _ in 0..10 {
            assert_eq!(b.take(60_000, 10, 5), Ok(()));
        }
        assert!(b.take(60_000, 10, 5).is_err());
    }

    #[test]
    fn clock_going_back_does_not_mint_tokens() {
        let mut b = TokenBucket::full(1, 1000);
        assert_eq!(b.take(1000, 1, 1), Ok(()));
        assert!(b.take(500, 1, 1).is_err());
        assert!(b.take(1500, 1, 1).is_err());
        assert_eq!(b.take(2000, 1, 1), Ok(()));
    }

    #[test]
    fn zero_rate_never_refills() {
        let mut b = TokenBucket::full(1, 0);
        assert_eq!(b.take(0, 1, 0), Ok(()));
        assert_eq!(b.take(10_000_000, 1, 0), Err(60_000));
    }
}
