//! The `users` table.

use edgechat_core::identity::Identity;
use edgechat_core::model::User;
use serde::Deserialize;
use worker::D1Database;

use super::{int, text};
use crate::errors::ApiResult;

/// A user row, password hash included: never serialized to clients.
#[derive(Debug, Clone, Deserialize)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub created_at: i64,
}

impl UserRow {
    /// The public view.
    pub fn to_user(&self) -> User {
        self.identity().to_user()
    }

    /// The identity handed to Durable Objects.
    pub fn identity(&self) -> Identity {
        Identity {
            id: self.id.clone(),
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            created_at_ms: self.created_at,
        }
    }
}

const COLUMNS: &str = "id, username, display_name, password_hash, created_at";

pub async fn by_username(db: &D1Database, username: &str) -> ApiResult<Option<UserRow>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE username = ?1");
    Ok(db.prepare(sql).bind(&[text(username)])?.first(None).await?)
}

pub async fn by_id(db: &D1Database, id: &str) -> ApiResult<Option<UserRow>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = ?1");
    Ok(db.prepare(sql).bind(&[text(id)])?.first(None).await?)
}

/// Inserts a user; `false` when the username is taken.
pub async fn insert(db: &D1Database, user: &UserRow) -> ApiResult<bool> {
    #[derive(Deserialize)]
    struct Inserted {
        #[allow(dead_code)]
        id: String,
    }
    let inserted: Option<Inserted> = db
        .prepare(
            "INSERT INTO users (id, username, display_name, password_hash, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(username) DO NOTHING RETURNING id",
        )
        .bind(&[
            text(&user.id),
            text(&user.username),
            text(&user.display_name),
            text(&user.password_hash),
            int(user.created_at),
        ])?
        .first(None)
        .await?;
    Ok(inserted.is_some())
}

pub async fn set_password_hash(db: &D1Database, id: &str, hash: &str) -> ApiResult<()> {
    db.prepare("UPDATE users SET password_hash = ?1 WHERE id = ?2")
        .bind(&[text(hash), text(id)])?
        .run()
        .await?;
    Ok(())
}
