//! The `rooms` and `memberships` tables: what the API needs to authorise
//! every room path.

use edgechat_core::model::{Role, Room, RoomKind, Visibility};
use edgechat_core::policy::Standing;
use edgechat_core::Timestamp;
use serde::Deserialize;
use worker::D1Database;

use super::{int, text};
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

/// A room to create.
pub struct NewRoom<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub topic: &'a str,
    pub kind: RoomKind,
    pub visibility: Visibility,
    pub created_at: i64,
    pub dm_key: Option<&'a str>,
}

fn kind_str(k: RoomKind) -> &'static str {
    match k {
        RoomKind::Room => "room",
        RoomKind::Dm => "dm",
    }
}

fn visibility_str(v: Visibility) -> &'static str {
    match v {
        Visibility::Public => "public",
        Visibility::Private => "private",
    }
}

fn insert_room(db: &D1Database, r: &NewRoom<'_>) -> ApiResult<worker::D1PreparedStatement> {
    Ok(db
        .prepare(
            "INSERT INTO rooms (id, name, name_folded, topic, kind, visibility, created_at, dm_key) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(&[
            text(r.id),
            text(r.name),
            text(&r.name.to_lowercase()),
            text(r.topic),
            text(kind_str(r.kind)),
            text(visibility_str(r.visibility)),
            int(r.created_at),
            r.dm_key.map_or(wasm_bindgen::JsValue::NULL, text),
        ])?)
}

fn insert_member(
    db: &D1Database,
    room_id: &str,
    user_id: &str,
    role: Role,
    now: i64,
) -> ApiResult<worker::D1PreparedStatement> {
    Ok(db
        .prepare(
            "INSERT INTO memberships (room_id, user_id, role, joined_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT DO NOTHING RETURNING user_id",
        )
        .bind(&[text(room_id), text(user_id), text(role.as_str()), int(now)])?)
}

/// Creates a group room with its owner, in one transaction.
pub async fn create(db: &D1Database, room: &NewRoom<'_>, owner_id: &str) -> ApiResult<()> {
    db.batch(vec![
        insert_room(db, room)?,
        insert_member(db, room.id, owner_id, Role::Owner, room.created_at)?,
    ])
    .await?;
    Ok(())
}

/// Finds or creates the DM room of `key` with both users as members;
/// returns whether it was created now.
pub async fn open_dm(
    db: &D1Database,
    room: &NewRoom<'_>,
    a: &str,
    b: &str,
) -> ApiResult<(String, bool)> {
    #[derive(Deserialize)]
    struct Id {
        id: String,
    }
    let key = room.dm_key.unwrap_or_default();
    let existing = || {
        db.prepare("SELECT id FROM rooms WHERE dm_key = ?1")
            .bind(&[text(key)])
    };
    let results = db.batch(vec![insert_room(db, room)?, existing()?]).await?;
    let created = results
        .first()
        .map(worker::D1Result::results::<Id>)
        .transpose()?
        .is_some_and(|rows| !rows.is_empty());
    let id = results
        .get(1)
        .map(worker::D1Result::results::<Id>)
        .transpose()?
        .and_then(|rows| rows.into_iter().next())
        .map(|r| r.id)
        .ok_or_else(|| worker::Error::RustError("DM room missing after insert".into()))?;
    // Both sides are (again) members: leaving a DM does not lose it for good.
    db.batch(vec![
        insert_member(db, &id, a, Role::Member, room.created_at)?,
        insert_member(db, &id, b, Role::Member, room.created_at)?,
    ])
    .await?;
    Ok((id, created))
}

/// Adds a member; `false` if already one.
pub async fn add_member(
    db: &D1Database,
    room_id: &str,
    user_id: &str,
    role: Role,
    now: i64,
) -> ApiResult<bool> {
    #[derive(Deserialize)]
    struct Added {
        #[allow(dead_code)]
        user_id: String,
    }
    let added: Option<Added> = insert_member(db, room_id, user_id, role, now)?
        .first(None)
        .await?;
    Ok(added.is_some())
}

/// `user_id`'s role in the room, if a member.
pub async fn role_of(db: &D1Database, room_id: &str, user_id: &str) -> ApiResult<Option<Role>> {
    #[derive(Deserialize)]
    struct R {
        role: String,
    }
    let r: Option<R> = db
        .prepare("SELECT role FROM memberships WHERE room_id = ?1 AND user_id = ?2")
        .bind(&[text(room_id), text(user_id)])?
        .first(None)
        .await?;
    Ok(r.and_then(|r| Role::parse(&r.role)))
}

/// Removes a membership.
pub async fn remove_member(db: &D1Database, room_id: &str, user_id: &str) -> ApiResult<()> {
    db.prepare("DELETE FROM memberships WHERE room_id = ?1 AND user_id = ?2")
        .bind(&[text(room_id), text(user_id)])?
        .run()
        .await?;
    Ok(())
}

/// Sets a member's role; making someone owner hands the ownership over
/// (the previous owner becomes an admin) in one transaction.
pub async fn set_role(
    db: &D1Database,
    room_id: &str,
    owner_id: &str,
    user_id: &str,
    role: Role,
) -> ApiResult<()> {
    let set = |uid: &str, r: Role| {
        db.prepare("UPDATE memberships SET role = ?1 WHERE room_id = ?2 AND user_id = ?3")
            .bind(&[text(r.as_str()), text(room_id), text(uid)])
    };
    let mut statements = vec![set(user_id, role)?];
    if role == Role::Owner && owner_id != user_id {
        statements.push(set(owner_id, Role::Admin)?);
    }
    db.batch(statements).await?;
    Ok(())
}

/// Which rooms a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The caller's rooms and DMs.
    Joined,
    /// Every public room.
    Public,
}

/// One page of a room list, newest first, starting after `after`.
pub async fn list(
    db: &D1Database,
    user_id: &str,
    scope: Scope,
    q: Option<&str>,
    after: Option<&edgechat_core::cursor::Cursor>,
    limit: u32,
) -> ApiResult<Vec<RoomRow>> {
    let from = match scope {
        Scope::Joined => "JOIN memberships m ON m.room_id = r.id AND m.user_id = ?2 WHERE 1 = 1",
        Scope::Public => {
            "LEFT JOIN memberships m ON m.room_id = r.id AND m.user_id = ?2 \
             WHERE r.visibility = 'public' AND r.kind = 'room'"
        }
    };
    let sql = format!(
        "SELECT {ROOM_COLUMNS} FROM rooms r {from} \
         AND (?3 IS NULL OR instr(r.name_folded, ?3) > 0) \
         AND (?4 IS NULL OR (r.created_at, r.id) < (?4, ?5)) \
         ORDER BY r.created_at DESC, r.id DESC LIMIT ?1"
    );
    let null = wasm_bindgen::JsValue::NULL;
    let args = [
        int(i64::from(limit) + 1),
        text(user_id),
        q.map_or(null.clone(), |q| text(&q.to_lowercase())),
        after.map_or(null.clone(), |c| int(c.at)),
        after.map_or(null, |c| text(&c.id)),
    ];
    Ok(db.prepare(sql).bind(&args)?.all().await?.results()?)
}
