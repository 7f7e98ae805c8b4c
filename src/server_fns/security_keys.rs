//! Security keys as a second factor: adding one (the hydrated security page), using one at the
//! second-factor step of a sign-in or to confirm it is you, and removing one (a plain form). The ceremony
//! state waits in the session and is taken out (single use) by the finishing call.

use leptos::prelude::*;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::{error::ErrorKind, types::Flash};

#[cfg(feature = "ssr")]
use super::auth::{ctx::Ctx, os_seeded_rng};
#[cfg(feature = "ssr")]
use super::passkeys::{fail, from_json, to_json};

#[cfg(feature = "ssr")]
mod keys {
    /// Adding a security key, waiting for the browser.
    pub const REGISTRATION: &str = "security_key_registration";
    /// Using a security key (second-factor step or step-up), waiting for the browser.
    pub const USE: &str = "security_key_use";
}

#[cfg(feature = "ssr")]
async fn take<T: serde::de::DeserializeOwned>(cx: &Ctx, key: &str) -> Result<T, AppError> {
    super::passkeys::take_ceremony(cx, key, ErrorKind::SecurityKeyExpired).await
}

/// Starts adding a security key (needs a recent sign-in); returns options for `navigator.credentials.create`.
#[server(endpoint = "mfa/key-add-start")]
pub async fn security_key_add_start() -> Result<String, AppError> {
    use crate::server::auth::{now, require_recent_sign_in_for_setup};
    let cx = Ctx::get().await?;
    let result = async {
        let account_id = require_recent_sign_in_for_setup(&cx.state, &cx.session).await?;
        let (options, pending) =
            crate::core::mfa::security_keys::start_registration(&cx.state.deps(), &account_id, now()).await?;
        cx.session.insert(keys::REGISTRATION, pending).await.map_err(AppError::internal)?;
        to_json(&options)
    }
    .await;
    result.map_err(fail)
}

/// Finishes adding a security key; the first second factor also brings recovery codes (shown next render).
#[server(endpoint = "mfa/key-add-finish")]
pub async fn security_key_add_finish(credential: String, name: Option<String>) -> Result<(), AppError> {
    use crate::core::mfa::security_keys::{finish_registration, PendingKeyRegistration};
    use crate::server::auth::{
        now, require_recent_sign_in_for_setup, send_notice, MFA_SETUP_KEY, NEW_RECOVERY_CODES_KEY,
    };
    let cx = Ctx::get().await?;
    let result = async {
        let account_id = require_recent_sign_in_for_setup(&cx.state, &cx.session).await?;
        let response = from_json(&credential)?;
        let pending: PendingKeyRegistration = take(&cx, keys::REGISTRATION).await?;
        let deps = cx.state.deps();
        let meta = cx.meta();
        let (notice, codes) = finish_registration(
            &deps,
            &account_id,
            pending,
            &response,
            name.as_deref(),
            &meta,
            now(),
            &mut os_seeded_rng(),
        )
        .await?;
        crate::server::sessions::forget(&cx.session, MFA_SETUP_KEY).await;
        if let Some(codes) = codes {
            cx.session.insert(NEW_RECOVERY_CODES_KEY, codes).await.map_err(AppError::internal)?;
        }
        send_notice(&cx.state, notice).await
    }
    .await;
    result.map_err(fail)
}

/// Removes one of your security keys (needs a recent sign-in); a plain form. Refused when the policy
/// requires a second factor and this is the last.
#[server(endpoint = "mfa/key-remove")]
pub async fn remove_security_key(id: String) -> Result<(), AppError> {
    use crate::server::auth::{now, policy_requires_second_factor, require_recent_sign_in, send_notice};
    let cx = Ctx::get().await?;
    let result = async {
        let account_id = require_recent_sign_in(&cx.state, &cx.session).await?;
        let factors = crate::core::mfa::factors(&cx.state.db, &account_id).await?;
        let last = !factors.totp && factors.security_keys <= 1;
        if last && policy_requires_second_factor(&cx.state, &account_id).await? {
            return Err(AppError::new(ErrorKind::MfaRequiredByPolicy));
        }
        let notice =
            crate::core::mfa::security_keys::remove(&cx.state.deps(), &account_id, &id, &cx.meta(), now()).await?;
        send_notice(&cx.state, notice).await?;
        Ok("/account/security".to_string())
    }
    .await;
    cx.finish(result, Flash { form: "security-keys".into(), ..Flash::default() }).await
}

/// Starts the second-factor step with a security key; returns options for `navigator.credentials.get`.
#[server(endpoint = "mfa/key-sign-in-start")]
pub async fn security_key_sign_in_start() -> Result<String, AppError> {
    use crate::server::auth::{now, pending_second_factor};
    let cx = Ctx::get().await?;
    let result = async {
        let pending =
            pending_second_factor(&cx.session).await.ok_or_else(|| AppError::new(ErrorKind::SignInRequired))?;
        start_use(&cx, &pending.account_id, now()).await
    }
    .await;
    result.map_err(fail)
}

/// Finishes the second-factor step with a security key; returns where to go next.
#[server(endpoint = "mfa/key-sign-in-finish")]
pub async fn security_key_sign_in_finish(credential: String) -> Result<String, AppError> {
    use crate::core::audit::{record, Event};
    use crate::server::auth::{finish_second_factor, now, pending_second_factor};
    let cx = Ctx::get().await?;
    let result = async {
        let pending =
            pending_second_factor(&cx.session).await.ok_or_else(|| AppError::new(ErrorKind::SignInRequired))?;
        let account_id = pending.account_id.clone();
        finish_use(&cx, &account_id, &credential).await?;
        let next = finish_second_factor(&cx.state, &cx.session, &cx.meta(), pending, "hwk").await?;
        let detail = serde_json::json!({"method": "security_key"});
        record(&cx.state.db, Event::SecondFactorPassed, Some(&account_id), &cx.meta(), detail, now()).await?;
        Ok::<_, AppError>(match next {
            Some(next) => next,
            None => crate::server::oauth::flow::after_sign_in(&cx.session).await,
        })
    }
    .await;
    result.map_err(fail)
}

/// Starts confirming it is you with a security key (step-up).
#[server(endpoint = "mfa/key-confirm-start")]
pub async fn security_key_confirm_start() -> Result<String, AppError> {
    use crate::server::auth::{now, require_account_for_setup};
    let cx = Ctx::get().await?;
    let result = async {
        let account_id = require_account_for_setup(&cx.session).await?;
        start_use(&cx, &account_id, now()).await
    }
    .await;
    result.map_err(fail)
}

/// Finishes confirming it is you with a security key: the sign-in time restarts (and the id rotates).
#[server(endpoint = "mfa/key-confirm-finish")]
pub async fn security_key_confirm_finish(credential: String) -> Result<(), AppError> {
    use crate::core::audit::{record, Event};
    use crate::server::auth::{confirm_recent, now, require_account_for_setup};
    let cx = Ctx::get().await?;
    let result = async {
        let account_id = require_account_for_setup(&cx.session).await?;
        finish_use(&cx, &account_id, &credential).await?;
        confirm_recent(&cx.session, &["hwk".to_string()]).await?;
        let detail = serde_json::json!({"method": "security_key"});
        record(&cx.state.db, Event::StepUp, Some(&account_id), &cx.meta(), detail, now()).await?;
        Ok::<_, AppError>(())
    }
    .await;
    result.map_err(fail)
}

/// Starts using one of the account's keys; the options as JSON.
#[cfg(feature = "ssr")]
async fn start_use(cx: &Ctx, account_id: &str, now: i64) -> Result<String, AppError> {
    let started = crate::core::mfa::security_keys::start_use(&cx.state.deps(), account_id, now).await?;
    let (options, pending) = started.ok_or_else(|| AppError::new(ErrorKind::NotFound))?;
    cx.session.insert(keys::USE, pending).await.map_err(AppError::internal)?;
    to_json(&options)
}

/// Verifies the key's answer against the ceremony this session started for `account_id`.
#[cfg(feature = "ssr")]
async fn finish_use(cx: &Ctx, account_id: &str, credential: &str) -> Result<(), AppError> {
    use crate::core::mfa::security_keys::PendingKeyUse;
    let response = from_json(credential)?;
    let pending: PendingKeyUse = take(cx, keys::USE).await?;
    // a ceremony started for another account (a sign-in abandoned in this browser) never counts
    if pending.account_id() != account_id {
        return Err(AppError::new(ErrorKind::SecurityKeyExpired));
    }
    crate::core::mfa::security_keys::finish_use(
        &cx.state.deps(),
        pending,
        &response,
        &cx.meta(),
        crate::server::auth::now(),
    )
    .await
    .map_err(AppError::from)
}
