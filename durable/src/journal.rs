//! Storing a room's batches in D1, the system of record.

use edgechat_core::mentions::preview;
use edgechat_core::model::{Author, Message, NotificationKind};
use edgechat_core::room::{Notify, Write};
use edgechat_core::Timestamp;
use serde::Deserialize;
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, Result};

fn text(s: &str) -> JsValue {
    JsValue::from_str(s)
}

fn int(n: impl Into<f64>) -> JsValue {
    JsValue::from_f64(n.into())
}

fn ms(t: Timestamp) -> JsValue {
    JsValue::from_f64(t.millis() as f64)
}

fn statement(db: &D1Database, room_id: &str, w: &Write) -> Result<D1PreparedStatement> {
    match w {
        Write::Insert(m, _) => db
            .prepare(
                "INSERT INTO messages (room_id, seq, id, client_id, author_id, body, created_at, reply_to) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .bind(&[
                text(room_id),
                int(m.seq as f64),
                text(&m.id),
                text(&m.client_id),
                text(&m.author.id),
                text(&m.body),
                ms(m.created_at),
                m.reply_to.map_or(JsValue::NULL, |r| int(r as f64)),
            ]),
        Write::Edit(m) => db
            .prepare("UPDATE messages SET body = ?1, edited_at = ?2 WHERE room_id = ?3 AND seq = ?4")
            .bind(&[
                text(&m.body),
                m.edited_at.map_or(JsValue::NULL, ms),
                text(room_id),
                int(m.seq as f64),
            ]),
        Write::Delete(m) => db
            .prepare("UPDATE messages SET body = '', deleted = 1 WHERE room_id = ?1 AND seq = ?2")
            .bind(&[text(room_id), int(m.seq as f64)]),
        Write::Read { user_id, seq } => db
            .prepare(
                "UPDATE memberships SET read_seq = MAX(read_seq, ?1) WHERE room_id = ?2 AND user_id = ?3",
            )
            .bind(&[int(*seq as f64), text(room_id), text(user_id)]),
    }
}

const NOTIFY_INSERT: &str = "INSERT OR IGNORE INTO notifications \
     (id, user_id, kind, room_id, seq, from_user_id, preview, created_at) \
     SELECT ?1 || ':' || ?2 || ':' || m.user_id, m.user_id, ?6, ?1, ?2, ?3, ?4, ?5 \
     FROM memberships m";

/// The notification rows a new message may create, in priority order (a
/// DM, then a reply, then a mention): the unique index keeps the first per
/// user. Membership is checked here, in the same transaction.
fn notification_statements(
    db: &D1Database,
    room_id: &str,
    m: &Message,
    n: &Notify,
) -> Result<Vec<D1PreparedStatement>> {
    let base = |kind: &str| {
        vec![
            text(room_id),
            int(m.seq as f64),
            text(&m.author.id),
            text(&preview(&m.body)),
            ms(m.created_at),
            text(kind),
        ]
    };
    let mut out = Vec::new();
    if n.dm {
        out.push(
            db.prepare(format!(
                "{NOTIFY_INSERT} WHERE m.room_id = ?1 AND m.user_id != ?3 RETURNING id, user_id, kind"
            ))
            .bind(&base("dm"))?,
        );
    }
    if let Some(author) = &n.reply_to_author {
        let mut args = base("reply");
        args.push(text(author));
        out.push(
            db.prepare(format!(
                "{NOTIFY_INSERT} WHERE m.room_id = ?1 AND m.user_id = ?7 AND m.user_id != ?3 \
                 RETURNING id, user_id, kind"
            ))
            .bind(&args)?,
        );
    }
    if !n.mentions.is_empty() {
        let mut args = base("mention");
        args.push(text(
            &serde_json::to_string(&n.mentions).unwrap_or_default(),
        ));
        out.push(
            db.prepare(format!(
                "{NOTIFY_INSERT} JOIN users u ON u.id = m.user_id \
                 WHERE m.room_id = ?1 AND m.user_id != ?3 \
                 AND u.username IN (SELECT value FROM json_each(?7)) RETURNING id, user_id, kind"
            ))
            .bind(&args)?,
        );
    }
    Ok(out)
}

/// A notification a committed batch created.
#[derive(Debug, Clone, Deserialize)]
pub struct Notified {
    /// Its id.
    pub id: String,
    /// Whom it is for.
    pub user_id: String,
    /// `mention`, `dm` or `reply`.
    pub kind: NotificationKind,
}

/// Stores one batch as one D1 transaction: every write with the
/// notifications it causes, the author's own read position, then the
/// room's `last_seq`. All or nothing. Returns, per message `seq`, the
/// notifications created.
pub async fn store(
    db: &D1Database,
    room_id: &str,
    writes: &[Write],
    now: Timestamp,
) -> Result<Vec<(u64, Notified)>> {
    let mut statements = Vec::new();
    // Which statements return notification rows, and for which seq.
    let mut returning = Vec::new();
    for w in writes {
        statements.push(statement(db, room_id, w)?);
        match w {
            Write::Insert(m, n) => {
                for s in notification_statements(db, room_id, m, n)? {
                    returning.push((statements.len(), m.seq));
                    statements.push(s);
                }
                // Your own message is not unread to you.
                statements.push(
                    db.prepare(
                        "UPDATE memberships SET read_seq = MAX(read_seq, ?1) \
                         WHERE room_id = ?2 AND user_id = ?3",
                    )
                    .bind(&[
                        int(m.seq as f64),
                        text(room_id),
                        text(&m.author.id),
                    ])?,
                );
            }
            Write::Read { user_id, seq } => statements.push(
                // Reading past a message settles its notifications too.
                db.prepare(
                    "UPDATE notifications SET read_at = ?1 \
                     WHERE user_id = ?2 AND room_id = ?3 AND seq <= ?4 AND read_at IS NULL",
                )
                .bind(&[
                    ms(now),
                    text(user_id),
                    text(room_id),
                    int(*seq as f64),
                ])?,
            ),
            Write::Edit(_) | Write::Delete(_) => {}
        }
    }
    if let Some(seq) = newest_insert(writes) {
        statements.push(
            db.prepare("UPDATE rooms SET last_seq = MAX(last_seq, ?1) WHERE id = ?2")
                .bind(&[int(seq as f64), text(room_id)])?,
        );
    }
    let results = db.batch(statements).await?;
    let mut notified = Vec::new();
    for (index, seq) in returning {
        if let Some(r) = results.get(index) {
            notified.extend(r.results::<Notified>()?.into_iter().map(|n| (seq, n)));
        }
    }
    Ok(notified)
}

/// The newest `seq` D1 holds for the room: after a failed call it tells
/// whether the batch committed anyway; at wake-up, whether the local copy
/// missed a batch.
pub async fn committed_seq(db: &D1Database, room_id: &str) -> Result<u64> {
    #[derive(Deserialize)]
    struct Max {
        max: f64,
    }
    let max: Option<Max> = db
        .prepare("SELECT COALESCE(MAX(seq), 0) AS max FROM messages WHERE room_id = ?1")
        .bind(&[text(room_id)])?
        .first(None)
        .await?;
    Ok(max.map_or(0, |m| m.max as u64))
}

/// A message row as both stores return it (the room's own store selects
/// the same names).
#[derive(Deserialize)]
pub(crate) struct Row {
    seq: f64,
    id: String,
    client_id: String,
    author_id: String,
    username: String,
    display_name: String,
    body: String,
    created_at: f64,
    edited_at: Option<f64>,
    deleted: f64,
    reply_to: Option<f64>,
}

impl Row {
    pub(crate) fn into_message(self, room_id: &str) -> Message {
        Message {
            id: self.id,
            room_id: room_id.to_owned(),
            seq: self.seq as u64,
            client_id: self.client_id,
            author: Author {
                id: self.author_id,
                username: self.username,
                display_name: self.display_name,
            },
            body: self.body,
            created_at: Timestamp(self.created_at as i64),
            edited_at: self.edited_at.map(|t| Timestamp(t as i64)),
            deleted: self.deleted != 0.0,
            reply_to: self.reply_to.map(|s| s as u64),
        }
    }
}

/// Up to `limit` messages after `after` from D1, oldest first.
pub async fn after(db: &D1Database, room_id: &str, after: u64, limit: u32) -> Result<Vec<Message>> {
    let rows: Vec<Row> = db
        .prepare(
            "SELECT m.seq, m.id, m.client_id, m.author_id, u.username, u.display_name, m.body, \
             m.created_at, m.edited_at, m.deleted, m.reply_to \
             FROM messages m JOIN users u ON u.id = m.author_id \
             WHERE m.room_id = ?1 AND m.seq > ?2 ORDER BY m.seq LIMIT ?3",
        )
        .bind(&[text(room_id), int(after as f64), int(f64::from(limit))])?
        .all()
        .await?
        .results()?;
    Ok(rows.into_iter().map(|r| r.into_message(room_id)).collect())
}

/// Which page of history to read (the room serves it from its own copy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// The newest messages.
    Newest,
    /// Messages before this `seq` (older).
    Before(u64),
    /// Messages after this `seq` (newer).
    After(u64),
}

/// The ids of the room's members.
pub async fn member_ids(db: &D1Database, room_id: &str) -> Result<Vec<String>> {
    #[derive(Deserialize)]
    struct Id {
        user_id: String,
    }
    let rows: Vec<Id> = db
        .prepare("SELECT user_id FROM memberships WHERE room_id = ?1")
        .bind(&[text(room_id)])?
        .all()
        .await?
        .results()?;
    Ok(rows.into_iter().map(|r| r.user_id).collect())
}

/// The highest `seq` a batch inserts, if it inserts any.
#[must_use]
pub fn newest_insert(writes: &[Write]) -> Option<u64> {
    writes
        .iter()
        .filter_map(|w| match w {
            Write::Insert(m, _) => Some(m.seq),
            _ => None,
        })
        .max()
}
