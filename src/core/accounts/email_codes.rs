//! Sign-in by an emailed code or link, and the first step of account recovery (security.md "Recovery and
//! verification", "Enumeration"). Both mail a 6-digit code and a link; what the requester sees never depends
//! on whether the address has an account, and a code or link works only in its own flow.

use rand::CryptoRng;
use serde::Deserialize;
use serde_json::json;

use super::verify::{code_matches, issue_message};
use super::{normalize_email, AccountError, Deps, Notice};
use crate::core::audit::{self, Event, RequestMeta};
use crate::core::throttle::{self, ThrottlePolicy};
use crate::db::accounts::{self, AccountRow};
use crate::db::verifications::{self, VerificationRow};
use crate::types::EmailFlow;

/// Which accounts may sign in with an emailed code or link (`accounts.email_sign_in`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailSignIn {
    Off,
    #[default]
    All,
    /// Only accounts without a password (passkey accounts that lost their passkey, for instance).
    Passwordless,
}

/// Mail a requester can trigger, per address: after each message the next waits a minute, doubling up to
/// an hour; a used code or link starts over. Counted whether or not the address has an account, so the
/// cooldown reveals nothing.
const MAIL_PER_ADDRESS: ThrottlePolicy =
    ThrottlePolicy { free_failures: 0, base_delay_secs: 60, max_delay_secs: 3600, window_secs: 24 * 3600 };

pub(super) fn mail_keys(deps: &Deps<'_>, email: &str, meta: &RequestMeta) -> Vec<throttle::Key> {
    let mut keys = vec![throttle::Key { key: format!("mail:{email}"), policy: MAIL_PER_ADDRESS }];
    if let Some(ip) = &meta.ip {
        // per client IP: `limits.mail_per_ip_per_day` messages (shared addresses), then the same growth. A
        // policy lets `free_failures + 1` through before the first wait (the address's 0 lets one through)
        let free_failures = deps.settings.mail_per_ip_per_day.saturating_sub(1).max(0);
        let policy = ThrottlePolicy { free_failures, ..MAIL_PER_ADDRESS };
        keys.push(throttle::Key { key: format!("mail-ip:{ip}"), policy });
    }
    keys
}

/// The answer to "email me a code".
#[derive(Debug)]
pub struct Requested {
    pub email: String,
    /// The message this browser may complete; a random id when none was issued, so that the session looks
    /// the same either way.
    pub row_id: String,
    /// The mail to send: the code and link, or a notice saying why there is none.
    pub notice: Notice,
}

/// Mails a code and a link for `flow` to `email` when its account may use the flow; otherwise a notice that
/// explains (no account, or not this way). `Err(ResendCooldown)` while the address or the IP must wait.
pub async fn request(
    deps: &Deps<'_>,
    flow: EmailFlow,
    email: &str,
    meta: &RequestMeta,
    now: i64,
    rng: &mut impl CryptoRng,
) -> Result<Requested, AccountError> {
    if flow == EmailFlow::SignIn && deps.settings.email_sign_in == EmailSignIn::Off {
        return Err(AccountError::EmailSignInOff);
    }
    let email = normalize_email(email)?;
    let keys = mail_keys(deps, &email, meta);
    if let Some(wait) = throttle::retry_after(deps.db, &keys, now).await? {
        return Err(AccountError::ResendCooldown(wait));
    }
    throttle::record_failure(deps.db, &keys, now).await?;
    let placeholder_row = uuid::Uuid::new_v4().to_string();
    let Some(account) = accounts::find_by_email(&deps.db.pool, &email).await? else {
        let notice = Notice::NoAccount { to: email.clone(), flow };
        return Ok(Requested { email, row_id: placeholder_row, notice });
    };
    if !may_use(deps, flow, &account) {
        audit::record(deps.db, Event::EmailCodeRefused, Some(&account.id), meta, json!({"flow": flow.as_str()}), now)
            .await?;
        let notice = Notice::EmailCodeRefused { to: email.clone(), flow };
        return Ok(Requested { email, row_id: placeholder_row, notice });
    }
    let issued = issue_message(deps, &account.id, &email, flow.as_str(), None, now, rng).await?;
    let link = format!("{}{}?token={}", deps.settings.public_url.trim_end_matches('/'), flow.path(), issued.link_token);
    audit::record(deps.db, Event::EmailCodeSent, Some(&account.id), meta, json!({"flow": flow.as_str()}), now).await?;
    let notice = Notice::EmailCode { to: email.clone(), flow, code: issued.code, link };
    Ok(Requested { email, row_id: issued.id, notice })
}

/// The message to `email` could not be sent: the address's cooldown starts over, so asking again at once
/// works (the per-IP count stays).
pub async fn mail_not_sent(deps: &Deps<'_>, email: &str) -> Result<(), AccountError> {
    let key = throttle::Key { key: format!("mail:{email}"), policy: MAIL_PER_ADDRESS };
    throttle::clear(deps.db, &key).await.map_err(AccountError::from)
}

/// Whether the account may use the flow: active and confirmed; for sign-in also what
/// `accounts.email_sign_in` allows.
fn may_use(deps: &Deps<'_>, flow: EmailFlow, account: &AccountRow) -> bool {
    if account.status != "active" || account.email_verified_at.is_none() {
        return false;
    }
    match (flow, deps.settings.email_sign_in) {
        (EmailFlow::Recover, _) | (EmailFlow::SignIn, EmailSignIn::All) => true,
        (EmailFlow::SignIn, EmailSignIn::Passwordless) => account.password_hash.is_none(),
        (EmailFlow::SignIn, EmailSignIn::Off) => false,
    }
}

/// A completed code or link: the account proved it reads its mail.
#[derive(Debug)]
pub struct Redeemed {
    pub account_id: String,
    pub email: String,
    /// A sign-in from a browser (user agent) the account never signed in with before: its owner is told.
    pub new_browser: bool,
}

/// Completes the flow with the code typed in the browser that asked for it (`session_row`, from its
/// session: a code never works for a message another browser asked for).
pub async fn redeem_code(
    deps: &Deps<'_>,
    flow: EmailFlow,
    session_row: &str,
    code: &str,
    meta: &RequestMeta,
    now: i64,
) -> Result<Redeemed, AccountError> {
    let Some(row) = verifications::find_open(&deps.db.pool, session_row, flow.as_str()).await? else {
        return Err(AccountError::InvalidCode);
    };
    check_code(deps, flow, &row, code, meta, now).await?;
    finish(deps, flow, row, meta, now, "code").await
}

/// Completes the flow from the link. In the browser that asked, the link is enough; in any other browser
/// the code from the same message is needed too (`Err(CodeNeeded)` asks for it), so a link that leaked or
/// was forwarded on its own signs nobody in.
pub async fn redeem_link(
    deps: &Deps<'_>,
    flow: EmailFlow,
    token: &str,
    session_row: Option<&str>,
    code: Option<&str>,
    meta: &RequestMeta,
    now: i64,
) -> Result<Redeemed, AccountError> {
    let row = open_link(deps, flow, token, now).await?.ok_or(AccountError::InvalidLink)?;
    if session_row != Some(row.id.as_str()) {
        let code = code.filter(|c| !c.trim().is_empty()).ok_or(AccountError::CodeNeeded)?;
        check_code(deps, flow, &row, code, meta, now).await?;
    }
    finish(deps, flow, row, meta, now, "link").await
}

/// Whether a link, opened in this browser, will also need the code: `false` for the browser that asked and
/// for links that do not work (their click reports the problem).
pub async fn link_needs_code(
    deps: &Deps<'_>,
    flow: EmailFlow,
    token: &str,
    session_row: Option<&str>,
    now: i64,
) -> Result<bool, AccountError> {
    let row = open_link(deps, flow, token, now).await?;
    Ok(row.is_some_and(|row| session_row != Some(row.id.as_str())))
}

async fn open_link(
    deps: &Deps<'_>,
    flow: EmailFlow,
    token: &str,
    now: i64,
) -> Result<Option<VerificationRow>, AccountError> {
    let row = verifications::find_open_by_link(&deps.db.pool, &deps.key.link_hash(token), flow.as_str()).await?;
    Ok(row.filter(|row| now <= row.link_expires_at))
}

/// A code guess, throttled like passwords (per address and per IP) on top of the message's own attempts.
async fn check_code(
    deps: &Deps<'_>,
    flow: EmailFlow,
    row: &VerificationRow,
    code: &str,
    meta: &RequestMeta,
    now: i64,
) -> Result<(), AccountError> {
    let mut keys = vec![throttle::Key::email(&row.email)];
    keys.extend(meta.ip.as_deref().map(|ip| throttle::Key::ip(ip, deps.settings.failures_per_ip_per_day)));
    if let Some(wait) = throttle::retry_after(deps.db, &keys, now).await? {
        return Err(AccountError::Throttled(wait));
    }
    if code_matches(deps, row, code, now).await? {
        return Ok(());
    }
    throttle::record_failure(deps.db, &keys, now).await?;
    let detail = json!({"flow": flow.as_str()});
    audit::record(deps.db, Event::EmailCodeFailed, Some(&row.account_id), meta, detail, now).await?;
    Err(AccountError::InvalidCode)
}

async fn finish(
    deps: &Deps<'_>,
    flow: EmailFlow,
    row: VerificationRow,
    meta: &RequestMeta,
    now: i64,
    by: &str,
) -> Result<Redeemed, AccountError> {
    if !verifications::consume(&deps.db.pool, &row.id, now).await? {
        return Err(AccountError::InvalidCode); // single use: a concurrent request took it
    }
    let account = accounts::find_by_id(&deps.db.pool, &row.account_id).await?;
    let Some(account) = account.filter(|a| may_use(deps, flow, a)) else {
        return Err(AccountError::InvalidCode);
    };
    throttle::clear(deps.db, &throttle::Key { key: format!("mail:{}", account.email), policy: MAIL_PER_ADDRESS })
        .await?;
    let detail = json!({"flow": flow.as_str(), "by": by});
    audit::record(deps.db, Event::EmailCodeUsed, Some(&account.id), meta, detail, now).await?;
    let mut new_browser = false;
    if flow == EmailFlow::SignIn {
        throttle::clear(deps.db, &throttle::Key::email(&account.email)).await?;
        new_browser = !audit::signed_in_before_with(deps.db, &account.id, meta.user_agent.as_deref()).await?;
        let detail = json!({"method": format!("email_{by}")});
        audit::record(deps.db, Event::SignInSucceeded, Some(&account.id), meta, detail, now).await?;
    }
    Ok(Redeemed { account_id: account.id, email: account.email, new_browser })
}
