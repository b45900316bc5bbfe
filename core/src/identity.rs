//! The verified identity the Worker hands to a Durable Object.
//!
//! Only the Worker may speak for a user: it authenticates the request, then
//! builds a fresh internal request to the Durable Object carrying the
//! identity in [`IDENTITY_HEADER`]. Client requests are never forwarded as
//! they are, so a client cannot set this header itself.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::model::User;
use crate::Timestamp;

/// The internal header carrying a JSON [`Identity`] from Worker to Durable Object.
pub const IDENTITY_HEADER: &str = "x-edgechat-identity";

/// The internal header naming the room a Durable Object serves.
pub const ROOM_HEADER: &str = "x-edgechat-room";

/// The internal header carrying the caller's role in the room.
pub const ROLE_HEADER: &str = "x-edgechat-role";

/// The internal header carrying the room's details (a JSON `Room`) as the
/// Worker loaded them for a socket's welcome.
pub const ROOM_INFO_HEADER: &str = "x-edgechat-room-info";

/// Who a socket or request belongs to, as verified by the Worker. Also kept as
/// the attachment of each hibernatable socket, so it survives eviction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The user's id.
    pub id: String,
    /// The lowercase username.
    pub username: String,
    /// The display name.
    pub display_name: String,
    /// When the account was created, in ms since the epoch.
    pub created_at_ms: i64,
}

impl Identity {
    /// The public `User` for this identity.
    #[must_use]
    pub fn to_user(&self) -> User {
        User {
            id: self.id.clone(),
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            created_at: Timestamp(self.created_at_ms),
        }
    }

    /// Encodes the identity for [`IDENTITY_HEADER`].
    #[must_use]
    pub fn to_header(&self) -> String {
        encode_header(self)
    }

    /// Decodes [`IDENTITY_HEADER`]; `None` if it is absent or malformed.
    #[must_use]
    pub fn from_header(value: Option<&str>) -> Option<Self> {
        decode_header(value)
    }
}

/// Encodes a value for an internal header: base64url of its JSON, so names
/// in any script travel as plain ASCII, as HTTP headers should.
#[must_use]
pub fn encode_header<T: Serialize>(value: &T) -> String {
    // Serializing these plain structs cannot fail.
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap_or_default())
}

/// Decodes [`encode_header`]'s form; `None` if absent or malformed.
#[must_use]
pub fn decode_header<T: DeserializeOwned>(value: Option<&str>) -> Option<T> {
    let bytes = URL_SAFE_NO_PAD.decode(value?).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::Identity;

    #[test]
    fn header_round_trip() {
        let id = Identity {
            id: "u1".into(),
            username: "ann".into(),
            display_name: "Ann \"A\" ✓".into(),
            created_at_ms: 5,
        };
        assert_eq!(
            Identity::from_header(Some(&id.to_header())),
            Some(id.clone())
        );
        assert_eq!(Identity::from_header(None), None);
        assert_eq!(Identity::from_header(Some("{")), None);
        assert!(
            id.to_header().is_ascii(),
            "headers stay ASCII whatever the names"
        );
    }
}
