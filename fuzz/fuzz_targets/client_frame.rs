//! Fuzzes the WebSocket frame parser, `frames::parse_client_frame`, with
//! arbitrary text (bytes that are not UTF-8 go in lossily converted), and
//! `frames::binary_frame_error` with arbitrary lengths.
//!
//! Every socket message a client sends goes through the parser, so besides
//! never panicking it must hold to the protocol's rules:
//! - a frame over `MAX_FRAME_BYTES` is always `payload_too_large`, and no
//!   smaller one ever is; padding any frame past the limit makes it one, and
//!   padding JSON with spaces keeps its top-level `client_id` in the refusal;
//! - only `invalid_frame`, `unknown_type` and `payload_too_large` are used;
//! - a refusal names the frame's top-level string `client_id`, if any;
//! - every refusal renders as a JSON `error` frame with the same code and
//!   `client_id`;
//! - an accepted frame is a JSON object with that `type`, and the canonical
//!   JSON of what was parsed parses back to the same frame.

#![no_main]

use edgechat_core::frames::{
    binary_frame_error, parse_client_frame, ClientFrame, FrameError, MAX_FRAME_BYTES,
};
use edgechat_core::ErrorCode;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = check_text(&text);

    // Padded past the limit: refused for its size whatever it holds. Spaces
    // after JSON keep it the same JSON, so it keeps its client_id.
    if text.len() <= MAX_FRAME_BYTES {
        let padded = format!("{text}{}", " ".repeat(MAX_FRAME_BYTES + 1 - text.len()));
        let err = check_text(&padded).expect_err("an oversize frame is refused");
        if let Ok(value) = serde_json::from_str::<Value>(&text) {
            assert_eq!(
                err.client_id.as_deref(),
                value.get("client_id").and_then(Value::as_str),
                "padding changed the client_id of {text:?}"
            );
        }
    }

    let len = data
        .iter()
        .take(8)
        .fold(0usize, |n, &b| n.wrapping_shl(8) | usize::from(b));
    for len in [len, len % (2 * MAX_FRAME_BYTES)] {
        let err = binary_frame_error(len);
        let expected = if len > MAX_FRAME_BYTES {
            ErrorCode::PayloadTooLarge
        } else {
            ErrorCode::InvalidFrame
        };
        assert_eq!(err.code, expected, "binary frame of {len} bytes");
        assert_eq!(err.client_id, None);
        check_error_frame(&err);
    }
});

/// Parses `text` and checks every rule that holds for any input.
fn check_text(text: &str) -> Result<ClientFrame, FrameError> {
    let parsed = parse_client_frame(text);
    match &parsed {
        Err(err) => {
            assert_eq!(
                err.code == ErrorCode::PayloadTooLarge,
                text.len() > MAX_FRAME_BYTES,
                "{:?} for a frame of {} bytes",
                err.code,
                text.len()
            );
            assert!(
                matches!(
                    err.code,
                    ErrorCode::InvalidFrame | ErrorCode::UnknownType | ErrorCode::PayloadTooLarge
                ),
                "unexpected code {:?}",
                err.code
            );
            // The refusal's client_id is the frame's own top-level string
            // client_id. (An oversize frame is only scanned, which accepts
            // a little more than full parsing, e.g. numbers out of f64 range.)
            match serde_json::from_str::<Value>(text) {
                Ok(value) => assert_eq!(
                    err.client_id.as_deref(),
                    value.get("client_id").and_then(Value::as_str),
                    "client_id of the refusal of {text:?}"
                ),
                Err(_) if text.len() <= MAX_FRAME_BYTES => assert_eq!(err.client_id, None),
                Err(_) => {}
            }
            check_error_frame(err);
        }
        Ok(frame) => {
            assert!(text.len() <= MAX_FRAME_BYTES);
            let value: Value = serde_json::from_str(text).expect("an accepted frame is JSON");
            let canonical = canonical_json(frame);
            assert_eq!(value.get("type"), canonical.get("type"));
            let canonical = canonical.to_string();
            assert!(canonical.len() <= text.len(), "{canonical} from {text:?}");
            assert_eq!(
                parse_client_frame(&canonical).as_ref(),
                Ok(frame),
                "canonical form of {text:?}"
            );
        }
    }
    parsed
}

/// The error frame is JSON of type `error` carrying the refusal as it is.
fn check_error_frame(err: &FrameError) {
    let json: Value =
        serde_json::from_str(&err.to_frame().to_json()).expect("error frames are JSON");
    assert_eq!(json["type"], "error");
    assert_eq!(json["code"], err.code.as_str());
    assert_eq!(json["message"], err.message.as_str());
    assert!(!err.message.is_empty());
    assert_eq!(
        json.get("client_id").and_then(Value::as_str),
        err.client_id.as_deref()
    );
}

/// The frame as a client would plainly write it: never longer than the
/// text it was parsed from, so it is never over the limit either.
fn canonical_json(frame: &ClientFrame) -> Value {
    match frame {
        ClientFrame::Send {
            client_id,
            body,
            reply_to: None,
        } => json!({"type": "send", "client_id": client_id, "body": body}),
        ClientFrame::Send {
            client_id,
            body,
            reply_to: Some(seq),
        } => json!({"type": "send", "client_id": client_id, "body": body, "reply_to": seq}),
        ClientFrame::Edit { seq, body } => json!({"type": "edit", "seq": seq, "body": body}),
        ClientFrame::Delete { seq } => json!({"type": "delete", "seq": seq}),
        ClientFrame::Typing => json!({"type": "typing"}),
        ClientFrame::Read { seq } => json!({"type": "read", "seq": seq}),
        ClientFrame::Ping => json!({"type": "ping"}),
    }
}
