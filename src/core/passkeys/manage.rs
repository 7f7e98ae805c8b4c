//! Listing, renaming and removing an account's passkeys, and dropping its password once passkeys are
//! enough. Removal never leaves an account without a way to sign in: the check and the change happen in
//! one transaction that first writes the account row, so two parallel removals cannot both pass it.

use serde_json::json;

use super::{aaguid, clean_name, PasskeyError};
use crate::core::accounts::{Deps, Notice};
use crate::core::audit::{self, Event, RequestMeta};
use crate::db::{accounts, passkeys};

/// One passkey as its owner sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasskeySummary {
    pub id: String,
    pub name: String,
    pub authenticator: Option<&'static str>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

pub async fn list(deps: &Deps<'_>, account_id: &str) -> Result<Vec<PasskeySummary>, PasskeyError> {
    let rows = passkeys::for_account(&deps.db.pool, account_id).await?;
    Ok(rows
        .into_iter()
        .map(|r| PasskeySummary {
            authenticator: r.aaguid.as_deref().and_then(aaguid::name),
            id: r.id,
            name: r.name,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
        })
        .collect())
}

pub async fn rename(
    deps: &Deps<'_>,
    account_id: &str,
    passkey_id: &str,
    name: &str,
    meta: &RequestMeta,
    now: i64,
) -> Result<(), PasskeyError> {
    let name = clean_name(name)?;
    if !passkeys::rename(&deps.db.pool, account_id, passkey_id, &name).await? {
        return Err(PasskeyError::NotFound);
    }
    let detail = json!({"passkey": passkey_id, "name": name});
    audit::record(deps.db, Event::PasskeyRenamed, Some(account_id), meta, detail, now).await?;
    Ok(())
}

/// Removes one of the account's passkeys, unless it is the last way to sign in. Returns the notice for the
/// account's address.
pub async fn remove(
    deps: &Deps<'_>,
    account_id: &str,
    passkey_id: &str,
    meta: &RequestMeta,
    now: i64,
) -> Result<Notice, PasskeyError> {
    let mut tx = deps.db.pool.begin().await?;
    let account = lock_account(&mut tx, account_id, now).await?;
    let rows = passkeys::for_account(&mut *tx, account_id).await?;
    let Some(row) = rows.iter().find(|r| r.id == passkey_id) else {
        return Err(PasskeyError::NotFound);
    };
    if account.password_hash.is_none() && rows.len() == 1 {
        return Err(PasskeyError::LastSignInMethod);
    }
    passkeys::delete(&mut *tx, account_id, passkey_id).await?;
    tx.commit().await?;
    let detail = json!({"passkey": passkey_id, "name": row.name});
    audit::record(deps.db, Event::PasskeyRemoved, Some(account_id), meta, detail, now).await?;
    Ok(Notice::PasskeyRemoved { to: account.email, name: row.name.clone() })
}

/// Removes the account's password; it must keep at least one passkey.
pub async fn remove_password(
    deps: &Deps<'_>,
    account_id: &str,
    meta: &RequestMeta,
    now: i64,
) -> Result<Notice, PasskeyError> {
    let mut tx = deps.db.pool.begin().await?;
    let account = lock_account(&mut tx, account_id, now).await?;
    if account.password_hash.is_none() {
        return Err(PasskeyError::NotFound);
    }
    if passkeys::count_for_account(&mut *tx, account_id).await? == 0 {
        return Err(PasskeyError::LastSignInMethod);
    }
    accounts::clear_password(&mut *tx, account_id, now).await?;
    tx.commit().await?;
    audit::record(deps.db, Event::PasswordRemoved, Some(account_id), meta, json!({}), now).await?;
    Ok(Notice::PasswordRemoved { to: account.email })
}

/// Writes the account row first (`accounts::touch` takes its lock until the transaction ends), then reads it.
async fn lock_account(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    account_id: &str,
    now: i64,
) -> Result<accounts::AccountRow, PasskeyError> {
    accounts::touch(&mut **tx, account_id, now).await?;
    accounts::find_by_id(&mut **tx, account_id).await?.ok_or(PasskeyError::NotFound)
}
