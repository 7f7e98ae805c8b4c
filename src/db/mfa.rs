//! The `totp_factors` and `recovery_codes` tables: second factors. Seeds are sealed and codes hashed
//! before they reach these functions.

use sqlx::{AnyExecutor, FromRow};

/// An authenticator app: confirmed, or an enrolment waiting for its first code.
#[derive(Clone, FromRow)]
pub struct TotpRow {
    pub account_id: String,
    pub sealed_secret: String,
    pub key_id: String,
    pub created_at: i64,
    pub confirmed_at: Option<i64>,
    pub last_used_step: Option<i64>,
}

impl std::fmt::Debug for TotpRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpRow").field("account_id", &self.account_id).finish_non_exhaustive()
    }
}

pub async fn totp_for_account<'e>(db: impl AnyExecutor<'e>, account_id: &str) -> Result<Option<TotpRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT account_id, sealed_secret, key_id, created_at, confirmed_at, last_used_step \
         FROM totp_factors WHERE account_id = $1",
    )
    .bind(account_id)
    .fetch_optional(db)
    .await
}

/// Starts (or restarts) an enrolment; `false` when the account already has a confirmed app, which is
/// left untouched.
pub async fn put_pending_totp<'e>(
    db: impl AnyExecutor<'e>,
    account_id: &str,
    sealed_secret: &str,
    key_id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO totp_factors (account_id, sealed_secret, key_id, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (account_id) DO UPDATE SET sealed_secret = excluded.sealed_secret, \
           key_id = excluded.key_id, created_at = excluded.created_at, last_used_step = NULL \
         WHERE totp_factors.confirmed_at IS NULL",
    )
    .bind(account_id)
    .bind(sealed_secret)
    .bind(key_id)
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes the enrolments that never got their first code and were started before `created_before`;
/// returns how many.
pub async fn delete_pending_totp_before<'e>(db: impl AnyExecutor<'e>, created_before: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM totp_factors WHERE confirmed_at IS NULL AND created_at < $1")
        .bind(created_before)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

/// Records that a code of `step` was accepted (and confirms a pending enrolment). `false` when a code of
/// this step or a later one was already accepted: the replay check, safe against two requests racing.
pub async fn accept_totp_step<'e>(
    db: impl AnyExecutor<'e>,
    account_id: &str,
    step: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE totp_factors SET last_used_step = $2, confirmed_at = COALESCE(confirmed_at, $3) \
         WHERE account_id = $1 AND (last_used_step IS NULL OR last_used_step < $2)",
    )
    .bind(account_id)
    .bind(step)
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Re-seals a seed under another key (key rotation).
pub async fn reseal_totp<'e>(
    db: impl AnyExecutor<'e>,
    account_id: &str,
    sealed_secret: &str,
    key_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE totp_factors SET sealed_secret = $2, key_id = $3 WHERE account_id = $1")
        .bind(account_id)
        .bind(sealed_secret)
        .bind(key_id)
        .execute(db)
        .await
        .map(|_| ())
}

/// Every seed not sealed under `key_id` (for `vestibule mfa reseal`).
pub async fn totp_not_under_key<'e>(db: impl AnyExecutor<'e>, key_id: &str) -> Result<Vec<TotpRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT account_id, sealed_secret, key_id, created_at, confirmed_at, last_used_step \
         FROM totp_factors WHERE key_id <> $1",
    )
    .bind(key_id)
    .fetch_all(db)
    .await
}

pub async fn delete_totp<'e>(db: impl AnyExecutor<'e>, account_id: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM totp_factors WHERE account_id = $1").bind(account_id).execute(db).await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete_recovery_codes<'e>(db: impl AnyExecutor<'e>, account_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM recovery_codes WHERE account_id = $1").bind(account_id).execute(db).await.map(|_| ())
}

pub async fn insert_recovery_code<'e>(
    db: impl AnyExecutor<'e>,
    id: &str,
    account_id: &str,
    code_hash: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO recovery_codes (id, account_id, code_hash, created_at) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(account_id)
        .bind(code_hash)
        .bind(now)
        .execute(db)
        .await
        .map(|_| ())
}

/// Marks the account's unused code with this hash as used; `false` when there is none (wrong, used, or
/// another account's). One statement, so two requests cannot both use a code.
pub async fn use_recovery_code<'e>(
    db: impl AnyExecutor<'e>,
    account_id: &str,
    code_hash: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE recovery_codes SET used_at = $3 WHERE account_id = $1 AND code_hash = $2 AND used_at IS NULL",
    )
    .bind(account_id)
    .bind(code_hash)
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How many unused recovery codes the account has.
pub async fn unused_recovery_codes<'e>(db: impl AnyExecutor<'e>, account_id: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM recovery_codes WHERE account_id = $1 AND used_at IS NULL")
        .bind(account_id)
        .fetch_one(db)
        .await
}

/// A security key registered as a second factor.
#[derive(Clone, Debug, FromRow)]
pub struct SecurityKeyRow {
    pub id: String,
    pub account_id: String,
    pub credential_id: String,
    pub name: String,
    /// webauthn-rs `SecurityKey` as JSON (public key and counter; nothing secret).
    pub credential: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

const KEY_COLUMNS: &str = "id, account_id, credential_id, name, credential, created_at, last_used_at";

/// Inserts the key; `false` when its credential id is already registered.
pub async fn insert_security_key<'e>(db: impl AnyExecutor<'e>, row: &SecurityKeyRow) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(&format!(
        "INSERT INTO security_keys ({KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (credential_id) DO NOTHING"
    ))
    .bind(&row.id)
    .bind(&row.account_id)
    .bind(&row.credential_id)
    .bind(&row.name)
    .bind(&row.credential)
    .bind(row.created_at)
    .bind(row.last_used_at)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The account's security keys, oldest first.
pub async fn security_keys_for_account<'e>(
    db: impl AnyExecutor<'e>,
    account_id: &str,
) -> Result<Vec<SecurityKeyRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {KEY_COLUMNS} FROM security_keys WHERE account_id = $1 ORDER BY created_at, id"))
        .bind(account_id)
        .fetch_all(db)
        .await
}

pub async fn count_security_keys<'e>(db: impl AnyExecutor<'e>, account_id: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM security_keys WHERE account_id = $1").bind(account_id).fetch_one(db).await
}

/// Stores the key after a use; `false` when its counter did not grow past the stored one (a cloned key,
/// or a parallel use won the race). Keys without a counter report 0 and are always stored.
pub async fn record_security_key_use<'e>(
    db: impl AnyExecutor<'e>,
    id: &str,
    credential: &str,
    counter: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE security_keys SET credential = $2, sign_count = $3, last_used_at = $4 \
         WHERE id = $1 AND ($3 = 0 OR sign_count < $3)",
    )
    .bind(id)
    .bind(credential)
    .bind(counter)
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes one of the account's keys; its name when there was one.
pub async fn delete_security_key<'e>(
    db: impl AnyExecutor<'e>,
    account_id: &str,
    id: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("DELETE FROM security_keys WHERE id = $2 AND account_id = $1 RETURNING name")
        .bind(account_id)
        .bind(id)
        .fetch_optional(db)
        .await
}

/// The account's recovery codes as (created_at of the set, how many, how many unused); `None` without any.
pub async fn recovery_code_summary<'e>(
    db: impl AnyExecutor<'e>,
    account_id: &str,
) -> Result<Option<(i64, i64, i64)>, sqlx::Error> {
    let (created_at, total, unused): (Option<i64>, i64, i64) = sqlx::query_as(
        "SELECT MIN(created_at), COUNT(*), COALESCE(SUM(CASE WHEN used_at IS NULL THEN 1 ELSE 0 END), 0) \
         FROM recovery_codes WHERE account_id = $1",
    )
    .bind(account_id)
    .fetch_one(db)
    .await?;
    Ok(created_at.map(|at| (at, total, unused)))
}
