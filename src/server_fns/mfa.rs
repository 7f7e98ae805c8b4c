//! Second factors: the second-factor step of a sign-in, setting up and removing an authenticator app,
//! recovery codes, and confirming it is you (step-up) with either. All plain forms: they work without
//! JavaScript.

use leptos::prelude::*;

use crate::error::AppError;
use crate::types::SecondFactorPageState;
#[cfg(feature = "ssr")]
use crate::{error::ErrorKind, types::Flash};

#[cfg(feature = "ssr")]
use super::auth::{ctx::Ctx, os_seeded_rng};

/// The signed-in account's address (for the authenticator app's label and the notices).
#[cfg(feature = "ssr")]
async fn email_of(cx: &Ctx, account_id: &str) -> Result<String, AppError> {
    let account = crate::db::accounts::find_by_id(&cx.state.db.pool, account_id).await?;
    account.map(|a| a.email).ok_or_else(|| AppError::new(ErrorKind::SignInRequired))
}

/// What /login/second-factor offers; `None` when no sign-in waits for a second factor.
#[server(endpoint = "mfa/second-factor-state")]
pub async fn load_second_factor_page() -> Result<Option<SecondFactorPageState>, AppError> {
    use crate::server::auth::{pending_second_factor, take_flash};
    let cx = Ctx::get().await?;
    let Some(pending) = pending_second_factor(&cx.session).await else {
        return Ok(None);
    };
    let factors = crate::core::mfa::factors(&cx.state.db, &pending.account_id).await?;
    Ok(Some(SecondFactorPageState {
        totp: factors.totp,
        security_key: factors.security_keys > 0,
        recovery_codes: factors.recovery_codes_left > 0,
        for_reset: pending.for_reset,
        flash: take_flash(&cx.session).await,
    }))
}

/// Second-factor step with a code from the authenticator app.
#[server(endpoint = "mfa/sign-in-totp")]
pub async fn sign_in_with_totp(code: String) -> Result<(), AppError> {
    use crate::core::audit::{record, Event};
    use crate::server::auth::{finish_second_factor, now, pending_second_factor};
    let cx = Ctx::get().await?;
    let result = async {
        let pending =
            pending_second_factor(&cx.session).await.ok_or_else(|| AppError::new(ErrorKind::SignInRequired))?;
        let email = email_of(&cx, &pending.account_id).await?;
        crate::core::mfa::totp::verify(&cx.state.deps(), &pending.account_id, &email, &code, &cx.meta(), now()).await?;
        let account_id = pending.account_id.clone();
        let next = finish_second_factor(&cx.state, &cx.session, &cx.meta(), pending, "otp").await?;
        let detail = serde_json::json!({"method": "totp"});
        record(&cx.state.db, Event::SecondFactorPassed, Some(&account_id), &cx.meta(), detail, now()).await?;
        Ok(match next {
            Some(next) => next,
            None => crate::server::oauth::flow::after_sign_in(&cx.session).await,
        })
    }
    .await;
    cx.finish(result, Flash { form: "second-factor-totp".into(), ..Flash::default() }).await
}

/// Second-factor step with a recovery code; then on to the security page, which says how many are left
/// and offers setting up a new factor.
#[server(endpoint = "mfa/sign-in-recovery")]
pub async fn sign_in_with_recovery_code(code: String) -> Result<(), AppError> {
    use crate::core::audit::{record, Event};
    use crate::server::auth::{finish_second_factor, now, pending_second_factor};
    let cx = Ctx::get().await?;
    let result = async {
        let pending =
            pending_second_factor(&cx.session).await.ok_or_else(|| AppError::new(ErrorKind::SignInRequired))?;
        let account_id = pending.account_id.clone();
        crate::core::mfa::recovery::redeem(&cx.state.deps(), &account_id, &code, &cx.meta(), now()).await?;
        let next = finish_second_factor(&cx.state, &cx.session, &cx.meta(), pending, "otp").await?;
        let detail = serde_json::json!({"method": "recovery_code"});
        record(&cx.state.db, Event::SecondFactorPassed, Some(&account_id), &cx.meta(), detail, now()).await?;
        Ok(match next {
            Some(next) => next,
            // an app waiting comes first; the security page tells of the used code on the next visit anyway
            None if crate::server::oauth::flow::pending(&cx.session).await.is_some() => {
                crate::server::oauth::flow::CONTINUE_PATH.to_string()
            }
            None => "/account/security?recovery_used=1".to_string(),
        })
    }
    .await;
    cx.finish(result, Flash { form: "second-factor-recovery".into(), ..Flash::default() }).await
}

/// Starts setting up an authenticator app (needs a recent sign-in); the security page then shows the QR
/// code and the key.
#[server(endpoint = "mfa/totp-start")]
pub async fn start_totp_setup() -> Result<(), AppError> {
    use crate::server::auth::{now, require_recent_sign_in_for_setup};
    let cx = Ctx::get().await?;
    let result = async {
        let account_id = require_recent_sign_in_for_setup(&cx.state, &cx.session).await?;
        crate::core::mfa::totp::start_enrolment(&cx.state.deps(), &account_id, now(), &mut os_seeded_rng()).await?;
        Ok("/account/security#totp".to_string())
    }
    .await;
    cx.finish(result, Flash { form: "totp".into(), ..Flash::default() }).await
}

/// Completes the setup with the app's first code; the first factor also brings recovery codes.
#[server(endpoint = "mfa/totp-confirm")]
pub async fn confirm_totp_setup(code: String) -> Result<(), AppError> {
    use crate::server::auth::{
        now, require_recent_sign_in_for_setup, send_notice, MFA_SETUP_KEY, NEW_RECOVERY_CODES_KEY,
    };
    let cx = Ctx::get().await?;
    let result = async {
        let account_id = require_recent_sign_in_for_setup(&cx.state, &cx.session).await?;
        let email = email_of(&cx, &account_id).await?;
        let deps = cx.state.deps();
        let (notice, codes) = crate::core::mfa::totp::confirm_enrolment(
            &deps,
            &account_id,
            &email,
            &code,
            &cx.meta(),
            now(),
            &mut os_seeded_rng(),
        )
        .await?;
        crate::server::sessions::forget(&cx.session, MFA_SETUP_KEY).await;
        if let Some(codes) = codes {
            cx.session.insert(NEW_RECOVERY_CODES_KEY, codes).await.map_err(AppError::internal)?;
        }
        send_notice(&cx.state, notice).await?;
        Ok("/account/security#recovery".to_string())
    }
    .await;
    cx.finish(result, Flash { form: "totp".into(), ..Flash::default() }).await
}

/// Removes the authenticator app (needs a recent sign-in). Refused when the policy requires a second
/// factor and this is the last.
#[server(endpoint = "mfa/totp-remove")]
pub async fn remove_totp() -> Result<(), AppError> {
    use crate::server::auth::{now, policy_requires_second_factor, require_recent_sign_in, send_notice};
    let cx = Ctx::get().await?;
    let result = async {
        let account_id = require_recent_sign_in(&cx.state, &cx.session).await?;
        let last = crate::core::mfa::factors(&cx.state.db, &account_id).await?.security_keys == 0;
        if last && policy_requires_second_factor(&cx.state, &account_id).await? {
            return Err(AppError::new(ErrorKind::MfaRequiredByPolicy));
        }
        let email = email_of(&cx, &account_id).await?;
        let notice = crate::core::mfa::totp::remove(&cx.state.deps(), &account_id, &email, &cx.meta(), now()).await?;
        send_notice(&cx.state, notice).await?;
        Ok("/account/security".to_string())
    }
    .await;
    cx.finish(result, Flash { form: "totp".into(), ..Flash::default() }).await
}

/// Replaces the recovery codes with a new set (needs a recent sign-in and a second factor).
#[server(endpoint = "mfa/recovery-regenerate")]
pub async fn regenerate_recovery_codes() -> Result<(), AppError> {
    use crate::core::accounts::Notice;
    use crate::server::auth::{now, require_recent_sign_in, send_notice, NEW_RECOVERY_CODES_KEY};
    let cx = Ctx::get().await?;
    let result = async {
        let account_id = require_recent_sign_in(&cx.state, &cx.session).await?;
        if !crate::core::mfa::factors(&cx.state.db, &account_id).await?.required_at_sign_in() {
            return Err(AppError::new(ErrorKind::NotFound));
        }
        let email = email_of(&cx, &account_id).await?;
        let codes =
            crate::core::mfa::recovery::new_set(&cx.state.deps(), &account_id, &cx.meta(), now(), &mut os_seeded_rng())
                .await?;
        cx.session.insert(NEW_RECOVERY_CODES_KEY, codes).await.map_err(AppError::internal)?;
        send_notice(&cx.state, Notice::RecoveryCodesReplaced { to: email }).await?;
        Ok("/account/security#recovery".to_string())
    }
    .await;
    cx.finish(result, Flash { form: "recovery".into(), ..Flash::default() }).await
}

/// Confirms it is you (step-up) with a code from the authenticator app.
#[server(endpoint = "mfa/confirm-totp")]
pub async fn confirm_with_totp(code: String, return_to: Option<String>) -> Result<(), AppError> {
    use crate::core::audit::{record, Event};
    use crate::server::auth::{after_confirm, confirm_recent, now, require_account_for_setup};
    let cx = Ctx::get().await?;
    let result = async {
        let account_id = require_account_for_setup(&cx.session).await?;
        let email = email_of(&cx, &account_id).await?;
        crate::core::mfa::totp::verify(&cx.state.deps(), &account_id, &email, &code, &cx.meta(), now()).await?;
        confirm_recent(&cx.session, &["otp".to_string()]).await?;
        let detail = serde_json::json!({"method": "totp"});
        record(&cx.state.db, Event::StepUp, Some(&account_id), &cx.meta(), detail, now()).await?;
        Ok(after_confirm(return_to.as_deref(), "/account/security"))
    }
    .await;
    cx.finish(result, Flash { form: "confirm".into(), ..Flash::default() }).await
}

/// Confirms it is you (step-up) with a recovery code.
#[server(endpoint = "mfa/confirm-recovery")]
pub async fn confirm_with_recovery_code(code: String, return_to: Option<String>) -> Result<(), AppError> {
    use crate::core::audit::{record, Event};
    use crate::server::auth::{after_confirm, confirm_recent, now, require_account_for_setup};
    let cx = Ctx::get().await?;
    let result = async {
        let account_id = require_account_for_setup(&cx.session).await?;
        crate::core::mfa::recovery::redeem(&cx.state.deps(), &account_id, &code, &cx.meta(), now()).await?;
        confirm_recent(&cx.session, &["otp".to_string()]).await?;
        let detail = serde_json::json!({"method": "recovery_code"});
        record(&cx.state.db, Event::StepUp, Some(&account_id), &cx.meta(), detail, now()).await?;
        Ok(after_confirm(return_to.as_deref(), "/account/security?recovery_used=1"))
    }
    .await;
    cx.finish(result, Flash { form: "confirm".into(), ..Flash::default() }).await
}

/// The second factors as /account/security shows them. Takes new recovery codes out of the session: they
/// are rendered this once.
#[cfg(feature = "ssr")]
pub(crate) async fn mfa_view(cx: &Ctx, account_id: &str, email: &str) -> Result<crate::types::MfaView, AppError> {
    use base64::Engine;

    use crate::server::auth::{mfa_setup_pending, NEW_RECOVERY_CODES_KEY};
    use crate::types::{MfaView, TotpView};
    let deps = cx.state.deps();
    let factors = crate::core::mfa::factors(&cx.state.db, account_id).await?;
    let totp = if factors.totp {
        TotpView::On
    } else {
        match crate::core::mfa::totp::pending_enrolment(&deps, account_id, email, crate::server::auth::now()).await? {
            Some(e) => TotpView::Pending {
                secret: e.secret,
                qr_svg_data_uri: format!(
                    "data:image/svg+xml;base64,{}",
                    base64::engine::general_purpose::STANDARD.encode(e.qr_svg)
                ),
            },
            None => TotpView::Off,
        }
    };
    let security_keys = crate::db::mfa::security_keys_for_account(&cx.state.db.pool, account_id)
        .await?
        .into_iter()
        .map(|k| crate::types::SecurityKeyView {
            id: k.id,
            name: k.name,
            created_on: super::passkeys::shown_date(k.created_at),
            last_used_on: k.last_used_at.map(super::passkeys::shown_date),
        })
        .collect();
    let new_recovery_codes: Vec<String> = crate::server::sessions::take(&cx.session, NEW_RECOVERY_CODES_KEY)
        .await
        .map_err(AppError::internal)?
        .unwrap_or_default();
    Ok(MfaView {
        totp,
        security_keys,
        recovery_codes_left: factors.recovery_codes_left,
        new_recovery_codes,
        setup_required: mfa_setup_pending(&cx.session).await,
    })
}
