//! The `refresh_families` and `refresh_tokens` tables.

use serde::Deserialize;
use worker::D1Database;

use super::{int, text};
use crate::errors::ApiResult;

/// Starts a new family (one login) with its first token.
pub async fn start_family(
    db: &D1Database,
    family_id: &str,
    user_id: &str,
    token_hash: &str,
    now: i64,
    expires_at: i64,
) -> ApiResult<()> {
    db.batch(vec![
        db.prepare("INSERT INTO refresh_families (id, user_id, created_at) VALUES (?1, ?2, ?3)")
            .bind(&[text(family_id), text(user_id), int(now)])?,
        db.prepare(
            "INSERT INTO refresh_tokens (token_hash, family_id, user_id, created_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(&[
            text(token_hash),
            text(family_id),
            text(user_id),
            int(now),
            int(expires_at),
        ])?,
    ])
    .await?;
    Ok(())
}

/// The outcome of presenting a refresh token.
pub enum Rotation {
    /// The token was live; it is now spent and `new_hash` replaces it.
    Rotated { user_id: String },
    /// The token had already been spent: its family is now revoked.
    Reused,
    /// Unknown, expired or revoked.
    Invalid,
}

#[derive(Deserialize)]
struct Spent {
    user_id: String,
}

#[derive(Deserialize)]
struct Known {
    family_id: String,
    used_at: Option<i64>,
}

/// Spends `old_hash` and issues `new_hash` in its family, atomically: the
/// update only matches a live, unspent token of a live family, so of two
/// concurrent presentations exactly one wins.
pub async fn rotate(
    db: &D1Database,
    old_hash: &str,
    new_hash: &str,
    now: i64,
    expires_at: i64,
) -> ApiResult<Rotation> {
    let results = db
        .batch(vec![
            db.prepare(
                "UPDATE refresh_tokens SET used_at = ?1, replaced_by = ?2 \
                 WHERE token_hash = ?3 AND used_at IS NULL AND expires_at > ?1 \
                 AND family_id IN (SELECT id FROM refresh_families WHERE revoked_at IS NULL) \
                 RETURNING user_id",
            )
            .bind(&[int(now), text(new_hash), text(old_hash)])?,
            db.prepare(
                "INSERT INTO refresh_tokens (token_hash, family_id, user_id, created_at, expires_at) \
                 SELECT ?1, family_id, user_id, ?2, ?3 FROM refresh_tokens \
                 WHERE token_hash = ?4 AND replaced_by = ?1",
            )
            .bind(&[text(new_hash), int(now), int(expires_at), text(old_hash)])?,
        ])
        .await?;
    if let Some(spent) = results
        .first()
        .map(worker::D1Result::results::<Spent>)
        .transpose()?
        .and_then(|rows| rows.into_iter().next())
    {
        return Ok(Rotation::Rotated {
            user_id: spent.user_id,
        });
    }
    let known: Option<Known> = db
        .prepare("SELECT family_id, used_at FROM refresh_tokens WHERE token_hash = ?1")
        .bind(&[text(old_hash)])?
        .first(None)
        .await?;
    match known {
        Some(Known {
            family_id,
            used_at: Some(_),
        }) => {
            revoke_family(db, &family_id, now).await?;
            Ok(Rotation::Reused)
        }
        _ => Ok(Rotation::Invalid),
    }
}

/// Revokes the family of `token_hash`, if the token is known.
pub async fn revoke_by_token(db: &D1Database, token_hash: &str, now: i64) -> ApiResult<()> {
    db.prepare(
        "UPDATE refresh_families SET revoked_at = ?1 WHERE revoked_at IS NULL \
         AND id = (SELECT family_id FROM refresh_tokens WHERE token_hash = ?2)",
    )
    .bind(&[int(now), text(token_hash)])?
    .run()
    .await?;
    Ok(())
}

async fn revoke_family(db: &D1Database, family_id: &str, now: i64) -> ApiResult<()> {
    db.prepare("UPDATE refresh_families SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL")
        .bind(&[int(now), text(family_id)])?
        .run()
        .await?;
    Ok(())
}
