//! The `webauthn_credentials` table: passkeys. Holds public keys and counters only; nothing secret.

use std::sync::LazyLock;

use sqlx::{AnyConnection, AnyExecutor, FromRow, Row};

use super::audit::AuditRow;
use super::Backend;
use crate::db::accounts::AccountRow;

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

/// The credential with its owner's account, in one round trip (the sign-in hot path needs both).
pub async fn find_with_owner<'e>(
    db: impl AnyExecutor<'e>,
    credential_id: &str,
) -> Result<Option<(PasskeyRow, AccountRow)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT c.id, c.account_id, c.credential_id, c.name, c.aaguid, c.credential, c.created_at, c.last_used_at, \
         a.id, a.email, a.email_verified_at, a.display_name, a.password_hash, a.status, a.created_at, a.user_handle, \
         a.given_name, a.family_name, a.locale, a.time_zone, a.attributes, a.deletion_requested_at, a.deletion_due_at \
         FROM webauthn_credentials c JOIN accounts a ON a.id = c.account_id WHERE c.credential_id = $1",
    )
    .bind(credential_id)
    .fetch_optional(db)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let passkey = PasskeyRow {
        id: r.try_get(0)?,
        account_id: r.try_get(1)?,
        credential_id: r.try_get(2)?,
        name: r.try_get(3)?,
        aaguid: r.try_get(4)?,
        credential: r.try_get(5)?,
        created_at: r.try_get(6)?,
        last_used_at: r.try_get(7)?,
    };
    let owner = AccountRow {
        id: r.try_get(8)?,
        email: r.try_get(9)?,
        email_verified_at: r.try_get(10)?,
        display_name: r.try_get(11)?,
        password_hash: r.try_get(12)?,
        status: r.try_get(13)?,
        created_at: r.try_get(14)?,
        user_handle: r.try_get(15)?,
        given_name: r.try_get(16)?,
        family_name: r.try_get(17)?,
        locale: r.try_get(18)?,
        time_zone: r.try_get(19)?,
        attributes: r.try_get(20)?,
        deletion_requested_at: r.try_get(21)?,
        deletion_due_at: r.try_get(22)?,
    };
    Ok(Some((passkey, owner)))
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
    let done = sqlx::query(RECORD_USE).bind(id).bind(credential).bind(counter).bind(now).execute(db).await?;
    Ok(done.rows_affected() == 1)
}

const RECORD_USE: &str = "UPDATE webauthn_credentials SET credential = $2, sign_count = $3, last_used_at = $4 \
                          WHERE id = $1 AND ($3 = 0 OR sign_count < $3)";

/// `RECORD_USE`, then the event's INSERT when it changed the row (SQLite), written once.
static RECORD_USE_AND_EVENT: LazyLock<String> =
    LazyLock::new(|| format!("{RECORD_USE}; {}", super::audit::insert_where(5, "changes() = 1")));

/// `record_use`, and the sign-in's audit event only when the use was stored. On SQLite both statements go
/// to the connection in one request (SQLite runs them in turn; `changes()` is what the UPDATE changed):
/// on the writer connection a second request would queue once more behind everyone else's writes, which
/// made it the sign-in path's bottleneck (docs/benchmarks.md). PostgreSQL, without that queue, gets them
/// one after the other.
pub async fn record_use_and_event(
    conn: &mut AnyConnection,
    backend: Backend,
    id: &str,
    credential: &str,
    counter: i64,
    now: i64,
    event: &AuditRow,
) -> Result<bool, sqlx::Error> {
    if backend == Backend::Postgres {
        let stored = record_use(&mut *conn, id, credential, counter, now).await?;
        if stored {
            super::audit::insert(&mut *conn, event).await?;
        }
        return Ok(stored);
    }
    let query = sqlx::query(RECORD_USE_AND_EVENT.as_str()).bind(id).bind(credential).bind(counter).bind(now);
    let done = super::audit::bind(query, event).execute(conn).await?;
    // one row updated and one inserted, or neither
    Ok(done.rows_affected() == 2)
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
