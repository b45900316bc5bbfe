//! Who is in a room, and the coalesced `presence` frames that say so.

use std::collections::BTreeMap;

use crate::frames::ServerFrame;
use crate::identity::Identity;
use crate::model::User;

/// The users behind a room's sockets: one entry per user however many
/// sockets they hold, in username order.
pub fn online_users<'a>(sockets: impl IntoIterator<Item = &'a Identity>) -> Vec<User> {
    let by_name: BTreeMap<&str, &Identity> = sockets
        .into_iter()
        .map(|i| (i.username.as_str(), i))
        .collect();
    by_name.values().map(|i| i.to_user()).collect()
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
    fn online_lists_users_not_sockets() {
        let (ann, bob) = (who("ann"), who("bob"));
        let users = online_users([&bob, &ann, &bob]);
        let names: Vec<_> = users.iter().map(|u| u.username.as_str()).collect();
        assert_eq!(names, ["ann", "bob"]);
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
