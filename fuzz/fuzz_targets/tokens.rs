//! Fuzzes what stands between a request and a user: access-token
//! verification (`auth::jwt`), the socket handshake rules
//! (`auth::handshake`) and the internal identity header (`identity`).
//!
//! - `verify` never panics and never accepts a token it did not sign: the
//!   input text is checked against keys whose secrets appear nowhere in the
//!   seeds, so a forged signature would have to come from the fuzzer;
//! - `sign` then `verify` gives back exactly the claims when they are ours
//!   and current, and otherwise the refusal the rules call for (missing
//!   claim, wrong party, expired, not yet valid, leeway included), for any
//!   times, including the extremes of `i64`; tokens signed with the previous
//!   key still verify after a rotation;
//! - changing any one character of a signed token makes it invalid;
//! - `bearer` and `credentials` only return a non-empty token that was in
//!   the headers, the Authorization header wins, and a `bearer.` subprotocol
//!   needs `edgechat.v1`; `origin_allowed` admits no Origin, or one listed
//!   exactly;
//! - `decode_header` never panics, and identities round-trip through
//!   `encode_header` as ASCII.

#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use edgechat_core::auth::handshake::{
    bearer, credentials, origin_allowed, HandshakeError, SUBPROTOCOL,
};
use edgechat_core::auth::jwt::{
    sign, verify, Claims, Keys, SigningKey, TokenError, AUDIENCE, ISSUER, LEEWAY_SECS,
};
use edgechat_core::identity::{decode_header, Identity};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Signed {
    ours: bool,
    iss: String,
    aud: String,
    sub: String,
    jti: String,
    iat: Instant,
    nbf: Instant,
    exp: Instant,
    now: Instant,
    rotated: bool,
    flip_at: usize,
    flip_to: u8,
    identity: (String, String, String, i64),
}

/// A time in seconds: mostly near the others, sometimes at the ends of
/// `i64`, where arithmetic on times overflows if it is careless.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Instant {
    Near(i16),
    Min,
    Max,
    Any(i64),
}

impl Instant {
    fn secs(self, base: i64) -> i64 {
        match self {
            Self::Near(d) => base.saturating_add(i64::from(d)),
            Self::Min => i64::MIN,
            Self::Max => i64::MAX,
            Self::Any(t) => t,
        }
    }
}

fn keys(current: u8, previous: Option<u8>) -> Keys {
    let key = |b: u8| SigningKey::new(&[b; 32]).expect("32 bytes");
    Keys {
        current: key(current),
        previous: previous.map(key),
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let fuzz_keys = keys(0xA5, Some(0x5A));
    for now in [0, 1_800_000_000, i64::MIN, i64::MAX] {
        assert!(
            verify(&text, &fuzz_keys, now).is_err(),
            "forged token accepted: {text:?}"
        );
    }

    // Lines of the input stand for the headers of an upgrade request.
    let mut lines = text.split('\n');
    let (auth, protocols, origin, allowed) =
        (lines.next(), lines.next(), lines.next(), lines.next());
    check_handshake(auth, protocols);
    check_handshake(protocols, auth);
    check_origin(origin, allowed.unwrap_or(""));
    check_origin(auth, protocols.unwrap_or(""));

    if let Some(id) = decode_header::<Identity>(Some(&text)) {
        assert_eq!(Identity::from_header(Some(&id.to_header())), Some(id));
    }
    let _ = decode_header::<serde_json::Value>(Some(&text));

    if let Ok(signed) = Signed::arbitrary(&mut Unstructured::new(data)) {
        check_sign_verify(&signed);
    }
});

fn check_sign_verify(s: &Signed) {
    let (iss, aud) = if s.ours {
        (ISSUER.to_owned(), AUDIENCE.to_owned())
    } else {
        (s.iss.clone(), s.aud.clone())
    };
    let now = s.now.secs(1_800_000_000);
    let claims = Claims {
        iss,
        aud,
        sub: s.sub.clone(),
        iat: s.iat.secs(now),
        nbf: s.nbf.secs(now),
        exp: s.exp.secs(now.saturating_add(900)),
        jti: s.jti.clone(),
    };
    let old = keys(1, None);
    let token = sign(&claims, &old);
    let verifier = if s.rotated { keys(2, Some(1)) } else { old };
    let got = verify(&token, &verifier, now);

    // The rules, in the order `verify` applies them, in exact arithmetic.
    let (now_wide, leeway) = (i128::from(now), i128::from(LEEWAY_SECS));
    let expected = if claims.sub.is_empty() || claims.jti.is_empty() {
        Err(TokenError::MissingClaim)
    } else if claims.iss != ISSUER || claims.aud != AUDIENCE {
        Err(TokenError::WrongParty)
    } else if now_wide > i128::from(claims.exp) + leeway {
        Err(TokenError::Expired)
    } else if i128::from(claims.nbf) > now_wide + leeway
        || i128::from(claims.iat) > now_wide + leeway
    {
        Err(TokenError::NotYetValid)
    } else {
        Ok(claims.clone())
    };
    assert_eq!(got, expected, "{claims:?} at {now}");

    // One character changed anywhere: refused.
    let mut bytes = token.clone().into_bytes();
    let i = s.flip_at % bytes.len();
    let to = s.flip_to & 0x7f;
    if bytes[i] != to {
        bytes[i] = to;
        let tampered = String::from_utf8(bytes).expect("ASCII");
        assert!(
            verify(&tampered, &verifier, now).is_err(),
            "{tampered:?} accepted after changing byte {i} of {token:?}"
        );
    }

    let (id, username, display_name, created_at_ms) = s.identity.clone();
    let identity = Identity {
        id,
        username,
        display_name,
        created_at_ms,
    };
    let header = identity.to_header();
    assert!(header.is_ascii());
    assert_eq!(Identity::from_header(Some(&header)), Some(identity));
}

fn check_handshake(authorization: Option<&str>, protocols: Option<&str>) {
    let from_header = bearer(authorization);
    if let Some(token) = from_header {
        assert!(!token.is_empty());
        assert_eq!(token, token.trim());
        assert!(authorization.unwrap().contains(token));
        let scheme = authorization.unwrap().trim().split_once(' ').unwrap().0;
        assert!(scheme.eq_ignore_ascii_case("bearer"));
    }

    let offered: Vec<&str> = protocols
        .map(|p| p.split(',').map(str::trim).collect())
        .unwrap_or_default();
    let speaks_v1 = offered.contains(&SUBPROTOCOL);
    match credentials(authorization, protocols) {
        Ok(c) => {
            assert!(!c.token.is_empty());
            assert_eq!(c.select_subprotocol, speaks_v1);
            match from_header {
                Some(token) => assert_eq!(c.token, token, "the header wins"),
                None => assert!(
                    offered.contains(&format!("bearer.{}", c.token).as_str()),
                    "token {:?} was not offered",
                    c.token
                ),
            }
        }
        Err(HandshakeError::Missing) => assert_eq!(from_header, None),
        Err(HandshakeError::ProtocolMissing) => {
            assert!(!speaks_v1);
            assert!(offered
                .iter()
                .any(|p| p.len() > 7 && p.starts_with("bearer.")));
        }
    }
}

fn check_origin(origin: Option<&str>, allowed: &str) {
    assert!(
        origin_allowed(None, allowed),
        "no Origin is a non-browser client"
    );
    let Some(origin) = origin else { return };
    if origin_allowed(Some(origin), allowed) {
        assert!(!origin.is_empty());
        assert!(allowed.split(',').any(|a| a.trim() == origin));
    }
    if !origin.is_empty() && origin == origin.trim() && !origin.contains(',') {
        assert!(origin_allowed(Some(origin), &format!("{allowed},{origin}")));
    }
}
