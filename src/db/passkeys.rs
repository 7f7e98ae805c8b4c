//! The `webauthn_credentials` table: passkeys. Holds public keys and counters only; nothing secret.

use sqlx::{AnyExecutor, FromRow};

#[derive(Clone, Debug, FromRow)]
pub struct PasskeyRow {
    pub id: String,
    pub account_id: String,
    /// base64url of the credential id.
    pub credential_id: String,
    pub name: String,
    pub aaguid: Option<String>,
    /// webauthn-rs `Passkey` as JSON.
    pub credential: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

const COLUMNS: &str = "id, account_id, credential_id, name, aaguid, credential, created_at, last_used_at";

/// Inserts the credential; `false` when its credential id is already registered (to anyone).
pub async fn insert<'e>(db: impl AnyExecutor<'e>, row: &PasskeyRow) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(&format!(
        "INSERT INTO webauthn_credentials ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (credential_id) DO NOTHING"
    ))
    .bind(&row.id)
    .bind(&row.account_id)
    .bind(&row.credential_id)
    .bind(&row.name)
    .bind(row.aaguid.as_deref())
    .bind(&row.credential)
    .bind(row.created_at)
    .bind(row.last_used_at)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The account's passkeys, oldest first.
pub async fn for_account<'e>(db: impl AnyExecutor<'e>, account_id: &str) -> Result<Vec<PasskeyRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM webauthn_credentials WHERE account_id = $1 ORDER BY created_at, id"))
        .bind(account_id)
        .fetch_all(db)
        .await
}

pub async fn find_by_credential_id<'e>(
    db: impl AnyExecutor<'e>,
    credential_id: &str,
) -> Result<Option<PasskeyRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM webauthn_credentials WHERE credential_id = $1"))
        .bind(credential_id)
        .fetch_optional(db)
        .await
}

pub async fn count_for_account<'e>(db: impl AnyExecutor<'e>, account_id: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM webauthn_credentials WHERE account_id = $1")
        .bind(account_id)
        .fetch_one(db)
        .await
}

/// Stores the credential after a sign-in (new counter, backup state) and when it was used. `false` when
/// the stored counter is already at or above `counter` (non-zero): a parallel sign-in with a clone of the
/// credential got there first, and this one must be refused.
pub async fn record_use<'e>(
    db: impl AnyExecutor<'e>,
    id: &str,
    credential: &str,
    counter: i64,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE webauthn_credentials SET credential = $2, sign_count = $3, last_used_at = $4 \
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

/// Renames one of the account's passkeys; `false` when the account has no such passkey.
pub async fn rename<'e>(db: impl AnyExecutor<'e>, account_id: &str, id: &str, name: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE webauthn_credentials SET name = $3 WHERE id = $2 AND account_id = $1")
        .bind(account_id)
        .bind(id)
        .bind(name)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes one of the account's passkeys; `false` when the account has no such passkey.
pub async fn delete<'e>(db: impl AnyExecutor<'e>, account_id: &str, id: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM webauthn_credentials WHERE id = $2 AND account_id = $1")
        .bind(account_id)
        .bind(id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes every passkey of the account (the pre-hijack defence: whoever set up an unverified account
/// with someone else's address loses its ways in when the owner verifies).
pub async fn delete_all_for_account<'e>(db: impl AnyExecutor<'e>, account_id: &str) -> Result<u64, sqlx::Error> {
    let done =
        sqlx::query("DELETE FROM webauthn_credentials WHERE account_id = $1").bind(account_id).execute(db).await?;
    Ok(done.rows_affected())
}
