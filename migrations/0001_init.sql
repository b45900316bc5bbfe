-- Schema bookkeeping for edgechat. Accounts, rooms and messages arrive in the
-- migrations that follow; this one only proves the migration path end to end.
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', 'edgechat');
