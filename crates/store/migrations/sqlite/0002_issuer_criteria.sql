-- Each issuing body's own quality criteria set (a JSON criteria file, as
-- loaded by `concord criteria set`); absent means Concord's default set.
CREATE TABLE issuer_criteria (
    org        TEXT PRIMARY KEY NOT NULL,
    ruleset    TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
