//! The Durable Objects of edgechat.
//!
//! - [`Room`]: one per room; holds the room's hibernatable sockets, orders
//!   messages and fans them out.
//! - [`UserHub`]: one per user; the user's notification stream.
//!
//! Both are thin glue around `edgechat-core`: they read sockets, storage and
//! the clock, and carry out what the pure state machines decide.

mod hub;
mod room;

pub use hub::UserHub;
pub use room::Room;
