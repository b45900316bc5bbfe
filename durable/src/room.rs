//! The Room Durable Object: the single writer of one room.

use std::cell::RefCell;

use edgechat_core::auth::handshake::SUBPROTOCOL;
use edgechat_core::identity::{Identity, IDENTITY_HEADER, ROOM_HEADER};
use edgechat_core::model::{Room as RoomInfo, RoomKind, Visibility};
use edgechat_core::room::{online_users, Effect, RoomMachine};
use edgechat_core::Timestamp;
use worker::{
    durable_object, DurableObject, Env, Headers, Request, Response, Result, State, WebSocket,
    WebSocketIncomingMessage, WebSocketPair,
};

const KEY_ROOM_ID: &str = "room_id";
const KEY_LAST_SEQ: &str = "last_seq";

#[durable_object]
pub struct Room {
    state: State,
    /// Loaded lazily from storage: after hibernation the object is rebuilt
    /// by `new`, which cannot await.
    machine: RefCell<Option<RoomMachine>>,
}

fn now() -> Timestamp {
    Timestamp(worker::Date::now().as_millis() as i64)
}

impl Room {
    /// Makes sure the state machine is loaded. `room_id` is known on the
    /// first request; after an eviction it comes back from storage.
    async fn load(&self, room_id: Option<&str>) -> Result<()> {
        if self.machine.borrow().is_some() {
            return Ok(());
        }
        let storage = self.state.storage();
        let stored_id: Option<String> = storage.get(KEY_ROOM_ID).await?;
        let room_id = match (stored_id, room_id) {
            (Some(id), _) => id,
            (None, Some(id)) => {
                storage.put(KEY_ROOM_ID, id).await?;
                id.to_owned()
            }
            (None, None) => return Err("room has no id yet".into()),
        };
        let last_seq: u64 = storage.get(KEY_LAST_SEQ).await?.unwrap_or(0);
        let mut slot = self.machine.borrow_mut();
        if slot.is_none() {
            *slot = Some(RoomMachine::new(room_id, last_seq));
        }
        Ok(())
    }

    fn identities(&self) -> Vec<Identity> {
        self.state
            .get_websockets()
            .iter()
            .filter_map(|ws| ws.deserialize_attachment::<Identity>().ok().flatten())
            .collect()
    }

    async fn apply(&self, from: &WebSocket, effects: Vec<Effect>) -> Result<()> {
        for effect in effects {
            match effect {
                Effect::PersistSeq(seq) => self.state.storage().put(KEY_LAST_SEQ, seq).await?,
                Effect::Reply(frame) => send(from, &frame.to_json()),
                Effect::Broadcast(frame) => {
                    let text = frame.to_json();
                    for ws in self.state.get_websockets() {
                        send(&ws, &text);
                    }
                }
                Effect::BroadcastOthers(frame) => {
                    let text = frame.to_json();
                    for ws in self.state.get_websockets().iter().filter(|ws| *ws != from) {
                        send(ws, &text);
                    }
                }
            }
        }
        Ok(())
    }
}

/// Sends without failing the room: a socket that closed meanwhile is simply
/// skipped (its close event cleans up).
fn send(ws: &WebSocket, text: &str) {
    let _ = ws.send_with_str(text);
}

impl DurableObject for Room {
    fn new(state: State, _env: Env) -> Self {
        Self {
            state,
            machine: RefCell::new(None),
        }
    }

    async fn fetch(&self, req: Request) -> Result<Response> {
        // Only the Worker reaches this object, and it always sets both headers.
        let Some(me) = Identity::from_header(req.headers().get(IDENTITY_HEADER)?.as_deref()) else {
            return Response::error("missing identity", 400);
        };
        let Some(room_id) = req.headers().get(ROOM_HEADER)? else {
            return Response::error("missing room", 400);
        };
        self.load(Some(&room_id)).await?;

        let pair = WebSocketPair::new()?;
        self.state.accept_web_socket(&pair.server);
        pair.server.serialize_attachment(&me)?;
        let identities = self.identities();
        let welcome = {
            let machine = self.machine.borrow();
            let Some(machine) = machine.as_ref() else {
                return Response::error("room not loaded", 500);
            };
            // Rooms get their stored details with the rooms service; until
            // then every room is a public room named by its id.
            let info = RoomInfo {
                id: room_id.clone(),
                name: room_id,
                topic: String::new(),
                kind: RoomKind::Room,
                visibility: Visibility::Public,
                created_at: now(),
                member_count: online_users(&identities).len() as u64,
                last_seq: machine.last_seq(),
                my_role: None,
                unread: None,
            };
            machine.welcome(info, &me, online_users(&identities))
        };
        send(&pair.server, &welcome.to_json());
        let resp = Response::from_websocket(pair.client)?;
        // The Worker forwards the subprotocol only when the client offered it.
        if req.headers().get("sec-websocket-protocol")?.is_some() {
            let headers = Headers::new();
            headers.set("sec-websocket-protocol", SUBPROTOCOL)?;
            return Ok(resp.with_headers(headers));
        }
        Ok(resp)
    }

    async fn websocket_message(
        &self,
        ws: WebSocket,
        message: WebSocketIncomingMessage,
    ) -> Result<()> {
        let Some(me) = ws.deserialize_attachment::<Identity>()? else {
            ws.close(Some(1011), Some("socket lost its identity"))?;
            return Ok(());
        };
        self.load(None).await?;
        let effects = match message {
            WebSocketIncomingMessage::String(text) => {
                let mut machine = self.machine.borrow_mut();
                match machine.as_mut() {
                    Some(m) => m.on_text(now(), &me, &text),
                    None => return Err("room not loaded".into()),
                }
            }
            WebSocketIncomingMessage::Binary(bytes) => RoomMachine::on_binary(bytes.len()),
        };
        self.apply(&ws, effects).await
    }

    async fn websocket_close(
        &self,
        ws: WebSocket,
        code: usize,
        _reason: String,
        _was_clean: bool,
    ) -> Result<()> {
        // Answer the close handshake; 1005/1006 are reserved and may not be sent.
        let code = match code {
            1005 | 1006 => 1000,
            c => c as u16,
        };
        let _ = ws.close(Some(code), Some("closing"));
        Ok(())
    }

    async fn websocket_error(&self, _ws: WebSocket, _error: worker::Error) -> Result<()> {
        Ok(())
    }
}
