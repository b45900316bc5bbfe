//! The room's side of the user hubs: pushes that never hold the room up.

use edgechat_core::model::Notification;
use worker::{Env, Headers, Method, Request, RequestInit};

/// The internal header naming the hub's user on pushes.
pub const USER_ID_HEADER: &str = "x-edgechat-user-id";

async fn push(env: Env, user_id: String, path: &'static str, body: String) -> worker::Result<()> {
    let stub = env
        .durable_object("HUBS")?
        .id_from_name(&user_id)?
        .get_stub()?;
    let headers = Headers::new();
    headers.set("content-type", "application/json")?;
    headers.set(USER_ID_HEADER, &user_id)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(body.into()));
    let req = Request::new_with_init(&format!("https://hub.internal{path}"), &init)?;
    stub.fetch_with_request(req).await?;
    Ok(())
}

/// Starts a push in the background: the room goes on at once, and a slow
/// or failing hub delays or loses only its own push (the user catches up
/// from D1 on reconnecting).
fn spawn(env: &Env, user_id: &str, path: &'static str, body: String) {
    let (env, user_id) = (env.clone(), user_id.to_owned());
    wasm_bindgen_futures::spawn_local(async move {
        if let Err(e) = push(env, user_id, path, body).await {
            worker::console_warn!("hub push failed: {e}");
        }
    });
}

/// Tells a user's hub about a new notification.
pub fn notify(env: &Env, user_id: &str, notification: &Notification) {
    let body = serde_json::to_string(notification).unwrap_or_default();
    spawn(env, user_id, "/notify", body);
}

/// Tells a user's hub that the unread count of a room may have changed.
pub fn unread(env: &Env, user_id: &str, room_id: &str) {
    let body = serde_json::json!({ "room_id": room_id }).to_string();
    spawn(env, user_id, "/unread", body);
}
