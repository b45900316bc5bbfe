//! The `notifications` table, as the REST API reads and settles it.

use edgechat_core::cursor::Cursor;
use edgechat_core::model::{Notification, NotificationKind, User};
use edgechat_core::Timestamp;
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::D1Database;

use super::{int, text};
use crate::errors::ApiResult;

#[derive(Deserialize)]
struct Row {
    id: String,
    kind: NotificationKind,
    room_id: String,
    seq: f64,
    preview: String,
    created_at: i64,
    read_at: Option<i64>,
    from_id: String,
    from_username: String,
    from_display_name: String,
    from_created_at: i64,
}

impl Row {
    fn into_notification(self) -> Notification {
        Notification {
            id: self.id,
            kind: self.kind,
            room_id: self.room_id,
            seq: self.seq as u64,
            from: User {
                id: self.from_id,
                username: self.from_username,
                display_name: self.from_display_name,
                created_at: Timestamp(self.from_created_at),
            },
            preview: self.preview,
            created_at: Timestamp(self.created_at),
            read: self.read_at.is_some(),
        }
    }
}

/// One page of `user_id`'s notifications, newest first, after `after`;
/// with one extra row when there is a next page.
pub async fn page(
    db: &D1Database,
    user_id: &str,
    unread_only: bool,
    after: Option<&Cursor>,
    limit: u32,
) -> ApiResult<Vec<(Notification, Cursor)>> {
    let unread = if unread_only {
        "AND n.read_at IS NULL"
    } else {
        ""
    };
    let sql = format!(
        "SELECT n.id, n.kind, n.room_id, n.seq, n.preview, n.created_at, n.read_at, \
         u.id AS from_id, u.username AS from_username, u.display_name AS from_display_name, \
         u.created_at AS from_created_at \
         FROM notifications n JOIN users u ON u.id = n.from_user_id \
         WHERE n.user_id = ?1 {unread} AND (?3 IS NULL OR (n.created_at, n.id) < (?3, ?4)) \
         ORDER BY n.created_at DESC, n.id DESC LIMIT ?2"
    );
    let rows: Vec<Row> = db
        .prepare(sql)
        .bind(&[
            text(user_id),
            int(i64::from(limit) + 1),
            after.map_or(JsValue::NULL, |c| int(c.at)),
            after.map_or(JsValue::NULL, |c| text(&c.id)),
        ])?
        .all()
        .await?
        .results()?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let cursor = Cursor {
                at: r.created_at,
                id: r.id.clone(),
            };
            (r.into_notification(), cursor)
        })
        .collect())
}

/// Marks `ids` (or every notification, when `None`) of `user_id` read.
/// Ids of other users, or unknown ones, change nothing.
pub async fn mark_read(
    db: &D1Database,
    user_id: &str,
    ids: Option<&[String]>,
    now: i64,
) -> ApiResult<()> {
    let ids_json = ids.map(|ids| serde_json::to_string(ids).unwrap_or_default());
    db.prepare(
        "UPDATE notifications SET read_at = ?1 WHERE user_id = ?2 AND read_at IS NULL \
         AND (?3 IS NULL OR id IN (SELECT value FROM json_each(?3)))",
    )
    .bind(&[
        int(now),
        text(user_id),
        ids_json.as_deref().map_or(JsValue::NULL, text),
    ])?
    .run()
    .await?;
    Ok(())
}
