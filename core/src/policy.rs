//! Who may do what in a room (API.md, "Who may do what").
//!
//! A private room does not exist for non-members; a public one is readable
//! by anyone signed in, but writing needs membership.

use crate::model::{Role, RoomKind, Visibility};

/// What the caller is to a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// The room's visibility.
    pub visibility: Visibility,
    /// The room's kind.
    pub kind: RoomKind,
    /// The caller's role, if a member.
    pub role: Option<Role>,
}

/// Why an action is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Answer 404: the caller may not know the room exists.
    Hidden,
    /// Answer 403 `not_a_member`: the room is public but the caller is not in it.
    NotAMember,
    /// Answer 403 `forbidden`: a member without the needed role.
    Forbidden,
}

impl Standing {
    /// May the caller see the room's details and history?
    pub fn read(&self) -> Result<(), Refusal> {
        match (self.role, self.visibility) {
            (Some(_), _) | (None, Visibility::Public) => Ok(()),
            (None, Visibility::Private) => Err(Refusal::Hidden),
        }
    }

    /// May the caller post, edit, delete or open a socket? Returns the role.
    pub fn write(&self) -> Result<Role, Refusal> {
        self.read()?;
        self.role.ok_or(Refusal::NotAMember)
    }

    /// May the caller join by themselves? Only public rooms (not DMs).
    pub fn join(&self) -> Result<(), Refusal> {
        if self.kind == RoomKind::Dm || self.visibility == Visibility::Private {
            // Members of a private room or DM are already in; others may not know it.
            return if self.role.is_some() {
                Ok(())
            } else {
                Err(Refusal::Hidden)
            };
        }
        Ok(())
    }

    /// May the caller add members? Owners and admins of group rooms.
    pub fn add_member(&self) -> Result<(), Refusal> {
        let role = self.write()?;
        if self.kind == RoomKind::Dm || role < Role::Admin {
            return Err(Refusal::Forbidden);
        }
        Ok(())
    }

    /// May the caller remove a member whose role is `target`? Anyone may
    /// remove themselves; owners and admins may remove those below them.
    pub fn remove_member(&self, target: Role, is_self: bool) -> Result<(), Refusal> {
        let role = self.write()?;
        if is_self || (role >= Role::Admin && role > target) {
            Ok(())
        } else {
            Err(Refusal::Forbidden)
        }
    }

    /// May the caller delete a message? Its author, or an owner or admin.
    pub fn delete_message(&self, is_author: bool) -> Result<(), Refusal> {
        let role = self.write()?;
        if is_author || role >= Role::Admin {
            Ok(())
        } else {
            Err(Refusal::Forbidden)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn standing(visibility: Visibility, role: Option<Role>) -> Standing {
        Standing {
            visibility,
            kind: RoomKind::Room,
            role,
        }
    }

    #[test]
    fn private_rooms_are_hidden_from_outsiders() {
        let s = standing(Visibility::Private, None);
        assert_eq!(s.read(), Err(Refusal::Hidden));
        assert_eq!(s.write(), Err(Refusal::Hidden));
        assert_eq!(s.join(), Err(Refusal::Hidden));
        assert_eq!(s.add_member(), Err(Refusal::Hidden));
        assert_eq!(s.delete_message(true), Err(Refusal::Hidden));
    }

    #[test]
    fn public_rooms_are_readable_but_writing_needs_membership() {
        let s = standing(Visibility::Public, None);
        assert_eq!(s.read(), Ok(()));
        assert_eq!(s.write(), Err(Refusal::NotAMember));
        assert_eq!(s.join(), Ok(()));
        let m = standing(Visibility::Public, Some(Role::Member));
        assert_eq!(m.write(), Ok(Role::Member));
    }

    #[test]
    fn roles() {
        let member = standing(Visibility::Private, Some(Role::Member));
        let admin = standing(Visibility::Private, Some(Role::Admin));
        let owner = standing(Visibility::Private, Some(Role::Owner));
        assert_eq!(member.add_member(), Err(Refusal::Forbidden));
        assert_eq!(admin.add_member(), Ok(()));
        assert_eq!(member.remove_member(Role::Member, true), Ok(()));
        assert_eq!(
            member.remove_member(Role::Member, false),
            Err(Refusal::Forbidden)
        );
        assert_eq!(admin.remove_member(Role::Member, false), Ok(()));
        assert_eq!(
            admin.remove_member(Role::Admin, false),
            Err(Refusal::Forbidden)
        );
        assert_eq!(owner.remove_member(Role::Admin, false), Ok(()));
        assert_eq!(member.delete_message(false), Err(Refusal::Forbidden));
        assert_eq!(member.delete_message(true), Ok(()));
        assert_eq!(admin.delete_message(false), Ok(()));
    }

    #[test]
    fn dms_take_no_new_members() {
        let dm = Standing {
            visibility: Visibility::Private,
            kind: RoomKind::Dm,
            role: Some(Role::Owner),
        };
        assert_eq!(dm.add_member(), Err(Refusal::Forbidden));
        assert_eq!(dm.join(), Ok(()));
        let outsider = Standing { role: None, ..dm };
        assert_eq!(outsider.join(), Err(Refusal::Hidden));
    }
}
