//! The `accounts` table.

use sqlx::{AnyExecutor, FromRow};

/// An account row. Holds the password hash: never serialised, never sent to the browser.
#[derive(Clone, FromRow)]
pub struct AccountRow {
    pub id: String,
    pub email: String,
    pub email_verified_at: Option<i64>,
    pub display_name: Option<String>,
    pub password_hash: Option<String>,
    pub status: String,
    pub created_at: i64,
    /// WebAuthn user handle (random UUID), once the account has had a passkey.
    pub user_handle: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// BCP 47 language tag the owner prefers.
    pub locale: Option<String>,
    /// IANA time zone name.
    pub time_zone: Option<String>,
    /// The operator-defined attributes: a JSON object keyed by attribute key.
    pub attributes: String,
    /// When the owner asked to delete the account; erased at `deletion_due_at` unless a sign-in cancels it.
    pub deletion_requested_at: Option<i64>,
    pub deletion_due_at: Option<i64>,
}

impl std::fmt::Debug for AccountRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountRow").field("id", &self.id).field("status", &self.status).finish_non_exhaustive()
    }
}

const COLUMNS: &str = "id, email, email_verified_at, display_name, password_hash, status, created_at, user_handle, \
     given_name, family_name, locale, time_zone, attributes, deletion_requested_at, deletion_due_at";

pub async fn find_by_email<'e>(db: impl AnyExecutor<'e>, email: &str) -> Result<Option<AccountRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM accounts WHERE email = $1")).bind(email).fetch_optional(db).await
}

pub async fn find_by_id<'e>(db: impl AnyExecutor<'e>, id: &str) -> Result<Option<AccountRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM accounts WHERE id = $1")).bind(id).fetch_optional(db).await
}

pub async fn find_by_user_handle<'e>(
    db: impl AnyExecutor<'e>,
    user_handle: &str,
) -> Result<Option<AccountRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM accounts WHERE user_handle = $1"))
        .bind(user_handle)
        .fetch_optional(db)
        .await
}

pub struct NewAccount<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub display_name: Option<&'a str>,
    pub password_hash: Option<&'a str>,
    pub user_handle: Option<&'a str>,
    pub now: i64,
}

/// Inserts the account; `false` when the email is already taken (a concurrent sign-up won).
pub async fn insert<'e>(db: impl AnyExecutor<'e>, a: &NewAccount<'_>) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO accounts (id, email, display_name, password_hash, user_handle, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 'active', $6, $6) ON CONFLICT (email) DO NOTHING",
    )
    .bind(a.id)
    .bind(a.email)
    .bind(a.display_name)
    .bind(a.password_hash)
    .bind(a.user_handle)
    .bind(a.now)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_password_hash<'e>(
    db: impl AnyExecutor<'e>,
    id: &str,
    hash: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE accounts SET password_hash = $2, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(hash)
        .bind(now)
        .execute(db)
        .await
        .map(|_| ())
}

pub async fn mark_email_verified<'e>(db: impl AnyExecutor<'e>, id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE accounts SET email_verified_at = $2, updated_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(db)
        .await
        .map(|_| ())
}

pub async fn set_status<'e>(db: impl AnyExecutor<'e>, id: &str, status: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE accounts SET status = $2, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(status)
        .bind(now)
        .execute(db)
        .await
        .map(|_| ())
}

/// Gives the account a user handle unless it has one; returns the handle it ends up with.
pub async fn ensure_user_handle(db: &sqlx::AnyPool, id: &str, candidate: &str) -> Result<String, sqlx::Error> {
    sqlx::query("UPDATE accounts SET user_handle = $2 WHERE id = $1 AND user_handle IS NULL")
        .bind(id)
        .bind(candidate)
        .execute(db)
        .await?;
    sqlx::query_scalar::<_, String>("SELECT user_handle FROM accounts WHERE id = $1").bind(id).fetch_one(db).await
}

/// Removes the password (the account signs in with passkeys from now on).
pub async fn clear_password<'e>(db: impl AnyExecutor<'e>, id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE accounts SET password_hash = NULL, updated_at = $2 WHERE id = $1")
        .bind(id)
        .bind(now)
        .execute(db)
        .await
        .map(|_| ())
}

/// Sets `updated_at`. As a transaction's first statement it takes the account row's write lock (a row lock
/// in PostgreSQL, the database write lock in SQLite) until the transaction ends.
pub async fn touch<'e>(db: impl AnyExecutor<'e>, id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE accounts SET updated_at = $2 WHERE id = $1").bind(id).bind(now).execute(db).await.map(|_| ())
}
