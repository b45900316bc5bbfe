//! Minting access tokens in tests: good ones, and every kind of bad one.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use edgechat_core::auth::jwt::{sign, Claims, Keys, SigningKey};

use crate::server::JWT_SECRET;

fn keys(secret: &str) -> Keys {
    Keys {
        current: SigningKey::new(secret.as_bytes()).expect("long enough"),
        previous: None,
    }
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64
}

/// A token for `user_id` that the server must accept.
pub fn valid(user_id: &str) -> String {
    sign(
        &Claims::new(user_id, "jti-ok", now_secs()),
        &keys(JWT_SECRET),
    )
}

/// Tokens for `user_id` that the server must refuse, with what is wrong.
pub fn attacks(user_id: &str) -> Vec<(&'static str, String)> {
    let now = now_secs();
    let good = valid(user_id);
    let b64 = |v: &serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let claims = serde_json::to_value(Claims::new(user_id, "jti-x", now)).unwrap();
    let alg_none = format!(
        "{}.{}.",
        b64(&serde_json::json!({"alg": "none", "typ": "JWT"})),
        b64(&claims)
    );
    let other_secret = sign(
        &Claims::new(user_id, "jti-x", now),
        &keys("another-secret-that-is-long-enough-000"),
    );
    let tampered = {
        let parts: Vec<&str> = good.split('.').collect();
        let mut evil = claims.clone();
        evil["sub"] = "00000000-0000-4000-8000-000000000000".into();
        format!("{}.{}.{}", parts[0], b64(&evil), parts[2])
    };
    let expired = sign(
        &Claims::new(user_id, "jti-x", now - 3600),
        &keys(JWT_SECRET),
    );
    let wrong_aud = {
        let mut c = Claims::new(user_id, "jti-x", now);
        c.aud = "some-other-api".into();
        sign(&c, &keys(JWT_SECRET))
    };
    let wrong_iss = {
        let mut c = Claims::new(user_id, "jti-x", now);
        c.iss = "evil".into();
        sign(&c, &keys(JWT_SECRET))
    };
    vec![
        ("alg none", alg_none),
        ("another secret", other_secret),
        ("tampered payload", tampered),
        ("expired", expired),
        ("wrong aud", wrong_aud),
        ("wrong iss", wrong_iss),
        ("garbage", "not.a.token".into()),
    ]
}
