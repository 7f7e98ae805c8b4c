//! The last step of account recovery: a new password, once the address (and the second factor, when the
//! account has one) proved it is the owner. The web layer enforces that order; this sets the password and
//! ends everything signed in with the old one.

use serde_json::json;

use super::{AccountError, Deps, Notice};
use crate::core::audit::{self, Event, RequestMeta};
use crate::core::passwords::policy::{self, PasswordContext};
use crate::core::throttle;
use crate::db::{accounts, sessions, verifications};

/// Sets `password` (same rules as at sign-up) as the account's password, voids every open code and link
/// of the account, ends all its sessions and clears its password throttle. Returns the notice for its
/// owner. Refresh tokens join the sessions here when the OAuth provider issues them.
pub async fn reset_password(
    deps: &Deps<'_>,
    account_id: &str,
    password: &str,
    meta: &RequestMeta,
    now: i64,
) -> Result<Notice, AccountError> {
    let account = accounts::find_by_id(&deps.db.pool, account_id).await?.ok_or(AccountError::InvalidCode)?;
    let password = policy::check(password, &PasswordContext { email: &account.email, only_factor: true })
        .map_err(AccountError::Password)?;
    let hash = deps.hasher.hash(&password).await?;
    let mut tx = deps.db.pool.begin().await?;
    accounts::set_password_hash(&mut *tx, account_id, &hash, now).await?;
    verifications::void_all(&mut *tx, account_id, now).await?;
    let ended = sessions::delete_for_account(&mut *tx, account_id).await?;
    tx.commit().await?;
    throttle::clear(deps.db, &throttle::Key::email(&account.email)).await?;
    audit::record(deps.db, Event::PasswordReset, Some(account_id), meta, json!({"sessions_ended": ended}), now).await?;
    Ok(Notice::PasswordReset { to: account.email, from: crate::core::user_agent::describe(meta) })
}
