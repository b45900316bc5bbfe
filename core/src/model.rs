//! The resources of the public API, shaped exactly as API.md writes them.

use serde::Serialize;

use crate::Timestamp;

/// `User` = `{id, username, display_name, created_at}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct User {
    /// Opaque id.
    pub id: String,
    /// Lowercase username.
    pub username: String,
    /// Name shown to others.
    pub display_name: String,
    /// When the account was created.
    pub created_at: Timestamp,
}

/// The largest `seq` the API accepts: a JSON number up to here is exact
/// in every client (2^53 − 1).
pub const MAX_SEQ: u64 = (1 << 53) - 1;

/// A message's `author`: a [`User`] without `created_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Author {
    /// Opaque id.
    pub id: String,
    /// Lowercase username.
    pub username: String,
    /// Name shown to others.
    pub display_name: String,
}

impl From<&User> for Author {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.clone(),
            username: u.username.clone(),
            display_name: u.display_name.clone(),
        }
    }
}

/// `Message`, as history, `message` and `edited` frames carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    /// Opaque id.
    pub id: String,
    /// The room it belongs to.
    pub room_id: String,
    /// Position in the room: 1, 2, 3, … with no gap.
    pub seq: u64,
    /// The sender's idempotency key.
    pub client_id: String,
    /// Who wrote it.
    pub author: Author,
    /// Trimmed text; `""` once deleted.
    pub body: String,
    /// When the room accepted it.
    pub created_at: Timestamp,
    /// When it was last edited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<Timestamp>,
    /// Whether it was deleted.
    pub deleted: bool,
    /// The `seq` this message answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<u64>,
}

/// Whether a room is listed for everyone or only for its members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Anyone signed in may find, read and join it.
    Public,
    /// Only members know it exists.
    Private,
}

/// A group room or a direct conversation between two users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoomKind {
    /// A named room.
    Room,
    /// A direct-message room of exactly two users.
    Dm,
}

/// A member's role in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// May post.
    Member,
    /// May also add and remove members and delete others' messages.
    Admin,
    /// Created the room; may also change roles.
    Owner,
}

impl Role {
    /// The stored and wire name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Member => "member",
            Self::Admin => "admin",
            Self::Owner => "owner",
        }
    }

    /// Parses a stored or wire name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "member" => Some(Self::Member),
            "admin" => Some(Self::Admin),
            "owner" => Some(Self::Owner),
            _ => None,
        }
    }
}

/// `Room` as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Room {
    /// Opaque id.
    pub id: String,
    /// Name (`""` for a DM).
    pub name: String,
    /// Topic, possibly empty.
    pub topic: String,
    /// Room or DM.
    pub kind: RoomKind,
    /// Public or private.
    pub visibility: Visibility,
    /// When it was created.
    pub created_at: Timestamp,
    /// How many members it has.
    pub member_count: u64,
    /// The newest `seq` in the room (0 when empty).
    pub last_seq: u64,
    /// The caller's role, when the caller is a member.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub my_role: Option<Role>,
    /// Messages after the caller's read position (in `scope=joined` lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unread: Option<u64>,
}

/// Why a user is notified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationKind {
    /// `@username` in a message.
    Mention,
    /// A message in a DM.
    Dm,
    /// A reply to the user's message.
    Reply,
}

/// `Notification` as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Notification {
    /// Opaque id.
    pub id: String,
    /// Why.
    pub kind: NotificationKind,
    /// Where.
    pub room_id: String,
    /// Which message.
    pub seq: u64,
    /// Who wrote it.
    pub from: User,
    /// The first 140 characters of the body.
    pub preview: String,
    /// When the message was sent.
    pub created_at: Timestamp,
    /// Whether the user has marked it read.
    pub read: bool,
}
