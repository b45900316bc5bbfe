//! Authentication glue: bearer tokens on requests, sessions, attempt limits.

pub mod limits;
pub mod session;

use edgechat_core::auth::jwt;
use edgechat_core::config::Config;
use worker::{Env, Request};

use crate::clock;
use crate::db::{self, users::UserRow};
use crate::errors::{ApiError, ApiResult};

/// Verifies an access token and loads its user; any failure is the same 401.
pub async fn user_of_token(env: &Env, cfg: &Config, token: &str) -> ApiResult<UserRow> {
    let now_secs = clock::now().millis() / 1000;
    let claims = jwt::verify(token, &cfg.keys, now_secs)
        .map_err(|_| ApiError::unauthorized("invalid or expired access token"))?;
    db::users::by_id(&db::db(env)?, &claims.sub)
        .await?
        .ok_or_else(|| ApiError::unauthorized("invalid or expired access token"))
}

/// The caller of an HTTP request, from `Authorization: Bearer <token>`.
pub async fn caller(req: &Request, env: &Env, cfg: &Config) -> ApiResult<UserRow> {
    let header = req.headers().get("authorization")?;
    let token = edgechat_core::auth::handshake::bearer(header.as_deref())
        .ok_or_else(|| ApiError::unauthorized("send Authorization: Bearer <access_token>"))?;
    user_of_token(env, cfg, token).await
}
