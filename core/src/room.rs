//! The room state machine: frames in, effects out.
//!
//! The Room Durable Object feeds every socket event to [`RoomMachine`] and
//! carries out the [`Effect`]s it returns, in order. The machine owns the
//! ordering rule (`seq` strictly +1) and decides every answer, so whole
//! conversations are tested here without a runtime.

use std::collections::BTreeMap;

use crate::frames::{binary_frame_error, parse_client_frame, ClientFrame, ServerFrame};
use crate::identity::Identity;
use crate::model::{Author, Message, Room, User};
use crate::validate::{ClientMsgId, MessageBody};
use crate::{ErrorCode, Timestamp};

/// What the glue must do, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Make `seq` the room's durable last `seq` before carrying out anything after it.
    PersistSeq(u64),
    /// Send to the socket the frame came from.
    Reply(ServerFrame),
    /// Send to every socket in the room, the sender's included.
    Broadcast(ServerFrame),
    /// Send to every socket in the room but the sender's.
    BroadcastOthers(ServerFrame),
}

/// One room's ordering state.
#[derive(Debug, Clone)]
pub struct RoomMachine {
    room_id: String,
    last_seq: u64,
}

impl RoomMachine {
    /// A room whose newest stored `seq` is `last_seq` (0 for a new room).
    #[must_use]
    pub fn new(room_id: impl Into<String>, last_seq: u64) -> Self {
        Self {
            room_id: room_id.into(),
            last_seq,
        }
    }

    /// The newest `seq` assigned.
    #[must_use]
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// The `welcome` frame for a new socket of `me`.
    #[must_use]
    pub fn welcome(&self, room: Room, me: &Identity, online: Vec<User>) -> ServerFrame {
        ServerFrame::Welcome {
            room: Room {
                last_seq: self.last_seq,
                ..room
            },
            me: me.to_user(),
            last_seq: self.last_seq,
            online,
        }
    }

    /// Handles a text frame from `sender`'s socket at `now`.
    pub fn on_text(&mut self, now: Timestamp, sender: &Identity, text: &str) -> Vec<Effect> {
        match parse_client_frame(text) {
            Err(e) => vec![Effect::Reply(e.to_frame())],
            Ok(frame) => self.on_frame(now, sender, frame),
        }
    }

    /// Handles a binary frame of `len` bytes: always refused, the socket stays open.
    #[must_use]
    pub fn on_binary(len: usize) -> Vec<Effect> {
        vec![Effect::Reply(binary_frame_error(len).to_frame())]
    }

    fn on_frame(&mut self, now: Timestamp, sender: &Identity, frame: ClientFrame) -> Vec<Effect> {
        match frame {
            ClientFrame::Send {
                client_id,
                body,
                reply_to,
            } => self.on_send(now, sender, &client_id, &body, reply_to),
            ClientFrame::Ping => vec![Effect::Reply(ServerFrame::Pong)],
            ClientFrame::Typing => vec![Effect::BroadcastOthers(ServerFrame::Typing {
                user: sender.to_user(),
            })],
            ClientFrame::Edit { .. } | ClientFrame::Delete { .. } | ClientFrame::Read { .. } => {
                vec![Effect::Reply(error(
                    ErrorCode::InvalidRequest,
                    "edit, delete and read are not available yet",
                    None,
                ))]
            }
        }
    }

    fn on_send(
        &mut self,
        now: Timestamp,
        sender: &Identity,
        client_id: &str,
        body: &str,
        reply_to: Option<u64>,
    ) -> Vec<Effect> {
        let refuse = |msg: String| {
            vec![Effect::Reply(error(
                ErrorCode::InvalidRequest,
                msg,
                Some(client_id.to_owned()),
            ))]
        };
        let client_id = match ClientMsgId::parse(client_id) {
            Ok(id) => id,
            Err(e) => return refuse(e.0),
        };
        let body = match MessageBody::parse(body) {
            Ok(b) => b,
            Err(e) => return refuse(e.0),
        };
        if let Some(r) = reply_to {
            if r == 0 || r > self.last_seq {
                return refuse(format!("reply_to {r} is not a message in this room"));
            }
        }
        let seq = self.last_seq + 1;
        self.last_seq = seq;
        let message = Message {
            id: format!("{}-{seq}", self.room_id),
            room_id: self.room_id.clone(),
            seq,
            client_id: client_id.as_str().to_owned(),
            author: Author::from(&sender.to_user()),
            body: body.into_string(),
            created_at: now,
            edited_at: None,
            deleted: false,
            reply_to,
        };
        vec![
            Effect::PersistSeq(seq),
            Effect::Reply(ServerFrame::Ack {
                client_id: client_id.as_str().to_owned(),
                seq,
            }),
            Effect::Broadcast(ServerFrame::Message { message }),
        ]
    }
}

fn error(code: ErrorCode, message: impl Into<String>, client_id: Option<String>) -> ServerFrame {
    ServerFrame::Error {
        code,
        message: message.into(),
        client_id,
        retry_after_ms: None,
    }
}

/// The users behind a room's sockets: one entry per user however many
/// sockets they hold, in username order.
pub fn online_users<'a>(sockets: impl IntoIterator<Item = &'a Identity>) -> Vec<User> {
    let by_name: BTreeMap<&str, &Identity> = sockets
        .into_iter()
        .map(|i| (i.username.as_str(), i))
        .collect();
    by_name.values().map(|i| i.to_user()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{RoomKind, Visibility};

    fn who(name: &str) -> Identity {
        Identity {
            id: format!("id-{name}"),
            username: name.into(),
            display_name: name.to_uppercase(),
            created_at_ms: 0,
        }
    }

    fn send(client_id: &str, body: &str) -> String {
        serde_json::json!({"type": "send", "client_id": client_id, "body": body}).to_string()
    }

    #[test]
    fn sends_get_consecutive_seqs_persisted_before_ack_and_broadcast() {
        let mut room = RoomMachine::new("r", 41);
        let out = room.on_text(Timestamp(7), &who("ann"), &send("c1", "  hello "));
        assert_eq!(out.len(), 3);
        assert_eq!(out[0], Effect::PersistSeq(42));
        assert_eq!(
            out[1],
            Effect::Reply(ServerFrame::Ack {
                client_id: "c1".into(),
                seq: 42
            })
        );
        let Effect::Broadcast(ServerFrame::Message { message }) = &out[2] else {
            panic!("expected a broadcast message, got {:?}", out[2]);
        };
        assert_eq!(message.seq, 42);
        assert_eq!(message.body, "hello");
        assert_eq!(message.author.username, "ann");
        assert_eq!(message.created_at, Timestamp(7));
        let out = room.on_text(Timestamp(8), &who("bob"), &send("c1", "again"));
        assert_eq!(out[0], Effect::PersistSeq(43));
        assert_eq!(room.last_seq(), 43);
    }

    #[test]
    fn invalid_sends_change_nothing_and_name_the_client_id() {
        let mut room = RoomMachine::new("r", 0);
        for bad in [
            send("c", "   "),
            send("", "x"),
            send("c", &"a".repeat(4001)),
        ] {
            let out = room.on_text(Timestamp(0), &who("ann"), &bad);
            let [Effect::Reply(ServerFrame::Error {
                code, client_id, ..
            })] = out.as_slice()
            else {
                panic!("expected one error reply, got {out:?}");
            };
            assert_eq!(*code, ErrorCode::InvalidRequest);
            assert!(client_id.is_some());
        }
        let reply = r#"{"type":"send","client_id":"c","body":"x","reply_to":1}"#;
        assert!(matches!(
            room.on_text(Timestamp(0), &who("ann"), reply).as_slice(),
            [Effect::Reply(ServerFrame::Error { .. })]
        ));
        assert_eq!(room.last_seq(), 0);
    }

    #[test]
    fn ping_typing_and_bad_frames() {
        let mut room = RoomMachine::new("r", 0);
        let ann = who("ann");
        assert_eq!(
            room.on_text(Timestamp(0), &ann, r#"{"type":"ping"}"#),
            vec![Effect::Reply(ServerFrame::Pong)]
        );
        assert_eq!(
            room.on_text(Timestamp(0), &ann, r#"{"type":"typing"}"#),
            vec![Effect::BroadcastOthers(ServerFrame::Typing {
                user: ann.to_user()
            })]
        );
        assert!(matches!(
            room.on_text(Timestamp(0), &ann, "nope").as_slice(),
            [Effect::Reply(ServerFrame::Error {
                code: ErrorCode::InvalidFrame,
                ..
            })]
        ));
        assert!(matches!(
            RoomMachine::on_binary(4).as_slice(),
            [Effect::Reply(ServerFrame::Error {
                code: ErrorCode::InvalidFrame,
                ..
            })]
        ));
    }

    #[test]
    fn welcome_reports_the_current_seq() {
        let mut room = RoomMachine::new("r", 0);
        room.on_text(Timestamp(0), &who("ann"), &send("a", "x"));
        let info = Room {
            id: "r".into(),
            name: "r".into(),
            topic: String::new(),
            kind: RoomKind::Room,
            visibility: Visibility::Public,
            created_at: Timestamp(0),
            member_count: 1,
            last_seq: 0,
            my_role: None,
            unread: None,
        };
        let ServerFrame::Welcome {
            room: r,
            last_seq,
            me,
            ..
        } = room.welcome(info, &who("bob"), vec![])
        else {
            panic!("not a welcome");
        };
        assert_eq!((r.last_seq, last_seq, me.username.as_str()), (1, 1, "bob"));
    }

    #[test]
    fn online_lists_users_not_sockets() {
        let (ann, bob) = (who("ann"), who("bob"));
        let users = online_users([&bob, &ann, &bob]);
        let names: Vec<_> = users.iter().map(|u| u.username.as_str()).collect();
        assert_eq!(names, ["ann", "bob"]);
    }
}
