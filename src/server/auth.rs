//! Glue between the account flows and HTTP: the session's keys, the request's origin for the audit log,
//! sending the flows' mail, and mapping flow errors to what a person sees.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use http::request::Parts;
use tower_sessions::Session;

use crate::core::accounts::{AccountError, Notice};
use crate::core::audit::RequestMeta;
use crate::core::passkeys::PasskeyError;
use crate::core::passwords::hasher::HashError;
use crate::error::{AppError, ErrorKind, Problem};
use crate::i18n::t;
use crate::server::mail::templates;
use crate::server::sessions::ACCOUNT_ID_KEY;
use crate::server::state::AppState;
use crate::types::Flash;

/// When the session signed in (Unix seconds): for step-up and `auth_time` later.
pub const AUTH_TIME_KEY: &str = "auth_time";
/// How the session signed in: RFC 8176 `amr` values ("pwd", "hwk"/"swk", "mfa"), for MFA policy and
/// ID tokens later.
pub const AUTH_METHODS_KEY: &str = "auth_methods";
/// The address this browser is verifying, shown and prefilled on /verify-email.
pub const PENDING_EMAIL_KEY: &str = "pending_email";
/// The verification message issued to this browser (binds password-setting messages to it).
pub const VERIFICATION_ROW_KEY: &str = "verification_row";
/// A form's result for the next page render, when the form was posted without JavaScript.
pub const FLASH_KEY: &str = "flash";

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Client IP, user agent and operation id of a request.
pub fn request_meta(parts: &Parts, trusted_proxies: &[IpAddr]) -> RequestMeta {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip());
    RequestMeta {
        ip: peer.map(|peer| client_ip(peer, &parts.headers, trusted_proxies).to_string()),
        user_agent: parts.headers.get(http::header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned),
        operation_id: crate::server::operation::current(),
    }
}

/// The client's address: the TCP peer, unless the peer is a trusted proxy; then the right-most address in
/// `X-Forwarded-For` that is not itself a trusted proxy (entries further left could be forged by the client).
pub fn client_ip(peer: IpAddr, headers: &http::HeaderMap, trusted_proxies: &[IpAddr]) -> IpAddr {
    if !trusted_proxies.contains(&peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in forwarded.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if trusted_proxies.contains(&ip) => continue,
            Ok(ip) => return ip,
            Err(_) => return peer, // a malformed hop: trust nothing further left
        }
    }
    peer
}

/// A plain HTML form post (JavaScript off): the answer is a redirect, and messages travel in the session.
pub fn is_plain_form_post(parts: &Parts) -> bool {
    parts.headers.get(http::header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"))
}

/// Sends the mail a flow asked for. A failure is the user's "try again", never silently lost.
pub async fn send_notice(state: &AppState, notice: Notice) -> Result<(), AppError> {
    let public_url = state.accounts.public_url.as_str();
    let mail = match &notice {
        Notice::VerifyEmail { to, code, link } => {
            let to = to.parse().map_err(AppError::internal)?;
            templates::verify_email(to, code, link, public_url)
        }
        Notice::SignUpAttempted { to } => {
            let to = to.parse().map_err(AppError::internal)?;
            templates::signup_attempted(to, public_url)
        }
        Notice::PasskeyAdded { to, name } => {
            let body = t("mail.passkey_added.body").replace("{name}", name);
            templates::security_notice(
                to.parse().map_err(AppError::internal)?,
                t("mail.passkey_added.subject"),
                &body,
                now(),
                public_url,
            )
        }
        Notice::PasskeyRemoved { to, name } => {
            let body = t("mail.passkey_removed.body").replace("{name}", name);
            templates::security_notice(
                to.parse().map_err(AppError::internal)?,
                t("mail.passkey_removed.subject"),
                &body,
                now(),
                public_url,
            )
        }
        Notice::PasswordRemoved { to } => templates::security_notice(
            to.parse().map_err(AppError::internal)?,
            t("mail.password_removed.subject"),
            t("mail.password_removed.body"),
            now(),
            public_url,
        ),
    }
    .map_err(AppError::internal)?;
    state.mailer.send(mail).await.map_err(|e| {
        tracing::error!(error = %e, "mail not sent");
        AppError::new(ErrorKind::Unavailable)
    })
}

/// Marks the session signed in by `methods`, under a new id (the pre-sign-in id stops working). Also used
/// when a signed-in user confirms it is them (step-up): the id rotates again and `auth_time` restarts.
pub async fn sign_in(session: &Session, account_id: &str, methods: &[String]) -> Result<(), AppError> {
    session.cycle_id().await.map_err(AppError::internal)?;
    session.insert(ACCOUNT_ID_KEY, account_id).await.map_err(AppError::internal)?;
    session.insert(AUTH_TIME_KEY, now()).await.map_err(AppError::internal)?;
    session.insert(AUTH_METHODS_KEY, methods).await.map_err(AppError::internal)?;
    let _ = session.remove_value(PENDING_EMAIL_KEY).await;
    let _ = session.remove_value(VERIFICATION_ROW_KEY).await;
    Ok(())
}

pub async fn signed_in_account(session: &Session) -> Option<String> {
    session.get::<String>(ACCOUNT_ID_KEY).await.ok().flatten()
}

/// The signed-in account, or `SignInRequired`.
pub async fn require_account(session: &Session) -> Result<String, AppError> {
    signed_in_account(session).await.ok_or_else(|| AppError::new(ErrorKind::SignInRequired))
}

/// Whether the session signed in (or confirmed it is them) within `max_age` seconds.
pub async fn signed_in_recently(session: &Session, max_age: i64) -> bool {
    let at = session.get::<i64>(AUTH_TIME_KEY).await.ok().flatten();
    at.is_some_and(|at| now() - at <= max_age)
}

/// The signed-in account, if it signed in within the configured window; otherwise `StepUpRequired`.
pub async fn require_recent_sign_in(state: &AppState, session: &Session) -> Result<String, AppError> {
    let account_id = require_account(session).await?;
    if !signed_in_recently(session, state.config.accounts.recent_sign_in_secs).await {
        return Err(AppError::new(ErrorKind::StepUpRequired));
    }
    Ok(account_id)
}

pub async fn set_flash(session: &Session, flash: &Flash) -> Result<(), AppError> {
    session.insert(FLASH_KEY, flash).await.map_err(AppError::internal)
}

pub async fn take_flash(session: &Session) -> Option<Flash> {
    session.remove::<Flash>(FLASH_KEY).await.ok().flatten()
}

/// What a person sees for a flow error. Details of internal failures go to the log only.
impl From<AccountError> for AppError {
    fn from(err: AccountError) -> Self {
        match err {
            AccountError::InvalidEmail => AppError::validation(vec![Problem {
                field: "email".into(),
                message: t("account.email_invalid").into(),
            }]),
            AccountError::DisplayNameTooLong => AppError::validation(vec![Problem {
                field: "display_name".into(),
                message: t("account.display_name_too_long").into(),
            }]),
            AccountError::Password(problems) => AppError::validation(
                problems.iter().map(|p| Problem { field: "password".into(), message: p.message() }).collect(),
            ),
            AccountError::InvalidCredentials => AppError::new(ErrorKind::InvalidCredentials),
            AccountError::Throttled(wait) | AccountError::ResendCooldown(wait) => AppError::throttled(wait),
            AccountError::InvalidCode => AppError::new(ErrorKind::InvalidCode),
            AccountError::InvalidLink => AppError::new(ErrorKind::InvalidLink),
            AccountError::WrongBrowser => AppError::new(ErrorKind::WrongBrowser),
            AccountError::Hash(HashError::Busy) => AppError::unavailable("password hashing busy"),
            AccountError::Hash(e) => AppError::internal(e),
            AccountError::Db(e) => AppError::from(e),
        }
    }
}

impl From<PasskeyError> for AppError {
    fn from(err: PasskeyError) -> Self {
        match err {
            PasskeyError::Expired => AppError::new(ErrorKind::PasskeyExpired),
            PasskeyError::Rejected => AppError::new(ErrorKind::PasskeyRejected),
            PasskeyError::Duplicate => AppError::new(ErrorKind::PasskeyDuplicate),
            PasskeyError::LastSignInMethod => AppError::new(ErrorKind::LastSignInMethod),
            PasskeyError::NotFound => AppError::new(ErrorKind::NotFound),
            PasskeyError::InvalidName => {
                AppError::validation(vec![Problem { field: "name".into(), message: t("passkeys.name_invalid").into() }])
            }
            PasskeyError::Account(e) => e.into(),
            PasskeyError::Webauthn(e) => AppError::internal(e),
            PasskeyError::Stored(e) => AppError::internal(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&'static str]) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", http::HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let peer: IpAddr = "203.0.113.5".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let client: IpAddr = "198.51.100.7".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
        // untrusted peer: its header is ignored
        assert_eq!(client_ip(peer, &headers(&["198.51.100.7"]), &[proxy]), peer);
        // trusted proxy: the right-most untrusted hop, not a forged one further left
        assert_eq!(client_ip(proxy, &headers(&["1.2.3.4, 198.51.100.7"]), &[proxy]), client);
        assert_eq!(client_ip(proxy, &headers(&["1.2.3.4", "198.51.100.7, 10.0.0.1"]), &[proxy]), client);
        // nothing usable: the proxy itself
        assert_eq!(client_ip(proxy, &headers(&[]), &[proxy]), proxy);
        assert_eq!(client_ip(proxy, &headers(&["nonsense"]), &[proxy]), proxy);
    }
}
