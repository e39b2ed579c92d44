-- The public feeds read one record's (or a set of records') audit events
-- newest first: an index that gives them in order without a sort per id.

CREATE INDEX audit_events_entity_seq ON audit_events (entity_id, seq);
