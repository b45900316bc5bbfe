//! Validated newtypes: parse, don't validate (API.md, "Precise rules").
//!
//! Every length is counted in Unicode scalar values (`char`s), never bytes.

use std::fmt;

use serde::Serialize;

/// Why a value was refused; the text is safe to show to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Invalid {}

fn invalid(msg: impl Into<String>) -> Invalid {
    Invalid(msg.into())
}

fn char_len_within(s: &str, min: usize, max: usize) -> bool {
    // Counting stops one past the maximum, so a huge string costs no more than that.
    let n = s.chars().take(max + 1).count();
    (min..=max).contains(&n)
}

/// General categories Cc (controls) and Cf (format characters such as
/// zero-width joiners and bidi overrides), which spoof names when shown.
fn is_control_or_format(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00AD}' | '\u{0600}'..='\u{0605}' | '\u{061C}' | '\u{06DD}' | '\u{070F}'
            | '\u{0890}'..='\u{0891}' | '\u{08E2}' | '\u{180E}' | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}' | '\u{110BD}' | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}' | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}' | '\u{E0020}'..='\u{E007F}')
}

/// A username: 3–32 of `[a-z0-9_.-]`, accepted in any case and kept lowercase.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    /// Lowercases and checks the username rules.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        if !char_len_within(raw, 3, 32) {
            return Err(invalid("username must be 3 to 32 characters"));
        }
        if !raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        {
            return Err(invalid(
                "username may only contain letters, digits, '_', '.' and '-'",
            ));
        }
        Ok(Self(raw.to_ascii_lowercase()))
    }

    /// The lowercase username.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A display name: 1–64 characters, none of category Cc or Cf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct DisplayName(String);

impl DisplayName {
    /// Checks the display-name rules; the text is kept as given.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        if !char_len_within(raw, 1, 64) {
            return Err(invalid("display_name must be 1 to 64 characters"));
        }
        if raw.chars().any(is_control_or_format) {
            return Err(invalid(
                "display_name must not contain control or format characters",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The display name as given.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A room name: 1–64 characters, none of category Cc or Cf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct RoomName(String);

impl RoomName {
    /// Checks the room-name rules.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        if !char_len_within(raw, 1, 64) {
            return Err(invalid("name must be 1 to 64 characters"));
        }
        if raw.chars().any(is_control_or_format) {
            return Err(invalid(
                "name must not contain control or format characters",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A room topic: 0–256 characters, none of category Cc or Cf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Topic(String);

impl Topic {
    /// Checks the topic rules.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        if !char_len_within(raw, 0, 256) {
            return Err(invalid("topic must be at most 256 characters"));
        }
        if raw.chars().any(is_control_or_format) {
            return Err(invalid(
                "topic must not contain control or format characters",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The topic.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The most Unicode scalar values a message body may hold after trimming.
pub const MAX_BODY_CHARS: usize = 4000;

/// A message body: trimmed of Unicode `White_Space`, then 1–4000 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct MessageBody(String);

impl MessageBody {
    /// Trims and checks the body rules.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        // `str::trim` strips exactly the characters with the White_Space property.
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(invalid("body must not be empty"));
        }
        if !char_len_within(trimmed, 1, MAX_BODY_CHARS) {
            return Err(invalid(format!(
                "body must be at most {MAX_BODY_CHARS} characters"
            )));
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The trimmed body.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Gives up the trimmed body.
    #[must_use]
    pub fn into_string(self) -> String {
        self.0
    }
}

/// The client's idempotency key for a send: 1–64 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct ClientMsgId(String);

impl ClientMsgId {
    /// Checks the `client_id` rules.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        if !char_len_within(raw, 1, 64) {
            return Err(invalid("client_id must be 1 to 64 characters"));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The key as the client sent it.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A room identifier as it appears in paths: 1–64 of `[A-Za-z0-9_-]`.
///
/// Ids are opaque to clients; this only keeps paths and Durable Object names
/// to a harmless alphabet.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct RoomId(String);

impl RoomId {
    /// Checks the room-id alphabet and length.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        if !char_len_within(raw, 1, 64)
            || !raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
        {
            return Err(invalid("not a room id"));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The id.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn username_rules() {
        assert_eq!(
            Username::parse("Alice_1.x-y").unwrap().as_str(),
            "alice_1.x-y"
        );
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse(&"a".repeat(32)).is_ok());
        assert!(Username::parse(&"a".repeat(33)).is_err());
        assert!(Username::parse("al ice").is_err());
        assert!(Username::parse("alïce").is_err());
        assert!(Username::parse("al@ce").is_err());
        assert!(Username::parse("").is_err());
    }

    #[test]
    fn display_name_rules() {
        assert_eq!(DisplayName::parse("Zoë 🚀").unwrap().as_str(), "Zoë 🚀");
        assert!(DisplayName::parse("").is_err());
        assert!(DisplayName::parse(&"é".repeat(64)).is_ok());
        assert!(DisplayName::parse(&"é".repeat(65)).is_err());
        assert!(DisplayName::parse("a\u{0007}b").is_err()); // Cc
        assert!(DisplayName::parse("a\nb").is_err()); // Cc
        assert!(DisplayName::parse("a\u{202E}b").is_err()); // Cf: right-to-left override
        assert!(DisplayName::parse("a\u{200B}b").is_err()); // Cf: zero-width space
    }

    #[test]
    fn room_name_and_topic_rules() {
        assert!(RoomName::parse("General 💬").is_ok());
        assert!(RoomName::parse("").is_err());
        assert!(
            RoomName::parse(" ").is_ok(),
            "the contract counts characters only"
        );
        assert!(RoomName::parse(&"n".repeat(64)).is_ok());
        assert!(RoomName::parse(&"n".repeat(65)).is_err());
        assert!(RoomName::parse("tab\there").is_err());
        assert!(RoomName::parse("zw\u{200D}j").is_err());
        assert!(Topic::parse("").is_ok());
        assert!(Topic::parse(&"t".repeat(256)).is_ok());
        assert!(Topic::parse(&"t".repeat(257)).is_err());
        assert!(Topic::parse("bidi\u{2066}").is_err());
    }

    #[test]
    fn body_is_trimmed_then_counted() {
        assert_eq!(MessageBody::parse("  hi\u{3000}\n").unwrap().as_str(), "hi");
        assert!(MessageBody::parse(" \t\u{00A0}\u{2028} ").is_err());
        let max = "ß".repeat(MAX_BODY_CHARS);
        assert!(MessageBody::parse(&format!("  {max}  ")).is_ok());
        assert!(MessageBody::parse(&"ß".repeat(MAX_BODY_CHARS + 1)).is_err());
        // Scalar values, not bytes nor UTF-16 units: 4000 emoji are fine.
        assert!(MessageBody::parse(&"😀".repeat(MAX_BODY_CHARS)).is_ok());
    }

    #[test]
    fn client_id_rules() {
        assert!(ClientMsgId::parse("").is_err());
        assert!(ClientMsgId::parse("x").is_ok());
        assert!(ClientMsgId::parse(&"é".repeat(64)).is_ok());
        assert!(ClientMsgId::parse(&"é".repeat(65)).is_err());
    }

    #[test]
    fn room_id_rules() {
        assert!(RoomId::parse("general-1_A").is_ok());
        assert!(RoomId::parse("").is_err());
        assert!(RoomId::parse("a/b").is_err());
        assert!(RoomId::parse("a b").is_err());
        assert!(RoomId::parse(&"r".repeat(65)).is_err());
    }
}
