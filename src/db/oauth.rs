//! The OAuth tables: clients, consents, authorization codes, grants, refresh tokens and revoked access
//! tokens. Every secret (client secret, code, refresh token) is stored as its HMAC under the server key.

use sqlx::{AnyExecutor, FromRow};

/// A registered client. `secret_hash` is never shown; a public client has none.
#[derive(Clone, FromRow)]
pub struct ClientRow {
    pub id: String,
    pub name: String,
    pub secret_hash: Option<String>,
    pub auth_method: String,
    /// JSON arrays of exact URIs.
    pub redirect_uris: String,
    pub post_logout_redirect_uris: String,
    /// Space-separated.
    pub scopes: String,
    pub grant_types: String,
    pub first_party: i64,
    pub backchannel_logout_uri: Option<String>,
    pub signing_alg: String,
    pub created_at: i64,
    pub secret_rotated_at: Option<i64>,
}

impl std::fmt::Debug for ClientRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientRow").field("id", &self.id).field("name", &self.name).finish_non_exhaustive()
    }
}

const CLIENT_COLUMNS: &str = "id, name, secret_hash, auth_method, redirect_uris, post_logout_redirect_uris, scopes, \
     grant_types, first_party, backchannel_logout_uri, signing_alg, created_at, secret_rotated_at";

pub async fn insert_client<'e>(db: impl AnyExecutor<'e>, row: &ClientRow) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO oauth_clients ({CLIENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    ))
    .bind(&row.id)
    .bind(&row.name)
    .bind(row.secret_hash.as_deref())
    .bind(&row.auth_method)
    .bind(&row.redirect_uris)
    .bind(&row.post_logout_redirect_uris)
    .bind(&row.scopes)
    .bind(&row.grant_types)
    .bind(row.first_party)
    .bind(row.backchannel_logout_uri.as_deref())
    .bind(&row.signing_alg)
    .bind(row.created_at)
    .bind(row.secret_rotated_at)
    .execute(db)
    .await
    .map(|_| ())
}

pub async fn find_client<'e>(db: impl AnyExecutor<'e>, id: &str) -> Result<Option<ClientRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {CLIENT_COLUMNS} FROM oauth_clients WHERE id = $1"))
        .bind(id)
        .fetch_optional(db)
        .await
}

pub async fn all_clients<'e>(db: impl AnyExecutor<'e>) -> Result<Vec<ClientRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {CLIENT_COLUMNS} FROM oauth_clients ORDER BY created_at, id")).fetch_all(db).await
}

/// Replaces the secret; `false` when there is no such client or it is public.
pub async fn set_client_secret<'e>(
    db: impl AnyExecutor<'e>,
    id: &str,
    secret_hash: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE oauth_clients SET secret_hash = $1, secret_rotated_at = $2 WHERE id = $3 AND secret_hash IS NOT NULL",
    )
    .bind(secret_hash)
    .bind(now)
    .bind(id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes the client with its consents, codes, grants and refresh tokens (foreign keys cascade).
pub async fn delete_client<'e>(db: impl AnyExecutor<'e>, id: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM oauth_clients WHERE id = $1").bind(id).execute(db).await?;
    Ok(done.rows_affected() == 1)
}

// ---- consents ----

/// The scopes the account allowed the client, if any.
pub async fn consent<'e>(
    db: impl AnyExecutor<'e>,
    account_id: &str,
    client_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT scopes FROM oauth_consents WHERE account_id = $1 AND client_id = $2")
            .bind(account_id)
            .bind(client_id)
            .fetch_optional(db)
            .await?;
    Ok(row.map(|(scopes,)| scopes))
}

/// Records what the account allows the client; widening it later keeps the first `granted_at` (since when
/// the app has access).
pub async fn put_consent<'e>(
    db: impl AnyExecutor<'e>,
    account_id: &str,
    client_id: &str,
    scopes: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO oauth_consents (account_id, client_id, scopes, granted_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (account_id, client_id) DO UPDATE SET scopes = excluded.scopes",
    )
    .bind(account_id)
    .bind(client_id)
    .bind(scopes)
    .bind(now)
    .execute(db)
    .await
    .map(|_| ())
}

/// The account's consents: (client_id, scopes, granted_at).
pub async fn consents_for_account<'e>(
    db: impl AnyExecutor<'e>,
    account_id: &str,
) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT client_id, scopes, granted_at FROM oauth_consents WHERE account_id = $1")
        .bind(account_id)
        .fetch_all(db)
        .await
}

pub async fn delete_consent<'e>(
    db: impl AnyExecutor<'e>,
    account_id: &str,
    client_id: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM oauth_consents WHERE account_id = $1 AND client_id = $2")
        .bind(account_id)
        .bind(client_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

// ---- authorization codes ----

#[derive(Clone, FromRow)]
pub struct CodeRow {
    pub code_hash: String,
    pub client_id: String,
    pub account_id: String,
    pub redirect_uri: String,
    pub scopes: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub auth_time: i64,
    pub amr: String,
    pub sid: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub grant_id: Option<String>,
}

const CODE_COLUMNS: &str = "code_hash, client_id, account_id, redirect_uri, scopes, nonce, code_challenge, auth_time, \
     amr, sid, created_at, expires_at, used_at, grant_id";

pub async fn insert_code<'e>(db: impl AnyExecutor<'e>, row: &CodeRow) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO oauth_codes ({CODE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
    ))
    .bind(&row.code_hash)
    .bind(&row.client_id)
    .bind(&row.account_id)
    .bind(&row.redirect_uri)
    .bind(&row.scopes)
    .bind(row.nonce.as_deref())
    .bind(row.code_challenge.as_deref())
    .bind(row.auth_time)
    .bind(&row.amr)
    .bind(&row.sid)
    .bind(row.created_at)
    .bind(row.expires_at)
    .bind(row.used_at)
    .bind(row.grant_id.as_deref())
    .execute(db)
    .await
    .map(|_| ())
}

pub async fn find_code<'e>(db: impl AnyExecutor<'e>, code_hash: &str) -> Result<Option<CodeRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {CODE_COLUMNS} FROM oauth_codes WHERE code_hash = $1"))
        .bind(code_hash)
        .fetch_optional(db)
        .await
}

/// Marks the code used and records the grant it issued; `false` when it was used already (a race lost).
pub async fn use_code<'e>(
    db: impl AnyExecutor<'e>,
    code_hash: &str,
    grant_id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("UPDATE oauth_codes SET used_at = $1, grant_id = $2 WHERE code_hash = $3 AND used_at IS NULL")
            .bind(now)
            .bind(grant_id)
            .bind(code_hash)
            .execute(db)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Codes of a browser sign-in that were never exchanged (the sign-in ended).
pub async fn delete_unused_codes_of_sid<'e>(db: impl AnyExecutor<'e>, sid: &str) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM oauth_codes WHERE sid = $1 AND used_at IS NULL").bind(sid).execute(db).await?;
    Ok(done.rows_affected())
}

/// Codes expired more than a day ago: their reuse can no longer be detected, nor matters.
pub async fn delete_old_codes<'e>(db: impl AnyExecutor<'e>, before: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM oauth_codes WHERE expires_at < $1").bind(before).execute(db).await?.rows_affected())
}

// ---- grants and refresh tokens ----

#[derive(Clone, Debug, FromRow)]
pub struct GrantRow {
    pub id: String,
    pub account_id: String,
    pub client_id: String,
    pub scopes: String,
    pub auth_time: i64,
    pub amr: String,
    pub sid: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub last_used_at: i64,
    pub revoked_at: Option<i64>,
}

const GRANT_COLUMNS: &str =
    "id, account_id, client_id, scopes, auth_time, amr, sid, created_at, expires_at, last_used_at, revoked_at";

pub async fn insert_grant<'e>(db: impl AnyExecutor<'e>, row: &GrantRow) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO oauth_grants ({GRANT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    ))
    .bind(&row.id)
    .bind(&row.account_id)
    .bind(&row.client_id)
    .bind(&row.scopes)
    .bind(row.auth_time)
    .bind(&row.amr)
    .bind(&row.sid)
    .bind(row.created_at)
    .bind(row.expires_at)
    .bind(row.last_used_at)
    .bind(row.revoked_at)
    .execute(db)
    .await
    .map(|_| ())
}

pub async fn find_grant<'e>(db: impl AnyExecutor<'e>, id: &str) -> Result<Option<GrantRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {GRANT_COLUMNS} FROM oauth_grants WHERE id = $1")).bind(id).fetch_optional(db).await
}

/// The account's grants that are not revoked, newest first; `last_used_at` is the newest refresh token's
/// creation (a rotation does not update the grant row).
pub async fn live_grants_for_account<'e>(
    db: impl AnyExecutor<'e>,
    account_id: &str,
    now: i64,
) -> Result<Vec<GrantRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT g.id, g.account_id, g.client_id, g.scopes, g.auth_time, g.amr, g.sid, g.created_at, g.expires_at, \
         COALESCE((SELECT MAX(t.created_at) FROM oauth_refresh_tokens t WHERE t.grant_id = g.id), g.last_used_at) \
         AS last_used_at, g.revoked_at \
         FROM oauth_grants g WHERE g.account_id = $1 AND g.revoked_at IS NULL AND g.expires_at > $2 \
         ORDER BY g.created_at DESC, g.id",
    )
    .bind(account_id)
    .bind(now)
    .fetch_all(db)
    .await
}

/// The grants a browser session (`sid`) started that are not revoked.
pub async fn live_grants_for_sid<'e>(db: impl AnyExecutor<'e>, sid: &str) -> Result<Vec<GrantRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {GRANT_COLUMNS} FROM oauth_grants WHERE sid = $1 AND revoked_at IS NULL"))
        .bind(sid)
        .fetch_all(db)
        .await
}

pub async fn revoke_grant<'e>(db: impl AnyExecutor<'e>, id: &str, now: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE oauth_grants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Revokes every live grant of the account (with `client_id`, only those of that client); returns how many.
pub async fn revoke_account_grants<'e>(
    db: impl AnyExecutor<'e>,
    account_id: &str,
    client_id: Option<&str>,
    now: i64,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE oauth_grants SET revoked_at = $1 WHERE account_id = $2 AND revoked_at IS NULL \
         AND ($3 IS NULL OR client_id = $3)",
    )
    .bind(now)
    .bind(account_id)
    .bind(client_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

pub async fn insert_refresh_token<'e>(
    db: impl AnyExecutor<'e>,
    token_hash: &str,
    grant_id: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO oauth_refresh_tokens (token_hash, grant_id, created_at) VALUES ($1, $2, $3)")
        .bind(token_hash)
        .bind(grant_id)
        .bind(now)
        .execute(db)
        .await
        .map(|_| ())
}

/// A refresh token with its grant: (grant, used_at of this token).
pub async fn find_refresh_token<'e>(
    db: impl AnyExecutor<'e>,
    token_hash: &str,
) -> Result<Option<(GrantRow, Option<i64>)>, sqlx::Error> {
    let row: Option<RefreshJoin> = sqlx::query_as(
        "SELECT g.id, g.account_id, g.client_id, g.scopes, g.auth_time, g.amr, g.sid, g.created_at, g.expires_at, \
         g.last_used_at, g.revoked_at, t.used_at AS token_used_at \
         FROM oauth_refresh_tokens t JOIN oauth_grants g ON g.id = t.grant_id WHERE t.token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| (r.grant, r.token_used_at)))
}

#[derive(FromRow)]
struct RefreshJoin {
    #[sqlx(flatten)]
    grant: GrantRow,
    token_used_at: Option<i64>,
}

/// Marks the token used (rotated); `false` when it was used already (a concurrent rotation won).
pub async fn use_refresh_token<'e>(db: impl AnyExecutor<'e>, token_hash: &str, now: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE oauth_refresh_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL")
        .bind(now)
        .bind(token_hash)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

// ---- revoked access tokens ----

pub async fn revoke_access_token<'e>(db: impl AnyExecutor<'e>, jti: &str, expires_at: i64) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO oauth_revoked_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING")
        .bind(jti)
        .bind(expires_at)
        .execute(db)
        .await
        .map(|_| ())
}

pub async fn access_token_revoked<'e>(db: impl AnyExecutor<'e>, jti: &str) -> Result<bool, sqlx::Error> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT jti FROM oauth_revoked_tokens WHERE jti = $1").bind(jti).fetch_optional(db).await?;
    Ok(row.is_some())
}

/// Forgets revocations of tokens that have expired anyway.
pub async fn delete_expired_revocations<'e>(db: impl AnyExecutor<'e>, now: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM oauth_revoked_tokens WHERE expires_at < $1")
        .bind(now)
        .execute(db)
        .await?
        .rows_affected())
}
