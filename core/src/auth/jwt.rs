//! Access tokens: JWT signed with HMAC-SHA256 (RFC 7519, RFC 7515).
//!
//! Only `HS256` is accepted, every claim is required, `iss` and `aud` must
//! match, and the clock may be off by at most [`LEEWAY_SECS`]. Two keys are
//! kept so the secret can be rotated: tokens are signed with the current one
//! and name it in the `kid` header; the previous one still verifies.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// The issuer every token names.
pub const ISSUER: &str = "edgechat";
/// The audience every token names.
pub const AUDIENCE: &str = "edgechat-api";
/// How long an access token lives.
pub const ACCESS_TTL_SECS: i64 = 15 * 60;
/// Clock skew tolerated when checking `exp`, `nbf` and `iat`.
pub const LEEWAY_SECS: i64 = 30;
/// The shortest secret accepted.
pub const MIN_SECRET_BYTES: usize = 32;

/// An HMAC key with its key id.
#[derive(Clone)]
pub struct SigningKey {
    secret: Vec<u8>,
    kid: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A key from a secret of at least [`MIN_SECRET_BYTES`] bytes.
    pub fn new(secret: &[u8]) -> Result<Self, TokenError> {
        if secret.len() < MIN_SECRET_BYTES {
            return Err(TokenError::WeakSecret);
        }
        Ok(Self {
            secret: secret.to_vec(),
            kid: kid_of(secret),
        })
    }

    /// The key id: the first 16 hex digits of SHA-256 of the secret, which
    /// tells keys apart without revealing anything usable about them.
    #[must_use]
    pub fn kid(&self) -> &str {
        &self.kid
    }

    fn mac(&self) -> HmacSha256 {
        // HMAC takes keys of any length.
        HmacSha256::new_from_slice(&self.secret).expect("HMAC accepts any key length")
    }
}

fn kid_of(secret: &[u8]) -> String {
    super::hex(&Sha256::digest(secret)[..8])
}

/// The keys that verify tokens: the current one signs.
#[derive(Debug, Clone)]
pub struct Keys {
    /// Signs new tokens and verifies.
    pub current: SigningKey,
    /// Only verifies, during a rotation.
    pub previous: Option<SigningKey>,
}

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer, always [`ISSUER`].
    pub iss: String,
    /// Audience, always [`AUDIENCE`].
    pub aud: String,
    /// The user id.
    pub sub: String,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Not valid before (seconds).
    pub nbf: i64,
    /// Expires at (seconds).
    pub exp: i64,
    /// Unique token id.
    pub jti: String,
}

impl Claims {
    /// Claims for `sub` issued at `now_secs`, valid for [`ACCESS_TTL_SECS`].
    #[must_use]
    pub fn new(sub: &str, jti: &str, now_secs: i64) -> Self {
        Self {
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            sub: sub.to_owned(),
            iat: now_secs,
            nbf: now_secs,
            exp: now_secs + ACCESS_TTL_SECS,
            jti: jti.to_owned(),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Header {
    alg: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    typ: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kid: Option<String>,
}

/// Why a token was refused. Clients only ever learn "unauthorized".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// The secret is shorter than [`MIN_SECRET_BYTES`].
    WeakSecret,
    /// Not three base64url parts of JSON.
    Malformed,
    /// `alg` is not `HS256` (e.g. `none`).
    Algorithm,
    /// `kid` names no key we hold.
    UnknownKey,
    /// The signature does not match.
    Signature,
    /// A claim is missing or mistyped.
    MissingClaim,
    /// `iss` or `aud` is not ours.
    WrongParty,
    /// `exp` has passed.
    Expired,
    /// `nbf` or `iat` is in the future.
    NotYetValid,
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::WeakSecret => "JWT secret must be at least 32 bytes",
            Self::Malformed => "malformed token",
            Self::Algorithm => "token algorithm not accepted",
            Self::UnknownKey => "token signed with an unknown key",
            Self::Signature => "bad token signature",
            Self::MissingClaim => "token lacks a required claim",
            Self::WrongParty => "token issued for someone else",
            Self::Expired => "token expired",
            Self::NotYetValid => "token not yet valid",
        })
    }
}

impl std::error::Error for TokenError {}

fn b64_json<T: Serialize>(value: &T) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap_or_default())
}

/// Signs `claims` with the current key.
#[must_use]
pub fn sign(claims: &Claims, keys: &Keys) -> String {
    let header = Header {
        alg: "HS256".to_owned(),
        typ: Some("JWT".to_owned()),
        kid: Some(keys.current.kid.clone()),
    };
    let signing_input = format!("{}.{}", b64_json(&header), b64_json(claims));
    let mut mac = keys.current.mac();
    mac.update(signing_input.as_bytes());
    let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{sig}")
}

/// Verifies `token` at `now_secs` and returns its claims.
pub fn verify(token: &str, keys: &Keys, now_secs: i64) -> Result<Claims, TokenError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let decode = |part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| TokenError::Malformed)
    };
    let header: Header = serde_json::from_slice(&decode(h)?).map_err(|_| TokenError::Malformed)?;
    if header.alg != "HS256" {
        return Err(TokenError::Algorithm);
    }
    let key = match header.kid.as_deref() {
        None => &keys.current,
        Some(kid) if kid == keys.current.kid => &keys.current,
        Some(kid) => match &keys.previous {
            Some(prev) if prev.kid == kid => prev,
            _ => return Err(TokenError::UnknownKey),
        },
    };
    let mut mac = key.mac();
    mac.update(h.as_bytes());
    mac.update(b".");
    mac.update(p.as_bytes());
    // `verify_slice` compares in constant time.
    mac.verify_slice(&decode(s)?)
        .map_err(|_| TokenError::Signature)?;

    let claims: Claims =
        serde_json::from_slice(&decode(p)?).map_err(|_| TokenError::MissingClaim)?;
    if claims.sub.is_empty() || claims.jti.is_empty() {
        return Err(TokenError::MissingClaim);
    }
    if claims.iss != ISSUER || claims.aud != AUDIENCE {
        return Err(TokenError::WrongParty);
    }
    // Saturating: at the ends of i64 the comparisons stay exact instead of
    // overflowing (a panic in debug builds, a wrong answer in release).
    if now_secs > claims.exp.saturating_add(LEEWAY_SECS) {
        return Err(TokenError::Expired);
    }
    let latest = now_secs.saturating_add(LEEWAY_SECS);
    if claims.nbf > latest || claims.iat > latest {
        return Err(TokenError::NotYetValid);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn keys() -> Keys {
        Keys {
            current: SigningKey::new(&[7u8; 32]).unwrap(),
            previous: None,
        }
    }

    fn token_with(header: &serde_json::Value, claims: &serde_json::Value, key: &[u8]) -> String {
        let input = format!("{}.{}", b64_json(header), b64_json(claims));
        let mut mac = HmacSha256::new_from_slice(key).unwrap();
        mac.update(input.as_bytes());
        format!(
            "{input}.{}",
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        )
    }

    fn claims_json() -> serde_json::Value {
        serde_json::to_value(Claims::new("u1", "j1", NOW)).unwrap()
    }

    #[test]
    fn round_trip() {
        let k = keys();
        let token = sign(&Claims::new("u1", "j1", NOW), &k);
        let claims = verify(&token, &k, NOW + 60).unwrap();
        assert_eq!(claims.sub, "u1");
        assert_eq!(claims.exp - claims.iat, ACCESS_TTL_SECS);
    }

    #[test]
    fn short_secret_refused() {
        assert_eq!(
            SigningKey::new(&[1u8; 31]).unwrap_err(),
            TokenError::WeakSecret
        );
    }

    #[test]
    fn alg_none_and_other_algs_refused() {
        let k = keys();
        let none = format!(
            "{}.{}.",
            b64_json(&serde_json::json!({"alg": "none", "typ": "JWT"})),
            b64_json(&claims_json())
        );
        assert_eq!(verify(&none, &k, NOW), Err(TokenError::Algorithm));
        let hs512 = token_with(
            &serde_json::json!({"alg": "HS512"}),
            &claims_json(),
            &[7u8; 32],
        );
        assert_eq!(verify(&hs512, &k, NOW), Err(TokenError::Algorithm));
    }

    #[test]
    fn other_secret_and_tampering_refused() {
        let k = keys();
        let header = serde_json::json!({"alg": "HS256", "typ": "JWT"});
        let forged = token_with(&header, &claims_json(), &[8u8; 32]);
        assert_eq!(verify(&forged, &k, NOW), Err(TokenError::Signature));

        let good = sign(&Claims::new("u1", "j1", NOW), &k);
        let mut parts: Vec<&str> = good.split('.').collect();
        let mut evil = claims_json();
        evil["sub"] = "admin".into();
        let evil = b64_json(&evil);
        parts[1] = &evil;
        assert_eq!(
            verify(&parts.join("."), &k, NOW),
            Err(TokenError::Signature)
        );
        assert_eq!(verify("a.b", &k, NOW), Err(TokenError::Malformed));
        assert_eq!(verify("a.b.c.d", &k, NOW), Err(TokenError::Malformed));
        assert_eq!(verify("!!.??.**", &k, NOW), Err(TokenError::Malformed));
    }

    #[test]
    fn time_claims_with_leeway() {
        let k = keys();
        let token = sign(&Claims::new("u1", "j1", NOW), &k);
        let exp = NOW + ACCESS_TTL_SECS;
        assert!(verify(&token, &k, exp + LEEWAY_SECS).is_ok());
        assert_eq!(
            verify(&token, &k, exp + LEEWAY_SECS + 1),
            Err(TokenError::Expired)
        );
        assert!(verify(&token, &k, NOW - LEEWAY_SECS).is_ok());
        assert_eq!(
            verify(&token, &k, NOW - LEEWAY_SECS - 1),
            Err(TokenError::NotYetValid)
        );
    }

    #[test]
    fn times_at_the_ends_of_i64_do_not_overflow() {
        let k = keys();
        let mut claims = Claims::new("u1", "j1", NOW);
        claims.exp = i64::MAX;
        let token = sign(&claims, &k);
        assert_eq!(verify(&token, &k, NOW), Ok(claims.clone()));
        assert_eq!(verify(&token, &k, i64::MAX), Ok(claims.clone()));
        claims.iat = i64::MAX;
        let token = sign(&claims, &k);
        assert_eq!(verify(&token, &k, NOW), Err(TokenError::NotYetValid));
        assert_eq!(
            verify(&token, &k, i64::MAX - LEEWAY_SECS),
            Ok(claims.clone())
        );
        claims.exp = i64::MIN;
        let token = sign(&claims, &k);
        assert_eq!(verify(&token, &k, i64::MIN), Err(TokenError::NotYetValid));
        assert_eq!(verify(&token, &k, NOW), Err(TokenError::Expired));
    }

    #[test]
    fn every_claim_required_and_parties_checked() {
        let k = keys();
        let header = serde_json::json!({"alg": "HS256"});
        for missing in ["iss", "aud", "sub", "iat", "nbf", "exp", "jti"] {
            let mut c = claims_json();
            c.as_object_mut().unwrap().remove(missing);
            let t = token_with(&header, &c, &[7u8; 32]);
            assert_eq!(
                verify(&t, &k, NOW),
                Err(TokenError::MissingClaim),
                "{missing}"
            );
        }
        for (claim, value) in [("aud", "someone-else"), ("iss", "evil")] {
            let mut c = claims_json();
            c[claim] = value.into();
            let t = token_with(&header, &c, &[7u8; 32]);
            assert_eq!(verify(&t, &k, NOW), Err(TokenError::WrongParty));
        }
        let mut c = claims_json();
        c["exp"] = "soon".into();
        let t = token_with(&header, &c, &[7u8; 32]);
        assert_eq!(verify(&t, &k, NOW), Err(TokenError::MissingClaim));
    }

    #[test]
    fn rotation_keeps_old_tokens_valid() {
        let old = keys();
        let token = sign(&Claims::new("u1", "j1", NOW), &old);
        let rotated = Keys {
            current: SigningKey::new(&[9u8; 32]).unwrap(),
            previous: Some(old.current.clone()),
        };
        assert!(verify(&token, &rotated, NOW).is_ok());
        let new_token = sign(&Claims::new("u1", "j2", NOW), &rotated);
        assert_eq!(verify(&new_token, &old, NOW), Err(TokenError::UnknownKey));
        let dropped = Keys {
            current: rotated.current.clone(),
            previous: None,
        };
        assert_eq!(verify(&token, &dropped, NOW), Err(TokenError::UnknownKey));
    }

    #[test]
    fn debug_hides_the_secret() {
        let k = SigningKey::new(b"super-secret-value-0123456789abcdef").unwrap();
        assert!(!format!("{k:?}").contains("super-secret"));
    }
}
