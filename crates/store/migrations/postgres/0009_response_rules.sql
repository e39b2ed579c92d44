-- An installation's own deadline rules, per issuer: the response period and
-- the escalation ladder (a JSON ResponseRules), replacing the built-in rule
-- for that issuer. No row: the built-in rule applies.
CREATE TABLE response_rules (
    org         TEXT PRIMARY KEY NOT NULL,
    rules_json  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
