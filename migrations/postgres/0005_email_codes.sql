-- Sign-in by an emailed code or link, and password recovery, use the same kind of message as email
-- verification: a 6-digit code and a link token, both stored hashed. Each row now names its flow, and a code
-- or link works only in the flow it was sent for.

ALTER TABLE email_verifications ADD COLUMN purpose TEXT NOT NULL DEFAULT 'verify_email'
    CHECK (purpose IN ('verify_email', 'sign_in', 'recover'));

DROP INDEX email_verifications_account;
CREATE INDEX email_verifications_account ON email_verifications (account_id, purpose, created_at);

-- "Sign-in by email from a new browser": earlier sign-ins of the account from the same user agent.
CREATE INDEX audit_events_account_kind ON audit_events (account_id, kind);
