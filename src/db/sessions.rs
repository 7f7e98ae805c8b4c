//! The `sessions` table behind tower-sessions. Rows are keyed by the SHA-256 of the session id, so a copy of
//! the database does not hand out live sessions.

use sqlx::{AnyConnection, AnyExecutor, Row};

use super::Backend;

/// A stored session as the store reads it back.
pub struct SessionRow {
    pub data: String,
    pub expires_at: i64,
}

pub struct NewSession<'a> {
    pub id_hash: &'a str,
    pub data: &'a str,
    pub expires_at: i64,
    pub account_id: Option<&'a str>,
    pub now: i64,
}

/// The new row's INSERT, written once for `INSERT` and `INSERT_REPLACING` (`concat!` takes literals only).
macro_rules! insert_sql {
    () => {
        "INSERT INTO sessions (id_hash, data, expires_at, account_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (id_hash) DO NOTHING"
    };
}
const INSERT: &str = insert_sql!();
const INSERT_REPLACING: &str = concat!(insert_sql!(), "; DELETE FROM sessions WHERE id_hash = $6 AND changes() = 1");

/// Inserts a new row; `false` when the id is taken (the caller draws another).
pub async fn insert<'e>(db: impl AnyExecutor<'e>, s: &NewSession<'_>) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(INSERT).bind(s.id_hash).bind(s.data).bind(s.expires_at).bind(s.account_id).bind(s.now);
    Ok(done.execute(db).await?.rows_affected() == 1)
}

/// Inserts a new row that replaces the row `old_id_hash` (a session whose id was rotated), deleting the old
/// row only once the new one is in; `false` when the new id is taken (nothing changed, the caller draws
/// another). On SQLite both statements go to the connection in one request, as the passkey counter and its
/// event do (`passkeys::record_use_and_event`); `changes()` is what the INSERT changed.
pub async fn insert_replacing(
    conn: &mut AnyConnection,
    backend: Backend,
    s: &NewSession<'_>,
    old_id_hash: &str,
) -> Result<bool, sqlx::Error> {
    if backend == Backend::Postgres {
        let inserted = insert(&mut *conn, s).await?;
        if inserted {
            delete(&mut *conn, old_id_hash).await?;
        }
        return Ok(inserted);
    }
    let query =
        sqlx::query(INSERT_REPLACING).bind(s.id_hash).bind(s.data).bind(s.expires_at).bind(s.account_id).bind(s.now);
    // the insert's one row, and the old row when it was still there
    Ok(query.bind(old_id_hash).execute(conn).await?.rows_affected() >= 1)
}

/// Updates data and expiry, inserting the row if it vanished meanwhile.
pub async fn upsert<'e>(db: impl AnyExecutor<'e>, s: &NewSession<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sessions (id_hash, data, expires_at, account_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5) \
         ON CONFLICT (id_hash) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at, \
         account_id = excluded.account_id, updated_at = excluded.updated_at",
    )
    .bind(s.id_hash)
    .bind(s.data)
    .bind(s.expires_at)
    .bind(s.account_id)
    .bind(s.now)
    .execute(db)
    .await
    .map(|_| ())
}

/// The live row for `id_hash`: not past its idle expiry and created after `created_after` (the absolute
/// lifetime).
pub async fn find_live<'e>(
    db: impl AnyExecutor<'e>,
    id_hash: &str,
    now: i64,
    created_after: i64,
) -> Result<Option<SessionRow>, sqlx::Error> {
    let row =
        sqlx::query("SELECT data, expires_at FROM sessions WHERE id_hash = $1 AND expires_at > $2 AND created_at > $3")
            .bind(id_hash)
            .bind(now)
            .bind(created_after)
            .fetch_optional(db)
            .await?;
    row.map(|r| Ok(SessionRow { data: r.try_get(0)?, expires_at: r.try_get(1)? })).transpose()
}

pub async fn delete<'e>(db: impl AnyExecutor<'e>, id_hash: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash).execute(db).await.map(|_| ())
}

/// Removes rows past their idle expiry or their absolute lifetime; returns how many.
pub async fn delete_expired<'e>(db: impl AnyExecutor<'e>, now: i64, created_before: i64) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR created_at <= $2")
        .bind(now)
        .bind(created_before)
        .execute(db)
        .await
        .map(|r| r.rows_affected())
}

/// Ends every session of an account (password replaced, account disabled or deleted).
pub async fn delete_for_account<'e>(db: impl AnyExecutor<'e>, account_id: &str) -> Result<u64, sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE account_id = $1")
        .bind(account_id)
        .execute(db)
        .await
        .map(|r| r.rows_affected())
}

/// A live session of an account, as the sessions page lists it (`data` is the session's JSON).
#[derive(sqlx::FromRow)]
pub struct AccountSessionRow {
    pub id_hash: String,
    pub data: String,
    pub created_at: i64,
}

/// The account's live sessions (not expired, not past the absolute lifetime), oldest first.
pub async fn live_for_account<'e>(
    db: impl AnyExecutor<'e>,
    account_id: &str,
    now: i64,
    created_after: i64,
) -> Result<Vec<AccountSessionRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id_hash, data, created_at FROM sessions \
         WHERE account_id = $1 AND expires_at > $2 AND created_at > $3 ORDER BY created_at, id_hash",
    )
    .bind(account_id)
    .bind(now)
    .bind(created_after)
    .fetch_all(db)
    .await
}

/// Ends one session of the account, returning its data; `None` when it has no such session.
pub async fn delete_of_account<'e>(
    db: impl AnyExecutor<'e>,
    account_id: &str,
    id_hash: &str,
) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(String,)> =
        sqlx::query_as("DELETE FROM sessions WHERE account_id = $1 AND id_hash = $2 RETURNING data")
            .bind(account_id)
            .bind(id_hash)
            .fetch_optional(db)
            .await?;
    Ok(row.map(|(data,)| data))
}

/// Ends every session of the account except `keep`; returns the data of those ended (what they had signed
/// in to is in there: the apps are told).
pub async fn delete_others_of_account<'e>(
    db: impl AnyExecutor<'e>,
    account_id: &str,
    keep: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<(String,)> =
        sqlx::query_as("DELETE FROM sessions WHERE account_id = $1 AND id_hash <> $2 RETURNING data")
            .bind(account_id)
            .bind(keep)
            .fetch_all(db)
            .await?;
    Ok(rows.into_iter().map(|(data,)| data).collect())
}

/// Deletes every session whose data holds `text` as a JSON string (an address a browser typed into a
/// sign-in or recovery that no account column records); returns how many.
pub async fn delete_mentioning<'e>(db: impl AnyExecutor<'e>, text: &str) -> Result<u64, sqlx::Error> {
    let quoted = serde_json::Value::from(text).to_string();
    let pattern = format!("%{}%", crate::db::throttle::like_escaped(&quoted));
    sqlx::query("DELETE FROM sessions WHERE data LIKE $1 ESCAPE '\\'")
        .bind(pattern)
        .execute(db)
        .await
        .map(|r| r.rows_affected())
}
