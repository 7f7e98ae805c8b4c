//! The one error type. Every edge maps it: an HTML error page, a JSON problem document, or a server
//! function error. What crosses the wire is a kind and an operation id; the detail stays in the server log
//! under the same operation id, so the browser never sees a database or library message.

use serde::{Deserialize, Serialize};

use crate::i18n::t;

/// What went wrong, in terms a client can act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    BadRequest,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    Timeout,
    /// Busy or a dependency (the database) is down: retrying later may work.
    Unavailable,
    Internal,
    /// Form input refused; `AppError::problems` says what to fix.
    Validation,
    /// Sign-in failed: one answer for unknown address, wrong password, locked or unverified account.
    InvalidCredentials,
    /// Too many attempts; `AppError::retry_after` says how long to wait.
    Throttled,
    /// A code was wrong, used up or expired.
    InvalidCode,
    /// A link was wrong, used or expired.
    InvalidLink,
    /// A verification that sets a password was opened in another browser than the one that signed up.
    WrongBrowser,
    /// The page or action needs a signed-in account.
    SignInRequired,
    /// A sensitive change needs a recent sign-in: confirm it is you first (step-up).
    StepUpRequired,
    /// A passkey ceremony expired or was already used.
    PasskeyExpired,
    /// The passkey's answer did not verify.
    PasskeyRejected,
    /// The passkey is already registered.
    PasskeyDuplicate,
    /// The change would leave the account without a way to sign in.
    LastSignInMethod,
    /// The policy requires a second factor: set one up before anything else.
    MfaSetupRequired,
    /// The policy requires a second factor: the last one cannot be removed.
    MfaRequiredByPolicy,
    /// The factor is already set up.
    AlreadySetUp,
    /// An authenticator-app or recovery code was wrong or already used.
    InvalidSecondFactorCode,
    /// No authenticator-app set-up waits for a first code (finished, never started, or too old).
    TotpSetupNotWaiting,
    /// A security-key request expired or was already used.
    SecurityKeyExpired,
    /// The security key's answer did not verify.
    SecurityKeyRejected,
    /// The security key is already registered.
    SecurityKeyDuplicate,
    /// A sign-in or recovery link was opened in another browser than the one that asked: the code from the
    /// same message is needed too.
    CodeNeeded,
    /// Another message was asked for too soon; `AppError::retry_after` says when it can be.
    MailCooldown,
    /// No recovery is under way in this browser (never started, finished, or older than its time limit).
    RecoveryExpired,
    /// A new address was confirmed, but another account took it in the meantime: nothing changed.
    EmailTaken,
    /// An app's authorization request names an unknown client or an unregistered redirect URI: shown
    /// here, never sent back to the app (`problems` says what was wrong, for the app's developer).
    OAuthRequestInvalid,
    /// No app sign-in is under way in this browser (finished, replaced by a newer one, or too old).
    OAuthRequestExpired,
}

impl ErrorKind {
    pub fn message_key(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "error.bad_request",
            ErrorKind::Forbidden => "error.forbidden",
            ErrorKind::NotFound => "error.not_found",
            ErrorKind::PayloadTooLarge => "error.payload_too_large",
            ErrorKind::Timeout => "error.timeout",
            ErrorKind::Unavailable => "error.unavailable",
            ErrorKind::Internal => "error.internal",
            ErrorKind::Validation => "error.validation",
            ErrorKind::InvalidCredentials => "error.invalid_credentials",
            ErrorKind::Throttled => "error.throttled",
            ErrorKind::InvalidCode => "error.invalid_code",
            ErrorKind::InvalidLink => "error.invalid_link",
            ErrorKind::WrongBrowser => "error.wrong_browser",
            ErrorKind::SignInRequired => "error.sign_in_required",
            ErrorKind::StepUpRequired => "error.step_up_required",
            ErrorKind::PasskeyExpired => "error.passkey_expired",
            ErrorKind::PasskeyRejected => "error.passkey_rejected",
            ErrorKind::PasskeyDuplicate => "error.passkey_duplicate",
            ErrorKind::LastSignInMethod => "error.last_sign_in_method",
            ErrorKind::MfaSetupRequired => "error.mfa_setup_required",
            ErrorKind::MfaRequiredByPolicy => "error.mfa_required_by_policy",
            ErrorKind::AlreadySetUp => "error.already_set_up",
            ErrorKind::InvalidSecondFactorCode => "error.invalid_second_factor_code",
            ErrorKind::TotpSetupNotWaiting => "error.totp_setup_not_waiting",
            ErrorKind::SecurityKeyExpired => "error.security_key_expired",
            ErrorKind::SecurityKeyRejected => "error.security_key_rejected",
            ErrorKind::SecurityKeyDuplicate => "error.security_key_duplicate",
            ErrorKind::CodeNeeded => "error.code_needed",
            ErrorKind::MailCooldown => "error.mail_cooldown",
            ErrorKind::RecoveryExpired => "error.recovery_expired",
            ErrorKind::EmailTaken => "error.email_taken",
            ErrorKind::OAuthRequestInvalid => "error.oauth_request_invalid",
            ErrorKind::OAuthRequestExpired => "error.oauth_request_expired",
        }
    }

    pub fn status(self) -> u16 {
        match self {
            ErrorKind::BadRequest => 400,
            ErrorKind::Forbidden => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::PayloadTooLarge => 413,
            ErrorKind::Timeout => 408,
            ErrorKind::Unavailable => 503,
            ErrorKind::Internal => 500,
            ErrorKind::Validation => 422,
            ErrorKind::InvalidCredentials => 401,
            ErrorKind::Throttled => 429,
            ErrorKind::InvalidCode | ErrorKind::InvalidLink | ErrorKind::WrongBrowser => 400,
            ErrorKind::SignInRequired | ErrorKind::PasskeyRejected => 401,
            ErrorKind::StepUpRequired => 403,
            ErrorKind::PasskeyExpired => 400,
            ErrorKind::PasskeyDuplicate | ErrorKind::LastSignInMethod => 409,
            ErrorKind::MfaSetupRequired => 403,
            ErrorKind::MfaRequiredByPolicy | ErrorKind::AlreadySetUp | ErrorKind::SecurityKeyDuplicate => 409,
            ErrorKind::SecurityKeyExpired | ErrorKind::InvalidSecondFactorCode | ErrorKind::TotpSetupNotWaiting => 400,
            ErrorKind::SecurityKeyRejected => 401,
            ErrorKind::CodeNeeded | ErrorKind::RecoveryExpired => 400,
            ErrorKind::MailCooldown => 429,
            ErrorKind::EmailTaken => 409,
            ErrorKind::OAuthRequestInvalid | ErrorKind::OAuthRequestExpired => 400,
        }
    }
}

/// One thing to fix in a form: the field's name and a message for the person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub field: String,
    pub message: String,
}

/// An error as a person or a client sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{}", self.message())]
pub struct AppError {
    pub kind: ErrorKind,
    /// Ties the message to the server log line that holds the detail.
    pub operation_id: Option<String>,
    /// For `Validation`: what to fix, per field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<Problem>,
    /// For `Throttled`: seconds until the next attempt is allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<i64>,
}

impl AppError {
    /// An error of `kind` for the current request. On the server this picks up the request's operation id.
    pub fn new(kind: ErrorKind) -> Self {
        #[cfg(feature = "ssr")]
        let operation_id = crate::server::operation::current();
        #[cfg(not(feature = "ssr"))]
        let operation_id = None;
        Self { kind, operation_id, problems: Vec::new(), retry_after: None }
    }

    pub fn validation(problems: Vec<Problem>) -> Self {
        Self { problems, ..Self::new(ErrorKind::Validation) }
    }

    pub fn throttled(retry_after: i64) -> Self {
        Self { retry_after: Some(retry_after.max(1)), ..Self::new(ErrorKind::Throttled) }
    }

    /// Another message was asked for before `retry_after` seconds passed.
    pub fn mail_cooldown(retry_after: i64) -> Self {
        Self { retry_after: Some(retry_after.max(1)), ..Self::new(ErrorKind::MailCooldown) }
    }

    /// The message for a person; `{seconds}` in the catalog text becomes the wait.
    pub fn message(&self) -> String {
        let text = t(self.kind.message_key());
        match self.retry_after {
            Some(seconds) => text.replace("{seconds}", &seconds.to_string()),
            None => text.to_string(),
        }
    }

    /// The message for `field`, if a problem names it.
    pub fn problem(&self, field: &str) -> Option<String> {
        let messages: Vec<&str> =
            self.problems.iter().filter(|p| p.field == field).map(|p| p.message.as_str()).collect();
        (!messages.is_empty()).then(|| messages.join(" "))
    }

    /// An unexpected failure: logs `detail` with the operation id and returns an error that reveals nothing
    /// of it.
    #[cfg(feature = "ssr")]
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        let err = Self::new(ErrorKind::Internal);
        tracing::error!(operation_id = err.operation_id.as_deref().unwrap_or("-"), error = %detail, "request failed");
        err
    }

    /// A dependency is down or overloaded; logged as a warning.
    #[cfg(feature = "ssr")]
    pub fn unavailable(detail: impl std::fmt::Display) -> Self {
        let err = Self::new(ErrorKind::Unavailable);
        tracing::warn!(operation_id = err.operation_id.as_deref().unwrap_or("-"), error = %detail, "dependency unavailable");
        err
    }
}

/// Errors raised by the server-function machinery itself (bad arguments, network) become `BadRequest`
/// or `Unavailable`; the text of the machinery's message is not shown.
impl leptos::server_fn::error::FromServerFnError for AppError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        use leptos::server_fn::error::ServerFnErrorErr as E;
        let kind = match value {
            E::Args(_) | E::Deserialization(_) | E::UnsupportedRequestMethod(_) => ErrorKind::BadRequest,
            E::Request(_) | E::Response(_) | E::MiddlewareError(_) => ErrorKind::Unavailable,
            _ => ErrorKind::Internal,
        };
        // server_fn answers these with 500 itself; the status the kind implies replaces it (leptos_axum
        // applies the response options afterwards)
        crate::server_fns::with_status(Self::new(kind))
    }
}

#[cfg(feature = "ssr")]
impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        match err {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => Self::unavailable(err),
            other => Self::internal(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialized_error_carries_kind_and_operation_id_only() {
        let err = AppError { operation_id: Some("op-1".into()), ..AppError::new(ErrorKind::Internal) };
        let json = serde_json::to_value(&err).unwrap_or_default();
        assert_eq!(json, serde_json::json!({"kind": "internal", "operation_id": "op-1"}));
    }

    #[test]
    fn every_kind_has_a_message() {
        for kind in [
            ErrorKind::BadRequest,
            ErrorKind::Forbidden,
            ErrorKind::NotFound,
            ErrorKind::PayloadTooLarge,
            ErrorKind::Timeout,
            ErrorKind::Unavailable,
            ErrorKind::Internal,
            ErrorKind::Validation,
            ErrorKind::InvalidCredentials,
            ErrorKind::Throttled,
            ErrorKind::InvalidCode,
            ErrorKind::InvalidLink,
            ErrorKind::WrongBrowser,
            ErrorKind::CodeNeeded,
            ErrorKind::RecoveryExpired,
            ErrorKind::MailCooldown,
            ErrorKind::EmailTaken,
        ] {
            assert_ne!(t(kind.message_key()), kind.message_key());
        }
    }
}
