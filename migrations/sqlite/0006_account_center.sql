-- The account center: profile, email change, deletion with a grace period, and erasure.

-- Profile: the standard claims as columns; attributes an operator defines (profile.attributes in the
-- configuration) as one JSON object, so a new attribute needs no migration.
ALTER TABLE accounts ADD COLUMN given_name TEXT;
ALTER TABLE accounts ADD COLUMN family_name TEXT;
ALTER TABLE accounts ADD COLUMN locale TEXT;
ALTER TABLE accounts ADD COLUMN time_zone TEXT;
ALTER TABLE accounts ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';

-- Deletion: when the owner asked, and when the account is erased unless a sign-in cancels it first.
ALTER TABLE accounts ADD COLUMN deletion_requested_at INTEGER;
ALTER TABLE accounts ADD COLUMN deletion_due_at INTEGER;
CREATE INDEX accounts_deletion_due ON accounts (deletion_due_at);

-- Erased accounts: the id stays taken for ever (no later account gets it); nothing personal is kept.
CREATE TABLE erased_accounts (
    id         TEXT PRIMARY KEY NOT NULL,
    erased_at  INTEGER NOT NULL
);

-- A change of address sends its code and link to the new address: a fourth purpose. SQLite cannot alter
-- a CHECK constraint, so the table is rebuilt (nothing references it).
CREATE TABLE email_verifications_new (
    id                     TEXT PRIMARY KEY NOT NULL,
    account_id             TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    email                  TEXT NOT NULL,
    code_hash              TEXT NOT NULL,
    link_hash              TEXT NOT NULL UNIQUE,
    pending_password_hash  TEXT,
    attempts               INTEGER NOT NULL DEFAULT 0,
    code_expires_at        INTEGER NOT NULL,
    link_expires_at        INTEGER NOT NULL,
    consumed_at            INTEGER,
    created_at             INTEGER NOT NULL,
    purpose                TEXT NOT NULL DEFAULT 'verify_email'
        CHECK (purpose IN ('verify_email', 'sign_in', 'recover', 'change_email'))
);
INSERT INTO email_verifications_new
    SELECT id, account_id, email, code_hash, link_hash, pending_password_hash, attempts, code_expires_at,
           link_expires_at, consumed_at, created_at, purpose
    FROM email_verifications;
DROP TABLE email_verifications;
ALTER TABLE email_verifications_new RENAME TO email_verifications;
CREATE INDEX email_verifications_account ON email_verifications (account_id, purpose, created_at);

-- The audit log stays append-only but for one change: erasing an account turns its events into
-- pseudonymous stubs (account id replaced by an "erased:" pseudonym; IP, user agent and detail removed).
DROP TRIGGER audit_events_no_update;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
WHEN NOT (
    NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.kind = OLD.kind
    AND NEW.operation_id IS OLD.operation_id
    AND COALESCE(OLD.account_id, 'erased:') NOT LIKE 'erased:%'
    AND COALESCE(NEW.account_id, '') LIKE 'erased:%'
    AND NEW.ip IS NULL AND NEW.user_agent IS NULL AND NEW.detail IS NULL
)
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
