//! The `email_verifications` table: one row per message with a code and a link, for one flow
//! (`purpose`: "verify_email", "sign_in", "recover" or "change_email"); every lookup names the flow, so a
//! message sent for one can never be used in another.

use sqlx::{AnyExecutor, FromRow};

#[derive(Clone, FromRow)]
pub struct VerificationRow {
    pub id: String,
    pub account_id: String,
    pub email: String,
    pub code_hash: String,
    pub pending_password_hash: Option<String>,
    pub attempts: i64,
    pub code_expires_at: i64,
    pub link_expires_at: i64,
    pub created_at: i64,
}

/// The `purpose` of a message confirming a new address for an account (issue 7's email change): its
/// `email` is the new address, not the account's.
pub const CHANGE_EMAIL: &str = "change_email";

const COLUMNS: &str =
    "id, account_id, email, code_hash, pending_password_hash, attempts, code_expires_at, link_expires_at, created_at";

pub struct NewVerification<'a> {
    pub id: &'a str,
    pub account_id: &'a str,
    pub email: &'a str,
    pub code_hash: &'a str,
    pub link_hash: &'a str,
    pub pending_password_hash: Option<&'a str>,
    pub purpose: &'a str,
    pub code_expires_at: i64,
    pub link_expires_at: i64,
    pub now: i64,
}

pub async fn insert<'e>(db: impl AnyExecutor<'e>, v: &NewVerification<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO email_verifications (id, account_id, email, code_hash, link_hash, pending_password_hash, \
         purpose, attempts, code_expires_at, link_expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9, $10)",
    )
    .bind(v.id)
    .bind(v.account_id)
    .bind(v.email)
    .bind(v.code_hash)
    .bind(v.link_hash)
    .bind(v.pending_password_hash)
    .bind(v.purpose)
    .bind(v.code_expires_at)
    .bind(v.link_expires_at)
    .bind(v.now)
    .execute(db)
    .await
    .map(|_| ())
}

/// Voids every unconsumed message of the account, whatever its flow (the address was verified, the
/// password was reset).
pub async fn void_all<'e>(db: impl AnyExecutor<'e>, account_id: &str, now: i64) -> Result<u64, sqlx::Error> {
    sqlx::query("UPDATE email_verifications SET consumed_at = $2 WHERE account_id = $1 AND consumed_at IS NULL")
        .bind(account_id)
        .bind(now)
        .execute(db)
        .await
        .map(|r| r.rows_affected())
}

/// Voids the account's unconsumed messages of one flow (a newer one is being sent).
pub async fn void_purpose<'e>(
    db: impl AnyExecutor<'e>,
    account_id: &str,
    purpose: &str,
    now: i64,
) -> Result<u64, sqlx::Error> {
    sqlx::query(
        "UPDATE email_verifications SET consumed_at = $3 \
         WHERE account_id = $1 AND purpose = $2 AND consumed_at IS NULL",
    )
    .bind(account_id)
    .bind(purpose)
    .bind(now)
    .execute(db)
    .await
    .map(|r| r.rows_affected())
}

/// The newest unconsumed message of the account in a flow, whatever its expiry.
pub async fn latest_open<'e>(
    db: impl AnyExecutor<'e>,
    account_id: &str,
    purpose: &str,
) -> Result<Option<VerificationRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM email_verifications WHERE account_id = $1 AND purpose = $2 AND consumed_at IS NULL \
         ORDER BY created_at DESC, id DESC LIMIT 1"
    ))
    .bind(account_id)
    .bind(purpose)
    .fetch_optional(db)
    .await
}

/// An unconsumed message of a flow by its id (the id a browser's session remembers).
pub async fn find_open<'e>(
    db: impl AnyExecutor<'e>,
    id: &str,
    purpose: &str,
) -> Result<Option<VerificationRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM email_verifications WHERE id = $1 AND purpose = $2 AND consumed_at IS NULL"
    ))
    .bind(id)
    .bind(purpose)
    .fetch_optional(db)
    .await
}

/// An unconsumed message of a flow by its id, only if it belongs to `account_id` (a row id from one
/// account's session never reaches another account's message).
pub async fn find_open_of_account<'e>(
    db: impl AnyExecutor<'e>,
    id: &str,
    account_id: &str,
    purpose: &str,
) -> Result<Option<VerificationRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM email_verifications \
         WHERE id = $1 AND account_id = $2 AND purpose = $3 AND consumed_at IS NULL"
    ))
    .bind(id)
    .bind(account_id)
    .bind(purpose)
    .fetch_optional(db)
    .await
}

pub async fn find_open_by_link<'e>(
    db: impl AnyExecutor<'e>,
    link_hash: &str,
    purpose: &str,
) -> Result<Option<VerificationRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM email_verifications WHERE link_hash = $1 AND purpose = $2 AND consumed_at IS NULL"
    ))
    .bind(link_hash)
    .bind(purpose)
    .fetch_optional(db)
    .await
}

/// Counts one code attempt atomically; returns the attempts made so far (including this one).
pub async fn count_attempt<'e>(db: impl AnyExecutor<'e>, id: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("UPDATE email_verifications SET attempts = attempts + 1 WHERE id = $1 RETURNING attempts")
        .bind(id)
        .fetch_one(db)
        .await
}

/// Marks the message used; `false` if someone else consumed it first (single use under concurrency).
pub async fn consume<'e>(db: impl AnyExecutor<'e>, id: &str, now: i64) -> Result<bool, sqlx::Error> {
    sqlx::query("UPDATE email_verifications SET consumed_at = $2 WHERE id = $1 AND consumed_at IS NULL")
        .bind(id)
        .bind(now)
        .execute(db)
        .await
        .map(|r| r.rows_affected() == 1)
}

/// One message as the account's data export lists it (never its code or link hash).
#[derive(Clone, Debug, FromRow)]
pub struct MessageSummary {
    pub purpose: String,
    /// The address it went to (the account's, or a new one being confirmed).
    pub email: String,
    pub created_at: i64,
    /// When it was used, voided by a newer one, or used up by wrong attempts.
    pub consumed_at: Option<i64>,
}

/// Every message of the account, oldest first.
pub async fn summaries_for_account<'e>(
    db: impl AnyExecutor<'e>,
    account_id: &str,
) -> Result<Vec<MessageSummary>, sqlx::Error> {
    sqlx::query_as(
        "SELECT purpose, email, created_at, consumed_at FROM email_verifications WHERE account_id = $1 \
         ORDER BY created_at, id",
    )
    .bind(account_id)
    .fetch_all(db)
    .await
}

/// Every address the account's messages went to (its own, and new ones it asked to change to).
pub async fn addresses_for_account<'e>(db: impl AnyExecutor<'e>, account_id: &str) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT DISTINCT email FROM email_verifications WHERE account_id = $1")
        .bind(account_id)
        .fetch_all(db)
        .await
}
