//! Authentication glue: bearer tokens on requests, sessions, attempt limits.

pub mod cookie;
pub mod limits;
pub mod session;

use edgechat_core::auth::handshake::{self, Credentials, HandshakeError};
use edgechat_core::auth::jwt;
use edgechat_core::config::Config;
use edgechat_core::ErrorCode;
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

/// The caller of a WebSocket upgrade (room or notification stream): a real
/// upgrade, from an allowed Origin (a hostile page must not ride a signed-in
/// browser into a socket), with a valid token by header or subprotocol.
pub async fn upgrade_caller(
    req: &Request,
    env: &Env,
    cfg: &Config,
) -> ApiResult<(UserRow, Credentials)> {
    let headers = req.headers();
    let is_upgrade = headers
        .get("upgrade")?
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if !is_upgrade {
        return Err(ApiError::client(
            426,
            ErrorCode::UpgradeRequired,
            "this endpoint only accepts WebSocket upgrades",
        ));
    }
    if !handshake::origin_allowed(headers.get("origin")?.as_deref(), &cfg.allowed_origins) {
        return Err(ApiError::forbidden("origin not allowed"));
    }
    let creds = handshake::credentials(
        headers.get("authorization")?.as_deref(),
        headers.get("sec-websocket-protocol")?.as_deref(),
    )
    .map_err(|e| match e {
        HandshakeError::Missing => ApiError::unauthorized(
            "send Authorization: Bearer <token> or Sec-WebSocket-Protocol: edgechat.v1, bearer.<token>",
        ),
        HandshakeError::ProtocolMissing => {
            ApiError::invalid("a bearer.<token> subprotocol needs edgechat.v1 beside it")
        }
    })?;
    let me = user_of_token(env, cfg, &creds.token).await?;
    Ok((me, creds))
}
