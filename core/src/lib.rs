//! Pure domain logic of edgechat.
//!
//! Everything here decides without I/O: the wire protocol, validated newtypes,
//! the room state machine and time formatting. Time is always passed in, never
//! read from a clock, so all of it runs and is tested on the host in
//! milliseconds. The Worker (`src/`) and the Durable Objects (`durable/`) are
//! thin glue that turn requests, sockets and storage into calls on this crate.

pub mod auth;
pub mod backlog;
pub mod bucket;
pub mod config;
pub mod cursor;
pub mod error;
pub mod frames;
pub mod identity;
pub mod ids;
pub mod mentions;
pub mod model;
pub mod policy;
pub mod presence;
pub mod problem;
pub mod room;
pub mod time;
pub mod validate;

pub use error::ErrorCode;
pub use time::Timestamp;
