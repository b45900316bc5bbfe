//! Fuzzes `mentions.rs`: `mentions` and `preview` on arbitrary message
//! bodies, and `mentions` on bodies built around an arbitrary username.
//!
//! Mentions decide who gets notified, so:
//! - every name found is a valid, lowercase username, found once;
//! - each one really is a mention in the body: an `@` not glued to a
//!   preceding username character, then the name in any case, then only
//!   `.`/`-` before a non-username character or the end;
//! - a valid username not ending in `.` or `-`, written as ` @Name ` in any
//!   case amid arbitrary text, is always found;
//! - `preview` is the body's first 140 characters, cut on a char boundary.

#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use edgechat_core::mentions::{mentions, preview};
use edgechat_core::validate::Username;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Around {
    before: String,
    name: String,
    after: String,
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

fuzz_target!(|data: &[u8]| {
    let body = String::from_utf8_lossy(data);
    check(&body);

    if let Ok(around) = Around::arbitrary(&mut Unstructured::new(data)) {
        if Username::parse(&around.name).is_ok() && !around.name.ends_with(['.', '-']) {
            let body = format!("{} @{} {}", around.before, around.name, around.after);
            let found = check(&body);
            let wanted = around.name.to_ascii_lowercase();
            assert!(
                found.contains(&wanted),
                "@{wanted} missed in {body:?}: {found:?}"
            );
        }
    }
});

fn check(body: &str) -> Vec<String> {
    let found = mentions(body);
    let lower = body.to_ascii_lowercase();
    for (i, name) in found.iter().enumerate() {
        assert_eq!(
            Username::parse(name)
                .map(|u| u.as_str().to_owned())
                .as_deref(),
            Ok(name.as_str()),
            "{name:?} is not a lowercase username"
        );
        assert!(!found[..i].contains(name), "{name:?} found twice");
        let is_mention = lower.match_indices('@').any(|(at, _)| {
            let glued = lower[..at].chars().next_back().is_some_and(is_name_char);
            let Some(rest) = lower[at + 1..].strip_prefix(name.as_str()) else {
                return false;
            };
            let rest = rest.trim_start_matches(['.', '-']);
            !glued && !rest.chars().next().is_some_and(is_name_char)
        });
        assert!(is_mention, "{name:?} is not a mention in {body:?}");
    }

    let p = preview(body);
    assert_eq!(p.chars().count(), body.chars().count().min(140));
    assert!(body.starts_with(&p));
    found
}
