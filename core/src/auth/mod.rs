//! Accounts and tokens: password hashing, access tokens (JWT), refresh
//! tokens, login rate limits and socket handshake rules. Randomness and the
//! clock come from the caller.

pub mod handshake;
pub mod jwt;
pub mod password;
pub mod rate_limit;
pub mod refresh;

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex() {
        assert_eq!(super::hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
    }
}
