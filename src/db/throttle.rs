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

/// Deletes every counter keyed by one of `subjects` (an address, an account id) after the kind prefix
/// ("email:ann@example.com", "mail:…", "mfa:<id>", …): whatever flows count against an erased account,
/// nothing keyed by it stays. Returns how many went.
pub async fn delete_for_subjects<'e>(db: impl AnyExecutor<'e>, subjects: &[&str]) -> Result<u64, sqlx::Error> {
    if subjects.is_empty() {
        return Ok(0);
    }
    // `%:<subject>` with LIKE's wildcards in the subject escaped (addresses often hold an `_`)
    let patterns: Vec<String> = subjects.iter().map(|s| format!("%:{}", like_escaped(s))).collect();
    let clauses: Vec<String> = (1..=patterns.len()).map(|i| format!("key LIKE ${i} ESCAPE '\\'")).collect();
    let sql = format!("DELETE FROM throttle WHERE {}", clauses.join(" OR "));
    let mut query = sqlx::query(&sql);
    for pattern in &patterns {
        query = query.bind(pattern);
    }
    query.execute(db).await.map(|r| r.rows_affected())
}

/// `text` for a LIKE pattern with `\` as the escape character: matched literally.
pub fn like_escaped(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}
