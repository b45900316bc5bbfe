//! The WebSocket protocol: frames as JSON text, tagged by `type` (API.md, "Real time").

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{Message, Room, User};
use crate::ErrorCode;

/// The largest frame accepted, in raw bytes (64 KiB).
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// A frame from a client.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// Post a message; `client_id` makes a repeat harmless.
    Send {
        /// Idempotency key (1–64 chars).
        client_id: String,
        /// Text, trimmed by the room.
        body: String,
        /// The `seq` being answered.
        #[serde(default)]
        reply_to: Option<u64>,
    },
    /// Replace the body of one's own message.
    Edit {
        /// The message to edit.
        seq: u64,
        /// The new text.
        body: String,
    },
    /// Delete a message.
    Delete {
        /// The message to delete.
        seq: u64,
    },
    /// The sender is typing.
    Typing,
    /// The sender has read up to `seq`.
    Read {
        /// The newest `seq` read.
        seq: u64,
    },
    /// Keep-alive; answered by `pong`.
    Ping,
}

const CLIENT_TYPES: [&str; 6] = ["send", "edit", "delete", "typing", "read", "ping"];

/// A refused frame: what to put in the `error` frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError {
    /// The error's machine name.
    pub code: ErrorCode,
    /// A human-readable reason.
    pub message: String,
    /// The refused frame's `client_id`, when it carried one.
    pub client_id: Option<String>,
}

impl FrameError {
    fn new(code: ErrorCode, message: impl Into<String>, client_id: Option<String>) -> Self {
        Self {
            code,
            message: message.into(),
            client_id,
        }
    }

    /// The `error` frame reporting this refusal.
    #[must_use]
    pub fn to_frame(&self) -> ServerFrame {
        ServerFrame::Error {
            code: self.code,
            message: self.message.clone(),
            client_id: self.client_id.clone(),
            retry_after_ms: None,
        }
    }
}

/// Parses a text frame, telling apart oversize, non-JSON, unknown and
/// malformed frames so each gets its own error code.
///
/// The size is checked before anything is built: an oversize frame is only
/// scanned for its `client_id` (see [`ClientIdProbe`]), never turned into a
/// JSON tree.
pub fn parse_client_frame(text: &str) -> Result<ClientFrame, FrameError> {
    if text.len() > MAX_FRAME_BYTES {
        let client_id = serde_json::from_str::<ClientIdProbe>(text)
            .ok()
            .and_then(|probe| probe.0);
        return Err(FrameError::new(
            ErrorCode::PayloadTooLarge,
            format!("frames are limited to {MAX_FRAME_BYTES} bytes"),
            client_id,
        ));
    }
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        return Err(FrameError::new(
            ErrorCode::InvalidFrame,
            "frame is not valid JSON",
            None,
        ));
    };
    let client_id = value
        .get("client_id")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let Some(kind) = value.get("type").and_then(Value::as_str).map(str::to_owned) else {
        return Err(FrameError::new(
            ErrorCode::InvalidFrame,
            "frame must be a JSON object with a string \"type\"",
            client_id,
        ));
    };
    if !CLIENT_TYPES.contains(&kind.as_str()) {
        return Err(FrameError::new(
            ErrorCode::UnknownType,
            format!("unknown frame type {kind:?}"),
            client_id,
        ));
    }
    serde_json::from_value(value).map_err(|e| {
        FrameError::new(
            ErrorCode::InvalidFrame,
            format!("malformed {kind} frame: {e}"),
            client_id,
        )
    })
}

/// The string `client_id` of a JSON object, read in one pass that skips
/// every other value without building it, so that refusing an oversize
/// frame costs a scan, not a tree. As with `Value::get`, the last
/// `client_id` wins and a non-string one counts as none.
struct ClientIdProbe(Option<String>);

impl<'de> Deserialize<'de> for ClientIdProbe {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ProbeVisitor)
    }
}

struct ProbeVisitor;

impl<'de> Visitor<'de> for ProbeVisitor {
    type Value = ClientIdProbe;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ClientIdProbe, A::Error> {
        let mut client_id = None;
        while let Some(IsClientId(is_client_id)) = map.next_key()? {
            if is_client_id {
                client_id = match map.next_value()? {
                    Value::String(s) => Some(s),
                    _ => None,
                };
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(ClientIdProbe(client_id))
    }
}

/// An object key, remembered only as whether it is `client_id`.
struct IsClientId(bool);

impl<'de> Deserialize<'de> for IsClientId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = IsClientId;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }

            fn visit_str<E: de::Error>(self, key: &str) -> Result<IsClientId, E> {
                Ok(IsClientId(key == "client_id"))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// The error for a binary frame: the protocol is JSON text only.
#[must_use]
pub fn binary_frame_error(len: usize) -> FrameError {
    if len > MAX_FRAME_BYTES {
        FrameError::new(
            ErrorCode::PayloadTooLarge,
            format!("frames are limited to {MAX_FRAME_BYTES} bytes"),
            None,
        )
    } else {
        FrameError::new(
            ErrorCode::InvalidFrame,
            "binary frames are not accepted",
            None,
        )
    }
}

/// A frame from the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// The first frame on every socket.
    Welcome {
        /// The room joined.
        room: Room,
        /// The socket's own user.
        me: User,
        /// The newest `seq` in the room.
        last_seq: u64,
        /// Users with at least one open socket in the room, caller included:
        /// the first [`ONLINE_LIST_MAX`](crate::presence::ONLINE_LIST_MAX)
        /// by username.
        online: Vec<User>,
        /// How many distinct users are online, caller included.
        online_count: usize,
    },
    /// A new message.
    Message {
        /// The message.
        message: Message,
    },
    /// A message's new body.
    Edited {
        /// The message after the edit.
        message: Message,
    },
    /// A message was deleted.
    Deleted {
        /// Its `seq`.
        seq: u64,
    },
    /// The sender's message is durably stored under `seq`.
    Ack {
        /// The key the sender chose.
        client_id: String,
        /// The message's place in the room.
        seq: u64,
    },
    /// Who came and went since the last presence frame.
    Presence {
        /// Users whose first socket opened.
        joined: Vec<User>,
        /// Users whose last socket closed.
        left: Vec<User>,
        /// How many distinct users are online after these changes.
        online_count: usize,
        /// The lists leave changes out (a large room); sent only when true.
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        truncated: bool,
    },
    /// Someone else is typing.
    Typing {
        /// Who.
        user: User,
    },
    /// A frame was refused; the socket stays open.
    Error {
        /// Machine name.
        code: ErrorCode,
        /// Human-readable reason.
        message: String,
        /// The refused frame's `client_id`, if it had one.
        #[serde(skip_serializing_if = "Option::is_none")]
        client_id: Option<String>,
        /// For `rate_limited`: when to try again.
        #[serde(skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
    /// Answer to `ping`.
    Pong,
}

impl ServerFrame {
    /// The frame as JSON text.
    #[must_use]
    pub fn to_json(&self) -> String {
        // Every field is a string, number, bool or list of those: cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str) -> ErrorCode {
        parse_client_frame(text).unwrap_err().code
    }

    #[test]
    fn parses_every_client_type() {
        assert_eq!(
            parse_client_frame(r#"{"type":"send","client_id":"c1","body":"hi","extra":1}"#),
            Ok(ClientFrame::Send {
                client_id: "c1".into(),
                body: "hi".into(),
                reply_to: None
            })
        );
        assert_eq!(
            parse_client_frame(r#"{"type":"send","client_id":"c","body":"b","reply_to":3}"#)
                .unwrap(),
            ClientFrame::Send {
                client_id: "c".into(),
                body: "b".into(),
                reply_to: Some(3)
            }
        );
        assert_eq!(
            parse_client_frame(r#"{"type":"edit","seq":2,"body":"x"}"#),
            Ok(ClientFrame::Edit {
                seq: 2,
                body: "x".into()
            })
        );
        assert_eq!(
            parse_client_frame(r#"{"type":"delete","seq":2}"#),
            Ok(ClientFrame::Delete { seq: 2 })
        );
        assert_eq!(
            parse_client_frame(r#"{"type":"typing"}"#),
            Ok(ClientFrame::Typing)
        );
        assert_eq!(
            parse_client_frame(r#"{"type":"read","seq":9}"#),
            Ok(ClientFrame::Read { seq: 9 })
        );
        assert_eq!(
            parse_client_frame(r#"{"type":"ping"}"#),
            Ok(ClientFrame::Ping)
        );
    }

    #[test]
    fn tells_error_kinds_apart() {
        assert_eq!(code("not json"), ErrorCode::InvalidFrame);
        assert_eq!(code("[1,2]"), ErrorCode::InvalidFrame);
        assert_eq!(code(r#"{"body":"x"}"#), ErrorCode::InvalidFrame);
        assert_eq!(code(r#"{"type":7}"#), ErrorCode::InvalidFrame);
        assert_eq!(code(r#"{"type":"shout"}"#), ErrorCode::UnknownType);
        assert_eq!(
            code(r#"{"type":"send","body":"x"}"#),
            ErrorCode::InvalidFrame
        );
        assert_eq!(
            code(r#"{"type":"send","client_id":"c","body":5}"#),
            ErrorCode::InvalidFrame
        );
        assert_eq!(
            code(r#"{"type":"delete","seq":-1}"#),
            ErrorCode::InvalidFrame
        );
        assert_eq!(
            code(r#"{"type":"read","seq":"1"}"#),
            ErrorCode::InvalidFrame
        );
    }

    #[test]
    fn refused_send_keeps_its_client_id() {
        let err =
            parse_client_frame(r#"{"type":"send","client_id":"c9","body":null}"#).unwrap_err();
        assert_eq!(err.client_id.as_deref(), Some("c9"));
        assert!(parse_client_frame("{").unwrap_err().client_id.is_none());
    }

    #[test]
    fn oversize_frame_is_payload_too_large() {
        let body = "x".repeat(MAX_FRAME_BYTES);
        let text = format!(r#"{{"type":"send","client_id":"big","body":"{body}"}}"#);
        let err = parse_client_frame(&text).unwrap_err();
        assert_eq!(err.code, ErrorCode::PayloadTooLarge);
        assert_eq!(err.client_id.as_deref(), Some("big"));
        assert_eq!(
            code(&"y".repeat(MAX_FRAME_BYTES + 1)),
            ErrorCode::PayloadTooLarge
        );
        assert_eq!(binary_frame_error(3).code, ErrorCode::InvalidFrame);
        assert_eq!(
            binary_frame_error(MAX_FRAME_BYTES + 1).code,
            ErrorCode::PayloadTooLarge
        );
    }

    #[test]
    fn oversize_frame_keeps_only_a_top_level_string_client_id() {
        let pad = " ".repeat(MAX_FRAME_BYTES);
        let big = |json: &str| parse_client_frame(&format!("{json}{pad}")).unwrap_err();
        let id = |json: &str| big(json).client_id;
        assert_eq!(
            big(r#"{"type":"send","client_id":"c","body":"b"}"#).code,
            ErrorCode::PayloadTooLarge
        );
        assert_eq!(
            id(r#"{"client_id":"a","client_id":"b"}"#).as_deref(),
            Some("b")
        );
        assert_eq!(id(r#"{"client\u005fid":"esc"}"#).as_deref(), Some("esc"));
        assert_eq!(id(r#"{"client_id":7}"#), None);
        assert_eq!(id(r#"{"client_id":"a","client_id":null}"#), None);
        assert_eq!(id(r#"{"body":{"client_id":"nested"}}"#), None);
        assert_eq!(id(r#"["client_id","x"]"#), None);
        assert_eq!(id(r#"{"client_id":"c""#), None);
        assert_eq!(big(&"[".repeat(10_000)).code, ErrorCode::PayloadTooLarge);
    }

    #[test]
    fn server_frames_are_tagged() {
        assert_eq!(ServerFrame::Pong.to_json(), r#"{"type":"pong"}"#);
        assert_eq!(
            ServerFrame::Ack {
                client_id: "c".into(),
                seq: 4
            }
            .to_json(),
            r#"{"type":"ack","client_id":"c","seq":4}"#
        );
        let err = FrameError::new(ErrorCode::UnknownType, "m", None).to_frame();
        assert_eq!(
            err.to_json(),
            r#"{"type":"error","code":"unknown_type","message":"m"}"#
        );
    }
}
