//! `GET /api/v1/rooms/{room_id}/ws`: authenticates the upgrade and hands it
//! to the room's Durable Object.

use edgechat_core::auth::handshake::{self, HandshakeError, SUBPROTOCOL};
use edgechat_core::identity::{IDENTITY_HEADER, ROOM_HEADER};
use edgechat_core::validate::RoomId;
use edgechat_core::ErrorCode;
use worker::{Env, Headers, Method, Request, RequestInit};

use crate::errors::{ApiError, ApiResult};
use crate::{auth, config};

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
    let room_id = RoomId::parse(room_id).map_err(|_| ApiError::not_found())?;

    // A fresh request: nothing the client sent reaches the room except what
    // is copied here, so the identity header cannot be forged and the token
    // goes no further.
    let inner_headers = Headers::new();
    inner_headers.set("upgrade", "websocket")?;
    inner_headers.set(IDENTITY_HEADER, &me.identity().to_header())?;
    inner_headers.set(ROOM_HEADER, room_id.as_str())?;
    if creds.select_subprotocol {
        inner_headers.set("sec-websocket-protocol", SUBPROTOCOL)?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(inner_headers);
    let inner = Request::new_with_init("https://room.internal/ws", &init)?;

    let stub = env
        .durable_object("ROOMS")?
        .id_from_name(room_id.as_str())?
        .get_stub()?;
    Ok(stub.fetch_with_request(inner).await?)
}
