//! The `oauth_signing_keys` table: token signing keys. `sealed_private` is the PKCS#8 private key sealed
//! under the MFA seal key (`core::oidc::keys` seals and opens it); nothing here is readable without that key.

use sqlx::{AnyExecutor, FromRow};

#[derive(Clone, Debug, FromRow)]
pub struct SigningKeyRow {
    pub kid: String,
    /// The JOSE name: `EdDSA`, `ES256` or `RS256`.
    pub alg: String,
    /// base64 of the sealed PKCS#8 DER, with the `kid` as associated data.
    pub sealed_private: String,
    /// Which seal key sealed it.
    pub seal_key_id: String,
    /// The public JWK as JSON (with `kid`, `alg`, `use`), for operators and tools.
    pub public_jwk: String,
    pub created_at: i64,
    pub retired_at: Option<i64>,
}

const COLUMNS: &str = "kid, alg, sealed_private, seal_key_id, public_jwk, created_at, retired_at";

pub async fn insert<'e>(db: impl AnyExecutor<'e>, row: &SigningKeyRow) -> Result<(), sqlx::Error> {
    sqlx::query(&format!("INSERT INTO oauth_signing_keys ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"))
        .bind(&row.kid)
        .bind(&row.alg)
        .bind(&row.sealed_private)
        .bind(&row.seal_key_id)
        .bind(&row.public_jwk)
        .bind(row.created_at)
        .bind(row.retired_at)
        .execute(db)
        .await
        .map(|_| ())
}

/// Every key not retired, newest first within each algorithm: the first of an algorithm signs. Ties on
/// `created_at` are broken by `kid` so every process picks the same signing key.
pub async fn non_retired<'e>(db: impl AnyExecutor<'e>) -> Result<Vec<SigningKeyRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM oauth_signing_keys WHERE retired_at IS NULL ORDER BY alg, created_at DESC, kid"
    ))
    .fetch_all(db)
    .await
}

/// Retires every key of `alg` but the newest (same order as `non_retired`); the number retired. Rotation
/// runs this before inserting the new key, so current and previous remain. It is also rotation's first
/// statement because it writes: SQLite then takes the write lock at once (waiting on `busy_timeout`)
/// instead of failing to upgrade a read transaction later.
pub async fn retire_all_but_newest<'e>(db: impl AnyExecutor<'e>, alg: &str, now: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE oauth_signing_keys SET retired_at = $2 WHERE alg = $1 AND retired_at IS NULL AND kid NOT IN \
         (SELECT kid FROM oauth_signing_keys WHERE alg = $1 AND retired_at IS NULL ORDER BY created_at DESC, kid LIMIT 1)",
    )
    .bind(alg)
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// Stores a key sealed again under another seal key.
pub async fn reseal<'e>(
    db: impl AnyExecutor<'e>,
    kid: &str,
    sealed_private: &str,
    seal_key_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE oauth_signing_keys SET sealed_private = $1, seal_key_id = $2 WHERE kid = $3")
        .bind(sealed_private)
        .bind(seal_key_id)
        .bind(kid)
        .execute(db)
        .await
        .map(|_| ())
}
