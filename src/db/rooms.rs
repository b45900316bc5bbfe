//! The `rooms` and `memberships` tables: what the API needs to authorise
//! every room path.

use edgechat_core::model::{Role, Room, RoomKind, Visibility};
use edgechat_core::policy::Standing;
use edgechat_core::Timestamp;
use serde::Deserialize;
use worker::D1Database;

use super::text;
use crate::errors::ApiResult;

/// A room with the caller's membership, as one query returns it.
#[derive(Debug, Clone, Deserialize)]
pub struct RoomRow {
    pub id: String,
    pub name: String,
    pub topic: String,
    pub kind: RoomKind,
    pub visibility: Visibility,
    pub created_at: i64,
    pub last_seq: i64,
    pub member_count: i64,
    /// The caller's role; `None` when not a member.
    pub role: Option<String>,
    /// The caller's read position; `None` when not a member.
    pub read_seq: Option<i64>,
}

/// The columns every room query selects, for a caller bound as `?2`.
pub const ROOM_COLUMNS: &str =
    "r.id, r.name, r.topic, r.kind, r.visibility, r.created_at, r.last_seq, \
     (SELECT COUNT(*) FROM memberships c WHERE c.room_id = r.id) AS member_count, \
     m.role AS role, m.read_seq AS read_seq";

impl RoomRow {
    /// The caller's role.
    pub fn role(&self) -> Option<Role> {
        self.role.as_deref().and_then(Role::parse)
    }

    /// What the caller is to this room, for the policy.
    pub fn standing(&self) -> Standing {
        Standing {
            visibility: self.visibility,
            kind: self.kind,
            role: self.role(),
        }
    }

    /// The API's `Room`; `unread` only where a list asks for it.
    pub fn to_room(&self, with_unread: bool) -> Room {
        let last_seq = self.last_seq.max(0) as u64;
        Room {
            id: self.id.clone(),
            name: self.name.clone(),
            topic: self.topic.clone(),
            kind: self.kind,
            visibility: self.visibility,
            created_at: Timestamp(self.created_at),
            member_count: self.member_count.max(0) as u64,
            last_seq,
            my_role: self.role(),
            unread: (with_unread && self.role.is_some())
                .then(|| last_seq.saturating_sub(self.read_seq.unwrap_or(0).max(0) as u64)),
        }
    }
}

/// The room `room_id` as `user_id` sees it; `None` if it does not exist.
pub async fn for_caller(
    db: &D1Database,
    room_id: &str,
    user_id: &str,
) -> ApiResult<Option<RoomRow>> {
    let sql = format!(
        "SELECT {ROOM_COLUMNS} FROM rooms r \
         LEFT JOIN memberships m ON m.room_id = r.id AND m.user_id = ?2 WHERE r.id = ?1"
    );
    Ok(db
        .prepare(sql)
        .bind(&[text(room_id), text(user_id)])?
        .first(None)
        .await?)
}
