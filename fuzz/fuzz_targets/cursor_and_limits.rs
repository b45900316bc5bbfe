//! Fuzzes the pagination helpers of `cursor.rs`: `Cursor::decode` on any
//! text a client may send back, `Cursor::encode` on cursors built from the
//! input, and `limit` on any query value.
//!
//! Cursors and limits come straight from query strings, so:
//! - decoding never panics, and whatever decodes encodes and decodes again
//!   to the same cursor;
//! - every cursor whose encoding fits the 256-byte limit of `decode` (any
//!   time with an id of up to 171 bytes, which covers the server's ids)
//!   survives the round trip; longer ones are refused, never misread;
//! - encodings are URL-safe base64 without padding;
//! - `limit` is the default when absent and otherwise exactly the number
//!   given when it is a whole number in `1..=max`, and an error otherwise.

#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use edgechat_core::cursor::{limit, Cursor};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Built {
    at: i64,
    id: String,
    default: u32,
    max: u32,
    n: u32,
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);

    if let Some(cursor) = Cursor::decode(&text) {
        assert_eq!(Cursor::decode(&cursor.encode()).as_ref(), Some(&cursor));
    }
    for line in text.lines() {
        check_limit(Some(line.trim()), 50, 100);
    }

    let Ok(built) = Built::arbitrary(&mut Unstructured::new(data)) else {
        return;
    };
    let cursor = Cursor {
        at: built.at,
        id: built.id,
    };
    let encoded = cursor.encode();
    assert!(
        encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{encoded:?} is not URL-safe base64"
    );
    let decoded = Cursor::decode(&encoded);
    if encoded.len() <= 256 {
        assert_eq!(decoded, Some(cursor.clone()));
    } else {
        assert_eq!(decoded, None, "an over-long cursor is refused");
    }
    if cursor.id.len() <= 171 {
        assert!(encoded.len() <= 256, "ids of up to 171 bytes always fit");
    }

    check_limit(None, built.default, built.max);
    check_limit(Some(&text), built.default, built.max);
    check_limit(Some(&built.n.to_string()), built.default, built.max);
});

fn check_limit(raw: Option<&str>, default: u32, max: u32) {
    let got = limit(raw, default, max);
    match raw {
        None => assert_eq!(got, Ok(default)),
        Some(v) => match v.parse::<u32>() {
            Ok(n) if (1..=max).contains(&n) => assert_eq!(got, Ok(n), "limit {v:?}"),
            _ => {
                let err = got.expect_err(v);
                assert!(err.contains(&max.to_string()), "{err:?} names the maximum");
            }
        },
    }
}
