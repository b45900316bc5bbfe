//! `/api/v1/auth/*`: register, login, refresh, logout.

use edgechat_core::auth::password::{self, Password, Verdict};
use edgechat_core::validate::{DisplayName, Username};
use edgechat_core::ErrorCode;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use worker::{Env, Request, Response};

use super::json;
use crate::auth::{limits, session};
use crate::db::{self, users::UserRow};
use crate::errors::{ApiError, ApiResult};
use crate::{body, clock, config};

#[derive(Deserialize)]
struct Registration {
    username: String,
    password: String,
    // Optional means absent: an explicit `null` is a wrong type, like a number.
    #[serde(default, deserialize_with = "body::present")]
    display_name: Option<String>,
}

#[derive(Deserialize)]
struct Login {
    username: String,
    password: String,
}

#[derive(Deserialize)]
struct RefreshBody {
    refresh_token: String,
}

/// A body that names the account it is about, for the per-username limit.
trait NamesAccount {
    fn username(&self) -> &str;
}

impl NamesAccount for Registration {
    fn username(&self) -> &str {
        &self.username
    }
}

impl NamesAccount for Login {
    fn username(&self) -> &str {
        &self.username
    }
}

/// Reads the credentials and counts the attempt, whatever the body holds.
async fn counted_credentials<T: DeserializeOwned + NamesAccount>(
    req: &mut Request,
    env: &Env,
) -> ApiResult<T> {
    let cfg = config::load(env)?;
    let ip = limits::client_ip(req)?;
    let parsed: ApiResult<T> = body::json(req).await;
    let username = parsed
        .as_ref()
        .ok()
        .and_then(|c| Username::parse(c.username()).ok());
    limits::attempt(env, &cfg, &ip, username.as_ref().map(Username::as_str)).await?;
    parsed
}

pub async fn register(mut req: Request, env: &Env) -> ApiResult {
    let creds: Registration = counted_credentials(&mut req, env).await?;
    let cfg = config::load(env)?;
    let username = Username::parse(&creds.username).map_err(|e| ApiError::invalid(e.0))?;
    let password = Password::parse(&creds.password).map_err(|e| ApiError::invalid(e.0))?;
    let display_name =
        DisplayName::parse(creds.display_name.as_deref().unwrap_or(username.as_str()))
            .map_err(|e| ApiError::invalid(e.0))?;
    let db = db::db(env)?;
    let taken = || ApiError::client(409, ErrorCode::Conflict, "that username is taken");
    // Checked first so a taken name costs no hashing; the insert checks again.
    if db::users::by_username(&db, username.as_str())
        .await?
        .is_some()
    {
        return Err(taken());
    }
    let row = UserRow {
        id: clock::new_id()?,
        username: username.as_str().to_owned(),
        display_name: display_name.as_str().to_owned(),
        password_hash: password::hash(password.as_bytes(), &clock::random()?),
        created_at: clock::now().millis(),
    };
    if !db::users::insert(&db, &row).await? {
        return Err(taken());
    }
    json(201, &session::start(&db, &cfg, &row).await?)
}

pub async fn login(mut req: Request, env: &Env) -> ApiResult {
    let creds: Login = counted_credentials(&mut req, env).await?;
    let cfg = config::load(env)?;
    let db = db::db(env)?;
    let row = match Username::parse(&creds.username) {
        Ok(name) => db::users::by_username(&db, name.as_str()).await?,
        Err(_) => None,
    };
    // Unknown users are checked against a dummy hash: same answer, same work.
    let stored = row
        .as_ref()
        .map_or(password::DUMMY_HASH, |r| &r.password_hash);
    let verdict = password::verify(creds.password.as_bytes(), stored);
    let (Some(user), Verdict::Ok | Verdict::OkRehash) = (row, verdict) else {
        return Err(ApiError::unauthorized("wrong username or password"));
    };
    if verdict == Verdict::OkRehash {
        let rehashed = password::hash(creds.password.as_bytes(), &clock::random()?);
        db::users::set_password_hash(&db, &user.id, &rehashed).await?;
    }
    json(200, &session::start(&db, &cfg, &user).await?)
}

pub async fn refresh(mut req: Request, env: &Env) -> ApiResult {
    let body: RefreshBody = body::json(&mut req).await?;
    let cfg = config::load(env)?;
    match session::rotate(&db::db(env)?, &cfg, &body.refresh_token).await? {
        Some(s) => json(200, &s),
        None => Err(ApiError::unauthorized(
            "invalid, expired or revoked refresh token",
        )),
    }
}

pub async fn logout(mut req: Request, env: &Env) -> ApiResult {
    let body: RefreshBody = body::json(&mut req).await?;
    session::end(&db::db(env)?, &body.refresh_token).await?;
    Ok(Response::empty()?.with_status(204))
}
