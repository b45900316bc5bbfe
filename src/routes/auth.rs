//! `/api/v1/auth/*`: register, login, refresh, logout, and the browser
//! session variants under `/api/v1/auth/session/*` that keep the refresh
//! token in an `HttpOnly` cookie.

use edgechat_core::auth::password::{self, Password, Verdict};
use edgechat_core::validate::{DisplayName, Username};
use edgechat_core::ErrorCode;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use worker::{Env, Request, Response};

use super::json;
use crate::auth::session::Session;
use crate::auth::{cookie, limits, session};
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
    json(201, &new_account(&mut req, env).await?)
}

async fn new_account(req: &mut Request, env: &Env) -> ApiResult<Session> {
    let creds: Registration = counted_credentials(req, env).await?;
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
    session::start(&db, &cfg, &row).await
}

pub async fn login(mut req: Request, env: &Env) -> ApiResult {
    json(200, &checked_login(&mut req, env).await?)
}

async fn checked_login(req: &mut Request, env: &Env) -> ApiResult<Session> {
    let creds: Login = counted_credentials(req, env).await?;
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
    session::start(&db, &cfg, &user).await
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

/// Refuses what a hostile page could send from a signed-in browser: the
/// body must be declared JSON (a cross-site form cannot do that) and an
/// `Origin`, when present, must be one of the allowed origins.
fn browser_guard(req: &Request, env: &Env) -> ApiResult<()> {
    let cfg = config::load(env)?;
    let headers = req.headers();
    if !cookie::is_json(headers.get("content-type")?.as_deref()) {
        return Err(ApiError::invalid(
            "browser session calls must send Content-Type: application/json",
        ));
    }
    let origin = headers.get("origin")?;
    if !edgechat_core::auth::handshake::origin_allowed(origin.as_deref(), &cfg.allowed_origins) {
        return Err(ApiError::forbidden("origin not allowed"));
    }
    Ok(())
}

/// The session without its refresh token, which goes into the cookie.
fn browser_answer(status: u16, session: Session) -> ApiResult {
    let (body, refresh_token) = session.into_browser();
    let mut resp = json(status, &body)?;
    resp.headers_mut()
        .append("set-cookie", &cookie::set(&refresh_token))?;
    Ok(resp)
}

/// `resp` with the cookie removed.
fn clearing(mut resp: Response) -> ApiResult {
    resp.headers_mut().append("set-cookie", &cookie::clear())?;
    Ok(resp)
}

pub async fn browser_register(mut req: Request, env: &Env) -> ApiResult {
    browser_guard(&req, env)?;
    browser_answer(201, new_account(&mut req, env).await?)
}

pub async fn browser_login(mut req: Request, env: &Env) -> ApiResult {
    browser_guard(&req, env)?;
    browser_answer(200, checked_login(&mut req, env).await?)
}

pub async fn browser_refresh(req: Request, env: &Env) -> ApiResult {
    browser_guard(&req, env)?;
    let cfg = config::load(env)?;
    let header = req.headers().get("cookie")?;
    let rotated = match cookie::read(header.as_deref()) {
        Some(token) => session::rotate(&db::db(env)?, &cfg, token).await?,
        None => None,
    };
    match rotated {
        Some(s) => browser_answer(200, s),
        None => clearing(
            ApiError::unauthorized("no valid browser session; log in again").into_response(),
        ),
    }
}

pub async fn browser_logout(req: Request, env: &Env) -> ApiResult {
    browser_guard(&req, env)?;
    let header = req.headers().get("cookie")?;
    if let Some(token) = cookie::read(header.as_deref()) {
        session::end(&db::db(env)?, token).await?;
    }
    clearing(Response::empty()?.with_status(204))
}
