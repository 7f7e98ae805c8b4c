//! Email verification by code or link (security.md "Recovery and verification").

use rand::CryptoRng;
use serde_json::json;

use super::{normalize_email, AccountError, Deps, Notice};
use crate::core::audit::{self, Event, RequestMeta};
use crate::core::throttle;
use crate::core::tokens::{self, hashes_equal};
use crate::db::verifications::{self, NewVerification, VerificationRow};
use crate::db::{accounts, sessions};

/// The `purpose` of verification messages.
const VERIFY_EMAIL: &str = "verify_email";

/// A completed verification.
#[derive(Debug)]
pub struct Verified {
    pub account_id: String,
    /// The message was issued to this browser's session: sign it in.
    pub same_session: bool,
}

/// Issues a new message for `account_id`, voiding older ones. `pending_password_hash`: the password this
/// message sets when verified (a later sign-up's); `None` keeps the account's password.
pub(crate) async fn issue(
    deps: &Deps<'_>,
    account_id: &str,
    email: &str,
    pending_password_hash: Option<&str>,
    now: i64,
    rng: &mut impl CryptoRng,
) -> Result<(Notice, String), AccountError> {
    let issued = issue_message(deps, account_id, email, VERIFY_EMAIL, pending_password_hash, now, rng).await?;
    let link = format!("{}/verify-email?token={}", deps.settings.public_url.trim_end_matches('/'), issued.link_token);
    Ok((Notice::VerifyEmail { to: email.to_string(), code: issued.code, link }, issued.id))
}

/// A message's secrets, before they are mailed; only their hashes are stored.
pub(super) struct Issued {
    pub id: String,
    pub code: String,
    pub link_token: String,
}

/// Stores a new message of a flow (`purpose`) for the account, voiding the flow's older ones.
pub(super) async fn issue_message(
    deps: &Deps<'_>,
    account_id: &str,
    email: &str,
    purpose: &str,
    pending_password_hash: Option<&str>,
    now: i64,
    rng: &mut impl CryptoRng,
) -> Result<Issued, AccountError> {
    let id = uuid::Uuid::new_v4().to_string();
    let code = tokens::new_code(rng);
    let link_token = tokens::new_link_token(rng);
    let s = deps.settings;
    let mut tx = deps.db.pool.begin().await?;
    verifications::void_purpose(&mut *tx, account_id, purpose, now).await?;
    let row = NewVerification {
        id: &id,
        account_id,
        email,
        code_hash: &deps.key.code_hash(&id, &code),
        link_hash: &deps.key.link_hash(&link_token),
        pending_password_hash,
        purpose,
        code_expires_at: now + s.code_ttl_secs,
        link_expires_at: now + s.link_ttl_secs,
        now,
    };
    verifications::insert(&mut *tx, &row).await?;
    tx.commit().await?;
    Ok(Issued { id, code, link_token })
}

/// Checks a typed code against a message: counts the attempt first (atomically), accepts only while the
/// code is fresh and within `max_code_attempts`, and uses the message up when its attempts are spent.
pub(super) async fn code_matches(
    deps: &Deps<'_>,
    row: &VerificationRow,
    code: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let attempts = verifications::count_attempt(&deps.db.pool, &row.id).await?;
    let fresh = now <= row.code_expires_at && attempts <= deps.settings.max_code_attempts;
    if fresh && hashes_equal(&deps.key.code_hash(&row.id, &code), &row.code_hash) {
        return Ok(true);
    }
    if attempts >= deps.settings.max_code_attempts {
        verifications::consume(&deps.db.pool, &row.id, now).await?; // spent: a new message is needed
    }
    Ok(false)
}

/// Sends a fresh message for an unverified address (at most one per cooldown per address, whether or not it
/// has an account, so the answer reveals nothing). Keeps the pending password of the session's message.
pub async fn resend(
    deps: &Deps<'_>,
    email: &str,
    session_row: Option<&str>,
    meta: &RequestMeta,
    now: i64,
    rng: &mut impl CryptoRng,
) -> Result<Option<(Notice, String)>, AccountError> {
    let email = normalize_email(email)?;
    let key = throttle::Key { key: format!("resend:{email}"), policy: RESEND };
    if let Some(wait) = throttle::retry_after(deps.db, std::slice::from_ref(&key), now).await? {
        return Err(AccountError::ResendCooldown(wait));
    }
    throttle::record_failure(deps.db, std::slice::from_ref(&key), now).await?;
    let Some(account) = accounts::find_by_email(&deps.db.pool, &email).await? else {
        return Ok(None);
    };
    if account.email_verified_at.is_some() {
        return Ok(None);
    }
    let latest = verifications::latest_open(&deps.db.pool, &account.id, VERIFY_EMAIL).await?;
    let pending = latest.filter(|row| Some(row.id.as_str()) == session_row).and_then(|row| row.pending_password_hash);
    let issued = issue(deps, &account.id, &email, pending.as_deref(), now, rng).await?;
    audit::record(deps.db, Event::VerificationSent, Some(&account.id), meta, json!({"resend": true}), now).await?;
    Ok(Some(issued))
}

/// Every resend counts; after the first, each waits at least a minute (doubling up to an hour).
const RESEND: throttle::ThrottlePolicy =
    throttle::ThrottlePolicy { free_failures: 0, base_delay_secs: 60, max_delay_secs: 3600, window_secs: 24 * 3600 };

/// Verifies by the 6-digit code sent to `email`. At most `max_code_attempts` tries per message.
pub async fn verify_code(
    deps: &Deps<'_>,
    email: &str,
    code: &str,
    session_row: Option<&str>,
    meta: &RequestMeta,
    now: i64,
) -> Result<Verified, AccountError> {
    let email = normalize_email(email).map_err(|_| AccountError::InvalidCode)?;
    let Some(account) = accounts::find_by_email(&deps.db.pool, &email).await? else {
        return Err(AccountError::InvalidCode);
    };
    let Some(row) = verifications::latest_open(&deps.db.pool, &account.id, VERIFY_EMAIL).await? else {
        return Err(AccountError::InvalidCode);
    };
    if !code_matches(deps, &row, code, now).await? {
        audit::record(deps.db, Event::VerificationFailed, Some(&account.id), meta, json!({"by": "code"}), now).await?;
        return Err(AccountError::InvalidCode);
    }
    complete(deps, row, session_row, meta, now, "code").await
}

/// Verifies by the link token (from a POST: the link's page asks for a click, so mail scanners that open
/// links do not use them up).
pub async fn verify_link(
    deps: &Deps<'_>,
    token: &str,
    session_row: Option<&str>,
    meta: &RequestMeta,
    now: i64,
) -> Result<Verified, AccountError> {
    let Some(row) = verifications::find_open_by_link(&deps.db.pool, &deps.key.link_hash(token), VERIFY_EMAIL).await?
    else {
        return Err(AccountError::InvalidLink);
    };
    if now > row.link_expires_at {
        return Err(AccountError::InvalidLink);
    }
    complete(deps, row, session_row, meta, now, "link").await.map_err(|e| match e {
        AccountError::InvalidCode => AccountError::InvalidLink,
        other => other,
    })
}

async fn complete(
    deps: &Deps<'_>,
    row: VerificationRow,
    session_row: Option<&str>,
    meta: &RequestMeta,
    now: i64,
    by: &str,
) -> Result<Verified, AccountError> {
    let same_session = session_row == Some(row.id.as_str());
    // A message that replaces the password works only in the browser that asked for it: otherwise an
    // attacker's sign-up with your unverified address could hand them your account when you click.
    if row.pending_password_hash.is_some() && !same_session {
        return Err(AccountError::WrongBrowser);
    }
    let mut tx = deps.db.pool.begin().await?;
    if !verifications::consume(&mut *tx, &row.id, now).await? {
        return Err(AccountError::InvalidCode);
    }
    accounts::mark_email_verified(&mut *tx, &row.account_id, now).await?;
    verifications::void_all(&mut *tx, &row.account_id, now).await?;
    if let Some(hash) = &row.pending_password_hash {
        accounts::set_password_hash(&mut *tx, &row.account_id, hash, now).await?;
        sessions::delete_for_account(&mut *tx, &row.account_id).await?;
        crate::core::oidc::grants::revoke_all(&mut *tx, &row.account_id, now).await?;
        crate::db::passkeys::delete_all_for_account(&mut *tx, &row.account_id).await?;
    }
    tx.commit().await?;
    if row.pending_password_hash.is_some() {
        audit::record(deps.db, Event::PreHijackDefence, Some(&row.account_id), meta, json!({}), now).await?;
    }
    audit::record(deps.db, Event::EmailVerified, Some(&row.account_id), meta, json!({"by": by}), now).await?;
    Ok(Verified { account_id: row.account_id, same_session })
}
