//! Who is in a room, and the coalesced `presence` frames that say so.

use std::collections::BTreeMap;

use crate::frames::ServerFrame;
use crate::identity::Identity;
use crate::model::User;

/// Who is online in a room and how many sockets each holds, kept in memory
/// so a join costs O(1) instead of a scan of every socket. Rebuilt from the
/// sockets' attachments after the room wakes from hibernation.
#[derive(Debug, Default)]
pub struct Online {
    users: std::collections::HashMap<String, (User, u32)>,
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
        entry.1 == 1
    }

    /// A socket of `user_id` closed; their `User` if it was their last.
    pub fn disconnect(&mut self, user_id: &str) -> Option<User> {
        let (_, count) = self.users.get_mut(user_id)?;
        *count = count.saturating_sub(1);
        if *count == 0 {
            return self.users.remove(user_id).map(|(u, _)| u);
        }
        None
    }

    /// Every socket of `user_id` is gone at once (they were removed).
    pub fn remove(&mut self, user_id: &str) -> Option<User> {
        self.users.remove(user_id).map(|(u, _)| u)
    }

    /// The online users, in username order.
    #[must_use]
    pub fn users(&self) -> Vec<User> {
        let mut users: Vec<User> = self.users.values().map(|(u, _)| u.clone()).collect();
        users.sort_by(|a, b| a.username.cmp(&b.username));
        users
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

    /// The frame announcing everything collected, emptying the buffer.
    pub fn take_frame(&mut self) -> Option<ServerFrame> {
        if self.changes.is_empty() {
            return None;
        }
        let (mut joined, mut left) = (Vec::new(), Vec::new());
        for (user, online) in std::mem::take(&mut self.changes).into_values() {
            if online {
                joined.push(user);
            } else {
                left.push(user);
            }
        }
        Some(ServerFrame::Presence { joined, left })
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
        let names: Vec<_> = online.users().into_iter().map(|u| u.username).collect();
        assert_eq!(names, ["bob"], "users, not sockets");
    }

    #[test]
    fn coalesces_into_one_frame() {
        let mut p = PresenceBuffer::default();
        assert!(p.take_frame().is_none());
        for n in ["a", "b", "c"] {
            p.joined(who(n).to_user());
        }
        p.left(who("z").to_user());
        let Some(ServerFrame::Presence { joined, left }) = p.take_frame() else {
            panic!()
        };
        assert_eq!(joined.len(), 3);
        assert_eq!(left[0].username, "z");
        assert!(p.is_empty());
    }

    #[test]
    fn join_then_leave_cancels() {
        let mut p = PresenceBuffer::default();
        p.joined(who("a").to_user());
        p.left(who("a").to_user());
        assert!(p.take_frame().is_none());
    }
}
