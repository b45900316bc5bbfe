//! The rate-limiter Durable Object: one per limited key (`ip:…`, `user:…`).
//!
//! A single object per key sees every attempt for that key wherever it
//! arrives, so the limit holds across Worker isolates; the window is kept in
//! the object's storage so it also survives eviction.

use edgechat_core::auth::rate_limit::Window;
use edgechat_core::Timestamp;
use serde::Deserialize;
use worker::{durable_object, DurableObject, Env, Request, Response, Result, State};

const KEY_WINDOW: &str = "window";

/// What the Worker asks: count one hit against `limit` per `window_ms`.
#[derive(Deserialize)]
struct Hit {
    limit: u32,
    window_ms: i64,
}

#[durable_object]
pub struct RateLimiter {
    state: State,
}

impl DurableObject for RateLimiter {
    fn new(state: State, _env: Env) -> Self {
        Self { state }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let hit: Hit = req.json().await?;
        let storage = self.state.storage();
        let mut window: Window = storage.get(KEY_WINDOW).await?.unwrap_or_default();
        let now = Timestamp(worker::Date::now().as_millis() as i64);
        let decision = window.hit(now, hit.limit, hit.window_ms);
        storage.put(KEY_WINDOW, &window).await?;
        Response::from_json(&decision)
    }
}
