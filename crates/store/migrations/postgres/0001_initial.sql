-- Concord's first schema (PostgreSQL). Column types are kept to TEXT and BIGINT
-- so that the same queries serve SQLite and PostgreSQL through sqlx's Any
-- driver: dates are 'YYYY-MM-DD' text, times RFC 3339 UTC text with a fixed
-- number of fraction digits (so they sort), booleans 0/1.

CREATE TABLE organisations (
    code          TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    level         TEXT NOT NULL,
    provider_kind TEXT,
    region        TEXT,
    aliases_json  TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

CREATE TABLE recommendations (
    id                TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    issuer            TEXT COLLATE "C" NOT NULL,
    year              BIGINT NOT NULL,
    seq               BIGINT NOT NULL,
    local_ref         TEXT,
    kind              TEXT NOT NULL,
    status            TEXT NOT NULL,
    title             TEXT NOT NULL,
    text              TEXT NOT NULL,
    published         TEXT,
    level             TEXT,
    source_json       TEXT,
    evidence_json     TEXT,
    patient_impact    TEXT,
    cost_json         TEXT,
    equality_json     TEXT,
    risk              TEXT,
    response_deadline TEXT,
    import_key        TEXT UNIQUE,
    version           BIGINT NOT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE UNIQUE INDEX recommendations_issuer_year_seq ON recommendations (issuer, year, seq);
CREATE INDEX recommendations_published ON recommendations (published);
CREATE INDEX recommendations_status ON recommendations (status);

CREATE TABLE addressees (
    rec_id     TEXT COLLATE "C" NOT NULL REFERENCES recommendations (id) ON DELETE CASCADE,
    position   BIGINT NOT NULL,
    name       TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    org        TEXT COLLATE "C",
    status     TEXT NOT NULL,
    due        TEXT,
    PRIMARY KEY (rec_id, position)
);
CREATE INDEX addressees_org ON addressees (org);
CREATE INDEX addressees_name_lower ON addressees (name_lower);

CREATE TABLE responses (
    rec_id             TEXT COLLATE "C" NOT NULL,
    addressee_position BIGINT NOT NULL,
    position           BIGINT NOT NULL,
    received           TEXT,
    respondent         TEXT,
    url                TEXT,
    text               TEXT,
    PRIMARY KEY (rec_id, addressee_position, position),
    FOREIGN KEY (rec_id, addressee_position) REFERENCES addressees (rec_id, position) ON DELETE CASCADE
);

CREATE TABLE rec_tags (
    rec_id      TEXT COLLATE "C" NOT NULL REFERENCES recommendations (id) ON DELETE CASCADE,
    tag_kind    TEXT NOT NULL CHECK (tag_kind IN ('theme', 'setting')),
    position    BIGINT NOT NULL,
    value       TEXT NOT NULL,
    value_lower TEXT NOT NULL,
    PRIMARY KEY (rec_id, tag_kind, position)
);
CREATE INDEX rec_tags_value ON rec_tags (tag_kind, value_lower);

CREATE TABLE links (
    from_id     TEXT COLLATE "C" NOT NULL REFERENCES recommendations (id) ON DELETE CASCADE,
    position    BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    target      TEXT NOT NULL,
    state       TEXT NOT NULL,
    asserted_by TEXT,
    asserted_at TEXT,
    PRIMARY KEY (from_id, position)
);
CREATE INDEX links_target ON links (target);

CREATE TABLE id_sequences (
    issuer   TEXT COLLATE "C" NOT NULL,
    year     BIGINT NOT NULL,
    next_seq BIGINT NOT NULL,
    PRIMARY KEY (issuer, year)
);

CREATE TABLE audit_events (
    seq         BIGSERIAL PRIMARY KEY,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    entity      TEXT NOT NULL,
    entity_id   TEXT COLLATE "C" NOT NULL,
    before_json TEXT,
    after_json  TEXT
);
CREATE INDEX audit_events_entity_id ON audit_events (entity_id);

CREATE TABLE outbox (
    seq       BIGSERIAL PRIMARY KEY,
    entity    TEXT NOT NULL,
    entity_id TEXT COLLATE "C" NOT NULL,
    op        TEXT NOT NULL,
    at        TEXT NOT NULL
);

CREATE TABLE api_tokens (
    id         BIGSERIAL PRIMARY KEY,
    org        TEXT COLLATE "C" NOT NULL,
    label      TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

CREATE TABLE workstreams (
    id         TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    lead       TEXT COLLATE "C" NOT NULL,
    title      TEXT NOT NULL,
    status     TEXT NOT NULL,
    data_json  TEXT NOT NULL,
    version    BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
