//! `GET /health`: liveness for load balancers and the test harness.

use worker::Response;

use crate::errors::ApiResult;

pub fn get() -> ApiResult {
    Ok(Response::from_json(&serde_json::json!({"status": "ok"}))?)
}
