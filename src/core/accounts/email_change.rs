//! Changing the account's address (security.md "MFA and passkeys": changing email needs step-up and tells
//! the old channel; "Recovery and verification": a new address stays unconfirmed until its code or link
//! is used, and no client can mark it confirmed).
//!
//! The signed-in owner (the caller checked a recent sign-in) names a new address. A 6-digit code and a link
//! go to it through the machinery of sign-in by email (`issue_message`, `code_matches`, the per-address and
//! per-IP mail limits), as messages of their own purpose, "change_email", whose row holds the new address.
//! The browser that asked keeps the row id; the link alone works only there. Only then, in one
//! transaction, does the new address replace the old one, confirmed; every open code and link of the
//! account (all sent to the old address) stops working, and the old address is told.
//!
//! No enumeration: an address that already has an account gets the same answer on the page (and the same
//! stored message, so the requester's own data look alike too), but its mail says someone asked to move an
//! account there and carries no code, so nothing can complete the change.

use rand::CryptoRng;
use serde_json::{json, Value};

use super::email_codes::mail_keys;
use super::verify::{code_matches, issue_message};
use super::{normalize_email, AccountError, Deps, Notice};
use crate::core::audit::{self, Event, RequestMeta};
use crate::core::throttle;
use crate::db::accounts;
use crate::db::verifications::{self, VerificationRow, CHANGE_EMAIL};

#[derive(Debug, thiserror::Error)]
pub enum EmailChangeError {
    /// The new address is the account's address already.
    #[error("the new address is the account's address")]
    SameAddress,
    /// The new address was free when asked for, but another account took it before the code came back.
    #[error("the address belongs to another account now")]
    AddressTaken,
    /// The signed-in account no longer exists.
    #[error("no such account")]
    NoAccount,
    #[error(transparent)]
    Account(#[from] AccountError),
}

impl From<sqlx::Error> for EmailChangeError {
    fn from(err: sqlx::Error) -> Self {
        Self::Account(AccountError::Db(err))
    }
}

/// The answer to "change my address to …".
#[derive(Debug)]
pub struct ChangeRequested {
    /// The new address, normalised.
    pub email: String,
    /// The message this browser may complete (for a taken address, one whose code nobody ever receives).
    pub row_id: String,
    /// The mail to send to the new address: the code and link, or word that it has an account already.
    pub notice: Notice,
}

/// A completed change.
#[derive(Debug)]
pub struct AddressChanged {
    pub old_email: String,
    pub new_email: String,
    /// For the old address: what changed, when and from where.
    pub notice: Notice,
}

/// Mails a code and a link to `new_email` for the account to move to it, or, when another account has the
/// address, a notice without either. `Err(ResendCooldown)` while the address or the IP must wait.
pub async fn request_change(
    deps: &Deps<'_>,
    account_id: &str,
    new_email: &str,
    meta: &RequestMeta,
    now: i64,
    rng: &mut impl CryptoRng,
) -> Result<ChangeRequested, EmailChangeError> {
    let email = normalize_email(new_email)?;
    let account = accounts::find_by_id(&deps.db.pool, account_id).await?.ok_or(EmailChangeError::NoAccount)?;
    if email == account.email {
        return Err(EmailChangeError::SameAddress);
    }
    // the limits of every mail a requester can trigger, counted alike for free and taken addresses
    let keys = mail_keys(deps, &email, meta);
    if let Some(wait) = throttle::retry_after(deps.db, &keys, now).await? {
        return Err(AccountError::ResendCooldown(wait).into());
    }
    throttle::record_failure(deps.db, &keys, now).await?;
    // the requester's own record is the same either way (it is theirs to read and export)
    let detail = json!({"to": mask_email(&email)});
    audit::record(deps.db, Event::EmailChangeRequested, Some(account_id), meta, detail, now).await?;
    // A message is stored either way, so that what the requester can see of their own data (the session,
    // the export's list of messages) is the same; for a taken address its code and link are never mailed,
    // and completing it would fail the final check that the address is free anyway.
    let issued = issue_message(deps, account_id, &email, CHANGE_EMAIL, None, now, rng).await?;
    if let Some(owner) = accounts::find_by_email(&deps.db.pool, &email).await? {
        audit::record(deps.db, Event::EmailChangeToTakenAddress, Some(&owner.id), meta, Value::Null, now).await?;
        return Ok(ChangeRequested {
            email: email.clone(),
            row_id: issued.id,
            notice: Notice::EmailChangeTaken { to: email },
        });
    }
    let link = format!("{}/account/email?token={}", deps.settings.public_url.trim_end_matches('/'), issued.link_token);
    let notice = Notice::EmailChangeCode { to: email.clone(), code: issued.code, link };
    Ok(ChangeRequested { email, row_id: issued.id, notice })
}

/// Completes the change with the code typed in the browser that asked: `session_row` and `pending_email`
/// are what its session keeps (a code never works for a message another browser or account asked for).
pub async fn confirm_change_code(
    deps: &Deps<'_>,
    account_id: &str,
    pending_email: &str,
    session_row: &str,
    code: &str,
    meta: &RequestMeta,
    now: i64,
) -> Result<AddressChanged, EmailChangeError> {
    let row = verifications::find_open_of_account(&deps.db.pool, session_row, account_id, CHANGE_EMAIL).await?;
    let row = check_code(deps, account_id, row, pending_email, code, meta, now).await?;
    complete(deps, account_id, row, meta, now, "code").await
}

/// Completes the change from the mail's link, opened by the signed-in owner. In the browser that asked the
/// link is enough; in any other the code from the same message is needed too (`CodeNeeded` asks for it).
pub async fn confirm_change_link(
    deps: &Deps<'_>,
    account_id: &str,
    token: &str,
    session_row: Option<&str>,
    code: Option<&str>,
    meta: &RequestMeta,
    now: i64,
) -> Result<AddressChanged, EmailChangeError> {
    let row = open_link(deps, account_id, token, now).await?.ok_or(AccountError::InvalidLink)?;
    if session_row == Some(row.id.as_str()) {
        return complete(deps, account_id, row, meta, now, "link").await;
    }
    let code = code.filter(|c| !c.trim().is_empty()).ok_or(AccountError::CodeNeeded)?;
    let address = row.email.clone();
    let row = check_code(deps, account_id, Some(row), &address, code, meta, now).await?;
    complete(deps, account_id, row, meta, now, "link").await
}

/// Whether the link, opened in this browser, also needs the code: `false` in the browser that asked and for
/// links that do not work here (the click says so).
pub async fn change_link_needs_code(
    deps: &Deps<'_>,
    account_id: &str,
    token: &str,
    session_row: Option<&str>,
    now: i64,
) -> Result<bool, EmailChangeError> {
    let row = open_link(deps, account_id, token, now).await?;
    Ok(row.is_some_and(|row| session_row != Some(row.id.as_str())))
}

/// "Use another address": the account's open change message stops working.
pub async fn cancel_change(deps: &Deps<'_>, account_id: &str, now: i64) -> Result<(), EmailChangeError> {
    verifications::void_purpose(&deps.db.pool, account_id, CHANGE_EMAIL, now).await?;
    Ok(())
}

/// The account's unused, unexpired change message with this link; another account's link does nothing.
async fn open_link(
    deps: &Deps<'_>,
    account_id: &str,
    token: &str,
    now: i64,
) -> Result<Option<VerificationRow>, sqlx::Error> {
    let row = verifications::find_open_by_link(&deps.db.pool, &deps.key.link_hash(token), CHANGE_EMAIL).await?;
    Ok(row.filter(|row| row.account_id == account_id && now <= row.link_expires_at))
}

/// A code guess, throttled like the other emailed codes (per address, here the new one, and per IP) on top
/// of the message's own attempts. Without a message (the address was taken, or the session's row is gone)
/// the guess fails and counts exactly as a wrong one, so the throttle tells nothing about the address.
async fn check_code(
    deps: &Deps<'_>,
    account_id: &str,
    row: Option<VerificationRow>,
    address: &str,
    code: &str,
    meta: &RequestMeta,
    now: i64,
) -> Result<VerificationRow, EmailChangeError> {
    let mut keys = vec![throttle::Key::email(address)];
    keys.extend(meta.ip.as_deref().map(|ip| throttle::Key::ip(ip, deps.settings.failures_per_ip_per_day)));
    if let Some(wait) = throttle::retry_after(deps.db, &keys, now).await? {
        return Err(AccountError::Throttled(wait).into());
    }
    if let Some(row) = row {
        if code_matches(deps, &row, code, now).await? {
            return Ok(row);
        }
    }
    throttle::record_failure(deps.db, &keys, now).await?;
    audit::record(deps.db, Event::EmailChangeFailed, Some(account_id), meta, Value::Null, now).await?;
    Err(AccountError::InvalidCode.into())
}

/// One transaction: the message is used up, the new address (still free) replaces the old one, confirmed,
/// every other open code and link of the account is voided (they went to the old address), and the change
/// is audited.
async fn complete(
    deps: &Deps<'_>,
    account_id: &str,
    row: VerificationRow,
    meta: &RequestMeta,
    now: i64,
    by: &str,
) -> Result<AddressChanged, EmailChangeError> {
    let masked = mask_email(&row.email);
    let mut tx = deps.db.pool.begin().await?;
    if !verifications::consume(&mut *tx, &row.id, now).await? {
        return Err(AccountError::InvalidCode.into()); // single use: a concurrent request took it
    }
    let old = accounts::find_by_id(&mut *tx, account_id).await?.ok_or(EmailChangeError::NoAccount)?;
    if !accounts::set_verified_email(&mut *tx, account_id, &row.email, now).await? {
        // a sign-up or another change took the address meanwhile: nothing changes (PostgreSQL has ended
        // the transaction at the refused update anyway), and this message can never complete
        tx.rollback().await?;
        verifications::consume(&deps.db.pool, &row.id, now).await?;
        return Err(EmailChangeError::AddressTaken);
    }
    verifications::void_all(&mut *tx, account_id, now).await?;
    let detail = json!({"by": by, "to": masked});
    audit::record_in(&mut *tx, Event::EmailChanged, Some(account_id), meta, detail, now).await?;
    tx.commit().await?;
    // wrong guesses at this address's code no longer slow down its (now this account's) sign-ins
    throttle::clear(deps.db, &throttle::Key::email(&row.email)).await?;
    let from = crate::core::user_agent::describe(meta);
    let notice = Notice::EmailChanged { to: old.email.clone(), new_masked: masked, from };
    Ok(AddressChanged { old_email: old.email, new_email: row.email, notice })
}

/// An address shown without giving it away: the first letter of the mailbox and of the domain, and the
/// top-level domain ("a***@e***.com"), enough for the owner to recognise, too little to write to.
pub fn mask_email(email: &str) -> String {
    let (local, domain) = email.rsplit_once('@').unwrap_or((email, ""));
    let first = |s: &str| s.chars().next().map(String::from).unwrap_or_default();
    match domain.rsplit_once('.') {
        Some((host, tld)) => format!("{}***@{}***.{tld}", first(local), first(host)),
        None => format!("{}***@{}***", first(local), first(domain)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_addresses_keep_only_first_letters_and_the_top_level_domain() {
        assert_eq!(mask_email("ann.lee@example.com"), "a***@e***.com");
        assert_eq!(mask_email("x@mail.example.org"), "x***@m***.org");
        assert_eq!(mask_email("ünï@bücher.de"), "ü***@b***.de");
        assert_eq!(mask_email("odd"), "o***@***");
        let masked = mask_email("ann.lee@example.com");
        assert!(!masked.contains("ann") && !masked.contains("example"), "{masked}");
    }
}
