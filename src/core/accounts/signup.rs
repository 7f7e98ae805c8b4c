//! Sign-up with email and password, safe against enumeration and account pre-hijacking.

use rand::CryptoRng;
use serde_json::json;

use super::{normalize_email, verify::issue, AccountError, Deps, Notice};
use crate::core::audit::{self, Event, RequestMeta};
use crate::core::passwords::policy::{self, PasswordContext};
use crate::db::accounts::{self, NewAccount};

pub struct SignupInput<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub display_name: Option<&'a str>,
}

/// What the browser is told is the same whether or not the address has an account: "check your mail".
/// Returns the mail to send and, when a message was issued for this browser to complete, its row id
/// (kept in the session: a message that would replace an unverified account's password only works there).
pub async fn signup(
    deps: &Deps<'_>,
    input: &SignupInput<'_>,
    meta: &RequestMeta,
    now: i64,
    rng: &mut impl CryptoRng,
) -> Result<(Notice, Option<String>), AccountError> {
    let email = normalize_email(input.email)?;
    let display_name = input.display_name.map(super::normalize_display_name).transpose()?.flatten();
    let password = policy::check(input.password, &PasswordContext { email: &email, only_factor: true })
        .map_err(AccountError::Password)?;
    // Hash on every path, so an existing address costs the same time as a new one.
    let hash = deps.hasher.hash(&password).await?;

    let existing = match accounts::find_by_email(&deps.db.pool, &email).await? {
        Some(account) => Some(account),
        None => {
            let id = uuid::Uuid::new_v4().to_string();
            let new = NewAccount {
                id: &id,
                email: &email,
                display_name: display_name.as_deref(),
                password_hash: Some(&hash),
                user_handle: None,
                now,
            };
            if accounts::insert(&deps.db.pool, &new).await? {
                audit::record(deps.db, Event::SignUp, Some(&id), meta, json!({}), now).await?;
                let (notice, row_id) = issue(deps, &id, &email, None, now, rng).await?;
                audit::record(deps.db, Event::VerificationSent, Some(&id), meta, json!({}), now).await?;
                return Ok((notice, Some(row_id)));
            }
            // a concurrent sign-up with the same address won the insert
            accounts::find_by_email(&deps.db.pool, &email).await?
        }
    };
    let Some(account) = existing else {
        return Err(AccountError::Db(sqlx::Error::RowNotFound));
    };
    if account.email_verified_at.is_some() {
        audit::record(deps.db, Event::SignUpWithExistingAddress, Some(&account.id), meta, json!({}), now).await?;
        return Ok((Notice::SignUpAttempted { to: email }, None));
    }
    // Unverified account: whoever verifies this message, in this browser, proves they own the address, and
    // their password replaces the one set by the earlier sign-up (which may have been an attacker's).
    audit::record(deps.db, Event::SignUpWithExistingAddress, Some(&account.id), meta, json!({"verified": false}), now)
        .await?;
    let (notice, row_id) = issue(deps, &account.id, &email, Some(&hash), now, rng).await?;
    audit::record(deps.db, Event::VerificationSent, Some(&account.id), meta, json!({}), now).await?;
    Ok((notice, Some(row_id)))
}
