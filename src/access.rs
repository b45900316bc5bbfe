//! Authorising room paths: loads the room as the caller sees it and applies
//! the policy of `edgechat_core::policy`.

use edgechat_core::policy::Refusal;
use edgechat_core::ErrorCode;
use worker::D1Database;

use crate::db::rooms::{self, RoomRow};
use crate::errors::{ApiError, ApiResult};

/// The API answer for a refusal.
pub fn refused(r: Refusal) -> ApiError {
    match r {
        Refusal::Hidden => ApiError::not_found(),
        Refusal::NotAMember => ApiError::client(403, ErrorCode::NotAMember, "join the room first"),
        Refusal::Forbidden => ApiError::forbidden("your role in this room does not allow that"),
    }
}

/// The room, if it exists and the caller may see it (else 404).
pub async fn readable(db: &D1Database, room_id: &str, user_id: &str) -> ApiResult<RoomRow> {
    let room = rooms::for_caller(db, room_id, user_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    room.standing().read().map_err(refused)?;
    Ok(room)
}

/// The room, if the caller is a member (404 if hidden, 403 if public).
pub async fn writable(db: &D1Database, room_id: &str, user_id: &str) -> ApiResult<RoomRow> {
    let room = readable(db, room_id, user_id).await?;
    room.standing().write().map_err(refused)?;
    Ok(room)
}
