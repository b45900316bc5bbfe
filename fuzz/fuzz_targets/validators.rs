//! Fuzzes every validated newtype of `validate.rs` (and `Password`) with
//! arbitrary text, and with that text's characters cycled to exactly each
//! length limit and one past it.
//!
//! These types are the only way user input becomes a name, a body or an id,
//! so each `parse` must accept exactly what API.md's rules allow:
//! - lengths count `char`s: username 3–32, password 8–256, display name,
//!   room name, client_id and room id 1–64, topic 0–256, body 1–4000 after
//!   trimming Unicode white space;
//! - usernames are `[a-z0-9_.-]` once lowercased; room ids `[A-Za-z0-9_-]`;
//! - display names, room names and topics hold no control (Cc) or format
//!   (Cf) characters; text made of letters, digits, punctuation and spaces is
//!   never refused for its content;
//! - everything but usernames (lowercased) and bodies (trimmed) is kept as
//!   given, and parsing what was accepted gives it back unchanged;
//! - each serializes as the plain JSON string of its text.

#![no_main]

use edgechat_core::auth::password::Password;
use edgechat_core::validate::{
    ClientMsgId, DisplayName, Invalid, MessageBody, RoomId, RoomName, Topic, Username,
    MAX_BODY_CHARS,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    check(&text);
    // The same characters, cycled to exactly each limit and one past it.
    // Only bodies get near 4000 characters, and building and scanning that
    // much under coverage instrumentation is slow: one input in 16 (by its
    // length, so a crash reproduces) checks that limit.
    if !text.is_empty() {
        let cycled = |len: usize| text.chars().cycle().take(len).collect::<String>();
        for limit in [3, 8, 32, 64, 256] {
            check(&cycled(limit));
            check(&cycled(limit + 1));
        }
        if data.len().is_multiple_of(16) {
            let _ = check_body(&cycled(MAX_BODY_CHARS));
            let _ = check_body(&cycled(MAX_BODY_CHARS + 1));
        }
    }
});

fn check(raw: &str) {
    let n = raw.chars().count();

    let username = Username::parse(raw);
    let username_ok = (3..=32).contains(&n)
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    assert_eq!(username.is_ok(), username_ok, "username {raw:?}");
    if let Ok(name) = &username {
        assert_eq!(name.as_str(), raw.to_ascii_lowercase());
        assert!(!name.as_str().bytes().any(|b| b.is_ascii_uppercase()));
        assert_eq!(Username::parse(name.as_str()).as_ref(), Ok(name));
        assert_eq!(
            Username::parse(&raw.to_ascii_uppercase()).as_ref(),
            Ok(name),
            "usernames are case-insensitive"
        );
        assert_json_string(name, name.as_str());
    }

    let password = Password::parse(raw);
    assert_eq!(
        password.is_ok(),
        (8..=256).contains(&n),
        "password of {n} chars"
    );
    if let Ok(p) = &password {
        assert_eq!(p.as_bytes(), raw.as_bytes());
    }

    let plain = raw.chars().all(is_plainly_visible);

    let display = DisplayName::parse(raw);
    check_shown(
        "display_name",
        raw,
        n,
        (1, 64),
        plain,
        display.as_ref().map(DisplayName::as_str),
    );
    if let Ok(d) = &display {
        assert_eq!(DisplayName::parse(d.as_str()).as_ref(), Ok(d));
        assert_json_string(d, raw);
    }

    let room = RoomName::parse(raw);
    check_shown(
        "room name",
        raw,
        n,
        (1, 64),
        plain,
        room.as_ref().map(RoomName::as_str),
    );
    if let Ok(r) = &room {
        assert_eq!(RoomName::parse(r.as_str()).as_ref(), Ok(r));
        assert_json_string(r, raw);
    }

    let topic = Topic::parse(raw);
    check_shown(
        "topic",
        raw,
        n,
        (0, 256),
        plain,
        topic.as_ref().map(Topic::as_str),
    );
    if let Ok(t) = &topic {
        assert_eq!(Topic::parse(t.as_str()).as_ref(), Ok(t));
        assert_json_string(t, raw);
    }

    let body = check_body(raw);

    let client_id = ClientMsgId::parse(raw);
    assert_eq!(
        client_id.is_ok(),
        (1..=64).contains(&n),
        "client_id of {n} chars"
    );
    if let Ok(c) = &client_id {
        assert_eq!(c.as_str(), raw);
        assert_eq!(ClientMsgId::parse(c.as_str()).as_ref(), Ok(c));
        assert_json_string(c, raw);
    }

    let room_id = RoomId::parse(raw);
    let room_id_ok = (1..=64).contains(&n)
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'));
    assert_eq!(room_id.is_ok(), room_id_ok, "room id {raw:?}");
    if let Ok(r) = &room_id {
        assert_eq!(r.as_str(), raw);
        assert_eq!(RoomId::parse(r.as_str()).as_ref(), Ok(r));
        assert_json_string(r, raw);
    }

    for invalid in [
        username.err(),
        password.err(),
        display.err(),
        room.err(),
        topic.err(),
        body.err(),
        client_id.err(),
        room_id.err(),
    ]
    .into_iter()
    .flatten()
    {
        assert!(!invalid.to_string().is_empty(), "a refusal says why");
    }
}

/// A body is trimmed of Unicode white space, then holds 1–4000 characters.
fn check_body(raw: &str) -> Result<MessageBody, Invalid> {
    let body = MessageBody::parse(raw);
    let trimmed = raw.trim();
    let body_ok = (1..=MAX_BODY_CHARS).contains(&trimmed.chars().count());
    assert_eq!(
        body.is_ok(),
        body_ok,
        "body of {} chars after trimming",
        trimmed.chars().count()
    );
    if let Ok(b) = &body {
        assert_eq!(b.as_str(), trimmed);
        assert_eq!(b.as_str().trim(), b.as_str(), "a body is trimmed");
        assert_eq!(MessageBody::parse(b.as_str()).as_ref(), Ok(b));
        assert_json_string(b, trimmed);
        assert_eq!(b.clone().into_string(), trimmed);
    }
    body
}

/// Display names, room names and topics: kept as given, refused when the
/// length is out of range or a control or format character appears, and
/// never refused for content that is plainly visible.
fn check_shown(
    what: &str,
    raw: &str,
    n: usize,
    (min, max): (usize, usize),
    plain: bool,
    got: Result<&str, &Invalid>,
) {
    let in_range = (min..=max).contains(&n);
    match got {
        Ok(kept) => {
            assert_eq!(kept, raw, "{what} is kept as given");
            assert!(in_range, "{what} of {n} chars accepted");
            assert!(!has_control_or_format(raw), "{what} {raw:?} accepted");
        }
        Err(_) => assert!(!(in_range && plain), "{what} {raw:?} refused"),
    }
}

/// Controls, and the format characters most used to spoof names: soft
/// hyphen, zero-width characters, bidi controls and the byte-order mark.
/// (`validate.rs` refuses the whole Cf category; this is the part that
/// matters most, written out independently.)
fn has_control_or_format(s: &str) -> bool {
    s.chars().any(|c| {
        c.is_control()
            || matches!(c, '\u{00AD}' | '\u{061C}' | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
    })
}

/// Letters, digits, ASCII punctuation and the plain space: never Cc or Cf.
fn is_plainly_visible(c: char) -> bool {
    c.is_alphanumeric() || c.is_ascii_punctuation() || c == ' '
}

fn assert_json_string<T: serde::Serialize>(value: &T, text: &str) {
    assert_eq!(
        serde_json::to_string(value).unwrap(),
        serde_json::to_string(text).unwrap()
    );
}
