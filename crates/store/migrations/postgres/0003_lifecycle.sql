-- The per-addressee lifecycle (responses, action plans, progress, the
-- issuer's assessment, closure, escalation). The fields that reports and the
-- dashboard filter on are columns; the dated detail (assessment and closure
-- records, escalations, actions, updates) is one JSON document per addressee.

ALTER TABLE addressees ADD COLUMN acceptance TEXT;
ALTER TABLE addressees ADD COLUMN implementation TEXT;
ALTER TABLE addressees ADD COLUMN assessment TEXT;
ALTER TABLE addressees ADD COLUMN closure_reason TEXT;
ALTER TABLE addressees ADD COLUMN reassess_on TEXT;
ALTER TABLE addressees ADD COLUMN verified_on TEXT;
ALTER TABLE addressees ADD COLUMN progress_json TEXT;

ALTER TABLE responses ADD COLUMN acceptance TEXT;
ALTER TABLE responses ADD COLUMN reasons TEXT;

CREATE INDEX addressees_status ON addressees (status);
