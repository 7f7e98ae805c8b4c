//! Second factors (security.md "MFA and passkeys"): an authenticator app (TOTP) and recovery codes. A
//! sign-in whose first factor was a password or an emailed code continues into a second-factor step when
//! the account has one; a user-verified passkey is multi-factor by itself.

pub mod recovery;
pub mod seal;
pub mod security_keys;
pub mod totp;

use crate::core::throttle::{Key, ThrottlePolicy};
use crate::db::{mfa as repo, Db};

#[derive(Debug, thiserror::Error)]
pub enum MfaError {
    #[error("wrong or used code")]
    InvalidCode,
    #[error("too many attempts; retry in {0} s")]
    Throttled(i64),
    #[error("no authenticator app is being set up")]
    NotEnrolling,
    #[error("an authenticator app is already set up")]
    AlreadyEnrolled,
    #[error("no such factor")]
    NotEnrolled,
    #[error(transparent)]
    Seal(#[from] seal::SealError),
    #[error("TOTP: {0}")]
    Totp(String),
    /// No security-key ceremony in progress, already used, or started too long ago.
    #[error("security key ceremony expired or already used")]
    CeremonyExpired,
    #[error("security key not accepted")]
    KeyRejected,
    #[error("security key already registered")]
    KeyDuplicate,
    #[error("invalid name")]
    InvalidName,
    #[error("webauthn: {0}")]
    Webauthn(String),
    #[error("stored security key unreadable: {0}")]
    Stored(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Second-factor guesses have their own small budget, apart from the password's (security.md): five free,
/// then waits from 30 s doubling to 15 min. A password failure never touches it, and this never locks the
/// password.
pub const SECOND_FACTOR: ThrottlePolicy =
    ThrottlePolicy { free_failures: 5, base_delay_secs: 30, max_delay_secs: 15 * 60, window_secs: 24 * 3600 };

pub fn second_factor_key(account_id: &str) -> Key {
    Key { key: format!("mfa:{account_id}"), policy: SECOND_FACTOR }
}

/// The second factors an account has set up.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Factors {
    pub totp: bool,
    pub security_keys: i64,
    pub recovery_codes_left: i64,
}

impl Factors {
    /// Whether a first-factor sign-in must continue into the second-factor step. Recovery codes alone do
    /// not count: they back up another factor.
    pub fn required_at_sign_in(&self) -> bool {
        self.totp || self.security_keys > 0
    }
}

pub async fn factors(db: &Db, account_id: &str) -> Result<Factors, sqlx::Error> {
    let totp = repo::totp_for_account(&db.pool, account_id).await?.is_some_and(|t| t.confirmed_at.is_some());
    let security_keys = repo::count_security_keys(&db.pool, account_id).await?;
    let recovery_codes_left = repo::unused_recovery_codes(&db.pool, account_id).await?;
    Ok(Factors { totp, security_keys, recovery_codes_left })
}

/// Recovery codes back up a second factor: once the last one is gone, so are they.
pub(crate) async fn drop_recovery_codes_without_factor(db: &Db, account_id: &str) -> Result<(), sqlx::Error> {
    if !factors(db, account_id).await?.required_at_sign_in() {
        repo::delete_recovery_codes(&db.pool, account_id).await?;
    }
    Ok(())
}
