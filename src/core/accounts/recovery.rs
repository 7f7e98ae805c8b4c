//! The last step of account recovery: a new password, once the address (and the second factor, when the
//! account has one) proved it is the owner. The web layer enforces that order.

use super::password::replace_password;
use super::{AccountError, Deps, Notice};
use crate::core::audit::{Event, RequestMeta};

/// Sets the recovered account's new password and ends everything signed in with the old one (see
/// `replace_password`). Returns the notice for its owner.
pub async fn reset_password(
    deps: &Deps<'_>,
    account_id: &str,
    password: &str,
    meta: &RequestMeta,
    now: i64,
) -> Result<Notice, AccountError> {
    let to = replace_password(deps, account_id, password, Event::PasswordReset, meta, now).await?;
    Ok(Notice::PasswordReset { to, from: crate::core::user_agent::describe(meta) })
}
