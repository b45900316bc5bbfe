-- Notifications: mentions, DMs and replies, written in the same D1 batch
-- as the message that causes them.

CREATE TABLE notifications (
  id           TEXT PRIMARY KEY,                  -- '<room_id>:<seq>:<user_id>'
  user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  kind         TEXT NOT NULL CHECK (kind IN ('mention', 'dm', 'reply')),
  room_id      TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
  seq          INTEGER NOT NULL,
  from_user_id TEXT NOT NULL REFERENCES users(id),
  preview      TEXT NOT NULL,                     -- first 140 characters of the body
  created_at   INTEGER NOT NULL,
  read_at      INTEGER
) STRICT;

-- At most one notification per user per message.
CREATE UNIQUE INDEX notifications_once ON notifications(room_id, seq, user_id);
-- A user's list, newest first, all or unread only.
CREATE INDEX notifications_by_user ON notifications(user_id, created_at DESC, id DESC);
CREATE INDEX notifications_unread_by_user ON notifications(user_id, created_at DESC, id DESC)
  WHERE read_at IS NULL;
