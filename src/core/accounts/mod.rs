//! Accounts with email and password: sign-up, email verification, sign-in. Each flow takes its
//! dependencies, the request's origin and `now`, and returns an outcome plus the mail to send; the web
//! layer renders and sends that mail and maps errors to messages.

pub mod deletion;
mod email_change;
mod email_codes;
pub mod erase;
pub mod export;
mod login;
mod password;
mod signup;
mod verify;

pub use email_change::{
    cancel_change, change_link_needs_code, confirm_change_code, confirm_change_link, mask_email, request_change,
    AddressChanged, ChangeRequested, EmailChangeError,
};
pub use email_codes::{
    link_needs_code, mail_not_sent, redeem_code, redeem_link, request, EmailSignIn, Redeemed, Requested,
};
pub use password::{change_password, reset_password};

pub use login::{login, LoginInput, LoginOutcome};
pub use signup::{signup, SignupInput};
pub(crate) use verify::issue;
pub use verify::{resend, verify_code, verify_link, Verified};

use crate::core::passwords::hasher::{HashError, Hasher};
use crate::core::passwords::policy::PasswordProblem;
use crate::core::tokens::TokenKey;
use crate::db::Db;
use crate::types::EmailFlow;

/// What the flows need. Cheap references; built per request from the app state.
pub struct Deps<'a> {
    pub db: &'a Db,
    pub hasher: &'a Hasher,
    pub key: &'a TokenKey,
    pub settings: &'a Settings,
    pub webauthn: &'a webauthn_rs::Webauthn,
    /// Seals TOTP seeds at rest.
    pub sealer: &'a crate::core::mfa::seal::SeedSealer,
}

/// Flow settings from the configuration.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Links in mail start with this (the configured public URL, never the Host header).
    pub public_url: String,
    /// Sign-in completes only for verified addresses (otherwise it continues into verification).
    pub require_verified_email: bool,
    pub code_ttl_secs: i64,
    pub link_ttl_secs: i64,
    pub max_code_attempts: i64,
    pub resend_cooldown_secs: i64,
    /// A passkey ceremony must finish this long after it started.
    pub challenge_ttl_secs: i64,
    /// The name authenticator apps show beside the account (otpauth issuer).
    pub mfa_issuer: String,
    /// Which accounts may sign in with an emailed code or link.
    pub email_sign_in: EmailSignIn,
    /// Codes and links one client IP may have mailed per day before each further one waits.
    pub mail_per_ip_per_day: i64,
    /// Wrong passwords and codes one client IP may send per day before each further try waits.
    pub failures_per_ip_per_day: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            public_url: "http://localhost:3000".into(),
            require_verified_email: true,
            code_ttl_secs: 15 * 60,
            link_ttl_secs: 60 * 60,
            max_code_attempts: 5,
            resend_cooldown_secs: 60,
            challenge_ttl_secs: 300,
            mfa_issuer: "Vestibule".into(),
            email_sign_in: EmailSignIn::All,
            mail_per_ip_per_day: 20,
            failures_per_ip_per_day: 30,
        }
    }
}

/// Mail a flow asks the web layer to send.
#[derive(Clone, PartialEq, Eq)]
pub enum Notice {
    /// A code and a link to confirm `to`.
    VerifyEmail { to: String, code: String, link: String },
    /// Someone tried to create an account with `to`, which already has one.
    SignUpAttempted { to: String },
    /// A passkey named `name` was added to the account.
    PasskeyAdded { to: String, name: String },
    /// The passkey named `name` was removed from the account.
    PasskeyRemoved { to: String, name: String },
    /// The account's password was removed; it signs in with passkeys only.
    PasswordRemoved { to: String },
    /// A second factor (`factor`: "totp") was set up.
    FactorAdded { to: String, factor: &'static str },
    /// A second factor was removed.
    FactorRemoved { to: String, factor: &'static str },
    /// A new set of recovery codes replaced the old one.
    RecoveryCodesReplaced { to: String },
    /// A code and a link to sign in or to recover the account.
    EmailCode { to: String, flow: EmailFlow, code: String, link: String },
    /// Someone asked for a code for `to`, which has no account.
    NoAccount { to: String, flow: EmailFlow },
    /// Someone asked for a code for `to`, whose account cannot use the flow (see `email_codes::may_use`).
    EmailCodeRefused { to: String, flow: EmailFlow },
    /// The account signed in by email from a browser it never used before; `from` describes it.
    EmailSignInNewBrowser { to: String, from: String },
    /// The password was reset by recovery; every session ended.
    PasswordReset { to: String, from: String },
    /// The signed-in owner changed the password (`first`: the account had none before); other sessions
    /// ended.
    PasswordChanged { to: String, from: String, first: bool },
    /// A code and a link to confirm `to` as the account's new address.
    EmailChangeCode { to: String, code: String, link: String },
    /// Someone asked to move an account to `to`, which already has an account: no code, only word of it.
    EmailChangeTaken { to: String },
    /// The account's address changed from `to` (the old one) to `new_masked` (shown masked); `from`
    /// describes the browser.
    EmailChanged { to: String, new_masked: String, from: String },
    /// The owner asked to delete the account: it is erased at `due_at` (Unix seconds) unless they sign in
    /// before then.
    DeletionScheduled { to: String, due_at: i64 },
    /// A sign-in cancelled the deletion the owner had asked for.
    DeletionCancelled { to: String },
    /// The account was given `role` (from the command line, later the back-office).
    RoleGranted { to: String, role: crate::core::roles::Role },
    /// `role` was taken from the account.
    RoleRevoked { to: String, role: crate::core::roles::Role },
}

impl std::fmt::Debug for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Notice::VerifyEmail { .. } => f.write_str("Notice::VerifyEmail(..)"),
            Notice::SignUpAttempted { .. } => f.write_str("Notice::SignUpAttempted(..)"),
            Notice::PasskeyAdded { .. } => f.write_str("Notice::PasskeyAdded(..)"),
            Notice::PasskeyRemoved { .. } => f.write_str("Notice::PasskeyRemoved(..)"),
            Notice::PasswordRemoved { .. } => f.write_str("Notice::PasswordRemoved(..)"),
            Notice::FactorAdded { factor, .. } => write!(f, "Notice::FactorAdded({factor})"),
            Notice::FactorRemoved { factor, .. } => write!(f, "Notice::FactorRemoved({factor})"),
            Notice::RecoveryCodesReplaced { .. } => f.write_str("Notice::RecoveryCodesReplaced(..)"),
            Notice::EmailCode { flow, .. } => write!(f, "Notice::EmailCode({flow:?}, ..)"),
            Notice::NoAccount { flow, .. } => write!(f, "Notice::NoAccount({flow:?}, ..)"),
            Notice::EmailCodeRefused { flow, .. } => write!(f, "Notice::EmailCodeRefused({flow:?}, ..)"),
            Notice::EmailSignInNewBrowser { .. } => f.write_str("Notice::EmailSignInNewBrowser(..)"),
            Notice::PasswordReset { .. } => f.write_str("Notice::PasswordReset(..)"),
            Notice::PasswordChanged { .. } => f.write_str("Notice::PasswordChanged(..)"),
            Notice::EmailChangeCode { .. } => f.write_str("Notice::EmailChangeCode(..)"),
            Notice::EmailChangeTaken { .. } => f.write_str("Notice::EmailChangeTaken(..)"),
            Notice::EmailChanged { .. } => f.write_str("Notice::EmailChanged(..)"),
            Notice::DeletionScheduled { .. } => f.write_str("Notice::DeletionScheduled(..)"),
            Notice::DeletionCancelled { .. } => f.write_str("Notice::DeletionCancelled(..)"),
            Notice::RoleGranted { role, .. } => write!(f, "Notice::RoleGranted({})", role.as_str()),
            Notice::RoleRevoked { role, .. } => write!(f, "Notice::RoleRevoked({})", role.as_str()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("invalid email address")]
    InvalidEmail,
    #[error("password refused")]
    Password(Vec<PasswordProblem>),
    #[error("display name too long")]
    DisplayNameTooLong,
    /// Wrong email or password, unknown account, locked account: one answer for all.
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("too many attempts; retry in {0} s")]
    Throttled(i64),
    #[error("wrong or expired code")]
    InvalidCode,
    #[error("link invalid, used or expired")]
    InvalidLink,
    /// A message that would set a password was opened in another browser than the one that asked for it.
    #[error("verification must be completed in the browser that signed up")]
    WrongBrowser,
    #[error("wait {0} s before asking for another message")]
    ResendCooldown(i64),
    /// A link opened in another browser than the one that asked for it: the message's code is needed too.
    #[error("the code from the message is needed with this link")]
    CodeNeeded,
    #[error("sign-in by email is turned off")]
    EmailSignInOff,
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Normalised form of an address: trimmed and lower-cased (as users expect, even though the local part is
/// case-sensitive in theory). Refuses what is not a single plausible address.
pub fn normalize_email(input: &str) -> Result<String, AccountError> {
    let email = input.trim().to_lowercase();
    if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(AccountError::InvalidEmail);
    }
    let (local, domain) = email.rsplit_once('@').ok_or(AccountError::InvalidEmail)?;
    if local.is_empty() || !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
        return Err(AccountError::InvalidEmail);
    }
    email.parse::<lettre::Address>().map_err(|_| AccountError::InvalidEmail)?;
    Ok(email)
}

/// Most characters of a display name.
pub const MAX_DISPLAY_NAME: usize = 100;

/// The display-name rule of sign-up (signup.rs, passkeys/register.rs) and the profile:
/// trimmed, empty means none, at most `MAX_DISPLAY_NAME` characters.
pub fn normalize_display_name(input: &str) -> Result<Option<String>, AccountError> {
    let name = input.trim();
    if name.chars().count() > MAX_DISPLAY_NAME {
        return Err(AccountError::DisplayNameTooLong);
    }
    Ok((!name.is_empty()).then(|| name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_lowercased_and_checked() {
        assert_eq!(normalize_email("  Ann.Lee@Example.COM ").ok().as_deref(), Some("ann.lee@example.com"));
        for bad in
            ["", "ann", "ann@", "@example.com", "ann@localhost", "a b@example.com", "ann@.com", "ann@exa mple.com"]
        {
            assert!(normalize_email(bad).is_err(), "{bad:?}");
        }
        assert!(normalize_email(&format!("{}@example.com", "a".repeat(250))).is_err());
    }
}
