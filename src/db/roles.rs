//! The `account_roles` table: which accounts hold which role (`core::roles::Role`, stored by name).

use sqlx::{AnyExecutor, FromRow};

/// An account holding a role, with its address (for listings).
#[derive(Clone, Debug, FromRow)]
pub struct RoleHolder {
    pub account_id: String,
    pub email: String,
    pub role: String,
    pub granted_at: i64,
}

/// Gives `account_id` the role; `false` when it already held it (its grant date is kept).
pub async fn grant<'e>(db: impl AnyExecutor<'e>, account_id: &str, role: &str, now: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO account_roles (account_id, role, granted_at) VALUES ($1, $2, $3) \
         ON CONFLICT (account_id, role) DO NOTHING",
    )
    .bind(account_id)
    .bind(role)
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Takes the role away; `false` when the account did not hold it.
pub async fn revoke<'e>(db: impl AnyExecutor<'e>, account_id: &str, role: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM account_roles WHERE account_id = $1 AND role = $2")
        .bind(account_id)
        .bind(role)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether `account_id` holds the role.
pub async fn holds<'e>(db: impl AnyExecutor<'e>, account_id: &str, role: &str) -> Result<bool, sqlx::Error> {
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT granted_at FROM account_roles WHERE account_id = $1 AND role = $2")
            .bind(account_id)
            .bind(role)
            .fetch_optional(db)
            .await?;
    Ok(row.is_some())
}

/// The roles `account_id` holds, with when each was granted, by name.
pub async fn for_account<'e>(db: impl AnyExecutor<'e>, account_id: &str) -> Result<Vec<(String, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT role, granted_at FROM account_roles WHERE account_id = $1 ORDER BY role")
        .bind(account_id)
        .fetch_all(db)
        .await
}

/// Every account holding `role`, by address.
pub async fn holders<'e>(db: impl AnyExecutor<'e>, role: &str) -> Result<Vec<RoleHolder>, sqlx::Error> {
    sqlx::query_as(
        "SELECT r.account_id, a.email, r.role, r.granted_at \
         FROM account_roles r JOIN accounts a ON a.id = r.account_id WHERE r.role = $1 ORDER BY a.email",
    )
    .bind(role)
    .fetch_all(db)
    .await
}
