//! The user hub Durable Object: one per user, the user's live notification
//! stream on every open tab and device.
//!
//! Rooms push to it without waiting; when it has no open sockets a push is
//! dropped at once (the user catches up from D1 on connecting: the REST list
//! and the `unread` frames sent on connect).

use edgechat_core::auth::handshake::SUBPROTOCOL;
use edgechat_core::frames::{parse_client_frame, ClientFrame};
use edgechat_core::identity::{Identity, IDENTITY_HEADER};
use edgechat_core::model::Notification;
use edgechat_core::ErrorCode;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;
use worker::{
    durable_object, DurableObject, Env, Headers, Request, Response, Result, State, WebSocket,
    WebSocketIncomingMessage, WebSocketPair,
};

use crate::hubs::USER_ID_HEADER;

/// Frames of the notification stream.
#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum HubFrame<'a> {
    Notification { notification: &'a Notification },
    Unread { room_id: &'a str, count: u64 },
    Pong,
    Error { code: ErrorCode, message: String },
}

impl HubFrame<'_> {
    fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[derive(Deserialize)]
struct UnreadRow {
    room_id: String,
    count: f64,
}

#[durable_object]
pub struct UserHub {
    state: State,
    env: Env,
}

impl UserHub {
    fn broadcast(&self, text: &str) {
        for ws in self.state.get_websockets() {
            let _ = ws.send_with_str(text);
        }
    }

    /// Unread counts of the user's rooms; all of them, or one.
    async fn unread_counts(&self, user_id: &str, room_id: Option<&str>) -> Result<Vec<UnreadRow>> {
        let db = self.env.d1("DB")?;
        let rows = db
            .prepare(
                "SELECT m.room_id AS room_id, MAX(r.last_seq - m.read_seq, 0) AS count \
                 FROM memberships m JOIN rooms r ON r.id = m.room_id \
                 WHERE m.user_id = ?1 AND (?2 IS NULL OR m.room_id = ?2)",
            )
            .bind(&[
                JsValue::from_str(user_id),
                room_id.map_or(JsValue::NULL, JsValue::from_str),
            ])?
            .all()
            .await?
            .results()?;
        Ok(rows)
    }

    /// A local-development fault: when `DEV_FAULT_SLOW_HUB_MS` is set and one
    /// of this hub's sockets belongs to a user whose name starts with
    /// `DEV_FAULT_SLOW_HUB_PREFIX`, pushes are answered that much later.
    /// Production configuration sets neither.
    async fn dev_fault_delay(&self) {
        if !cfg!(feature = "dev-faults") {
            return;
        }
        let var = |name: &str| self.env.var(name).ok().map(|v| v.to_string());
        let (Some(ms), Some(prefix)) = (
            var("DEV_FAULT_SLOW_HUB_MS"),
            var("DEV_FAULT_SLOW_HUB_PREFIX"),
        ) else {
            return;
        };
        let Ok(ms) = ms.parse::<u64>() else { return };
        let slow = self.state.get_websockets().iter().any(|ws| {
            ws.deserialize_attachment::<Identity>()
                .ok()
                .flatten()
                .is_some_and(|who| !prefix.is_empty() && who.username.starts_with(&prefix))
        });
        if slow {
            worker::Delay::from(std::time::Duration::from_millis(ms)).await;
        }
    }

    async fn upgrade(&self, req: &Request, who: Identity) -> Result<Response> {
        let pair = WebSocketPair::new()?;
        self.state.accept_web_socket(&pair.server);
        pair.server.serialize_attachment(&who)?;
        // Catch up: every room with unread messages, at once.
        for row in self.unread_counts(&who.id, None).await? {
            if row.count > 0.0 {
                let frame = HubFrame::Unread {
                    room_id: &row.room_id,
                    count: row.count as u64,
                };
                let _ = pair.server.send_with_str(frame.to_json());
            }
        }
        let resp = Response::from_websocket(pair.client)?;
        if req.headers().get("sec-websocket-protocol")?.is_some() {
            let headers = Headers::new();
            headers.set("sec-websocket-protocol", SUBPROTOCOL)?;
            return Ok(resp.with_headers(headers));
        }
        Ok(resp)
    }
}

impl DurableObject for UserHub {
    fn new(state: State, env: Env) -> Self {
        Self { state, env }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let path = req.path();
        if path == "/ws" {
            let Some(who) = Identity::from_header(req.headers().get(IDENTITY_HEADER)?.as_deref())
            else {
                return Response::error("missing identity", 400);
            };
            return self.upgrade(&req, who).await;
        }
        // Pushes from rooms: nobody listening means nothing to do.
        if self.state.get_websockets().is_empty() {
            return Response::empty().map(|r| r.with_status(204));
        }
        match path.as_str() {
            "/notify" => {
                let notification: Notification = req.json().await?;
                self.dev_fault_delay().await;
                self.broadcast(
                    &HubFrame::Notification {
                        notification: &notification,
                    }
                    .to_json(),
                );
            }
            "/unread" => {
                #[derive(Deserialize)]
                struct Poke {
                    room_id: String,
                }
                let poke: Poke = req.json().await?;
                let Some(user_id) = req.headers().get(USER_ID_HEADER)? else {
                    return Response::error("missing user", 400);
                };
                for row in self.unread_counts(&user_id, Some(&poke.room_id)).await? {
                    let frame = HubFrame::Unread {
                        room_id: &row.room_id,
                        count: row.count as u64,
                    };
                    self.broadcast(&frame.to_json());
                }
            }
            _ => return Response::error("not found", 404),
        }
        Response::empty().map(|r| r.with_status(204))
    }

    async fn websocket_message(
        &self,
        ws: WebSocket,
        message: WebSocketIncomingMessage,
    ) -> Result<()> {
        // The stream is the server's; clients may only ping.
        let reply = match message {
            WebSocketIncomingMessage::String(text) => match parse_client_frame(&text) {
                Ok(ClientFrame::Ping) => HubFrame::Pong,
                Ok(_) => HubFrame::Error {
                    code: ErrorCode::UnknownType,
                    message: "the notification stream only answers ping".into(),
                },
                Err(e) => HubFrame::Error {
                    code: e.code,
                    message: e.message,
                },
            },
            WebSocketIncomingMessage::Binary(_) => HubFrame::Error {
                code: ErrorCode::InvalidFrame,
                message: "binary frames are not accepted".into(),
            },
        };
        let _ = ws.send_with_str(reply.to_json());
        Ok(())
    }

    async fn websocket_close(
        &self,
        ws: WebSocket,
        code: usize,
        _reason: String,
        _clean: bool,
    ) -> Result<()> {
        crate::answer_close(&ws, code);
        Ok(())
    }

    async fn websocket_error(&self, _ws: WebSocket, _error: worker::Error) -> Result<()> {
        Ok(())
    }
}
