//! Opaque pagination cursors for lists ordered newest first.
//!
//! A cursor names the last item of a page by its sort key (creation time
//! and id), so the next page is a keyset range scan, never an OFFSET.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// The position after which the next page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// Sort time of the last item returned (ms since the epoch).
    pub at: i64,
    /// Id of the last item returned (ties on `at` are ordered by id).
    pub id: String,
}

impl Cursor {
    /// The opaque string handed to clients.
    #[must_use]
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}|{}", self.at, self.id))
    }

    /// Reads a cursor a client sent back; `None` if it is not one of ours.
    #[must_use]
    pub fn decode(s: &str) -> Option<Self> {
        if s.len() > 256 {
            return None;
        }
        let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(s).ok()?).ok()?;
        let (at, id) = raw.split_once('|')?;
        Some(Self {
            at: at.parse().ok()?,
            id: id.to_owned(),
        })
    }
}

/// A page size from a query string: default `default`, allowed `1..=max`.
pub fn limit(raw: Option<&str>, default: u32, max: u32) -> Result<u32, String> {
    match raw {
        None => Ok(default),
        Some(v) => match v.parse::<u32>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(format!("limit must be a whole number from 1 to {max}")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let c = Cursor {
            at: 1_796_404_823_042,
            id: "0b6c-…|x".into(),
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
    }

    #[test]
    fn foreign_cursors_are_refused() {
        assert_eq!(Cursor::decode("!!!"), None);
        assert_eq!(
            Cursor::decode(&URL_SAFE_NO_PAD.encode("no-separator")),
            None
        );
        assert_eq!(Cursor::decode(&URL_SAFE_NO_PAD.encode("abc|id")), None);
        assert_eq!(Cursor::decode(&"A".repeat(300)), None);
    }

    #[test]
    fn limits() {
        assert_eq!(limit(None, 50, 100), Ok(50));
        assert_eq!(limit(Some("1"), 50, 100), Ok(1));
        assert_eq!(limit(Some("100"), 50, 100), Ok(100));
        assert!(limit(Some("0"), 50, 100).is_err());
        assert!(limit(Some("101"), 50, 100).is_err());
        assert!(limit(Some("-1"), 50, 100).is_err());
        assert!(limit(Some("ten"), 50, 100).is_err());
    }
}
