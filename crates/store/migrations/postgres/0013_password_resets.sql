-- An administrator's reset of a person's password: a one-time link, kept
-- only as the hash of its secret, that works once before it expires. One
-- per person (a new one replaces the last). Working state like sessions:
-- not in backups, pruned once expired.
CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL UNIQUE REFERENCES users (id),
    issued_by  TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX password_resets_expires ON password_resets (expires_at);
