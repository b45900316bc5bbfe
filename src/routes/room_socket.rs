//! `GET /api/v1/rooms/{room_id}/ws`: hands the upgrade to the room's Durable Object.

use edgechat_core::identity::{Identity, IDENTITY_HEADER, ROOM_HEADER};
use edgechat_core::validate::{RoomId, Username};
use edgechat_core::ErrorCode;
use worker::{Env, Headers, Method, Request, RequestInit};

use crate::errors::{ApiError, ApiResult};

pub async fn upgrade(req: &Request, env: &Env, room_id: &str) -> ApiResult {
    let is_upgrade = req
        .headers()
        .get("upgrade")?
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if !is_upgrade {
        return Err(ApiError::client(
            426,
            ErrorCode::UpgradeRequired,
            "this endpoint only accepts WebSocket upgrades",
        ));
    }
    let room_id = RoomId::parse(room_id).map_err(|_| ApiError::not_found())?;
    let me = identify(req)?;

    // A fresh request: nothing the client sent reaches the room except what
    // is copied here, so the identity header cannot be forged.
    let headers = Headers::new();
    headers.set("upgrade", "websocket")?;
    headers.set(IDENTITY_HEADER, &me.to_header())?;
    headers.set(ROOM_HEADER, room_id.as_str())?;
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers);
    let inner = Request::new_with_init("https://room.internal/ws", &init)?;

    let stub = env
        .durable_object("ROOMS")?
        .id_from_name(room_id.as_str())?
        .get_stub()?;
    Ok(stub.fetch_with_request(inner).await?)
}

/// Who is connecting. Until accounts exist the caller names itself with
/// `?user=`; the identity still travels to the room only via the internal header.
fn identify(req: &Request) -> ApiResult<Identity> {
    let url = req.url()?;
    let name = url
        .query_pairs()
        .find(|(k, _)| k == "user")
        .map(|(_, v)| v.into_owned())
        .ok_or_else(|| {
            ApiError::client(401, ErrorCode::Unauthorized, "name yourself with ?user=")
        })?;
    let username = Username::parse(&name).map_err(|e| ApiError::invalid(e.0))?;
    Ok(Identity {
        id: username.as_str().to_owned(),
        username: username.as_str().to_owned(),
        display_name: username.as_str().to_owned(),
        created_at_ms: 0,
    })
}
