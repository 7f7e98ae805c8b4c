-- Second factors: TOTP and recovery codes.

-- One authenticator app per account. The seed is sealed (XChaCha20-Poly1305, the account id as associated
-- data) under the key named by key_id; unconfirmed rows are enrolments waiting for their first code.
CREATE TABLE totp_factors (
    account_id      TEXT PRIMARY KEY NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    sealed_secret   TEXT NOT NULL,
    key_id          TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    confirmed_at    BIGINT,
    -- the last 30-second step a code was accepted for: a code works once, and never an older one
    last_used_step  BIGINT
);

-- Recovery codes, stored as HMAC-SHA-256 under the server key; a used code keeps its row (used_at set).
CREATE TABLE recovery_codes (
    id          TEXT PRIMARY KEY NOT NULL,
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    code_hash   TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX recovery_codes_account ON recovery_codes (account_id);

-- Security keys as a second factor (WebAuthn, not discoverable): kept apart from passkeys so a key
-- registered as a second factor can never sign anyone in by itself.
CREATE TABLE security_keys (
    id             TEXT PRIMARY KEY NOT NULL,
    account_id     TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    credential_id  TEXT NOT NULL UNIQUE,
    name           TEXT NOT NULL,
    credential     TEXT NOT NULL,                  -- webauthn-rs SecurityKey as JSON: public key, counter
    sign_count     BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    last_used_at   BIGINT
);
CREATE INDEX security_keys_account ON security_keys (account_id);
