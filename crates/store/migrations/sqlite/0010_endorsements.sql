-- Organisations standing behind another body's recommendation instead of
-- repeating it (issue #4): one row per recommendation and organisation,
-- who said so and when, with an optional note.
CREATE TABLE endorsements (
    rec_id     TEXT NOT NULL REFERENCES recommendations (id) ON DELETE CASCADE,
    org        TEXT NOT NULL,
    note       TEXT,
    actor      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (rec_id, org)
);
CREATE INDEX endorsements_org ON endorsements (org);
