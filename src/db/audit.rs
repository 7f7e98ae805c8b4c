//! The `audit_events` table: append-only (triggers refuse UPDATE and DELETE).

use std::sync::LazyLock;

use sqlx::{AnyExecutor, FromRow};

#[derive(Clone, Debug, FromRow)]
pub struct AuditRow {
    pub id: String,
    pub at: i64,
    pub kind: String,
    pub account_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub operation_id: Option<String>,
    pub detail: Option<String>,
}

const COLUMNS: &str = "id, at, kind, account_id, ip, user_agent, operation_id, detail";

/// The INSERT of one row, written once (`COLUMNS` is a constant, but `concat!` takes only literals).
static INSERT: LazyLock<String> =
    LazyLock::new(|| format!("INSERT INTO audit_events ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"));

pub async fn insert<'e>(db: impl AnyExecutor<'e>, row: &AuditRow) -> Result<(), sqlx::Error> {
    bind(sqlx::query(INSERT.as_str()), row).execute(db).await.map(|_| ())
}

/// An INSERT of one row whose values are the query's parameters `$first` to `$first + 7` (bound by
/// `bind`, after the `first - 1` before them), written only when `condition` holds.
pub(super) fn insert_where(first: usize, condition: &str) -> String {
    let values = (first..first + 8).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ");
    format!("INSERT INTO audit_events ({COLUMNS}) SELECT {values} WHERE {condition}")
}

/// Binds `row`'s values, in `COLUMNS` order, after the query's other parameters.
pub(super) fn bind<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    row: &'q AuditRow,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    query
        .bind(&row.id)
        .bind(row.at)
        .bind(&row.kind)
        .bind(row.account_id.as_deref())
        .bind(row.ip.as_deref())
        .bind(row.user_agent.as_deref())
        .bind(row.operation_id.as_deref())
        .bind(row.detail.as_deref())
}

/// Events of one account, newest first.
pub async fn for_account<'e>(
    db: impl AnyExecutor<'e>,
    account_id: &str,
    limit: i64,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM audit_events WHERE account_id = $1 ORDER BY id DESC LIMIT $2"))
        .bind(account_id)
        .bind(limit)
        .fetch_all(db)
        .await
}

/// Events of one account older than the event `before` (ids sort by time), newest first.
pub async fn for_account_before<'e>(
    db: impl AnyExecutor<'e>,
    account_id: &str,
    before: &str,
    limit: i64,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM audit_events WHERE account_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
    ))
    .bind(account_id)
    .bind(before)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Whether the account has an event of `kind` from `user_agent`.
pub async fn exists_with_user_agent<'e>(
    db: impl AnyExecutor<'e>,
    account_id: &str,
    kind: &str,
    user_agent: &str,
) -> Result<bool, sqlx::Error> {
    // COUNT(*) is a 64-bit integer on both backends (a bare `SELECT 1` is not)
    let found: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE account_id = $1 AND kind = $2 AND user_agent = $3")
            .bind(account_id)
            .bind(kind)
            .bind(user_agent)
            .fetch_one(db)
            .await?;
    Ok(found > 0)
}

/// Every event of a kind, newest first (tests and, later, the admin views).
pub async fn by_kind<'e>(db: impl AnyExecutor<'e>, kind: &str, limit: i64) -> Result<Vec<AuditRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM audit_events WHERE kind = $1 ORDER BY id DESC LIMIT $2"))
        .bind(kind)
        .bind(limit)
        .fetch_all(db)
        .await
}

/// Every event of one account, oldest first (the account's data export).
pub async fn all_for_account<'e>(db: impl AnyExecutor<'e>, account_id: &str) -> Result<Vec<AuditRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM audit_events WHERE account_id = $1 ORDER BY id"))
        .bind(account_id)
        .fetch_all(db)
        .await
}

/// The account's newest event of kind `a` or `b`, as (kind, at).
pub async fn latest_of_kinds<'e>(
    db: impl AnyExecutor<'e>,
    account_id: &str,
    a: &str,
    b: &str,
) -> Result<Option<(String, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT kind, at FROM audit_events WHERE account_id = $1 AND kind IN ($2, $3) ORDER BY id DESC LIMIT 1",
    )
    .bind(account_id)
    .bind(a)
    .bind(b)
    .fetch_optional(db)
    .await
}

/// Turns every event of the account into a pseudonymous stub: the account id replaced by `pseudonym`
/// ("erased:…"), IP, user agent and detail removed. The only update the table's trigger allows.
pub async fn stub_for_account<'e>(
    db: impl AnyExecutor<'e>,
    account_id: &str,
    pseudonym: &str,
) -> Result<u64, sqlx::Error> {
    sqlx::query(
        "UPDATE audit_events SET account_id = $2, ip = NULL, user_agent = NULL, detail = NULL WHERE account_id = $1",
    )
    .bind(account_id)
    .bind(pseudonym)
    .execute(db)
    .await
    .map(|r| r.rows_affected())
}
