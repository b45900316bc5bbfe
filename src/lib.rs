//! The edgechat Worker: the only public entry.
//!
//! It answers the HTTP API, authenticates, and forwards room sockets to the
//! room's Durable Object. Static files of the browser client are served by
//! Workers static assets before this code runs.

mod access;
mod auth;
mod body;
mod clock;
mod config;
mod db;
mod errors;
mod query;
mod room_do;
mod router;
mod routes;

use errors::{ApiError, ApiResult};
use router::Route;
use worker::{event, Context, Env, Request, Response, Result};

// The Durable Object classes must be exported by this module for the runtime
// to find them.
pub use edgechat_durable::{RateLimiter, Room, UserHub};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    Ok(handle(req, &env)
        .await
        .unwrap_or_else(ApiError::into_response))
}

async fn handle(req: Request, env: &Env) -> ApiResult {
    let path = req.path();
    // The raw method: `worker::Method` turns every method it does not know
    // (QUERY, PROPFIND, …) into GET, which would answer them as GETs.
    let method = req.inner().method();
    match router::route(&method, &path) {
        Route::Health => routes::health::get(env),
        Route::OpenApi => routes::openapi::get(),
        Route::Register => routes::auth::register(req, env).await,
        Route::Login => routes::auth::login(req, env).await,
        Route::Refresh => routes::auth::refresh(req, env).await,
        Route::Logout => routes::auth::logout(req, env).await,
        Route::BrowserRegister => routes::auth::browser_register(req, env).await,
        Route::BrowserLogin => routes::auth::browser_login(req, env).await,
        Route::BrowserRefresh => routes::auth::browser_refresh(req, env).await,
        Route::BrowserLogout => routes::auth::browser_logout(req, env).await,
        Route::Me => routes::me::get(&req, env).await,
        Route::CreateRoom => routes::rooms::create(req, env).await,
        Route::ListRooms => routes::rooms::list(&req, env).await,
        Route::GetRoom(id) => routes::rooms::get(&req, env, &id).await,
        Route::JoinRoom(id) => routes::rooms::join(&req, env, &id).await,
        Route::OpenDm => routes::rooms::open_dm(req, env).await,
        Route::AddMember(id) => routes::members::add(req, env, &id).await,
        Route::RemoveMember(id, uid) => routes::members::remove(&req, env, &id, &uid).await,
        Route::SetRole(id, uid) => routes::members::set_role(req, env, &id, &uid).await,
        Route::History(id) => routes::messages::history(&req, env, &id).await,
        Route::PostMessage(id) => routes::messages::post(req, env, &id).await,
        Route::EditMessage(id, seq) => routes::messages::edit(req, env, &id, &seq).await,
        Route::DeleteMessage(id, seq) => routes::messages::delete(&req, env, &id, &seq).await,
        Route::Notifications => routes::notifications::list(&req, env).await,
        Route::MarkNotificationsRead => routes::notifications::mark_read(req, env).await,
        Route::NotificationSocket => routes::notifications::stream(&req, env).await,
        Route::RoomSocket(room_id) => routes::room_socket::upgrade(&req, env, &room_id).await,
        Route::MethodNotAllowed(allowed) => Err(ApiError::method_not_allowed(allowed)),
        Route::NotFound => Err(ApiError::not_found()),
    }
}
