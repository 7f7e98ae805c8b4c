//! Security events for the append-only audit log. Every event names the time, the account (when known),
//! where it came from (IP, user agent) and the operation id that ties it to the request's log lines.

use serde_json::Value;

use crate::db::{audit as repo, Db};

/// Where a request came from, as the audit log and throttling see it.
#[derive(Clone, Debug, Default)]
pub struct RequestMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub operation_id: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    SignUp,
    SignUpWithExistingAddress,
    VerificationSent,
    EmailVerified,
    VerificationFailed,
    SignInSucceeded,
    SignInFailed,
    SignInThrottled,
    SignOut,
    PasswordRehashed,
    PreHijackDefence,
    PasskeyAdded,
    PasskeyRegistrationFailed,
    PasskeyRenamed,
    PasskeyRemoved,
    /// An assertion's sign counter was not above the stored one: the credential may be cloned.
    PasskeyCounterRegression,
    PasswordRemoved,
    /// The user confirmed it is them again before a sensitive change.
    StepUp,
    TotpAdded,
    TotpRemoved,
    RecoveryCodesCreated,
    RecoveryCodeUsed,
    SecondFactorFailed,
    SecondFactorPassed,
    SecurityKeyAdded,
    SecurityKeyRemoved,
    SecurityKeyRegistrationFailed,
    SecurityKeyCounterRegression,
    /// A sign-in or recovery code and link were mailed (`detail.flow`).
    EmailCodeSent,
    /// A code was asked for an account that may not use the flow; a notice was mailed instead.
    EmailCodeRefused,
    EmailCodeFailed,
    EmailCodeUsed,
    PasswordReset,
    PasswordChanged,
    /// The owner ended one of their other sessions.
    SessionEnded,
    /// The owner signed out every other browser.
    OtherSessionsEnded,
    /// The owner changed their profile (`detail.fields`: the names of the changed fields, never values).
    ProfileUpdated,
    /// The owner downloaded everything held about them (/account/export).
    DataExported,
    /// The owner asked to delete the account (`detail.due_at`: when it is erased).
    DeletionRequested,
    /// A sign-in during the grace period cancelled the deletion.
    DeletionCancelled,
    /// The account was erased; recorded under its pseudonym, without IP or user agent.
    AccountErased,
    /// A code to confirm a new address was asked for (`detail.to`: the new address, masked).
    EmailChangeRequested,
    /// A wrong code (or a link without its code) while confirming a new address.
    EmailChangeFailed,
    /// The account's address changed to a confirmed new one (`detail.to`: masked).
    EmailChanged,
    /// Recorded on the account that owns an address someone asked to move another account to.
    EmailChangeToTakenAddress,
    /// The owner allowed a third-party app (`detail.client_id`, `detail.scopes`).
    OAuthConsentGranted,
    /// The owner refused an app on its consent screen (`detail.client_id`).
    OAuthConsentDenied,
    /// The owner removed an app's access at /account/apps (`detail.client_id`).
    OAuthAppRevoked,
    /// An authorization code came back after it was used: what it issued was revoked (`detail.client_id`).
    OAuthCodeReused,
    /// A rotated refresh token came back: its whole grant was revoked (`detail.client_id`, `detail.grant_id`).
    OAuthRefreshReused,
    /// The account was given a role (`detail.role`), from the command line.
    RoleGranted,
    /// A role was taken from the account (`detail.role`).
    RoleRevoked,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Event::SignUp => "sign_up",
            Event::SignUpWithExistingAddress => "sign_up_existing_address",
            Event::VerificationSent => "verification_sent",
            Event::EmailVerified => "email_verified",
            Event::VerificationFailed => "verification_failed",
            Event::SignInSucceeded => "sign_in_succeeded",
            Event::SignInFailed => "sign_in_failed",
            Event::SignInThrottled => "sign_in_throttled",
            Event::SignOut => "sign_out",
            Event::PasswordRehashed => "password_rehashed",
            Event::PreHijackDefence => "pre_hijack_defence",
            Event::PasskeyAdded => "passkey_added",
            Event::PasskeyRegistrationFailed => "passkey_registration_failed",
            Event::PasskeyRenamed => "passkey_renamed",
            Event::PasskeyRemoved => "passkey_removed",
            Event::PasskeyCounterRegression => "passkey_counter_regression",
            Event::PasswordRemoved => "password_removed",
            Event::StepUp => "step_up",
            Event::TotpAdded => "totp_added",
            Event::TotpRemoved => "totp_removed",
            Event::RecoveryCodesCreated => "recovery_codes_created",
            Event::RecoveryCodeUsed => "recovery_code_used",
            Event::SecondFactorFailed => "second_factor_failed",
            Event::SecondFactorPassed => "second_factor_passed",
            Event::SecurityKeyAdded => "security_key_added",
            Event::SecurityKeyRemoved => "security_key_removed",
            Event::SecurityKeyRegistrationFailed => "security_key_registration_failed",
            Event::SecurityKeyCounterRegression => "security_key_counter_regression",
            Event::EmailCodeSent => "email_code_sent",
            Event::EmailCodeRefused => "email_code_refused",
            Event::EmailCodeFailed => "email_code_failed",
            Event::EmailCodeUsed => "email_code_used",
            Event::PasswordReset => "password_reset",
            Event::PasswordChanged => "password_changed",
            Event::SessionEnded => "session_ended",
            Event::OtherSessionsEnded => "other_sessions_ended",
            Event::ProfileUpdated => "profile_updated",
            Event::DataExported => "data_exported",
            Event::DeletionRequested => "deletion_requested",
            Event::DeletionCancelled => "deletion_cancelled",
            Event::AccountErased => "account_erased",
            Event::EmailChangeRequested => "email_change_requested",
            Event::EmailChangeFailed => "email_change_failed",
            Event::EmailChanged => "email_changed",
            Event::EmailChangeToTakenAddress => "email_change_to_taken_address",
            Event::OAuthConsentGranted => "oauth_consent_granted",
            Event::OAuthConsentDenied => "oauth_consent_denied",
            Event::OAuthAppRevoked => "oauth_app_revoked",
            Event::OAuthCodeReused => "oauth_code_reused",
            Event::OAuthRefreshReused => "oauth_refresh_reused",
            Event::RoleGranted => "role_granted",
            Event::RoleRevoked => "role_revoked",
        }
    }
}

/// The user agent as stored (long strings are cut).
fn stored_user_agent(user_agent: &str) -> String {
    user_agent.chars().take(512).collect()
}

/// Whether the account signed in before from this user agent ("a new browser" when not). Without a user
/// agent every sign-in counts as new.
pub async fn signed_in_before_with(db: &Db, account_id: &str, user_agent: Option<&str>) -> Result<bool, sqlx::Error> {
    let Some(user_agent) = user_agent else {
        return Ok(false);
    };
    repo::exists_with_user_agent(&db.pool, account_id, Event::SignInSucceeded.as_str(), &stored_user_agent(user_agent))
        .await
}

/// Appends one event. Failure to write is an error for the caller: security events are not dropped.
pub async fn record(
    db: &Db,
    event: Event,
    account_id: Option<&str>,
    meta: &RequestMeta,
    detail: Value,
    now: i64,
) -> Result<(), sqlx::Error> {
    let row = entry(event, account_id, meta, detail, now);
    db.writer.run(move |c| Box::pin(async move { repo::insert(c, &row).await })).await
}

/// `record` inside the caller's transaction: the event is stored exactly when the change it tells of is.
pub async fn record_in<'e>(
    db: impl sqlx::AnyExecutor<'e>,
    event: Event,
    account_id: Option<&str>,
    meta: &RequestMeta,
    detail: Value,
    now: i64,
) -> Result<(), sqlx::Error> {
    repo::insert(db, &entry(event, account_id, meta, detail, now)).await
}

/// The stored row of one event, for a repository that writes it together with the change it tells of.
pub fn entry(event: Event, account_id: Option<&str>, meta: &RequestMeta, detail: Value, now: i64) -> repo::AuditRow {
    repo::AuditRow {
        id: uuid::Uuid::now_v7().to_string(),
        at: now,
        kind: event.as_str().to_string(),
        account_id: account_id.map(str::to_owned),
        ip: meta.ip.clone(),
        user_agent: meta.user_agent.as_deref().map(stored_user_agent),
        operation_id: meta.operation_id.clone(),
        detail: (!detail.is_null()).then(|| detail.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn events_are_appended_and_cannot_be_changed_or_deleted() {
        let (_dir, db) = crate::db::test_db().await;
        let meta = RequestMeta {
            ip: Some("192.0.2.7".into()),
            user_agent: Some("ua".into()),
            operation_id: Some("op".into()),
        };
        record(&db, Event::SignOut, Some("acct"), &meta, serde_json::json!({"x": 1}), 42)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(db.writer.has_written(), "audit rows go through the writer connection");
        let rows = repo::for_account(&db.pool, "acct", 10).await.unwrap_or_default();
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].kind.as_str(), rows[0].at, rows[0].ip.as_deref()), ("sign_out", 42, Some("192.0.2.7")));
        assert!(sqlx::query("UPDATE audit_events SET kind = 'x'").execute(&db.pool).await.is_err());
        assert!(sqlx::query("DELETE FROM audit_events").execute(&db.pool).await.is_err());
    }

    #[tokio::test]
    async fn the_only_change_allowed_is_turning_an_accounts_events_into_pseudonymous_stubs() {
        let (_dir, db) = crate::db::test_db().await;
        let meta = RequestMeta { ip: Some("192.0.2.7".into()), user_agent: Some("ua".into()), operation_id: None };
        for account in [Some("acct"), None] {
            record(&db, Event::SignOut, account, &meta, serde_json::json!({"x": 1}), 42)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let update = |sql: &'static str| sqlx::query(sql).execute(&db.pool);
        // not a stub: some personal data kept, another kind, another time, a pseudonym that is not one
        assert!(update("UPDATE audit_events SET account_id = 'erased:p', ip = NULL, user_agent = NULL").await.is_err());
        let other_kind = "UPDATE audit_events SET account_id = 'erased:p', ip = NULL, user_agent = NULL, \
                          detail = NULL, kind = 'x' WHERE account_id = 'acct'";
        assert!(update(other_kind).await.is_err());
        let other_time = "UPDATE audit_events SET account_id = 'erased:p', ip = NULL, user_agent = NULL, \
                          detail = NULL, at = 1 WHERE account_id = 'acct'";
        assert!(update(other_time).await.is_err());
        let not_pseudonym = "UPDATE audit_events SET account_id = 'someone', ip = NULL, user_agent = NULL, \
                             detail = NULL WHERE account_id = 'acct'";
        assert!(update(not_pseudonym).await.is_err());
        // events without an account are never rewritten
        let anonymous = "UPDATE audit_events SET account_id = 'erased:p', ip = NULL, user_agent = NULL, \
                         detail = NULL WHERE account_id IS NULL";
        assert!(update(anonymous).await.is_err());
        // the stub itself
        let stub = "UPDATE audit_events SET account_id = 'erased:p', ip = NULL, user_agent = NULL, detail = NULL \
                    WHERE account_id = 'acct'";
        assert!(update(stub).await.is_ok());
        let rows = repo::for_account(&db.pool, "erased:p", 10).await.unwrap_or_default();
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].kind.as_str(), rows[0].at, rows[0].ip.as_deref()), ("sign_out", 42, None));
        // and a stub stays what it is
        assert!(update("UPDATE audit_events SET account_id = 'erased:q' WHERE account_id = 'erased:p'").await.is_err());
        assert!(update("DELETE FROM audit_events").await.is_err());
    }
}
