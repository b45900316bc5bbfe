-- Accounts and refresh tokens.

CREATE TABLE users (
  id            TEXT PRIMARY KEY,                 -- UUID
  username      TEXT NOT NULL UNIQUE,             -- lowercase, [a-z0-9_.-]{3,32}
  display_name  TEXT NOT NULL,
  password_hash TEXT NOT NULL,                    -- PHC string, parameters included
  created_at    INTEGER NOT NULL                  -- ms since the epoch
) STRICT;

-- A family is one login's chain of rotated refresh tokens. Revoking it
-- (logout, or reuse of a spent token) ends every token of the chain,
-- including any issued concurrently.
CREATE TABLE refresh_families (
  id         TEXT PRIMARY KEY,
  user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
) STRICT;

CREATE TABLE refresh_tokens (
  token_hash  TEXT PRIMARY KEY,                   -- hex SHA-256 of the token; the token is never stored
  family_id   TEXT NOT NULL REFERENCES refresh_families(id) ON DELETE CASCADE,
  user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  used_at     INTEGER,                            -- set when rotated
  replaced_by TEXT                                -- hash of its successor
) STRICT;

CREATE INDEX refresh_tokens_by_family ON refresh_tokens(family_id);
CREATE INDEX refresh_families_by_user ON refresh_families(user_id);
