//! Calls from the Worker to a room's Durable Object. Every call is a fresh
//! internal request: only what is set here reaches the room.

use edgechat_core::identity::{
    encode_header, Identity, IDENTITY_HEADER, ROOM_HEADER, ROOM_INFO_HEADER,
};
use worker::{Env, Headers, Method, Request, RequestInit, Response, Stub};

use crate::db::rooms::RoomRow;
use crate::db::users::UserRow;
use crate::errors::ApiResult;

fn stub(env: &Env, room_id: &str) -> ApiResult<Stub> {
    Ok(env
        .durable_object("ROOMS")?
        .id_from_name(room_id)?
        .get_stub()?)
}

/// Sends `method path` with an optional JSON body to the room's object on
/// behalf of `who`, with extra internal headers.
pub async fn call(
    env: &Env,
    room_id: &str,
    who: Option<&Identity>,
    method: Method,
    path: &str,
    body: Option<String>,
    extra: &[(&str, &str)],
) -> ApiResult<Response> {
    let headers = Headers::new();
    headers.set(ROOM_HEADER, room_id)?;
    if let Some(who) = who {
        headers.set(IDENTITY_HEADER, &who.to_header())?;
    }
    if body.is_some() {
        headers.set("content-type", "application/json")?;
    }
    for (name, value) in extra {
        headers.set(name, value)?;
    }
    let mut init = RequestInit::new();
    init.with_method(method).with_headers(headers);
    if let Some(body) = body {
        init.with_body(Some(body.into()));
    }
    let req = Request::new_with_init(&format!("https://room.internal{path}"), &init)?;
    Ok(stub(env, room_id)?.fetch_with_request(req).await?)
}

/// Sends a request to the room on behalf of `who`, with the room's details
/// as the caller sees them (the room needs its kind and name to load).
pub async fn call_as(
    env: &Env,
    room: &RoomRow,
    who: &UserRow,
    method: Method,
    path: &str,
    body: Option<String>,
    extra: &[(&str, &str)],
) -> ApiResult<Response> {
    let info = encode_header(&room.to_room(false));
    let mut headers = vec![(ROOM_INFO_HEADER, info.as_str())];
    headers.extend_from_slice(extra);
    call(
        env,
        &room.id,
        Some(&who.identity()),
        method,
        path,
        body,
        &headers,
    )
    .await
}

/// Closes `user_id`'s sockets in the room (after a kick or a leave).
pub async fn close_user_sockets(env: &Env, room_id: &str, user_id: &str) -> ApiResult<()> {
    let body = serde_json::json!({ "user_id": user_id }).to_string();
    call(env, room_id, None, Method::Post, "/kick", Some(body), &[]).await?;
    Ok(())
}

/// Tells the room about a new member (it keeps the member list it pokes
/// about unread counts).
pub async fn member_joined(env: &Env, room_id: &str, user_id: &str) -> ApiResult<()> {
    let body = serde_json::json!({ "user_id": user_id }).to_string();
    call(env, room_id, None, Method::Post, "/member", Some(body), &[]).await?;
    Ok(())
}
