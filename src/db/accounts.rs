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

/// Inserts the account; `false` when the email is already taken (a concurrent sign-up won). An id that
/// belonged to an erased account is never given out again: the insert fails with a database error (ids are
/// random UUIDs, so this is a rule kept, not a collision expected).
pub async fn insert<'e>(db: impl AnyExecutor<'e>, a: &NewAccount<'_>) -> Result<bool, sqlx::Error> {
    // An erased id becomes NULL, which the primary key's NOT NULL refuses: one statement, so no erasure can
    // slip between a check and the insert, and no migration is needed for the rule.
    let done = sqlx::query(
        "INSERT INTO accounts (id, email, display_name, password_hash, user_handle, status, created_at, updated_at) \
         VALUES (CASE WHEN EXISTS (SELECT 1 FROM erased_accounts WHERE id = $1) THEN NULL ELSE $1 END, \
         $2, $3, $4, $5, 'active', $6, $6) ON CONFLICT (email) DO NOTHING",
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

/// Makes `email` the account's address, confirmed at `now` (its owner just proved it reads it). `false`,
/// changing nothing, when another account has the address, also when a concurrent sign-up or change took
/// it first (the unique index refuses the update).
pub async fn set_verified_email<'e>(
    db: impl AnyExecutor<'e>,
    id: &str,
    email: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE accounts SET email = $2, email_verified_at = $3, updated_at = $3 \
         WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM accounts WHERE email = $2)",
    )
    .bind(id)
    .bind(email)
    .bind(now)
    .execute(db)
    .await;
    match done {
        Ok(done) => Ok(done.rows_affected() == 1),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(false),
        Err(e) => Err(e),
    }
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

/// Whether `id` belonged to an erased account (such ids stay taken for ever).
pub async fn is_erased<'e>(db: impl AnyExecutor<'e>, id: &str) -> Result<bool, sqlx::Error> {
    let found: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM erased_accounts WHERE id = $1").bind(id).fetch_one(db).await?;
    Ok(found > 0)
}

/// Schedules the account's erasure at `due_at`; `false` when there is no such account.
pub async fn schedule_deletion<'e>(
    db: impl AnyExecutor<'e>,
    id: &str,
    requested_at: i64,
    due_at: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE accounts SET deletion_requested_at = $2, deletion_due_at = $3, updated_at = $2 WHERE id = $1",
    )
    .bind(id)
    .bind(requested_at)
    .bind(due_at)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Cancels a scheduled deletion; `false` when none was scheduled (or the account is gone).
pub async fn cancel_deletion<'e>(db: impl AnyExecutor<'e>, id: &str, now: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE accounts SET deletion_requested_at = NULL, deletion_due_at = NULL, updated_at = $2 \
         WHERE id = $1 AND deletion_due_at IS NOT NULL",
    )
    .bind(id)
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// When the account is due for erasure: `None` without such an account, `Some(None)` when no deletion is
/// scheduled. A read, so the sign-in path that asks takes no write lock.
pub async fn deletion_due_at<'e>(db: impl AnyExecutor<'e>, id: &str) -> Result<Option<Option<i64>>, sqlx::Error> {
    sqlx::query_scalar("SELECT deletion_due_at FROM accounts WHERE id = $1").bind(id).fetch_optional(db).await
}

/// The accounts whose erasure is due at `now`, the longest due first.
pub async fn due_for_erasure<'e>(db: impl AnyExecutor<'e>, now: i64) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT id FROM accounts WHERE deletion_due_at IS NOT NULL AND deletion_due_at <= $1 \
         ORDER BY deletion_due_at, id",
    )
    .bind(now)
    .fetch_all(db)
    .await
}

/// As a transaction's first statement: takes the account row's write lock if its erasure is (still) due
/// at `now`; `false` when it is not (a sign-in cancelled it meanwhile, or it is already erased).
pub async fn lock_if_due<'e>(db: impl AnyExecutor<'e>, id: &str, now: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE accounts SET updated_at = $2 WHERE id = $1 AND deletion_due_at IS NOT NULL AND deletion_due_at <= $2",
    )
    .bind(id)
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records the id as erased: taken for ever (see `insert`).
pub async fn mark_erased<'e>(db: impl AnyExecutor<'e>, id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO erased_accounts (id, erased_at) VALUES ($1, $2)")
        .bind(id)
        .bind(now)
        .execute(db)
        .await
        .map(|_| ())
}

/// Deletes the account row; its passkeys, security keys, authenticator app, recovery codes and email
/// messages go with it (ON DELETE CASCADE). `false` when there was none.
pub async fn delete<'e>(db: impl AnyExecutor<'e>, id: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM accounts WHERE id = $1").bind(id).execute(db).await?;
    Ok(done.rows_affected() == 1)
}

/// The profile fields of one account (the attributes as a JSON object).
pub struct ProfileUpdate<'a> {
    pub display_name: Option<&'a str>,
    pub given_name: Option<&'a str>,
    pub family_name: Option<&'a str>,
    pub locale: Option<&'a str>,
    pub time_zone: Option<&'a str>,
    pub attributes: &'a str,
}

/// Writes the profile of account `id`, and only its row.
pub async fn update_profile<'e>(
    db: impl AnyExecutor<'e>,
    id: &str,
    p: &ProfileUpdate<'_>,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE accounts SET display_name = $2, given_name = $3, family_name = $4, locale = $5, time_zone = $6, \
         attributes = $7, updated_at = $8 WHERE id = $1",
    )
    .bind(id)
    .bind(p.display_name)
    .bind(p.given_name)
    .bind(p.family_name)
    .bind(p.locale)
    .bind(p.time_zone)
    .bind(p.attributes)
    .bind(now)
    .execute(db)
    .await
    .map(|_| ())
}
