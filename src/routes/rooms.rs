//! `/api/v1/rooms` and `/api/v1/dms`: creating, listing, reading, joining.

use edgechat_core::cursor::Cursor;
use edgechat_core::model::{RoomKind, Visibility};
use edgechat_core::validate::{RoomName, Topic, Username};
use serde::{Deserialize, Serialize};
use worker::{Env, Request};

use super::json;
use crate::access;
use crate::db::{self, rooms::Scope};
use crate::errors::{ApiError, ApiResult};
use crate::{auth, body, clock, config, query, room_do};

#[derive(Deserialize)]
struct CreateRoom {
    name: String,
    #[serde(default, deserialize_with = "body::present")]
    topic: Option<String>,
    visibility: Visibility,
}

pub async fn create(mut req: Request, env: &Env) -> ApiResult {
    let cfg = config::load(env)?;
    let me = auth::caller(&req, env, &cfg).await?;
    let input: CreateRoom = body::json(&mut req).await?;
    let name = RoomName::parse(&input.name).map_err(|e| ApiError::invalid(e.0))?;
    let topic =
        Topic::parse(input.topic.as_deref().unwrap_or("")).map_err(|e| ApiError::invalid(e.0))?;
    let db = db::db(env)?;
    let id = clock::new_id()?;
    let room = db::rooms::NewRoom {
        id: &id,
        name: name.as_str(),
        topic: topic.as_str(),
        kind: RoomKind::Room,
        visibility: input.visibility,
        created_at: clock::now().millis(),
        dm_key: None,
    };
    db::rooms::create(&db, &room, &me.id).await?;
    let created = access::readable(&db, &id, &me.id).await?;
    json(201, &created.to_room(false))
}

#[derive(Serialize)]
struct RoomPage {
    rooms: Vec<edgechat_core::model::Room>,
    next_cursor: Option<String>,
}

pub async fn list(req: &Request, env: &Env) -> ApiResult {
    let cfg = config::load(env)?;
    let me = auth::caller(req, env, &cfg).await?;
    let params = query::params(req)?;
    let scope = match params.get("scope").map(String::as_str) {
        None | Some("joined") => Scope::Joined,
        Some("public") => Scope::Public,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "scope must be joined or public, not {other:?}"
            )))
        }
    };
    let (limit, after) = query::page(&params)?;
    let q = params
        .get("q")
        .map(String::as_str)
        .filter(|q| !q.is_empty());
    if q.is_some_and(|q| q.chars().count() > 64) {
        return Err(ApiError::invalid("q must be at most 64 characters"));
    }
    let mut rows = db::rooms::list(&db::db(env)?, &me.id, scope, q, after.as_ref(), limit).await?;
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|r| {
            Cursor {
                at: r.created_at,
                id: r.id.clone(),
            }
            .encode()
        })
    } else {
        None
    };
    let with_unread = scope == Scope::Joined;
    json(
        200,
        &RoomPage {
            rooms: rows.iter().map(|r| r.to_room(with_unread)).collect(),
            next_cursor,
        },
    )
}

pub async fn get(req: &Request, env: &Env, room_id: &str) -> ApiResult {
    let cfg = config::load(env)?;
    let me = auth::caller(req, env, &cfg).await?;
    let room = access::readable(&db::db(env)?, room_id, &me.id).await?;
    json(200, &room.to_room(false))
}

pub async fn join(req: &Request, env: &Env, room_id: &str) -> ApiResult {
    let cfg = config::load(env)?;
    let me = auth::caller(req, env, &cfg).await?;
    let db = db::db(env)?;
    let room = db::rooms::for_caller(&db, room_id, &me.id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    room.standing().join().map_err(access::refused)?;
    if room.role().is_none() {
        db::rooms::add_member(
            &db,
            room_id,
            &me.id,
            edgechat_core::model::Role::Member,
            clock::now().millis(),
        )
        .await?;
        room_do::member_joined(env, room_id, &me.id).await?;
    }
    let joined = access::readable(&db, room_id, &me.id).await?;
    json(200, &joined.to_room(false))
}

#[derive(Deserialize)]
struct OpenDm {
    username: String,
}

pub async fn open_dm(mut req: Request, env: &Env) -> ApiResult {
    let cfg = config::load(env)?;
    let me = auth::caller(&req, env, &cfg).await?;
    let input: OpenDm = body::json(&mut req).await?;
    let db = db::db(env)?;
    let other = match Username::parse(&input.username) {
        Ok(name) => db::users::by_username(&db, name.as_str()).await?,
        Err(_) => None,
    }
    .ok_or_else(|| ApiError::client(404, edgechat_core::ErrorCode::NotFound, "no such user"))?;
    if other.id == me.id {
        return Err(ApiError::invalid("a DM needs someone else"));
    }
    // The same pair always maps to the same key, whichever side asks.
    let (a, b) = if me.id < other.id {
        (&me.id, &other.id)
    } else {
        (&other.id, &me.id)
    };
    let key = format!("{a}:{b}");
    let id = clock::new_id()?;
    let room = db::rooms::NewRoom {
        id: &id,
        name: "",
        topic: "",
        kind: RoomKind::Dm,
        visibility: Visibility::Private,
        created_at: clock::now().millis(),
        dm_key: Some(&key),
    };
    let (room_id, created) = db::rooms::open_dm(&db, &room, a, b).await?;
    // Rejoining a DM one had left: the room must poke both hubs again.
    room_do::member_joined(env, &room_id, a).await?;
    room_do::member_joined(env, &room_id, b).await?;
    let dm = access::readable(&db, &room_id, &me.id).await?;
    json(if created { 201 } else { 200 }, &dm.to_room(false))
}
