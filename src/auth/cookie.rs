//! The browser session cookie: the refresh token kept where page scripts
//! cannot read it. Pure string work, so it is unit-tested on the host.

use edgechat_core::auth::refresh::REFRESH_TTL_MS;

/// The cookie's name. The `__Secure-` prefix makes browsers refuse it unless
/// it is set with `Secure` from a secure origin.
pub const NAME: &str = "__Secure-edgechat_refresh";

/// Only the auth endpoints ever receive it.
pub const PATH: &str = "/api/v1/auth";

/// `Set-Cookie` value carrying `token` for the refresh token's lifetime.
#[must_use]
pub fn set(token: &str) -> String {
    let max_age = REFRESH_TTL_MS / 1000;
    format!("{NAME}={token}; Path={PATH}; Max-Age={max_age}; HttpOnly; Secure; SameSite=Strict")
}

/// `Set-Cookie` value that removes the cookie.
#[must_use]
pub fn clear() -> String {
    format!("{NAME}=; Path={PATH}; Max-Age=0; HttpOnly; Secure; SameSite=Strict")
}

/// The refresh token in a `Cookie` request header, if there is one.
#[must_use]
pub fn read(header: Option<&str>) -> Option<&str> {
    header?
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == NAME)
        .map(|(_, value)| value.trim())
        .filter(|value| !value.is_empty())
}

/// Whether a `Content-Type` header names JSON. Browsers cannot send that
/// cross-site without a CORS preflight, which this API never grants, so a
/// hostile page's form cannot drive the cookie endpoints.
#[must_use]
pub fn is_json(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"))
}

#[cfg(test)]
mod tests {
    use super::{clear, is_json, read, set, NAME};

    #[test]
    fn set_carries_every_attribute() {
        let v = set("tok");
        assert!(v.starts_with(&format!("{NAME}=tok; ")));
        for attr in [
            "Path=/api/v1/auth",
            "Max-Age=2592000",
            "HttpOnly",
            "Secure",
            "SameSite=Strict",
        ] {
            assert!(v.split("; ").any(|a| a == attr), "{attr} in {v}");
        }
    }

    #[test]
    fn clear_expires_at_once() {
        let v = clear();
        assert!(v.starts_with(&format!("{NAME}=; ")));
        assert!(v.contains("Max-Age=0") && v.contains("Path=/api/v1/auth"));
    }

    #[test]
    fn read_finds_the_cookie_among_others() {
        let header = format!("a=1; {NAME}=abc_DEF-9; b=2");
        assert_eq!(read(Some(&header)), Some("abc_DEF-9"));
        assert_eq!(read(Some(&format!("{NAME}=x"))), Some("x"));
        assert_eq!(read(Some(&format!("{NAME}="))), None);
        assert_eq!(read(Some("edgechat_refresh=x; other=y")), None);
        assert_eq!(read(Some("garbage")), None);
        assert_eq!(read(None), None);
    }

    #[test]
    fn only_json_content_types_pass() {
        assert!(is_json(Some("application/json")));
        assert!(is_json(Some("Application/JSON; charset=utf-8")));
        assert!(!is_json(Some("text/plain")));
        assert!(!is_json(Some("application/x-www-form-urlencoded")));
        assert!(!is_json(Some("multipart/form-data; boundary=x")));
        assert!(!is_json(Some("application/jsonx")));
        assert!(!is_json(None));
    }
}
