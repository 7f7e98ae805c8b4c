//! Glue between the account flows and HTTP: the session's keys, the request's origin for the audit log,
//! sending the flows' mail, and mapping flow errors to what a person sees.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use http::request::Parts;
use tower_sessions::Session;

use crate::core::accounts::deletion::SeenAtSignIn;
use crate::core::accounts::{AccountError, Notice};
use crate::core::audit::RequestMeta;
use crate::core::passkeys::PasskeyError;
use crate::core::passwords::hasher::HashError;
use crate::error::{AppError, ErrorKind, Problem};
use crate::i18n::t;
use crate::server::mail::notices;
use crate::server::proxies::TrustedProxies;
use crate::server::sessions::ACCOUNT_ID_KEY;
use crate::server::state::AppState;
use crate::types::{EmailFlow, Flash};

/// When the session signed in (Unix seconds): for step-up and `auth_time` later.
pub const AUTH_TIME_KEY: &str = "auth_time";
/// When the session signed in, not moved by step-up (the sessions page shows it).
pub const SIGNED_IN_AT_KEY: &str = "signed_in_at";
/// How the session signed in: RFC 8176 `amr` values ("pwd", "hwk"/"swk", "mfa"), for MFA policy and
/// ID tokens later.
pub const AUTH_METHODS_KEY: &str = "auth_methods";
/// A random id of this browser's sign-in, stable across id rotation and step-up: the OpenID `sid` that
/// ID tokens and back-channel logout name.
pub const SIGN_IN_ID_KEY: &str = "sign_in_id";
/// A random id of the latest authentication in this browser (a sign-in, also the same person's again):
/// an app's `prompt=login` or `max_age` is satisfied only by one newer than the one it saw.
pub const AUTH_EVENT_KEY: &str = "auth_event";
/// The address this browser is verifying, shown and prefilled on /verify-email.
pub const PENDING_EMAIL_KEY: &str = "pending_email";
/// The verification message issued to this browser (binds password-setting messages to it).
pub const VERIFICATION_ROW_KEY: &str = "verification_row";
/// A form's result for the next page render, when the form was posted without JavaScript.
pub const FLASH_KEY: &str = "flash";
/// A sign-in that passed its first factor and waits for the second: no account is signed in yet.
pub const SECOND_FACTOR_KEY: &str = "second_factor_pending";
/// Signed in, but the MFA policy wants a second factor set up before anything else.
pub const MFA_SETUP_KEY: &str = "mfa_setup_required";
/// New recovery codes, kept only until the security page has shown them once.
pub const NEW_RECOVERY_CODES_KEY: &str = "new_recovery_codes";
/// How long the second-factor step may take after the first factor.
pub const SECOND_FACTOR_TTL_SECS: i64 = 10 * 60;
/// The emailed sign-in code this browser waits for (`PendingEmailCode`).
pub const EMAIL_SIGN_IN_KEY: &str = "email_sign_in";
/// The emailed recovery code this browser waits for (`PendingEmailCode`).
pub const RECOVERY_KEY: &str = "recovery";
/// A recovery that passed its checks: this browser may set a new password (`ResetGrant`).
pub const RESET_GRANT_KEY: &str = "reset_grant";
/// How long a passed recovery waits for its new password.
pub const RESET_GRANT_TTL_SECS: i64 = 15 * 60;

/// A first factor waiting for its second (kept in the server-side session).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct PendingSecondFactor {
    pub account_id: String,
    /// The first factor's `amr` values.
    pub methods: Vec<String>,
    pub started_at: i64,
    /// A password reset, not a sign-in, waits for the second factor: passing it leads to the new password.
    #[serde(default)]
    pub for_reset: bool,
}

/// A code mailed for an `EmailFlow` to this browser: the address (to show) and the message it may complete.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct PendingEmailCode {
    pub email: String,
    pub row_id: String,
}

/// A recovery that proved the address, and the second factor when the account has one.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ResetGrant {
    pub account_id: String,
    /// What the recovery proved (`amr`): the emailed code, and the second factor's methods.
    pub methods: Vec<String>,
    pub granted_at: i64,
}

/// The session key of a flow's pending code.
pub fn email_code_key(flow: EmailFlow) -> &'static str {
    match flow {
        EmailFlow::SignIn => EMAIL_SIGN_IN_KEY,
        EmailFlow::Recover => RECOVERY_KEY,
    }
}

/// Everything a sign-in or half sign-in of an earlier visit may have left in this browser's session.
const FLOW_KEYS: [&str; 9] = [
    crate::server::oauth::logout::LOGOUT_KEY,
    PENDING_EMAIL_KEY,
    VERIFICATION_ROW_KEY,
    SECOND_FACTOR_KEY,
    MFA_SETUP_KEY,
    NEW_RECOVERY_CODES_KEY,
    EMAIL_SIGN_IN_KEY,
    RECOVERY_KEY,
    RESET_GRANT_KEY,
];

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Client IP, user agent and operation id of a request.
pub fn request_meta(parts: &Parts, trusted_proxies: &TrustedProxies) -> RequestMeta {
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip());
    RequestMeta {
        ip: peer.map(|peer| client_ip(peer, &parts.headers, trusted_proxies).to_string()),
        user_agent: parts.headers.get(http::header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned),
        operation_id: crate::server::operation::current(),
    }
}

/// The client's address: the TCP peer, unless the peer is a trusted proxy; then the right-most address in
/// `X-Forwarded-For` that is not itself a trusted proxy (entries further left could be forged by the client).
/// IPv4-mapped IPv6 addresses (a dual-stack listener's IPv4 peers) are given as the IPv4 address, so one
/// client has one form in throttles and the audit log.
pub fn client_ip(peer: IpAddr, headers: &http::HeaderMap, trusted_proxies: &TrustedProxies) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted_proxies.contains(peer) {
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
        match hop.parse::<IpAddr>().map(|ip| ip.to_canonical()) {
            Ok(ip) if trusted_proxies.contains(ip) => continue,
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
    let mail = notices::render(&notice, &state.accounts.public_url, now()).map_err(AppError::internal)?;
    state.mailer.send(mail).await.map_err(|e| {
        tracing::error!(error = %e, "mail not sent");
        AppError::new(ErrorKind::Unavailable)
    })
}

/// Tells the owner about something that already happened (a sign-in, a reset). Sending can fail after the
/// change is done; the person must not be told the change failed, so the failure goes to the log (at
/// error level, under the request's operation id) instead of being lost.
pub async fn notify(state: &AppState, notice: Notice) {
    let kind = format!("{notice:?}");
    if send_notice(state, notice).await.is_err() {
        tracing::error!(notice = %kind, "security notice not sent");
    }
}

/// Marks the session signed in by `methods`, under a new id (the pre-sign-in id stops working), then does
/// what every completed sign-in does (`signed_in::on_sign_in`). Sign-in flows call `after_first_factor`,
/// which decides whether the second-factor step comes first.
async fn sign_in(
    state: &AppState,
    session: &Session,
    account_id: &str,
    seen: SeenAtSignIn,
    methods: &[String],
    meta: &RequestMeta,
) -> Result<(), AppError> {
    let sign_in_id = continue_or_end_sign_in(state, session, account_id).await?;
    crate::server::sessions::rotate_id(session).await.map_err(AppError::internal)?;
    session.insert(ACCOUNT_ID_KEY, account_id).await.map_err(AppError::internal)?;
    session.insert(AUTH_TIME_KEY, now()).await.map_err(AppError::internal)?;
    session.insert(SIGNED_IN_AT_KEY, now()).await.map_err(AppError::internal)?;
    session.insert(AUTH_METHODS_KEY, methods).await.map_err(AppError::internal)?;
    session.insert(SIGN_IN_ID_KEY, sign_in_id).await.map_err(AppError::internal)?;
    let auth_event = crate::core::oidc::new_id(&mut crate::server_fns::auth::os_seeded_rng());
    session.insert(AUTH_EVENT_KEY, auth_event).await.map_err(AppError::internal)?;
    // nothing of an earlier sign-in in this browser carries over (another account's new recovery codes!)
    for stale in FLOW_KEYS {
        crate::server::sessions::forget(session, stale).await;
    }
    crate::server::signed_in::on_sign_in(state, session, account_id, seen, meta).await
}

/// The `sid` a sign-in of `account_id` goes on with: the browser's current one when the same person signs in
/// again (an app's `prompt=login`, a second factor an app asked for), so their apps stay signed in; otherwise
/// a new one, and the sign-in it replaces ends for its apps (grants, back-channel logout).
async fn continue_or_end_sign_in(state: &AppState, session: &Session, account_id: &str) -> Result<String, AppError> {
    let previous_sid = session.get::<String>(SIGN_IN_ID_KEY).await.ok().flatten();
    // `start_second_factor` keeps the sid (with no account in the session) only for the same account
    let same_person = signed_in_account(session).await.is_none_or(|previous| previous == account_id);
    match previous_sid {
        Some(sid) if same_person => Ok(sid),
        previous => {
            if let Some(sid) = previous {
                crate::server::oauth::logout::end_sign_in_id(state, &sid).await?;
            }
            Ok(crate::core::oidc::new_id(&mut crate::server_fns::auth::os_seeded_rng()))
        }
    }
}

/// Where a first factor (password, emailed code, passkey) leads: into the second-factor step when the
/// account has one and the first factor was not multi-factor itself; otherwise signed in, and, when the
/// policy requires a second factor the account lacks, to setting one up. Returns where to go next. `seen`:
/// what the first factor already read of the account's deletion.
pub async fn after_first_factor(
    state: &AppState,
    session: &Session,
    account_id: &str,
    seen: SeenAtSignIn,
    methods: &[String],
    meta: &RequestMeta,
) -> Result<String, AppError> {
    if methods.iter().any(|m| m == "mfa") {
        // multi-factor by itself (a user-verified passkey): neither a second step nor the policy applies,
        // and the passkey hot path reads no factor tables
        sign_in(state, session, account_id, seen, methods, meta).await?;
        return Ok(crate::server::oauth::flow::after_sign_in(session).await);
    }
    let factors = crate::core::mfa::factors(&state.db, account_id).await?;
    if factors.required_at_sign_in() {
        return start_second_factor(state, session, account_id, methods, false).await;
    }
    sign_in(state, session, account_id, seen, methods, meta).await?;
    if policy_requires_second_factor(state, account_id).await? {
        session.insert(MFA_SETUP_KEY, true).await.map_err(AppError::internal)?;
        return Ok("/account/security".into());
    }
    Ok(crate::server::oauth::flow::after_sign_in(session).await)
}

/// Whether `mfa.policy` wants a second factor from this account: everyone's under `required`, the admin
/// role's holders' under `admins`. Read at each sign-in, so a role granted or taken applies from the
/// account's next sign-in.
pub async fn policy_requires_second_factor(state: &AppState, account_id: &str) -> Result<bool, AppError> {
    use crate::core::roles::{holds, Role};
    use crate::server::config::MfaPolicy;
    Ok(match state.config.mfa.policy {
        MfaPolicy::Optional => false,
        MfaPolicy::Required => true,
        MfaPolicy::Admins => holds(&state.db, account_id, Role::Admin).await?,
    })
}

/// Holds the session half signed in until the second factor passes (then signs in, or with `for_reset`
/// grants the password reset); returns the second-factor page.
async fn start_second_factor(
    state: &AppState,
    session: &Session,
    account_id: &str,
    methods: &[String],
    for_reset: bool,
) -> Result<String, AppError> {
    let pending = PendingSecondFactor {
        account_id: account_id.to_string(),
        methods: methods.to_vec(),
        started_at: now(),
        for_reset,
    };
    // a new id here too: the half-signed-in state is a privilege change
    crate::server::sessions::rotate_id(session).await.map_err(AppError::internal)?;
    // the same person's sign-in goes on (an app asked for a second factor): its `sid` stays for `sign_in`;
    // anyone else's ends here for their apps
    let previous_sid = session.get::<String>(SIGN_IN_ID_KEY).await.ok().flatten();
    if let Some(sid) = previous_sid {
        if signed_in_account(session).await.as_deref() != Some(account_id) {
            crate::server::oauth::logout::end_sign_in_id(state, &sid).await?;
            crate::server::sessions::forget(session, SIGN_IN_ID_KEY).await;
        }
    }
    // whoever was signed in before in this browser is not any more: half signed in means signed out
    for stale in [ACCOUNT_ID_KEY, AUTH_TIME_KEY, AUTH_METHODS_KEY, AUTH_EVENT_KEY].into_iter().chain(FLOW_KEYS) {
        crate::server::sessions::forget(session, stale).await;
    }
    session.insert(SECOND_FACTOR_KEY, pending).await.map_err(AppError::internal)?;
    Ok("/login/second-factor".into())
}

/// An app asked for a second factor (`acr_values=aal2`) this sign-in lacks: the session goes back to
/// waiting for the account's second factor, keeping the first factor's methods.
pub async fn step_up_second_factor(
    state: &AppState,
    session: &Session,
    account_id: &str,
    methods: &[String],
) -> Result<String, AppError> {
    let first: Vec<String> = methods.iter().filter(|m| m.as_str() != "mfa").cloned().collect();
    start_second_factor(state, session, account_id, &first, false).await
}

/// Where a recovery goes once the emailed code proved the address: through the second factor when the
/// account has one (password reset never bypasses MFA), then to choosing the new password.
pub async fn after_recovery_code(
    state: &AppState,
    session: &Session,
    account_id: &str,
    methods: &[String],
) -> Result<String, AppError> {
    let factors = crate::core::mfa::factors(&state.db, account_id).await?;
    if factors.required_at_sign_in() {
        return start_second_factor(state, session, account_id, methods, true).await;
    }
    grant_reset(session, account_id, methods.to_vec()).await
}

async fn grant_reset(session: &Session, account_id: &str, methods: Vec<String>) -> Result<String, AppError> {
    // the right to set a password is a privilege: under a new id, like a sign-in
    crate::server::sessions::rotate_id(session).await.map_err(AppError::internal)?;
    crate::server::sessions::forget(session, RECOVERY_KEY).await;
    let grant = ResetGrant { account_id: account_id.to_string(), methods, granted_at: now() };
    session.insert(RESET_GRANT_KEY, grant).await.map_err(AppError::internal)?;
    Ok("/recover/password".into())
}

/// The recovery waiting for its new password, if it has not expired.
pub async fn reset_grant(session: &Session) -> Option<ResetGrant> {
    let grant = session.get::<ResetGrant>(RESET_GRANT_KEY).await.ok().flatten()?;
    (now() - grant.granted_at <= RESET_GRANT_TTL_SECS).then_some(grant)
}

/// The sign-in waiting for its second factor, if it has not expired.
pub async fn pending_second_factor(session: &Session) -> Option<PendingSecondFactor> {
    let pending = session.get::<PendingSecondFactor>(SECOND_FACTOR_KEY).await.ok().flatten()?;
    (now() - pending.started_at <= SECOND_FACTOR_TTL_SECS).then_some(pending)
}

/// Completes the second-factor step: signed in with both factors' methods (`sign_in` drops the pending
/// step), and `Ok(None)`; or, for a password reset, `Ok(Some(page))` of the new password.
pub async fn finish_second_factor(
    state: &AppState,
    session: &Session,
    meta: &RequestMeta,
    pending: PendingSecondFactor,
    method: &str,
) -> Result<Option<String>, AppError> {
    let mut methods = pending.methods;
    methods.extend([method.to_string(), "mfa".to_string()]);
    if pending.for_reset {
        crate::server::sessions::forget(session, SECOND_FACTOR_KEY).await;
        return grant_reset(session, &pending.account_id, methods).await.map(Some);
    }
    sign_in(state, session, &pending.account_id, SeenAtSignIn::Unread, &methods, meta).await.map(|()| None)
}

/// A signed-in user confirmed it is them (step-up) with `proved`: the id rotates, the sign-in time
/// restarts, and the methods join those the session already proved.
pub async fn confirm_recent(session: &Session, proved: &[String]) -> Result<(), AppError> {
    let mut methods: Vec<String> = session.get(AUTH_METHODS_KEY).await.ok().flatten().unwrap_or_default();
    for method in proved {
        if !methods.contains(method) {
            methods.push(method.clone());
        }
    }
    crate::server::sessions::rotate_id(session).await.map_err(AppError::internal)?;
    session.insert(AUTH_TIME_KEY, now()).await.map_err(AppError::internal)?;
    session.insert(AUTH_METHODS_KEY, methods).await.map_err(AppError::internal)?;
    Ok(())
}

/// Pages a plain "confirm it is you" form may return to (security.md: redirect targets come from an
/// allowlist); anything else returns to `default`.
pub fn after_confirm(return_to: Option<&str>, default: &str) -> String {
    const ALLOWED: &[&str] = &["/account/sessions", "/account/email", "/account/data"];
    return_to.filter(|path| ALLOWED.contains(path)).unwrap_or(default).to_string()
}

/// The account this session signed in as, also while the policy waits for a second factor to be set up
/// (only the setup itself may use this).
pub async fn signed_in_account(session: &Session) -> Option<String> {
    session.get::<String>(ACCOUNT_ID_KEY).await.ok().flatten()
}

/// Whether the policy still waits for this session's account to set up a second factor.
pub async fn mfa_setup_pending(session: &Session) -> bool {
    session.get::<bool>(MFA_SETUP_KEY).await.ok().flatten().unwrap_or(false)
}

/// The signed-in account, or `SignInRequired` (nobody, or only a first factor so far), or
/// `MfaSetupRequired` (the policy wants a second factor set up first).
pub async fn require_account(session: &Session) -> Result<String, AppError> {
    let account_id = signed_in_account(session).await.ok_or_else(|| AppError::new(ErrorKind::SignInRequired))?;
    if mfa_setup_pending(session).await {
        return Err(AppError::new(ErrorKind::MfaSetupRequired));
    }
    Ok(account_id)
}

/// `require_account` for page loaders: `None` for a visitor (the page then offers signing in), the other
/// refusals as errors.
pub async fn account_or_none(session: &Session) -> Result<Option<String>, AppError> {
    match require_account(session).await {
        Ok(id) => Ok(Some(id)),
        Err(e) if e.kind == ErrorKind::SignInRequired => Ok(None),
        Err(e) => Err(e),
    }
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

/// `require_account` for setting up a second factor and for confirming it is you (which setting one up
/// may need first): also allowed while the policy waits for a second factor.
pub async fn require_account_for_setup(session: &Session) -> Result<String, AppError> {
    signed_in_account(session).await.ok_or_else(|| AppError::new(ErrorKind::SignInRequired))
}

/// `require_recent_sign_in` for setting up a second factor: also allowed while the policy waits for one.
pub async fn require_recent_sign_in_for_setup(state: &AppState, session: &Session) -> Result<String, AppError> {
    let account_id = require_account_for_setup(session).await?;
    if !signed_in_recently(session, state.config.accounts.recent_sign_in_secs).await {
        return Err(AppError::new(ErrorKind::StepUpRequired));
    }
    Ok(account_id)
}

pub async fn set_flash(session: &Session, flash: &Flash) -> Result<(), AppError> {
    session.insert(FLASH_KEY, flash).await.map_err(AppError::internal)
}

pub async fn take_flash(session: &Session) -> Option<Flash> {
    crate::server::sessions::take::<Flash>(session, FLASH_KEY).await.ok().flatten()
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
            AccountError::Throttled(wait) => AppError::throttled(wait),
            AccountError::ResendCooldown(wait) => AppError::mail_cooldown(wait),
            AccountError::InvalidCode => AppError::new(ErrorKind::InvalidCode),
            AccountError::InvalidLink => AppError::new(ErrorKind::InvalidLink),
            AccountError::WrongBrowser => AppError::new(ErrorKind::WrongBrowser),
            AccountError::CodeNeeded => AppError::new(ErrorKind::CodeNeeded),
            AccountError::EmailSignInOff => AppError::new(ErrorKind::NotFound),
            AccountError::Hash(HashError::Busy) => AppError::unavailable("password hashing busy"),
            AccountError::Hash(e) => AppError::internal(e),
            AccountError::Db(e) => AppError::from(e),
        }
    }
}

impl From<crate::core::mfa::MfaError> for AppError {
    fn from(err: crate::core::mfa::MfaError) -> Self {
        use crate::core::mfa::MfaError;
        match err {
            MfaError::InvalidCode => AppError::new(ErrorKind::InvalidSecondFactorCode),
            MfaError::Throttled(wait) => AppError::throttled(wait),
            MfaError::NotEnrolling => AppError::new(ErrorKind::TotpSetupNotWaiting),
            MfaError::NotEnrolled => AppError::new(ErrorKind::NotFound),
            MfaError::AlreadyEnrolled => AppError::new(ErrorKind::AlreadySetUp),
            MfaError::Seal(e) => AppError::internal(e),
            MfaError::Totp(e) | MfaError::Webauthn(e) | MfaError::Stored(e) => AppError::internal(e),
            MfaError::CeremonyExpired => AppError::new(ErrorKind::SecurityKeyExpired),
            MfaError::KeyRejected => AppError::new(ErrorKind::SecurityKeyRejected),
            MfaError::KeyDuplicate => AppError::new(ErrorKind::SecurityKeyDuplicate),
            MfaError::InvalidName => {
                AppError::validation(vec![Problem { field: "name".into(), message: t("passkeys.name_invalid").into() }])
            }
            MfaError::Db(e) => AppError::from(e),
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

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let (proxy, peer, client) = (ip("10.0.0.1"), ip("203.0.113.5"), ip("198.51.100.7"));
        let trusted = TrustedProxies::of(&["10.0.0.1"]);
        // untrusted peer: its header is ignored
        assert_eq!(client_ip(peer, &headers(&["198.51.100.7"]), &trusted), peer);
        // trusted proxy: the right-most untrusted hop, not a forged one further left
        assert_eq!(client_ip(proxy, &headers(&["1.2.3.4, 198.51.100.7"]), &trusted), client);
        assert_eq!(client_ip(proxy, &headers(&["1.2.3.4", "198.51.100.7, 10.0.0.1"]), &trusted), client);
        // nothing usable: the proxy itself
        assert_eq!(client_ip(proxy, &headers(&[]), &trusted), proxy);
        assert_eq!(client_ip(proxy, &headers(&["nonsense"]), &trusted), proxy);
    }

    #[test]
    fn a_range_of_proxies_is_skipped_hop_by_hop_and_mapped_addresses_read_as_ipv4() {
        let trusted = TrustedProxies::of(&["10.0.0.0/8"]);
        // a chain of two proxies inside the range: the client is the hop before them
        let h = headers(&["6.6.6.6, 198.51.100.7, 10.1.0.2"]);
        assert_eq!(client_ip(ip("10.9.0.1"), &h, &trusted), ip("198.51.100.7"));
        // the proxy reaches a dual-stack listener as ::ffff:10.9.0.1, and names the client in mapped form
        let h = headers(&["::ffff:198.51.100.7"]);
        assert_eq!(client_ip(ip("::ffff:10.9.0.1"), &h, &trusted), ip("198.51.100.7"));
        // an untrusted IPv4 peer in mapped form is recorded as plain IPv4, its header ignored
        assert_eq!(client_ip(ip("::ffff:203.0.113.5"), &h, &trusted), ip("203.0.113.5"));
    }
}
