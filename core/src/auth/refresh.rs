//! Refresh tokens: 256 random bits, opaque to clients, stored only as a hash.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest, Sha256};

/// How long a refresh token lives (30 days).
pub const REFRESH_TTL_MS: i64 = 30 * 24 * 3600 * 1000;
/// Random bytes in a token.
pub const TOKEN_BYTES: usize = 32;

/// The token handed to the client: base64url of 32 random bytes.
#[must_use]
pub fn encode(random: &[u8; TOKEN_BYTES]) -> String {
    URL_SAFE_NO_PAD.encode(random)
}

/// What the database keeps: hex SHA-256 of the token as presented. A leak
/// of the table gives no usable token; the token's entropy makes a plain
/// hash enough (no salt or stretching needed).
#[must_use]
pub fn storage_hash(token: &str) -> String {
    super::hex(&Sha256::digest(token.as_bytes()))
}

/// Whether `token` could be one of ours; anything else is refused before
/// touching the database.
#[must_use]
pub fn well_formed(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_and_hash() {
        let token = encode(&[0xAB; TOKEN_BYTES]);
        assert_eq!(token.len(), 43);
        assert!(well_formed(&token));
        let h = storage_hash(&token);
        assert_eq!(h.len(), 64);
        assert_ne!(h, storage_hash(&encode(&[0xAC; TOKEN_BYTES])));
        assert!(!h.contains(&token));
    }

    #[test]
    fn malformed_tokens() {
        assert!(!well_formed(""));
        assert!(!well_formed(&"a".repeat(42)));
        assert!(!well_formed(&"a".repeat(44)));
        assert!(!well_formed(&format!("{}=", "a".repeat(42))));
        assert!(!well_formed(&"é".repeat(21)));
    }
}
