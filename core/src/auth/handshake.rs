//! Socket handshake rules: where the token comes from and which Origins may connect.

/// The subprotocol every edgechat socket speaks.
pub const SUBPROTOCOL: &str = "edgechat.v1";
const BEARER_PREFIX: &str = "bearer.";

/// Where a socket's access token was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The access token.
    pub token: String,
    /// Whether the client offered subprotocols, so the answer must select
    /// exactly [`SUBPROTOCOL`].
    pub select_subprotocol: bool,
}

/// Why a handshake was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandshakeError {
    /// No token at all (401).
    Missing,
    /// A `bearer.` protocol offered without `edgechat.v1` (400).
    ProtocolMissing,
}

/// Finds the token of an upgrade: the `Authorization: Bearer` header wins;
/// otherwise `Sec-WebSocket-Protocol: edgechat.v1, bearer.<token>`.
pub fn credentials(
    authorization: Option<&str>,
    protocols: Option<&str>,
) -> Result<Credentials, HandshakeError> {
    let offered: Vec<&str> = protocols
        .map(|p| {
            p.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let speaks_v1 = offered.contains(&SUBPROTOCOL);
    let from_protocol = offered
        .iter()
        .find_map(|p| p.strip_prefix(BEARER_PREFIX))
        .filter(|t| !t.is_empty());
    if from_protocol.is_some() && !speaks_v1 {
        return Err(HandshakeError::ProtocolMissing);
    }
    let token = bearer(authorization)
        .or(from_protocol)
        .ok_or(HandshakeError::Missing)?;
    Ok(Credentials {
        token: token.to_owned(),
        select_subprotocol: speaks_v1,
    })
}

/// The token of an `Authorization: Bearer <token>` header.
#[must_use]
pub fn bearer(authorization: Option<&str>) -> Option<&str> {
    let value = authorization?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Whether a socket may be opened from `origin`: no Origin (a non-browser
/// client) is allowed; otherwise it must equal one entry of the
/// comma-separated `allowed` list exactly.
#[must_use]
pub fn origin_allowed(origin: Option<&str>, allowed: &str) -> bool {
    match origin {
        None => true,
        Some(origin) => allowed
            .split(',')
            .map(str::trim)
            .any(|a| !a.is_empty() && a == origin),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_or_subprotocol() {
        assert_eq!(
            credentials(Some("Bearer abc"), None),
            Ok(Credentials {
                token: "abc".into(),
                select_subprotocol: false
            })
        );
        assert_eq!(
            credentials(None, Some("edgechat.v1, bearer.xyz")),
            Ok(Credentials {
                token: "xyz".into(),
                select_subprotocol: true
            })
        );
        // The header wins over the subprotocol.
        assert_eq!(
            credentials(Some("bearer hdr"), Some("edgechat.v1, bearer.proto"))
                .unwrap()
                .token,
            "hdr"
        );
    }

    #[test]
    fn refusals() {
        assert_eq!(credentials(None, None), Err(HandshakeError::Missing));
        assert_eq!(
            credentials(None, Some("edgechat.v1")),
            Err(HandshakeError::Missing)
        );
        assert_eq!(
            credentials(Some("Basic abc"), None),
            Err(HandshakeError::Missing)
        );
        assert_eq!(
            credentials(Some("Bearer "), None),
            Err(HandshakeError::Missing)
        );
        assert_eq!(
            credentials(None, Some("bearer.xyz")),
            Err(HandshakeError::ProtocolMissing)
        );
        assert_eq!(
            credentials(None, Some("chat, bearer.xyz")),
            Err(HandshakeError::ProtocolMissing)
        );
    }

    #[test]
    fn origins_match_exactly() {
        let allowed = "http://127.0.0.1:8787, https://chat.example";
        assert!(origin_allowed(None, allowed));
        assert!(origin_allowed(Some("http://127.0.0.1:8787"), allowed));
        assert!(origin_allowed(Some("https://chat.example"), allowed));
        assert!(!origin_allowed(Some("https://chat.example.evil"), allowed));
        assert!(!origin_allowed(Some("https://evil.chat.example"), allowed));
        assert!(!origin_allowed(Some("http://127.0.0.1"), allowed));
        assert!(!origin_allowed(Some("null"), allowed));
        assert!(!origin_allowed(Some(""), ""));
        assert!(!origin_allowed(Some("https://x"), "*"));
    }
}
