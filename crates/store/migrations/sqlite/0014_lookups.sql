-- An import looks up each coroner's report by its written reference
-- (issuer and local_ref). Without this index the lookup read every record
-- of the issuer, so importing a file of one issuer's reports took time
-- growing with the square of its length.
CREATE INDEX recommendations_issuer_local_ref ON recommendations (issuer, local_ref);
