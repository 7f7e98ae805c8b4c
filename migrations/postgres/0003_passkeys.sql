-- Passkeys (WebAuthn credentials).

-- The WebAuthn user handle: random (UUID), never the email; set with the account's first credential.
ALTER TABLE accounts ADD COLUMN user_handle TEXT;
CREATE UNIQUE INDEX accounts_user_handle ON accounts (user_handle);

CREATE TABLE webauthn_credentials (
    id             TEXT PRIMARY KEY NOT NULL,      -- random UUID, used in URLs and forms
    account_id     TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    credential_id  TEXT NOT NULL UNIQUE,           -- base64url, as the authenticator reports it
    name           TEXT NOT NULL,
    aaguid         TEXT,                           -- authenticator model, when it says
    credential     TEXT NOT NULL,                  -- webauthn-rs Passkey as JSON: public key, counter, flags
    -- the authenticator's signature counter, also here so an update can refuse to move it backwards
    sign_count     BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    last_used_at   BIGINT
);
CREATE INDEX webauthn_credentials_account ON webauthn_credentials (account_id);
