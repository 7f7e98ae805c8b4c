//! Passkey server functions. The ceremonies (`*_start` / `*_finish`) are called by the hydrated pages
//! with JSON in and out; the ceremony state stays in the session and is taken out (single use) by the
//! finishing call. Renaming, removing and confirming with a password are plain forms that also work
//! without JavaScript.

use leptos::prelude::*;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::types::Flash;
use crate::types::SecurityPageState;

#[cfg(feature = "ssr")]
mod keys {
    /// A registration waiting for the browser (sign-up or adding a passkey).
    pub const REGISTRATION: &str = "webauthn_registration";
    /// A sign-in or confirmation waiting for the browser, started by a button.
    pub const SIGN_IN: &str = "webauthn_sign_in";
    /// The sign-in offered through autofill; separate so a button press does not void it.
    pub const CONDITIONAL: &str = "webauthn_conditional";
}

#[cfg(feature = "ssr")]
use super::auth::{ctx::Ctx, os_seeded_rng};

/// Error of a call made by page code (not a form): with its HTTP status.
#[cfg(feature = "ssr")]
pub(super) fn fail(err: impl Into<AppError>) -> AppError {
    super::with_status(err.into())
}

#[cfg(feature = "ssr")]
pub(super) fn to_json(value: &impl serde::Serialize) -> Result<String, AppError> {
    serde_json::to_string(value).map_err(AppError::internal)
}

/// The browser's answer, as JSON; malformed input is the client's fault.
#[cfg(feature = "ssr")]
pub(super) fn from_json<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, AppError> {
    serde_json::from_str(json).map_err(|_| AppError::new(crate::error::ErrorKind::BadRequest))
}

#[cfg(feature = "ssr")]
async fn take<T: serde::de::DeserializeOwned>(cx: &Ctx, key: &str) -> Result<T, AppError> {
    take_ceremony(cx, key, crate::error::ErrorKind::PasskeyExpired).await
}

/// The ceremony state waiting under `key`, taken out of the session (single use); `missing` when there is
/// none (never started, already used, or another tab's).
#[cfg(feature = "ssr")]
pub(super) async fn take_ceremony<T: serde::de::DeserializeOwned>(
    cx: &Ctx,
    key: &str,
    missing: crate::error::ErrorKind,
) -> Result<T, AppError> {
    let pending: Option<T> = crate::server::sessions::take(&cx.session, key).await.map_err(AppError::internal)?;
    pending.ok_or_else(|| AppError::new(missing))
}

/// Starts a passwordless sign-up; returns the creation options for `navigator.credentials.create`.
#[server(endpoint = "passkeys/signup-start")]
pub async fn passkey_signup_start(email: String, display_name: Option<String>) -> Result<String, AppError> {
    use crate::core::passkeys::start_signup;
    let cx = Ctx::get().await?;
    let (options, pending) =
        start_signup(&cx.state.deps(), &email, display_name.as_deref(), crate::server::auth::now()).map_err(fail)?;
    cx.session.insert(keys::REGISTRATION, pending).await.map_err(AppError::internal)?;
    to_json(&options)
}

/// Finishes a passwordless sign-up; returns where to go next (confirming the address).
#[server(endpoint = "passkeys/signup-finish")]
pub async fn passkey_signup_finish(credential: String) -> Result<String, AppError> {
    use crate::core::passkeys::{finish_registration, PendingRegistration, Registered};
    use crate::server::auth::{now, send_notice, PENDING_EMAIL_KEY, VERIFICATION_ROW_KEY};
    let cx = Ctx::get().await?;
    let result = async {
        let response = from_json(&credential)?;
        let pending: PendingRegistration = take(&cx, keys::REGISTRATION).await?;
        if pending.account_id().is_some() {
            return Err(AppError::new(crate::error::ErrorKind::PasskeyExpired));
        }
        let outcome =
            finish_registration(&cx.state.deps(), pending, &response, None, &cx.meta(), now(), &mut os_seeded_rng())
                .await?;
        let (notice, email, row) = match outcome {
            Registered::SignedUp { notice, email, row_id, .. } => (notice, email, row_id),
            // same session writes whether or not the address had an account
            Registered::ExistingAddress { notice, email } => (notice, email, uuid::Uuid::new_v4().to_string()),
            Registered::Added { .. } => return Err(AppError::new(crate::error::ErrorKind::PasskeyExpired)),
        };
        send_notice(&cx.state, notice).await?;
        cx.session.insert(PENDING_EMAIL_KEY, email).await.map_err(AppError::internal)?;
        cx.session.insert(VERIFICATION_ROW_KEY, row).await.map_err(AppError::internal)?;
        Ok("/verify-email".to_string())
    }
    .await;
    result.map_err(fail)
}

/// Starts a passkey sign-in. With an address: only that account's passkeys, or `None` when it has none
/// (identifier-first). Without: the authenticator picks (the button, or autofill when `conditional`).
#[server(endpoint = "passkeys/signin-start")]
pub async fn passkey_signin_start(email: Option<String>, conditional: bool) -> Result<Option<String>, AppError> {
    use crate::core::passkeys::{start_discoverable, start_for_email};
    use crate::server::auth::now;
    let cx = Ctx::get().await?;
    let started = match email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
        Some(email) => start_for_email(&cx.state.deps(), email, now()).await.map_err(fail)?,
        None => Some(start_discoverable(&cx.state.deps(), conditional, now()).map_err(fail)?),
    };
    let Some((options, pending)) = started else {
        return Ok(None);
    };
    let key = if conditional { keys::CONDITIONAL } else { keys::SIGN_IN };
    cx.session.insert(key, pending).await.map_err(AppError::internal)?;
    to_json(&options).map(Some)
}

/// Finishes a passkey sign-in; returns where to go next.
#[server(endpoint = "passkeys/signin-finish")]
pub async fn passkey_signin_finish(credential: String, conditional: bool) -> Result<String, AppError> {
    use crate::core::passkeys::{finish_sign_in, PendingSignIn, SignInOutcome};
    use crate::server::auth::{after_first_factor, now, send_notice, PENDING_EMAIL_KEY, VERIFICATION_ROW_KEY};
    let cx = Ctx::get().await?;
    let result: Result<String, AppError> = async {
        let response = from_json(&credential)?;
        let pending: PendingSignIn = take(&cx, if conditional { keys::CONDITIONAL } else { keys::SIGN_IN }).await?;
        match finish_sign_in(&cx.state.deps(), pending, &response, &cx.meta(), now(), &mut os_seeded_rng()).await? {
            SignInOutcome::SignedIn(signed_in) => {
                let (account, seen, methods) = (&signed_in.account_id, signed_in.deletion_seen, signed_in.methods());
                after_first_factor(&cx.state, &cx.session, account, seen, &methods, &cx.meta()).await
            }
            SignInOutcome::NeedsVerification { email, notice, row_id } => {
                send_notice(&cx.state, notice).await?;
                cx.session.insert(PENDING_EMAIL_KEY, email).await.map_err(AppError::internal)?;
                cx.session.insert(VERIFICATION_ROW_KEY, row_id).await.map_err(AppError::internal)?;
                Ok("/verify-email".to_string())
            }
        }
    }
    .await;
    result.map_err(fail)
}

/// Starts adding a passkey to the signed-in account (needs a recent sign-in).
#[server(endpoint = "passkeys/add-start")]
pub async fn passkey_add_start() -> Result<String, AppError> {
    use crate::server::auth::{now, require_recent_sign_in};
    let cx = Ctx::get().await?;
    let result = async {
        let account_id = require_recent_sign_in(&cx.state, &cx.session).await?;
        let (options, pending) = crate::core::passkeys::start_add(&cx.state.deps(), &account_id, now()).await?;
        cx.session.insert(keys::REGISTRATION, pending).await.map_err(AppError::internal)?;
        to_json(&options)
    }
    .await;
    result.map_err(fail)
}

/// Finishes adding a passkey; the account's address is told.
#[server(endpoint = "passkeys/add-finish")]
pub async fn passkey_add_finish(credential: String, name: Option<String>) -> Result<(), AppError> {
    use crate::core::passkeys::{finish_registration, PendingRegistration, Registered};
    use crate::server::auth::{now, require_recent_sign_in, send_notice};
    let cx = Ctx::get().await?;
    let result = async {
        let account_id = require_recent_sign_in(&cx.state, &cx.session).await?;
        let response = from_json(&credential)?;
        let pending: PendingRegistration = take(&cx, keys::REGISTRATION).await?;
        // the ceremony must have been started by this account, in this session
        if pending.account_id() != Some(account_id.as_str()) {
            return Err(AppError::new(crate::error::ErrorKind::PasskeyExpired));
        }
        let deps = cx.state.deps();
        let outcome =
            finish_registration(&deps, pending, &response, name.as_deref(), &cx.meta(), now(), &mut os_seeded_rng())
                .await?;
        if let Registered::Added { email, name, .. } = outcome {
            send_notice(&cx.state, crate::core::accounts::Notice::PasskeyAdded { to: email, name }).await?;
        }
        Ok(())
    }
    .await;
    result.map_err(fail)
}

/// Starts confirming it is you with one of your passkeys (step-up).
#[server(endpoint = "passkeys/confirm-start")]
pub async fn passkey_confirm_start() -> Result<String, AppError> {
    use crate::server::auth::{now, require_account_for_setup};
    let cx = Ctx::get().await?;
    let result = async {
        let account_id = require_account_for_setup(&cx.session).await?;
        let started = crate::core::passkeys::start_for_account(&cx.state.deps(), &account_id, now()).await?;
        let (options, pending) = started.ok_or_else(|| AppError::new(crate::error::ErrorKind::NotFound))?;
        cx.session.insert(keys::SIGN_IN, pending).await.map_err(AppError::internal)?;
        to_json(&options)
    }
    .await;
    result.map_err(fail)
}

/// Finishes confirming with a passkey: the session's sign-in time restarts (and its id rotates).
#[server(endpoint = "passkeys/confirm-finish")]
pub async fn passkey_confirm_finish(credential: String) -> Result<(), AppError> {
    use crate::core::audit::{record, Event};
    use crate::core::passkeys::{finish_sign_in, PendingSignIn, SignInOutcome};
    use crate::server::auth::{confirm_recent, now, require_account_for_setup};
    let cx = Ctx::get().await?;
    let result = async {
        let account_id = require_account_for_setup(&cx.session).await?;
        let response = from_json(&credential)?;
        let pending: PendingSignIn = take(&cx, keys::SIGN_IN).await?;
        let outcome =
            finish_sign_in(&cx.state.deps(), pending, &response, &cx.meta(), now(), &mut os_seeded_rng()).await?;
        match outcome {
            SignInOutcome::SignedIn(s) if s.account_id == account_id => {
                confirm_recent(&cx.session, &s.methods()).await?;
                let detail = serde_json::json!({"method": "passkey"});
                record(&cx.state.db, Event::StepUp, Some(&account_id), &cx.meta(), detail, now()).await?;
                Ok(())
            }
            _ => Err(AppError::new(crate::error::ErrorKind::PasskeyRejected)),
        }
    }
    .await;
    result.map_err(fail)
}

/// Confirms it is you with your password (step-up); a plain form.
#[server(endpoint = "account/confirm-password")]
pub async fn confirm_with_password(password: String, return_to: Option<String>) -> Result<(), AppError> {
    use crate::core::accounts::{login, LoginInput, LoginOutcome};
    use crate::core::audit::{record, Event};
    use crate::server::auth::{after_confirm, confirm_recent, now, require_account_for_setup};
    let cx = Ctx::get().await?;
    let result = async {
        let account_id = require_account_for_setup(&cx.session).await?;
        let account = crate::db::accounts::find_by_id(&cx.state.db.pool, &account_id)
            .await?
            .ok_or_else(|| AppError::new(crate::error::ErrorKind::SignInRequired))?;
        // the same checks, throttling and audit as signing in, for this account's address only
        let input = LoginInput { email: &account.email, password: &password };
        match login(&cx.state.deps(), &input, &cx.meta(), now(), &mut os_seeded_rng()).await? {
            LoginOutcome::SignedIn { account_id: signed } if signed == account_id => {
                confirm_recent(&cx.session, &["pwd".to_string()]).await?;
                let detail = serde_json::json!({"method": "password"});
                record(&cx.state.db, Event::StepUp, Some(&account_id), &cx.meta(), detail, now()).await?;
                Ok(after_confirm(return_to.as_deref(), "/account/security"))
            }
            _ => Err(AppError::new(crate::error::ErrorKind::InvalidCredentials)),
        }
    }
    .await;
    cx.finish(result, Flash { form: "confirm".into(), ..Flash::default() }).await
}

/// Renames one of your passkeys; a plain form.
#[server(endpoint = "passkeys/rename")]
pub async fn rename_passkey(id: String, name: String) -> Result<(), AppError> {
    use crate::server::auth::{now, require_account};
    let cx = Ctx::get().await?;
    let result = async {
        let account_id = require_account(&cx.session).await?;
        crate::core::passkeys::rename(&cx.state.deps(), &account_id, &id, &name, &cx.meta(), now()).await?;
        Ok("/account/security".to_string())
    }
    .await;
    cx.finish(result, Flash { form: format!("rename:{id}"), ..Flash::default() }).await
}

/// Removes one of your passkeys (needs a recent sign-in; never the last way in); a plain form.
#[server(endpoint = "passkeys/remove")]
pub async fn remove_passkey(id: String) -> Result<(), AppError> {
    use crate::server::auth::{now, require_recent_sign_in, send_notice};
    let cx = Ctx::get().await?;
    let result = async {
        let account_id = require_recent_sign_in(&cx.state, &cx.session).await?;
        let notice = crate::core::passkeys::remove(&cx.state.deps(), &account_id, &id, &cx.meta(), now()).await?;
        send_notice(&cx.state, notice).await?;
        Ok("/account/security".to_string())
    }
    .await;
    cx.finish(result, Flash { form: "passkeys".into(), ..Flash::default() }).await
}

/// Removes your password once you have a passkey (needs a recent sign-in); a plain form.
#[server(endpoint = "account/remove-password")]
pub async fn remove_password() -> Result<(), AppError> {
    use crate::server::auth::{now, require_recent_sign_in, send_notice};
    let cx = Ctx::get().await?;
    let result = async {
        let account_id = require_recent_sign_in(&cx.state, &cx.session).await?;
        let notice = crate::core::passkeys::remove_password(&cx.state.deps(), &account_id, &cx.meta(), now()).await?;
        send_notice(&cx.state, notice).await?;
        Ok("/account/security".to_string())
    }
    .await;
    cx.finish(result, Flash { form: "password".into(), ..Flash::default() }).await
}

/// Everything /account/security shows; `None` when nobody is signed in.
#[server(endpoint = "account/security")]
pub async fn load_security_page() -> Result<Option<SecurityPageState>, AppError> {
    use crate::server::auth::{signed_in_account, signed_in_recently, take_flash};
    use crate::types::PasskeyView;
    let cx = Ctx::get().await?;
    let Some(account_id) = signed_in_account(&cx.session).await else {
        return Ok(None);
    };
    let Some(account) = crate::db::accounts::find_by_id(&cx.state.db.pool, &account_id).await? else {
        return Ok(None);
    };
    let passkeys = crate::core::passkeys::list(&cx.state.deps(), &account_id).await?;
    let mfa = super::mfa::mfa_view(&cx, &account_id, &account.email).await?;
    Ok(Some(SecurityPageState {
        email: account.email,
        has_password: account.password_hash.is_some(),
        passkeys: passkeys
            .into_iter()
            .map(|p| PasskeyView {
                id: p.id,
                name: p.name,
                authenticator: p.authenticator.map(str::to_owned),
                created_on: shown_date(p.created_at),
                last_used_on: p.last_used_at.map(shown_date),
            })
            .collect(),
        recently_confirmed: signed_in_recently(&cx.session, cx.state.config.accounts.recent_sign_in_secs).await,
        mfa,
        flash: take_flash(&cx.session).await,
    }))
}

/// A date as the security page shows it, e.g. "29 Nov 2026, 10:15 UTC".
#[cfg(feature = "ssr")]
pub(super) fn shown_date(at: i64) -> String {
    let format = time::macros::format_description!("[day padding:none] [month repr:short] [year], [hour]:[minute] UTC");
    time::OffsetDateTime::from_unix_timestamp(at).ok().and_then(|t| t.format(&format).ok()).unwrap_or_default()
}
