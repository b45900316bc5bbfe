//! `GET /health`: liveness for load balancers and the test harness.

use worker::{Env, Response};

use crate::config;
use crate::errors::ApiResult;

/// `{"status":"ok"}`, or a 500 when the configuration is unusable (e.g. a
/// `JWT_SECRET` shorter than 32 bytes), so a bad deploy shows at once.
pub fn get(env: &Env) -> ApiResult {
    config::load(env)?;
    Ok(Response::from_json(&serde_json::json!({"status": "ok"}))?)
}
