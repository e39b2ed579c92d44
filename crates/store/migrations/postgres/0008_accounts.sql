-- People, their memberships of organisations with roles, their sessions,
-- and sign-in attempts (for throttling). Emails are stored trimmed and
-- lower-cased, and the index on lower(email) keeps them unique whatever a
-- writer does. Only hashes of passwords and session ids are stored.
CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    email         TEXT NOT NULL,
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled      BIGINT NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (lower(email));

CREATE TABLE memberships (
    user_id    BIGINT NOT NULL REFERENCES users (id),
    org        TEXT COLLATE "C" NOT NULL,
    roles      TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (user_id, org)
);
CREATE INDEX memberships_org ON memberships (org);

-- id_hash: SHA-256 of the cookie's secret; org: the organisation the user
-- is acting for now (one at a time); csrf: the secret every form carries.
CREATE TABLE sessions (
    id_hash    TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    user_id    BIGINT NOT NULL REFERENCES users (id),
    org        TEXT COLLATE "C",
    csrf       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen  TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE sign_in_attempts (
    id        BIGSERIAL PRIMARY KEY,
    email     TEXT COLLATE "C" NOT NULL,
    client    TEXT COLLATE "C" NOT NULL,
    succeeded BIGINT NOT NULL,
    at        TEXT NOT NULL
);
CREATE INDEX sign_in_attempts_key ON sign_in_attempts (email, client, at);

-- What a token may do (`author,approver`). NULL, as on every token made
-- before roles existed and in older backups, means every role but
-- administrator.
ALTER TABLE api_tokens ADD COLUMN roles TEXT;
