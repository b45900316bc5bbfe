//! Who is in a room, and the coalesced `presence` frames that say so.
//!
//! What a client is told stays bounded however large the room grows:
//! `welcome.online` names at most [`ONLINE_LIST_MAX`] users, and once more
//! than that many are online, `presence` frames go out at most once per
//! [`LARGE_ROOM_INTERVAL_MS`] and carry only the count. Without these bounds
//! seating N users would cost N² bytes.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::frames::ServerFrame;
use crate::identity::Identity;
use crate::model::User;

/// Most users named in `welcome.online`, and in each list of a `presence`
/// frame; also the size above which a room is large.
pub const ONLINE_LIST_MAX: usize = 100;
/// How long presence changes are collected before one frame announces them.
pub const PRESENCE_INTERVAL_MS: i64 = 250;
/// The same, once a room has more than [`ONLINE_LIST_MAX`] users online
/// (the contract allows up to 1 s).
pub const LARGE_ROOM_INTERVAL_MS: i64 = 1000;
// The contract allows at most 1 s between a change and its frame.
const _: () = assert!(LARGE_ROOM_INTERVAL_MS <= 1000);

/// Whether a room with `online_count` users online is large: its presence
/// frames carry the count and no names.
#[must_use]
pub fn is_large(online_count: usize) -> bool {
    online_count > ONLINE_LIST_MAX
}

/// How long a room with `online_count` users online collects presence
/// changes before announcing them.
#[must_use]
pub fn interval_ms(online_count: usize) -> i64 {
    if is_large(online_count) {
        LARGE_ROOM_INTERVAL_MS
    } else {
        PRESENCE_INTERVAL_MS
    }
}

/// Who is online in a room and how many sockets each holds, kept in memory
/// so a join costs O(log n) instead of a scan of every socket. Rebuilt from
/// the sockets' attachments after the room wakes from hibernation.
#[derive(Debug, Default)]
pub struct Online {
    users: HashMap<String, (User, u32)>,
    /// `(username, id)` of every online user, in username order.
    by_name: BTreeSet<(String, String)>,
}

impl Online {
    /// The index of the given sockets' users.
    pub fn from_sockets<'a>(sockets: impl IntoIterator<Item = &'a Identity>) -> Self {
        let mut online = Self::default();
        for who in sockets {
            online.connect(who);
        }
        online
    }

    /// A socket of `who` opened; `true` if it is their first.
    pub fn connect(&mut self, who: &Identity) -> bool {
        let entry = self
            .users
            .entry(who.id.clone())
            .or_insert_with(|| (who.to_user(), 0));
        entry.1 += 1;
        let first = entry.1 == 1;
        if first {
            self.by_name.insert((who.username.clone(), who.id.clone()));
        }
        first
    }

    /// A socket of `user_id` closed; their `User` if it was their last.
    pub fn disconnect(&mut self, user_id: &str) -> Option<User> {
        let (_, count) = self.users.get_mut(user_id)?;
        *count = count.saturating_sub(1);
        if *count == 0 {
            return self.remove(user_id);
        }
        None
    }

    /// Every socket of `user_id` is gone at once (they were removed).
    pub fn remove(&mut self, user_id: &str) -> Option<User> {
        let (user, _) = self.users.remove(user_id)?;
        self.by_name
            .remove(&(user.username.clone(), user.id.clone()));
        Some(user)
    }

    /// Whether `user_id` has a socket open.
    #[must_use]
    pub fn contains(&self, user_id: &str) -> bool {
        self.users.contains_key(user_id)
    }

    /// How many distinct users are online.
    #[must_use]
    pub fn count(&self) -> usize {
        self.users.len()
    }

    /// The first `n` online users in username order; costs O(n), not O(room).
    #[must_use]
    pub fn first(&self, n: usize) -> Vec<User> {
        self.by_name
            .iter()
            .take(n)
            .filter_map(|(_, id)| self.users.get(id).map(|(u, _)| u.clone()))
            .collect()
    }

    /// The `welcome` frame's `online` list: the first [`ONLINE_LIST_MAX`].
    #[must_use]
    pub fn welcome_list(&self) -> Vec<User> {
        self.first(ONLINE_LIST_MAX)
    }
}

/// Joins and leaves since the last `presence` frame. A room collects them
/// for a short interval and sends one frame, so seating N users costs N
/// frames per interval instead of N² sends.
#[derive(Debug, Default)]
pub struct PresenceBuffer {
    changes: BTreeMap<String, (User, bool)>,
}

impl PresenceBuffer {
    /// `user` came online (their first socket opened).
    pub fn joined(&mut self, user: User) {
        self.record(user, true);
    }

    /// `user` went offline (their last socket closed).
    pub fn left(&mut self, user: User) {
        self.record(user, false);
    }

    fn record(&mut self, user: User, online: bool) {
        // A join and a leave within one interval cancel out.
        match self.changes.get(&user.id) {
            Some((_, was)) if *was != online => {
                self.changes.remove(&user.id);
            }
            _ => {
                self.changes.insert(user.id.clone(), (user, online));
            }
        }
    }

    /// Whether there is anything to announce.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The frame announcing everything collected, emptying the buffer, for
    /// a room with `online_count` users online now. A large room's frame
    /// names no one; otherwise each list holds at most [`ONLINE_LIST_MAX`]
    /// users. Either way `truncated` says whether anyone was left out.
    pub fn take_frame(&mut self, online_count: usize) -> Option<ServerFrame> {
        if self.changes.is_empty() {
            return None;
        }
        let max = if is_large(online_count) {
            0
        } else {
            ONLINE_LIST_MAX
        };
        let (mut joined, mut left) = (Vec::new(), Vec::new());
        let mut truncated = false;
        for (user, online) in std::mem::take(&mut self.changes).into_values() {
            let list = if online { &mut joined } else { &mut left };
            if list.len() < max {
                list.push(user);
            } else {
                truncated = true;
            }
        }
        Some(ServerFrame::Presence {
            joined,
            left,
            online_count,
            truncated,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(name: &str) -> Identity {
        Identity {
            id: format!("id-{name}"),
            username: name.into(),
            display_name: name.into(),
            created_at_ms: 0,
        }
    }

    #[test]
    fn online_counts_sockets_per_user() {
        let (ann, bob) = (who("ann"), who("bob"));
        let mut online = Online::from_sockets([&bob, &bob]);
        assert!(online.connect(&ann), "first socket");
        assert!(!online.connect(&ann), "second socket");
        assert_eq!(online.disconnect(&ann.id), None, "one left");
        assert_eq!(
            online.disconnect(&ann.id).map(|u| u.username),
            Some("ann".into())
        );
        assert_eq!(online.disconnect(&ann.id), None, "already gone");
        assert!(online.connect(&ann));
        assert_eq!(
            online.remove(&ann.id).map(|u| u.username),
            Some("ann".into())
        );
        let names: Vec<_> = online.first(10).into_iter().map(|u| u.username).collect();
        assert_eq!(names, ["bob"], "users, not sockets");
        assert_eq!(online.count(), 1);
        assert!(online.contains(&bob.id) && !online.contains(&ann.id));
    }

    #[test]
    fn coalesces_into_one_frame() {
        let mut p = PresenceBuffer::default();
        assert!(p.take_frame(0).is_none());
        for n in ["a", "b", "c"] {
            p.joined(who(n).to_user());
        }
        p.left(who("z").to_user());
        let Some(ServerFrame::Presence {
            joined,
            left,
            online_count,
            truncated,
        }) = p.take_frame(3)
        else {
            panic!()
        };
        assert_eq!((joined.len(), online_count, truncated), (3, 3, false));
        assert_eq!(left[0].username, "z");
        assert!(p.is_empty());
    }

    #[test]
    fn join_then_leave_cancels() {
        let mut p = PresenceBuffer::default();
        p.joined(who("a").to_user());
        p.left(who("a").to_user());
        assert!(p.take_frame(0).is_none());
    }

    fn many(n: usize) -> Vec<Identity> {
        // Zero-padded so that username order is number order.
        (0..n).map(|i| who(&format!("u{i:05}"))).collect()
    }

    #[test]
    fn welcome_list_is_capped_and_ordered() {
        let users = many(ONLINE_LIST_MAX * 3);
        // Connected in reverse: the list is still in username order.
        let mut online = Online::from_sockets(users.iter().rev());
        assert_eq!(online.count(), ONLINE_LIST_MAX * 3);
        let list = online.welcome_list();
        assert_eq!(list.len(), ONLINE_LIST_MAX);
        assert_eq!(list[0].username, "u00000");
        assert_eq!(
            list[ONLINE_LIST_MAX - 1].username,
            users[ONLINE_LIST_MAX - 1].username
        );
        online.disconnect(&users[0].id);
        assert_eq!(online.welcome_list()[0].username, "u00001");
        assert_eq!(online.count(), ONLINE_LIST_MAX * 3 - 1);
    }

    #[test]
    fn small_rooms_get_names_large_rooms_a_count() {
        let users = many(ONLINE_LIST_MAX + 1);
        let mut p = PresenceBuffer::default();
        for u in &users {
            p.joined(u.to_user());
        }
        // A small room after the changes (most of them left again since):
        // every list capped, the cut said.
        let Some(ServerFrame::Presence {
            joined, truncated, ..
        }) = p.take_frame(ONLINE_LIST_MAX)
        else {
            panic!()
        };
        assert_eq!((joined.len(), truncated), (ONLINE_LIST_MAX, true));

        for u in &users[..3] {
            p.joined(u.to_user());
        }
        let frame = p.take_frame(ONLINE_LIST_MAX + 1).unwrap();
        assert_eq!(
            frame.to_json(),
            format!(
                r#"{{"type":"presence","joined":[],"left":[],"online_count":{},"truncated":true}}"#,
                ONLINE_LIST_MAX + 1
            )
        );
        assert_eq!(interval_ms(ONLINE_LIST_MAX), PRESENCE_INTERVAL_MS);
        assert_eq!(interval_ms(ONLINE_LIST_MAX + 1), LARGE_ROOM_INTERVAL_MS);
    }

    #[test]
    fn a_small_room_frame_has_no_truncated_field() {
        let mut p = PresenceBuffer::default();
        p.joined(who("a").to_user());
        let json = p.take_frame(1).unwrap().to_json();
        assert!(json.ends_with(r#""online_count":1}"#), "{json}");
    }
}
