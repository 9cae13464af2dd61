-- Komlang schema, version 7 (SQLite): sessions linked to their account, API tokens with a
-- label, a prefix, an expiry and a revocation, the last sign-in of each account, and the
-- browsers known to have signed in (the lockout's "device cookies", docs/security.md).
-- Keep in step with ../postgres/0007_account_security.sql.

-- Every stored session names its account, so that a password change, a disabled account or
-- "end sessions" deletes them all, on every app server at once. Sessions from before this
-- version carry no account: they are ended (everyone signs in again once), together with
-- the anonymous sessions earlier versions stored for every visitor.
DELETE FROM sessions;
ALTER TABLE sessions ADD COLUMN user_id INTEGER REFERENCES users(id) ON DELETE CASCADE;
CREATE INDEX sessions_user ON sessions(user_id);

ALTER TABLE users ADD COLUMN last_login_at TEXT;

-- Tokens were already kept as the SHA-256 of their text (never the text): they keep working.
-- Tokens issued before this version have no prefix and no label; none expires.
ALTER TABLE api_tokens ADD COLUMN label TEXT;
ALTER TABLE api_tokens ADD COLUMN prefix TEXT;
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
ALTER TABLE api_tokens ADD COLUMN revoked_at TEXT;
CREATE INDEX api_tokens_user ON api_tokens(user_id);

-- A browser that signed in to an account: the SHA-256 of its device cookie, per account.
CREATE TABLE known_devices (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    device_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    UNIQUE (device_hash, user_id)
);

-- The known device an attempt came from (its hash), NULL for any other client.
ALTER TABLE login_attempts ADD COLUMN device TEXT;
CREATE INDEX login_attempts_user_ip ON login_attempts(username, ip, at);
