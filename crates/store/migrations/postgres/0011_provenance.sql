-- Where each part of a record came from, and the values other sources gave
-- (issue #17): one JSON document per record, empty for records entered in
-- Concord. Organisations made by an import from addressee names that
-- nobody had registered are 'unverified'.
ALTER TABLE recommendations ADD COLUMN provenance_json TEXT;
ALTER TABLE organisations ADD COLUMN status TEXT NOT NULL DEFAULT 'verified';
CREATE INDEX organisations_status ON organisations (status);

