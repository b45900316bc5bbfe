//! `/api/v1/rooms/{room_id}/members`: add, remove (leave or kick), change role.

use edgechat_core::model::{Role, User};
use edgechat_core::validate::Username;
use edgechat_core::ErrorCode;
use serde::{Deserialize, Serialize};
use worker::{Env, Request, Response};

use super::json;
use crate::access;
use crate::db;
use crate::errors::{ApiError, ApiResult};
use crate::{auth, body, clock, config, room_do};

#[derive(Deserialize)]
struct AddMember {
    username: String,
}

#[derive(Deserialize)]
struct SetRole {
    role: Role,
}

#[derive(Serialize)]
struct Member {
    user: User,
    role: Role,
}

fn no_such_user() -> ApiError {
    ApiError::client(404, ErrorCode::NotFound, "no such user")
}

pub async fn add(mut req: Request, env: &Env, room_id: &str) -> ApiResult {
    let cfg = config::load(env)?;
    let me = auth::caller(&req, env, &cfg).await?;
    let input: AddMember = body::json(&mut req).await?;
    let db = db::db(env)?;
    let room = access::readable(&db, room_id, &me.id).await?;
    room.standing().add_member().map_err(access::refused)?;
    let user = match Username::parse(&input.username) {
        Ok(name) => db::users::by_username(&db, name.as_str()).await?,
        Err(_) => None,
    }
    .ok_or_else(no_such_user)?;
    if let Some(role) = db::rooms::role_of(&db, room_id, &user.id).await? {
        return json(
            200,
            &Member {
                user: user.to_user(),
                role,
            },
        );
    }
    let added =
        db::rooms::add_member(&db, room_id, &user.id, Role::Member, clock::now().millis()).await?;
    if added {
        room_do::member_joined(env, room_id, &user.id).await?;
    }
    let role = if added {
        Role::Member
    } else {
        // Added concurrently by someone else: report what is stored.
        db::rooms::role_of(&db, room_id, &user.id)
            .await?
            .unwrap_or(Role::Member)
    };
    json(
        if added { 201 } else { 200 },
        &Member {
            user: user.to_user(),
            role,
        },
    )
}

pub async fn remove(req: &Request, env: &Env, room_id: &str, user_id: &str) -> ApiResult {
    let cfg = config::load(env)?;
    let me = auth::caller(req, env, &cfg).await?;
    let db = db::db(env)?;
    let room = access::readable(&db, room_id, &me.id).await?;
    let is_self = user_id == me.id;
    let target = db::rooms::role_of(&db, room_id, user_id)
        .await?
        .ok_or_else(|| ApiError::client(404, ErrorCode::NotFound, "not a member of this room"))?;
    room.standing()
        .remove_member(target, is_self)
        .map_err(access::refused)?;
    if is_self && target == Role::Owner && room.member_count > 1 {
        return Err(ApiError::client(
            409,
            ErrorCode::Conflict,
            "hand the ownership to another member before leaving",
        ));
    }
    db::rooms::remove_member(&db, room_id, user_id).await?;
    room_do::close_user_sockets(env, room_id, user_id).await?;
    Ok(Response::empty()?.with_status(204))
}

pub async fn set_role(mut req: Request, env: &Env, room_id: &str, user_id: &str) -> ApiResult {
    let cfg = config::load(env)?;
    let me = auth::caller(&req, env, &cfg).await?;
    let input: SetRole = body::json(&mut req).await?;
    let db = db::db(env)?;
    let room = access::readable(&db, room_id, &me.id).await?;
    if room.standing().write().map_err(access::refused)? != Role::Owner {
        return Err(ApiError::forbidden("only the owner changes roles"));
    }
    if db::rooms::role_of(&db, room_id, user_id).await?.is_none() {
        return Err(ApiError::client(
            404,
            ErrorCode::NotFound,
            "not a member of this room",
        ));
    }
    if user_id == me.id && input.role != Role::Owner {
        return Err(ApiError::client(
            409,
            ErrorCode::Conflict,
            "hand the ownership to another member instead",
        ));
    }
    db::rooms::set_role(&db, room_id, &me.id, user_id, input.role).await?;
    let user = db::users::by_id(&db, user_id)
        .await?
        .ok_or_else(no_such_user)?;
    json(
        200,
        &Member {
            user: user.to_user(),
            role: input.role,
        },
    )
}
