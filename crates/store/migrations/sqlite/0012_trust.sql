-- Sign-in throttling counts failures from one client across every email
-- (a password sprayed over many accounts), and pruning deletes old attempts
-- and expired sessions: both read by these columns.
CREATE INDEX sign_in_attempts_client ON sign_in_attempts (client, at);
CREATE INDEX sign_in_attempts_at ON sign_in_attempts (at);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- API tokens expire (a year after they are made, unless made otherwise);
-- tokens made before this have none and never do.
ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;

-- Membership of an organisation needs the person's consent: an
-- administrator invites an existing account, and the person accepts (a
-- membership with these roles) or declines on their account page.
CREATE TABLE invitations (
    user_id    BIGINT NOT NULL REFERENCES users (id),
    org        TEXT NOT NULL,
    roles      TEXT NOT NULL,
    invited_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, org)
);
