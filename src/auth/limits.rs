//! Register and login attempt limits, kept by one `RateLimiter` Durable
//! Object per key so they hold across Worker isolates.

use edgechat_core::auth::rate_limit::Decision;
use edgechat_core::config::Config;
use futures_util::future::join;
use worker::{Env, Headers, Method, Request, RequestInit};

use crate::errors::{ApiError, ApiResult};

const WINDOW_MS: i64 = 60_000;

async fn hit(env: &Env, key: &str, limit: u32) -> ApiResult<Decision> {
    let stub = env
        .durable_object("LIMITS")?
        .id_from_name(key)?
        .get_stub()?;
    let headers = Headers::new();
    headers.set("content-type", "application/json")?;
    let body = serde_json::json!({"limit": limit, "window_ms": WINDOW_MS}).to_string();
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(body.into()));
    let req = Request::new_with_init("https://limits.internal/hit", &init)?;
    let mut resp = stub.fetch_with_request(req).await?;
    Ok(resp.json().await?)
}

/// The client's address as Cloudflare reports it.
pub fn client_ip(req: &Request) -> ApiResult<String> {
    Ok(req
        .headers()
        .get("cf-connecting-ip")?
        .unwrap_or_else(|| "unknown".to_owned()))
}

/// Counts one attempt against the client IP and, when known, the username;
/// 429 if either is over `LIMIT_AUTH_PER_MINUTE`.
pub async fn attempt(env: &Env, cfg: &Config, ip: &str, username: Option<&str>) -> ApiResult<()> {
    let limit = cfg.auth_per_minute;
    let ip_key = format!("auth-ip:{ip}");
    let by_ip = hit(env, &ip_key, limit);
    let decisions = match username {
        Some(name) => {
            let user_key = format!("auth-user:{name}");
            let (a, b) = join(by_ip, hit(env, &user_key, limit)).await;
            vec![a?, b?]
        }
        None => vec![by_ip.await?],
    };
    let retry = decisions
        .iter()
        .filter_map(|d| match d {
            Decision::Refused { retry_after_ms } => Some(*retry_after_ms),
            Decision::Allowed => None,
        })
        .max();
    match retry {
        Some(ms) => Err(ApiError::rate_limited(ms)),
        None => Ok(()),
    }
}
