-- The account center: profile, email change, deletion with a grace period, and erasure.

-- Profile: the standard claims as columns; attributes an operator defines (profile.attributes in the
-- configuration) as one JSON object, so a new attribute needs no migration.
ALTER TABLE accounts ADD COLUMN given_name TEXT;
ALTER TABLE accounts ADD COLUMN family_name TEXT;
ALTER TABLE accounts ADD COLUMN locale TEXT;
ALTER TABLE accounts ADD COLUMN time_zone TEXT;
ALTER TABLE accounts ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';

-- Deletion: when the owner asked, and when the account is erased unless a sign-in cancels it first.
ALTER TABLE accounts ADD COLUMN deletion_requested_at BIGINT;
ALTER TABLE accounts ADD COLUMN deletion_due_at BIGINT;
CREATE INDEX accounts_deletion_due ON accounts (deletion_due_at);

-- Erased accounts: the id stays taken for ever (no later account gets it); nothing personal is kept.
CREATE TABLE erased_accounts (
    id         TEXT PRIMARY KEY NOT NULL,
    erased_at  BIGINT NOT NULL
);

-- A change of address sends its code and link to the new address: a fourth purpose.
ALTER TABLE email_verifications DROP CONSTRAINT email_verifications_purpose_check;
ALTER TABLE email_verifications ADD CONSTRAINT email_verifications_purpose_check
    CHECK (purpose IN ('verify_email', 'sign_in', 'recover', 'change_email'));

-- The audit log stays append-only but for one change: erasing an account turns its events into
-- pseudonymous stubs (account id replaced by an "erased:" pseudonym; IP, user agent and detail removed).
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND NEW.id = OLD.id AND NEW.at = OLD.at AND NEW.kind = OLD.kind
        AND NEW.operation_id IS NOT DISTINCT FROM OLD.operation_id
        AND COALESCE(OLD.account_id, 'erased:') NOT LIKE 'erased:%'
        AND COALESCE(NEW.account_id, '') LIKE 'erased:%'
        AND NEW.ip IS NULL AND NEW.user_agent IS NULL AND NEW.detail IS NULL
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$;
