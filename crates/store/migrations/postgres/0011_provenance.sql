-- Where each part of a record came from, and the values other sources gave
-- (issue #17): one JSON document per record, empty for records entered in
-- Concord. Organisations made by an import from addressee names that
-- nobody had registered are 'unverified'; one an operator merged into
-- another is 'merged', and each merge is kept with the addressee entries it
-- moved, so that it can be undone.
ALTER TABLE recommendations ADD COLUMN provenance_json TEXT;
ALTER TABLE organisations ADD COLUMN status TEXT NOT NULL DEFAULT 'verified';
CREATE INDEX organisations_status ON organisations (status);


CREATE TABLE organisation_merges (
    id         BIGSERIAL PRIMARY KEY,
    from_code  TEXT NOT NULL,
    into_code  TEXT NOT NULL,
    from_json  TEXT NOT NULL,
    into_json  TEXT NOT NULL,
    moved_json TEXT NOT NULL,
    actor      TEXT NOT NULL,
    at         TEXT NOT NULL,
    undone_at  TEXT
);
CREATE INDEX organisation_merges_from ON organisation_merges (from_code);
