-- Rooms, memberships and messages.

CREATE TABLE rooms (
  id          TEXT PRIMARY KEY,                   -- UUID
  name        TEXT NOT NULL,                      -- '' for DMs
  name_folded TEXT NOT NULL,                      -- lowercase name, for case-insensitive search
  topic       TEXT NOT NULL DEFAULT '',
  kind        TEXT NOT NULL CHECK (kind IN ('room', 'dm')),
  visibility  TEXT NOT NULL CHECK (visibility IN ('public', 'private')),
  created_at  INTEGER NOT NULL,                   -- ms since the epoch
  dm_key      TEXT UNIQUE,                        -- '<smaller user id>:<larger user id>' for DMs
  last_seq    INTEGER NOT NULL DEFAULT 0          -- newest committed seq, written with each batch
) STRICT;

-- Public listing, newest first, with keyset pagination on (created_at, id).
CREATE INDEX rooms_public_newest ON rooms(visibility, created_at DESC, id DESC);

CREATE TABLE memberships (
  room_id   TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
  user_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role      TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  joined_at INTEGER NOT NULL,
  read_seq  INTEGER NOT NULL DEFAULT 0,           -- the user's read position in the room
  PRIMARY KEY (room_id, user_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX memberships_by_user ON memberships(user_id, room_id);

-- Written only by the room's Durable Object, in batches (group commit).
CREATE TABLE messages (
  room_id    TEXT NOT NULL REFERENCES rooms(id) ON DELETE CASCADE,
  seq        INTEGER NOT NULL,                    -- 1, 2, 3, … per room, no gaps
  id         TEXT NOT NULL,
  client_id  TEXT NOT NULL,
  author_id  TEXT NOT NULL REFERENCES users(id),
  body       TEXT NOT NULL,                       -- '' once deleted
  created_at INTEGER NOT NULL,
  edited_at  INTEGER,
  deleted    INTEGER NOT NULL DEFAULT 0,
  reply_to   INTEGER,
  PRIMARY KEY (room_id, seq)                      -- history pages are range scans on this key
) STRICT, WITHOUT ROWID;

-- Idempotent sends: one message per (room, author, client_id).
CREATE UNIQUE INDEX messages_by_client_id ON messages(room_id, author_id, client_id);
