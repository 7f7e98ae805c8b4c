//! Sign-in with email and password (security.md "Enumeration, throttling, lockout").

use rand::CryptoRng;
use serde_json::json;

use super::{normalize_email, verify::issue, AccountError, Deps, Notice};
use crate::core::audit::{self, Event, RequestMeta};
use crate::core::passwords::policy;
use crate::core::throttle::{self, Key};
use crate::db::accounts;

pub struct LoginInput<'a> {
    pub email: &'a str,
    pub password: &'a str,
}

#[derive(Debug)]
pub enum LoginOutcome {
    /// Rotate the session id and mark it signed in as this account.
    SignedIn { account_id: String },
    /// Right password, unverified address: a code was sent; the browser continues into verification.
    NeedsVerification { email: String, notice: Notice, row_id: String },
}

/// Unknown address, wrong password, no password, locked or disabled account: all end in
/// `InvalidCredentials`, after the same password-hash work, with the same throttling.
pub async fn login(
    deps: &Deps<'_>,
    input: &LoginInput<'_>,
    meta: &RequestMeta,
    now: i64,
    rng: &mut impl CryptoRng,
) -> Result<LoginOutcome, AccountError> {
    let email = match normalize_email(input.email) {
        Ok(email) => email,
        Err(_) => input.email.trim().to_lowercase(),
    };
    let mut keys = vec![Key::email(&email)];
    if let Some(ip) = &meta.ip {
        keys.push(Key::ip(ip, deps.settings.failures_per_ip_per_day));
    }
    if let Some(wait) = throttle::retry_after(deps.db, &keys, now).await? {
        audit::record(deps.db, Event::SignInThrottled, None, meta, json!({"retry_after": wait}), now).await?;
        return Err(AccountError::Throttled(wait));
    }

    let password = policy::normalize(input.password);
    let account = accounts::find_by_email(&deps.db.pool, &email).await?;
    let (verified, reason) = match account.as_ref().and_then(|a| a.password_hash.as_deref().map(|h| (a, h))) {
        Some((_, hash)) => {
            let v = deps.hasher.verify(&password, hash).await?;
            (Some(v), "wrong_password")
        }
        None => {
            deps.hasher.verify_dummy(&password).await?;
            (None, if account.is_some() { "no_password" } else { "unknown_account" })
        }
    };
    let (Some(account), Some(v)) = (account, verified) else {
        return fail(deps, &keys, None, reason, meta, now).await;
    };
    if !v.ok {
        return fail(deps, &keys, Some(&account.id), reason, meta, now).await;
    }
    if account.status != "active" {
        return fail(deps, &keys, Some(&account.id), &account.status, meta, now).await;
    }
    throttle::clear(deps.db, &keys[0]).await?;
    if v.needs_rehash {
        let rehashed = deps.hasher.hash(&password).await?;
        accounts::set_password_hash(&deps.db.pool, &account.id, &rehashed, now).await?;
        audit::record(deps.db, Event::PasswordRehashed, Some(&account.id), meta, json!({}), now).await?;
    }
    if account.email_verified_at.is_none() && deps.settings.require_verified_email {
        let (notice, row_id) = issue(deps, &account.id, &email, None, now, rng).await?;
        audit::record(deps.db, Event::VerificationSent, Some(&account.id), meta, json!({"at_sign_in": true}), now)
            .await?;
        return Ok(LoginOutcome::NeedsVerification { email, notice, row_id });
    }
    audit::record(deps.db, Event::SignInSucceeded, Some(&account.id), meta, json!({"method": "password"}), now).await?;
    Ok(LoginOutcome::SignedIn { account_id: account.id })
}

async fn fail(
    deps: &Deps<'_>,
    keys: &[Key],
    account_id: Option<&str>,
    reason: &str,
    meta: &RequestMeta,
    now: i64,
) -> Result<LoginOutcome, AccountError> {
    throttle::record_failure(deps.db, keys, now).await?;
    audit::record(deps.db, Event::SignInFailed, account_id, meta, json!({"reason": reason}), now).await?;
    Err(AccountError::InvalidCredentials)
}
