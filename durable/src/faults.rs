//! Storage faults for local development and tests only.
//!
//! When `DEV_FAULT_D1_FAIL_PERCENT` is set and a room's name starts with
//! `DEV_FAULT_D1_ROOM_PREFIX`, that share of the room's D1 batches fail:
//! half before reaching D1, half after committing with the answer lost.
//! Production configuration sets neither variable, and both must stay out
//! of `wrangler.toml`; and a production build (without the `dev-faults`
//! feature) does not read them at all.

use worker::Env;

/// What to do to one batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreFault {
    /// Store it normally.
    None,
    /// Fail without storing.
    FailBefore,
    /// Store it, then report a failure.
    LoseAnswer,
}

/// Whether the room named `name` is subject to injected storage faults,
/// and how often (0–100).
pub fn store_fault_percent(env: &Env, name: &str) -> u32 {
    if !cfg!(feature = "dev-faults") {
        return 0;
    }
    let var = |n: &str| {
        env.var(n)
            .ok()
            .map(|v| v.to_string())
            .filter(|v| !v.is_empty())
    };
    match (
        var("DEV_FAULT_D1_FAIL_PERCENT"),
        var("DEV_FAULT_D1_ROOM_PREFIX"),
    ) {
        (Some(p), Some(prefix)) if name.starts_with(&prefix) => p.parse().unwrap_or(0).min(100),
        _ => 0,
    }
}

/// Rolls the dice for one batch.
pub fn roll(percent: u32) -> StoreFault {
    if percent == 0 {
        return StoreFault::None;
    }
    let r = worker::js_sys::Math::random() * 100.0;
    if r >= f64::from(percent) {
        StoreFault::None
    } else if r < f64::from(percent) / 2.0 {
        StoreFault::FailBefore
    } else {
        StoreFault::LoseAnswer
    }
}

/// Whether the room reports how long each D1 batch took (`DEV_TIMINGS`, set
/// by the benchmark to show where an ack's time goes).
pub fn timings(env: &Env) -> bool {
    cfg!(feature = "dev-faults")
        && env
            .var("DEV_TIMINGS")
            .is_ok_and(|v| !v.to_string().is_empty())
}
