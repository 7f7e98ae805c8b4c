//! The `throttle` table: failure counters. Increments are single statements, so concurrent failures each
//! count (50 parallel wrong guesses make 50).

use sqlx::AnyExecutor;

/// Adds one failure to `key` and returns the new count. Counts older than `window_start` restart at 1.
pub async fn add_failure<'e>(
    db: impl AnyExecutor<'e>,
    key: &str,
    now: i64,
    window_start: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO throttle (key, failures, last_failure_at) VALUES ($1, 1, $2) \
         ON CONFLICT (key) DO UPDATE SET \
           failures = CASE WHEN throttle.last_failure_at < $3 THEN 1 ELSE throttle.failures + 1 END, \
           last_failure_at = $2 \
         RETURNING failures",
    )
    .bind(key)
    .bind(now)
    .bind(window_start)
    .fetch_one(db)
    .await
}

/// `(failures, last_failure_at)` for `key`, if it has failures.
pub async fn get<'e>(db: impl AnyExecutor<'e>, key: &str) -> Result<Option<(i64, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT failures, last_failure_at FROM throttle WHERE key = $1").bind(key).fetch_optional(db).await
}

pub async fn clear<'e>(db: impl AnyExecutor<'e>, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM throttle WHERE key = $1").bind(key).execute(db).await.map(|_| ())
}
