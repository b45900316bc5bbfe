//! One module per endpoint family.

pub mod health;
pub mod room_socket;
