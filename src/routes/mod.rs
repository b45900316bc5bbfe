//! One module per endpoint family.

pub mod auth;
pub mod health;
pub mod me;
pub mod members;
pub mod messages;
pub mod notifications;
pub mod openapi;
pub mod room_socket;
pub mod rooms;

use serde::Serialize;
use worker::Response;

use crate::errors::ApiResult;

/// A JSON answer with `status`.
pub fn json<T: Serialize>(status: u16, body: &T) -> ApiResult {
    Ok(Response::from_json(body)?.with_status(status))
}
