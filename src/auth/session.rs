//! Issuing sessions: an access token and a refresh token.

use edgechat_core::auth::{jwt, refresh};
use edgechat_core::config::Config;
use edgechat_core::model::User;
use serde::Serialize;
use worker::D1Database;

use crate::clock;
use crate::db::{self, users::UserRow};
use crate::errors::ApiResult;

/// `Session` as API.md defines it.
#[derive(Serialize)]
pub struct Session {
    user: User,
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    refresh_token: String,
}

/// A `Session` without its refresh token, which travels in the browser
/// session cookie instead.
#[derive(Serialize)]
pub struct BrowserSession {
    user: User,
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
}

impl Session {
    /// Splits off the refresh token for the cookie.
    #[must_use]
    pub fn into_browser(self) -> (BrowserSession, String) {
        let browser = BrowserSession {
            user: self.user,
            access_token: self.access_token,
            token_type: self.token_type,
            expires_in: self.expires_in,
        };
        (browser, self.refresh_token)
    }
}

/// A fresh access token for `user`.
fn access_token(cfg: &Config, user: &UserRow) -> ApiResult<String> {
    let now_secs = clock::now().millis() / 1000;
    let claims = jwt::Claims::new(&user.id, &clock::new_id()?, now_secs);
    Ok(jwt::sign(&claims, &cfg.keys))
}

/// A new random refresh token and its storage hash.
fn new_refresh() -> ApiResult<(String, String)> {
    let token = refresh::encode(&clock::random()?);
    let hash = refresh::storage_hash(&token);
    Ok((token, hash))
}

/// Starts a new login: a new token family.
pub async fn start(db: &D1Database, cfg: &Config, user: &UserRow) -> ApiResult<Session> {
    let (token, hash) = new_refresh()?;
    let now = clock::now().millis();
    db::refresh::start_family(
        db,
        &clock::new_id()?,
        &user.id,
        &hash,
        now,
        now + refresh::REFRESH_TTL_MS,
    )
    .await?;
    finish(cfg, user, token)
}

/// Rotates `presented`: `None` when it must be refused (and, if it was
/// already spent, its whole family is now revoked).
pub async fn rotate(db: &D1Database, cfg: &Config, presented: &str) -> ApiResult<Option<Session>> {
    if !refresh::well_formed(presented) {
        return Ok(None);
    }
    let (token, hash) = new_refresh()?;
    let now = clock::now().millis();
    let outcome = db::refresh::rotate(
        db,
        &refresh::storage_hash(presented),
        &hash,
        now,
        now + refresh::REFRESH_TTL_MS,
    )
    .await?;
    let db::refresh::Rotation::Rotated { user_id } = outcome else {
        return Ok(None);
    };
    let Some(user) = db::users::by_id(db, &user_id).await? else {
        return Ok(None);
    };
    finish(cfg, &user, token).map(Some)
}

/// Ends the login that `presented` belongs to. Unknown tokens are ignored.
pub async fn end(db: &D1Database, presented: &str) -> ApiResult<()> {
    if refresh::well_formed(presented) {
        db::refresh::revoke_by_token(db, &refresh::storage_hash(presented), clock::now().millis())
            .await?;
    }
    Ok(())
}

fn finish(cfg: &Config, user: &UserRow, refresh_token: String) -> ApiResult<Session> {
    Ok(Session {
        user: user.to_user(),
        access_token: access_token(cfg, user)?,
        token_type: "Bearer",
        expires_in: jwt::ACCESS_TTL_SECS,
        refresh_token,
    })
}
