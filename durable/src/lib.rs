//! The Durable Objects of edgechat.
//!
//! - [`Room`]: one per room; holds the room's hibernatable sockets, orders
//!   messages and fans them out.
//! - [`UserHub`]: one per user; the user's notification stream.
//! - [`RateLimiter`]: one per limited key; login and register attempts.
//!
//! Both are thin glue around `edgechat-core`: they read sockets, storage and
//! the clock, and carry out what the pure state machines decide.

mod faults;
mod hub;
pub mod hubs;
pub mod journal;
mod limiter;
mod room;
mod tail;

pub use hub::UserHub;
pub use limiter::RateLimiter;
pub use room::Room;

/// Answers a client's close frame with the same code (1005 and 1006 are
/// reserved and may not be sent, so those become 1000).
fn answer_close(ws: &worker::WebSocket, code: usize) {
    let code = match code {
        1005 | 1006 => 1000,
        c => u16::try_from(c).unwrap_or(1000),
    };
    let _ = ws.close(Some(code), Some("closing"));
}
