//! `/api/v1/notifications`: the list, marking read, and the live stream.

use edgechat_core::auth::handshake::SUBPROTOCOL;
use edgechat_core::identity::IDENTITY_HEADER;
use edgechat_core::model::Notification;
use serde::{Deserialize, Serialize};
use worker::{Env, Headers, Method, Request, RequestInit, Response};

use super::json;
use crate::errors::{ApiError, ApiResult};
use crate::{auth, body, clock, config, db, query};

#[derive(Serialize)]
struct Page {
    notifications: Vec<Notification>,
    next_cursor: Option<String>,
}

pub async fn list(req: &Request, env: &Env) -> ApiResult {
    let cfg = config::load(env)?;
    let me = auth::caller(req, env, &cfg).await?;
    let params = query::params(req)?;
    let unread_only = match params.get("unread").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::invalid(format!(
                "unread must be true or false, not {other:?}"
            )))
        }
    };
    let (limit, after) = query::page(&params)?;
    let mut rows =
        db::notifications::page(&db::db(env)?, &me.id, unread_only, after.as_ref(), limit).await?;
    let next_cursor = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|(_, c)| c.encode())
    } else {
        None
    };
    json(
        200,
        &Page {
            notifications: rows.into_iter().map(|(n, _)| n).collect(),
            next_cursor,
        },
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MarkRead {
    #[serde(default, deserialize_with = "body::present")]
    ids: Option<Vec<String>>,
    #[serde(default, deserialize_with = "body::present")]
    all: Option<bool>,
}

pub async fn mark_read(mut req: Request, env: &Env) -> ApiResult {
    let cfg = config::load(env)?;
    let me = auth::caller(&req, env, &cfg).await?;
    let input: MarkRead = body::json(&mut req).await?;
    let ids = match (input.ids, input.all) {
        (Some(ids), None | Some(false)) => {
            if ids.len() > 1000 {
                return Err(ApiError::invalid("at most 1000 ids at once"));
            }
            Some(ids)
        }
        (None, Some(true)) => None,
        _ => {
            return Err(ApiError::invalid(
                "send {\"ids\": [...]} or {\"all\": true}",
            ))
        }
    };
    db::notifications::mark_read(&db::db(env)?, &me.id, ids.as_deref(), clock::now().millis())
        .await?;
    Ok(Response::empty()?.with_status(204))
}

pub async fn stream(req: &Request, env: &Env) -> ApiResult {
    let cfg = config::load(env)?;
    let (me, creds) = auth::upgrade_caller(req, env, &cfg).await?;
    // A fresh request: only the verified identity reaches the hub.
    let headers = Headers::new();
    headers.set("upgrade", "websocket")?;
    headers.set(IDENTITY_HEADER, &me.identity().to_header())?;
    if creds.select_subprotocol {
        headers.set("sec-websocket-protocol", SUBPROTOCOL)?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers);
    let inner = Request::new_with_init("https://hub.internal/ws", &init)?;
    let stub = env
        .durable_object("HUBS")?
        .id_from_name(&me.id)?
        .get_stub()?;
    Ok(stub.fetch_with_request(inner).await?)
}
