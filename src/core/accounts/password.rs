//! A new password for an account: chosen by the signed-in owner (change, or a first password for an
//! account that had none), or at the end of a recovery, once the address (and the second factor, when the
//! account has one) proved it is the owner (the web layer enforces that order). Either way every open code
//! and link of the account is voided and every session signed in with the old password ends.

use serde_json::json;

use super::{AccountError, Deps, Notice};
use crate::core::audit::{self, Event, RequestMeta};
use crate::core::passwords::policy::{self, PasswordContext};
use crate::core::throttle;
use crate::db::{accounts, sessions, verifications};

/// Sets `password` (same rules as at sign-up) and records `event`: voids every open code and link of the
/// account, ends all its sessions (the caller gives this browser a fresh one) and clears its password
/// throttle. Returns the account's address and whether it had a password before. Refresh tokens join the
/// sessions here when the OAuth provider issues them.
async fn replace_password(
    deps: &Deps<'_>,
    account_id: &str,
    password: &str,
    event: Event,
    meta: &RequestMeta,
    now: i64,
) -> Result<(String, bool), AccountError> {
    let account = accounts::find_by_id(&deps.db.pool, account_id).await?.ok_or(AccountError::InvalidCode)?;
    let password = policy::check(password, &PasswordContext { email: &account.email, only_factor: true })
        .map_err(AccountError::Password)?;
    let hash = deps.hasher.hash(&password).await?;
    let mut tx = deps.db.pool.begin().await?;
    accounts::set_password_hash(&mut *tx, account_id, &hash, now).await?;
    verifications::void_all(&mut *tx, account_id, now).await?;
    let ended = sessions::delete_for_account(&mut *tx, account_id).await?;
    // security.md: a reset ends refresh tokens too
    crate::core::oidc::grants::revoke_all(&mut *tx, account_id, now).await?;
    tx.commit().await?;
    throttle::clear(deps.db, &throttle::Key::email(&account.email)).await?;
    let had_password = account.password_hash.is_some();
    let detail = json!({"sessions_ended": ended, "had_password": had_password});
    audit::record(deps.db, event, Some(account_id), meta, detail, now).await?;
    Ok((account.email, had_password))
}

/// The signed-in owner's new password (the caller checked a recent sign-in). Returns the notice for the
/// owner.
pub async fn change_password(
    deps: &Deps<'_>,
    account_id: &str,
    password: &str,
    meta: &RequestMeta,
    now: i64,
) -> Result<Notice, AccountError> {
    let (to, had_password) = replace_password(deps, account_id, password, Event::PasswordChanged, meta, now).await?;
    Ok(Notice::PasswordChanged { to, from: crate::core::user_agent::describe(meta), first: !had_password })
}

/// The recovered account's new password (the caller checked the recovery's grant). Returns the notice for
/// its owner.
pub async fn reset_password(
    deps: &Deps<'_>,
    account_id: &str,
    password: &str,
    meta: &RequestMeta,
    now: i64,
) -> Result<Notice, AccountError> {
    let (to, _) = replace_password(deps, account_id, password, Event::PasswordReset, meta, now).await?;
    Ok(Notice::PasswordReset { to, from: crate::core::user_agent::describe(meta) })
}
