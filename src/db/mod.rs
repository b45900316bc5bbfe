//! D1 access: one module per table family, each a handful of queries.

pub mod notifications;
pub mod refresh;
pub mod rooms;
pub mod users;

use wasm_bindgen::JsValue;
use worker::{D1Database, Env};

use crate::errors::ApiResult;

/// The `DB` binding.
pub fn db(env: &Env) -> ApiResult<D1Database> {
    Ok(env.d1("DB")?)
}

/// A string parameter.
pub fn text(s: &str) -> JsValue {
    JsValue::from_str(s)
}

/// An integer parameter (milliseconds and counters stay far below 2^53).
pub fn int(n: i64) -> JsValue {
    JsValue::from_f64(n as f64)
}
