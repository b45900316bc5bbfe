//! `GET /api/v1/rooms/{room_id}/ws`: authenticates the upgrade and hands it
//! to the room's Durable Object.

use edgechat_core::auth::handshake::{self, HandshakeError, SUBPROTOCOL};
use edgechat_core::identity::ROOM_INFO_HEADER;
use edgechat_core::ErrorCode;
use worker::{Env, Method, Request};

use crate::errors::{ApiError, ApiResult};
use crate::{access, auth, config, db, query, room_do};

pub async fn upgrade(req: &Request, env: &Env, room_id: &str) -> ApiResult {
    let cfg = config::load(env)?;
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
    // A hostile page must not ride a signed-in browser into a socket.
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
    let me = auth::user_of_token(env, &cfg, &creds.token).await?;
    let room = access::writable(&db::db(env)?, room_id, &me.id).await?;
    let info = serde_json::to_string(&room.to_room(false)).unwrap_or_default();
    let after_seq = query::seq(&query::params(req)?, "after_seq")?;

    // A fresh request: nothing the client sent reaches the room except what
    // is set here, so the identity cannot be forged and the token goes no
    // further.
    let mut extra = vec![("upgrade", "websocket"), (ROOM_INFO_HEADER, info.as_str())];
    if creds.select_subprotocol {
        extra.push(("sec-websocket-protocol", SUBPROTOCOL));
    }
    let path = match after_seq {
        Some(n) => format!("/ws?after_seq={n}"),
        None => "/ws".to_owned(),
    };
    room_do::call(
        env,
        &room.id,
        Some(&me.identity()),
        Method::Get,
        &path,
        None,
        &extra,
    )
    .await
}
