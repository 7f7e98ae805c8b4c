//! Passkeys (WebAuthn) with webauthn-rs: passwordless sign-up, sign-in three ways (a button for
//! discoverable credentials, browser autofill, and identifier-first), and managing an account's passkeys.
//!
//! Ceremony state lives server-side in the session (security.md WebAuthn lines): the web layer stores the
//! `Pending*` value a `start_*` returns and hands it back, taken out of the session, to the matching
//! `finish_*`, so each challenge works once; it also expires after `challenge_ttl_secs`.

pub mod aaguid;
mod manage;
mod register;
mod sign_in;

pub use manage::{list, remove, remove_password, rename, PasskeySummary};
pub use register::{finish_registration, start_add, start_signup, PendingRegistration, Registered};
pub use sign_in::{
    finish_sign_in, start_discoverable, start_for_account, start_for_email, PasskeySignIn, PendingSignIn, SignInOutcome,
};

use base64::Engine;

use super::accounts::AccountError;

/// Longest passkey name a person can give.
pub const MAX_NAME_CHARS: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    /// No ceremony in progress, already used, or started too long ago.
    #[error("passkey ceremony expired or already used")]
    Expired,
    /// The authenticator's answer did not verify (wrong origin, wrong challenge, unknown credential,
    /// another account's credential, no user verification, counter went backwards).
    #[error("passkey not accepted")]
    Rejected,
    #[error("credential already registered")]
    Duplicate,
    /// Removing this would leave the account without any way to sign in.
    #[error("last way to sign in")]
    LastSignInMethod,
    #[error("no such passkey")]
    NotFound,
    #[error("invalid passkey name")]
    InvalidName,
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error("webauthn: {0}")]
    Webauthn(#[from] webauthn_rs::prelude::WebauthnError),
    #[error("stored credential unreadable: {0}")]
    Stored(#[from] serde_json::Error),
}

impl From<sqlx::Error> for PasskeyError {
    fn from(e: sqlx::Error) -> Self {
        PasskeyError::Account(AccountError::Db(e))
    }
}

/// A credential id as stored and compared: unpadded base64url, as browsers print it.
pub fn encode_credential_id(id: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id)
}

/// A WebAuthn ceremony (passkey or security key) is good for `ttl` seconds after it started.
pub(crate) fn check_fresh(issued_at: i64, ttl: i64, now: i64) -> Result<(), PasskeyError> {
    if now < issued_at || now - issued_at > ttl {
        return Err(PasskeyError::Expired);
    }
    Ok(())
}

/// A person's name for a passkey: trimmed, 1 to 64 characters, no control characters.
pub fn clean_name(name: &str) -> Result<String, PasskeyError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(PasskeyError::InvalidName);
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceremonies_expire_and_never_come_from_the_future() {
        assert!(check_fresh(100, 300, 100).is_ok());
        assert!(check_fresh(100, 300, 400).is_ok());
        assert!(matches!(check_fresh(100, 300, 401), Err(PasskeyError::Expired)));
        assert!(matches!(check_fresh(100, 300, 99), Err(PasskeyError::Expired)));
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(clean_name("  Work laptop ").ok().as_deref(), Some("Work laptop"));
        assert!(clean_name("   ").is_err());
        assert!(clean_name("a\u{7}b").is_err());
        assert!(clean_name(&"x".repeat(65)).is_err());
        assert!(clean_name(&"ü".repeat(64)).is_ok());
    }
}
