//! `GET /api/v1/rooms/{room_id}/ws`: authenticates the upgrade and hands it
//! to the room's Durable Object.

use edgechat_core::auth::handshake::SUBPROTOCOL;
use worker::{Env, Method, Request};

use crate::errors::ApiResult;
use crate::{access, auth, config, db, query, room_do};

pub async fn upgrade(req: &Request, env: &Env, room_id: &str) -> ApiResult {
    let cfg = config::load(env)?;
    let (me, creds) = auth::upgrade_caller(req, env, &cfg).await?;
    let room = access::writable(&db::db(env)?, room_id, &me.id).await?;
    let after_seq = query::seq(&query::params(req)?, "after_seq")?;

    // A fresh request: nothing the client sent reaches the room except what
    // is set here, so the identity cannot be forged and the token goes no
    // further.
    let mut extra = vec![("upgrade", "websocket")];
    if creds.select_subprotocol {
        extra.push(("sec-websocket-protocol", SUBPROTOCOL));
    }
    let path = match after_seq {
        Some(n) => format!("/ws?after_seq={n}"),
        None => "/ws".to_owned(),
    };
    room_do::call_as(env, &room, &me, Method::Get, &path, None, &extra).await
}
