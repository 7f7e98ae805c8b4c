-- OAuth 2.0 / OpenID Connect provider: registered clients, signing keys, consents, authorization codes,
-- grants (one per sign-in of an app: its refresh tokens rotate inside it) and revoked access tokens.

-- A registered app. Confidential clients hold a secret (stored as HMAC-SHA-256 under the server key; it is
-- 256 random bits, so a slow hash adds nothing); public clients hold none and must use PKCE.
CREATE TABLE oauth_clients (
    id                         TEXT PRIMARY KEY NOT NULL,
    name                       TEXT NOT NULL,
    secret_hash                TEXT,
    auth_method                TEXT NOT NULL
        CHECK (auth_method IN ('client_secret_basic', 'client_secret_post', 'none')),
    redirect_uris              TEXT NOT NULL,  -- JSON array, compared exactly
    post_logout_redirect_uris  TEXT NOT NULL,  -- JSON array, compared exactly
    scopes                     TEXT NOT NULL,  -- the scopes it may ask for, space-separated
    grant_types                TEXT NOT NULL,  -- space-separated
    first_party                BIGINT NOT NULL,  -- 1: no consent screen
    backchannel_logout_uri     TEXT,
    signing_alg                TEXT NOT NULL CHECK (signing_alg IN ('EdDSA', 'ES256', 'RS256')),
    created_at                 BIGINT NOT NULL,
    secret_rotated_at          BIGINT
);

-- Token signing keys. The private key (PKCS#8) is sealed under the MFA seal key; the JWKS serves every key
-- not retired: the newest per algorithm signs, the one before it still verifies.
CREATE TABLE oauth_signing_keys (
    kid             TEXT PRIMARY KEY NOT NULL,
    alg             TEXT NOT NULL CHECK (alg IN ('EdDSA', 'ES256', 'RS256')),
    sealed_private  TEXT NOT NULL,
    seal_key_id     TEXT NOT NULL,
    public_jwk      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    retired_at      BIGINT
);
CREATE INDEX oauth_signing_keys_alg ON oauth_signing_keys (alg, created_at);

-- What a person allowed a third-party app (the consent screen), listed at /account/apps.
CREATE TABLE oauth_consents (
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    client_id   TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    scopes      TEXT NOT NULL,
    granted_at  BIGINT NOT NULL,
    PRIMARY KEY (account_id, client_id)
);

-- A sign-in of an app: the scopes, how the person signed in, and the browser session (`sid`) it came from.
-- Its refresh tokens rotate inside it; revoking it ends them all.
CREATE TABLE oauth_grants (
    id            TEXT PRIMARY KEY NOT NULL,
    account_id    TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    client_id     TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    scopes        TEXT NOT NULL,
    auth_time     BIGINT NOT NULL,
    amr           TEXT NOT NULL,  -- JSON array
    sid           TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,  -- absolute lifetime of its refresh tokens
    last_used_at  BIGINT NOT NULL,
    revoked_at    BIGINT
);
CREATE INDEX oauth_grants_account ON oauth_grants (account_id, client_id);
CREATE INDEX oauth_grants_sid ON oauth_grants (sid);

-- Authorization codes (hashed), single use; `grant_id` is what redeeming it issued, revoked if it comes back.
CREATE TABLE oauth_codes (
    code_hash       TEXT PRIMARY KEY NOT NULL,
    client_id       TEXT NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
    account_id      TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    redirect_uri    TEXT NOT NULL,
    scopes          TEXT NOT NULL,
    nonce           TEXT,
    code_challenge  TEXT,
    auth_time       BIGINT NOT NULL,
    amr             TEXT NOT NULL,
    sid             TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    used_at         BIGINT,
    grant_id        TEXT
);
CREATE INDEX oauth_codes_expiry ON oauth_codes (expires_at);

-- Refresh tokens (hashed). A used one keeps its row: presenting it again revokes its grant.
CREATE TABLE oauth_refresh_tokens (
    token_hash  TEXT PRIMARY KEY NOT NULL,
    grant_id    TEXT NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX oauth_refresh_tokens_grant ON oauth_refresh_tokens (grant_id);

-- Access tokens (JWTs, by `jti`) revoked before they expire; introspection and userinfo refuse them.
CREATE TABLE oauth_revoked_tokens (
    jti         TEXT PRIMARY KEY NOT NULL,
    expires_at  BIGINT NOT NULL
);
