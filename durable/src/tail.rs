//! The room's own copy of its messages, in the Durable Object's `SQLite`.
//!
//! D1 is the system of record; this copy is written after each batch
//! commits there. It answers what the room must decide fast and without a
//! round trip: duplicate `client_id`s, edit and delete checks, the resume
//! replay. Queries here are synchronous and local.

use edgechat_core::model::{Message, RoomKind};
use edgechat_core::room::{History, Write};
use serde::Deserialize;
use worker::{Result, SqlStorage, SqlStorageValue};

use crate::journal::Row;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  client_id TEXT NOT NULL,
  author_id TEXT NOT NULL,
  author_username TEXT NOT NULL,
  author_display_name TEXT NOT NULL,
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  edited_at INTEGER,
  deleted INTEGER NOT NULL DEFAULT 0,
  reply_to INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS messages_by_client_id ON messages(author_id, client_id);
";

const COLUMNS: &str = "seq, id, client_id, author_id, author_username, author_display_name, \
                       body, created_at, edited_at, deleted, reply_to";

/// The columns under the names `journal::Row` reads.
const SELECT: &str = "seq, id, client_id, author_id, author_username AS username, \
                      author_display_name AS display_name, body, created_at, edited_at, deleted, reply_to";

/// The room's local message store.
pub struct Tail {
    sql: SqlStorage,
    room_id: String,
}

fn int(n: impl TryInto<i64>) -> SqlStorageValue {
    SqlStorageValue::Integer(n.try_into().unwrap_or(i64::MAX))
}

impl Tail {
    /// Opens (creating if needed) the store of room `room_id`.
    pub fn open(sql: SqlStorage, room_id: &str) -> Result<Self> {
        sql.exec(SCHEMA, None)?;
        Ok(Self {
            sql,
            room_id: room_id.to_owned(),
        })
    }

    /// The room id, kind and name remembered from an earlier request, for a
    /// room woken from hibernation by a socket event.
    pub fn remembered(sql: &SqlStorage) -> Result<Option<(String, RoomKind, String)>> {
        #[derive(Deserialize)]
        struct V {
            key: String,
            value: String,
        }
        sql.exec(SCHEMA, None)?;
        let rows: Vec<V> = sql
            .exec(
                "SELECT key, value FROM meta WHERE key IN ('room_id', 'kind')",
                None,
            )?
            .to_array()?;
        let get = |k: &str| rows.iter().find(|v| v.key == k).map(|v| v.value.clone());
        let kind = match get("kind").as_deref() {
            Some("dm") => RoomKind::Dm,
            _ => RoomKind::Room,
        };
        let name = get("name").unwrap_or_default();
        Ok(get("room_id").map(|id| (id, kind, name)))
    }

    /// Remembers the room id, kind and name for later wake-ups.
    pub fn remember(&self, kind: RoomKind, name: &str) -> Result<()> {
        let kind = match kind {
            RoomKind::Dm => "dm",
            RoomKind::Room => "room",
        };
        self.sql.exec(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('room_id', ?), ('kind', ?), ('name', ?)",
            vec![self.room_id.as_str().into(), kind.into(), name.into()],
        )?;
        Ok(())
    }

    /// The newest stored `seq` (0 when empty).
    pub fn last_seq(&self) -> Result<u64> {
        #[derive(Deserialize)]
        struct Max {
            max: f64,
        }
        let max: Max = self
            .sql
            .exec("SELECT COALESCE(MAX(seq), 0) AS max FROM messages", None)?
            .one()?;
        Ok(max.max as u64)
    }

    fn query(&self, sql: &str, args: Vec<SqlStorageValue>) -> Result<Vec<Message>> {
        let rows: Vec<Row> = self.sql.exec(sql, args)?.to_array()?;
        Ok(rows
            .into_iter()
            .map(|r| r.into_message(&self.room_id))
            .collect())
    }

    /// Up to `limit` messages after `after`, oldest first.
    pub fn after(&self, after: u64, limit: u32) -> Result<Vec<Message>> {
        self.query(
            &format!("SELECT {SELECT} FROM messages WHERE seq > ? ORDER BY seq LIMIT ?"),
            vec![int(after), int(limit)],
        )
    }

    /// One page of history, oldest first, and whether more exist beyond it
    /// in its direction. Each page is one range scan on the `seq` key.
    pub fn page(&self, page: crate::journal::Page, limit: u32) -> Result<(Vec<Message>, bool)> {
        use crate::journal::Page;
        let (condition, order, bound) = match page {
            Page::Newest => ("", "DESC", None),
            Page::Before(b) => ("WHERE seq < ?", "DESC", Some(b)),
            Page::After(a) => ("WHERE seq > ?", "ASC", Some(a)),
        };
        let mut args: Vec<SqlStorageValue> = bound.map(int).into_iter().collect();
        args.push(int(u64::from(limit) + 1));
        let mut messages = self.query(
            &format!("SELECT {SELECT} FROM messages {condition} ORDER BY seq {order} LIMIT ?"),
            args,
        )?;
        let has_more = messages.len() > limit as usize;
        messages.truncate(limit as usize);
        if order == "DESC" {
            messages.reverse();
        }
        Ok((messages, has_more))
    }

    /// Stores committed writes (messages only; read positions live in D1).
    pub fn apply(&self, writes: &[Write]) -> Result<()> {
        for w in writes {
            match w {
                Write::Insert(m, _) => self.put(m)?,
                Write::Edit(m) | Write::Delete(m) => {
                    self.sql.exec(
                        "UPDATE messages SET body = ?, edited_at = ?, deleted = ? WHERE seq = ?",
                        vec![
                            m.body.as_str().into(),
                            m.edited_at
                                .map_or(SqlStorageValue::Null, |t| int(t.millis())),
                            int(i64::from(m.deleted)),
                            int(m.seq),
                        ],
                    )?;
                }
                Write::Read { .. } => {}
            }
        }
        Ok(())
    }

    /// Stores (or replaces) one message as D1 has it.
    pub fn put(&self, m: &Message) -> Result<()> {
        self.sql.exec(
            &format!(
                "INSERT OR REPLACE INTO messages ({COLUMNS}) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            ),
            vec![
                int(m.seq),
                m.id.as_str().into(),
                m.client_id.as_str().into(),
                m.author.id.as_str().into(),
                m.author.username.as_str().into(),
                m.author.display_name.as_str().into(),
                m.body.as_str().into(),
                int(m.created_at.millis()),
                m.edited_at
                    .map_or(SqlStorageValue::Null, |t| int(t.millis())),
                int(i64::from(m.deleted)),
                m.reply_to.map_or(SqlStorageValue::Null, int),
            ],
        )?;
        Ok(())
    }

    fn one(&self, sql: &str, args: Vec<SqlStorageValue>) -> Option<Message> {
        match self.query(sql, args) {
            Ok(rows) => rows.into_iter().next(),
            Err(e) => {
                worker::console_error!("room store read failed: {e}");
                None
            }
        }
    }
}

impl History for Tail {
    fn by_client_id(&self, author_id: &str, client_id: &str) -> Option<Message> {
        self.one(
            &format!("SELECT {SELECT} FROM messages WHERE author_id = ? AND client_id = ?"),
            vec![author_id.into(), client_id.into()],
        )
    }

    fn by_seq(&self, seq: u64) -> Option<Message> {
        self.one(
            &format!("SELECT {SELECT} FROM messages WHERE seq = ?"),
            vec![int(seq)],
        )
    }
}
