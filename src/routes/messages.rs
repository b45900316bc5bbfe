//! `/api/v1/rooms/{room_id}/messages`: history from D1; writes through the
//! room's Durable Object, the same path as socket frames.

use edgechat_core::identity::ROLE_HEADER;
use edgechat_core::model::{Role, MAX_SEQ};
use edgechat_durable::journal::Page;
use serde::{Deserialize, Serialize};
use worker::{Env, Method, Request};

use crate::db::rooms::RoomRow;
use crate::errors::{ApiError, ApiResult};
use crate::{access, auth, body, config, db, query, room_do};

pub async fn history(req: &Request, env: &Env, room_id: &str) -> ApiResult {
    let cfg = config::load(env)?;
    let me = auth::caller(req, env, &cfg).await?;
    let params = query::params(req)?;
    let limit = edgechat_core::cursor::limit(params.get("limit").map(String::as_str), 50, 100)
        .map_err(ApiError::invalid)?;
    let page = match (
        query::seq(&params, "before")?,
        query::seq(&params, "after")?,
    ) {
        (Some(_), Some(_)) => return Err(ApiError::invalid("give before or after, not both")),
        (Some(b), None) => Page::Before(b),
        (None, Some(a)) => Page::After(a),
        (None, None) => Page::Newest,
    };
    let room = access::readable(&db::db(env)?, room_id, &me.id).await?;
    // The room serves pages from its own copy of the messages.
    let path = match page {
        Page::Newest => format!("/history?limit={limit}"),
        Page::Before(b) => format!("/history?before={b}&limit={limit}"),
        Page::After(a) => format!("/history?after={a}&limit={limit}"),
    };
    room_do::call_as(env, &room, &me, Method::Get, &path, None, &[]).await
}

#[derive(Deserialize, Serialize)]
struct NewMessage {
    body: String,
    client_id: String,
    #[serde(
        default,
        deserialize_with = "body::present_seq",
        skip_serializing_if = "Option::is_none"
    )]
    reply_to: Option<u64>,
}

#[derive(Deserialize, Serialize)]
struct NewBody {
    body: String,
}

/// Forwards a write to the room as the caller, with the caller's role and
/// the room's details.
async fn forward(
    env: &Env,
    room: &RoomRow,
    who: &db::users::UserRow,
    path: &str,
    body: String,
) -> ApiResult {
    let role = room.role().unwrap_or(Role::Member);
    let extra = [(ROLE_HEADER, role.as_str())];
    room_do::call_as(env, room, who, Method::Post, path, Some(body), &extra).await
}

pub async fn post(mut req: Request, env: &Env, room_id: &str) -> ApiResult {
    let cfg = config::load(env)?;
    let me = auth::caller(&req, env, &cfg).await?;
    let input: NewMessage = body::json(&mut req).await?;
    let room = access::writable(&db::db(env)?, room_id, &me.id).await?;
    let body = serde_json::to_string(&input).unwrap_or_default();
    forward(env, &room, &me, "/send", body).await
}

fn seq_of(raw: &str) -> ApiResult<u64> {
    raw.parse()
        .ok()
        .filter(|s| *s <= MAX_SEQ)
        .ok_or_else(|| ApiError::invalid(format!("seq must be an integer from 0 to {MAX_SEQ}")))
}

pub async fn edit(mut req: Request, env: &Env, room_id: &str, seq: &str) -> ApiResult {
    let cfg = config::load(env)?;
    let me = auth::caller(&req, env, &cfg).await?;
    let seq = seq_of(seq)?;
    let input: NewBody = body::json(&mut req).await?;
    let room = access::writable(&db::db(env)?, room_id, &me.id).await?;
    let body = serde_json::json!({"seq": seq, "body": input.body}).to_string();
    forward(env, &room, &me, "/edit", body).await
}

pub async fn delete(req: &Request, env: &Env, room_id: &str, seq: &str) -> ApiResult {
    let cfg = config::load(env)?;
    let me = auth::caller(req, env, &cfg).await?;
    let seq = seq_of(seq)?;
    let room = access::writable(&db::db(env)?, room_id, &me.id).await?;
    let body = serde_json::json!({ "seq": seq }).to_string();
    forward(env, &room, &me, "/delete", body).await
}
