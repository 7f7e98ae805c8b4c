-- Accounts, email verification, sign-in throttling and the audit log.

CREATE TABLE accounts (
    id                 TEXT PRIMARY KEY NOT NULL,  -- random UUID, never reused
    email              TEXT NOT NULL UNIQUE,       -- normalised (trimmed, lower case)
    email_verified_at  INTEGER,
    display_name       TEXT,
    password_hash      TEXT,                       -- argon2id PHC; NULL for passwordless accounts
    status             TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'locked', 'disabled')),
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);

-- One row per verification message: a 6-digit code and a link token, both stored hashed.
CREATE TABLE email_verifications (
    id                     TEXT PRIMARY KEY NOT NULL,
    account_id             TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    email                  TEXT NOT NULL,
    code_hash              TEXT NOT NULL,
    link_hash              TEXT NOT NULL UNIQUE,
    -- a second sign-up with an address whose account is still unverified: this password replaces the
    -- first one (and its sessions end) when this message is the one verified (pre-hijack defence)
    pending_password_hash  TEXT,
    attempts               INTEGER NOT NULL DEFAULT 0,
    code_expires_at        INTEGER NOT NULL,
    link_expires_at        INTEGER NOT NULL,
    consumed_at            INTEGER,
    created_at             INTEGER NOT NULL
);
CREATE INDEX email_verifications_account ON email_verifications (account_id, created_at);

-- Failure counters for throttling, keyed by what is guessed against ("email:…", "ip:…").
CREATE TABLE throttle (
    key              TEXT PRIMARY KEY NOT NULL,
    failures         INTEGER NOT NULL,
    last_failure_at  INTEGER NOT NULL
);

-- Append-only security events.
CREATE TABLE audit_events (
    id            TEXT PRIMARY KEY NOT NULL,  -- UUIDv7: sorts by time
    at            INTEGER NOT NULL,
    kind          TEXT NOT NULL,
    account_id    TEXT,
    ip            TEXT,
    user_agent    TEXT,
    operation_id  TEXT,
    detail        TEXT                         -- JSON
);
CREATE INDEX audit_events_account ON audit_events (account_id, at);
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
