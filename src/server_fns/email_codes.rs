//! Emailed codes and links: signing in by email (`/login/email`) and recovering the account (`/recover`,
//! then `/recover/password`). Plain forms: every step works without JavaScript.

use leptos::prelude::*;

use crate::error::AppError;
use crate::types::{EmailCodePageState, EmailFlow, ResetPageState};
#[cfg(feature = "ssr")]
use crate::{error::ErrorKind, types::Flash};

#[cfg(feature = "ssr")]
use super::auth::{ctx::Ctx, os_seeded_rng};

/// What the flow's page shows: the address form, or the code form once a code was sent; with `token` (the
/// mail's link), whether this browser must also type the code.
#[server(endpoint = "auth/email-code-state")]
pub async fn load_email_code_page(
    #[server(default)] flow: EmailFlow,
    token: Option<String>,
) -> Result<EmailCodePageState, AppError> {
    use crate::core::accounts::{link_needs_code, EmailSignIn};
    use crate::server::auth::{email_code_key, now, take_flash, PendingEmailCode};
    let cx = Ctx::get().await?;
    let pending = cx.session.get::<PendingEmailCode>(email_code_key(flow)).await.ok().flatten();
    let link_needs_code = match &token {
        Some(token) => {
            let row = pending.as_ref().map(|p| p.row_id.as_str());
            link_needs_code(&cx.state.deps(), flow, token, row, now()).await?
        }
        None => false,
    };
    Ok(EmailCodePageState {
        enabled: flow == EmailFlow::Recover || cx.state.accounts.email_sign_in != EmailSignIn::Off,
        pending_email: pending.map(|p| p.email),
        link_needs_code,
        flash: take_flash(&cx.session).await,
    })
}

/// "Email me a code" (also "send a new code"): the same answer whether or not the address has an account.
#[server(endpoint = "auth/email-code-send")]
pub async fn send_email_code(flow: EmailFlow, email: String) -> Result<(), AppError> {
    use crate::server::auth::{email_code_key, is_plain_form_post, now, send_notice, set_flash, PendingEmailCode};
    let cx = Ctx::get().await?;
    let result = async {
        let deps = cx.state.deps();
        // a second message while one is pending: the page then says a new one is on its way
        let resending = cx.session.get::<PendingEmailCode>(email_code_key(flow)).await.ok().flatten().is_some();
        let requested =
            crate::core::accounts::request(&deps, flow, &email, &cx.meta(), now(), &mut os_seeded_rng()).await?;
        if let Err(err) = send_notice(&cx.state, requested.notice).await {
            // nothing reached the mailbox: asking again at once must not wait for the cooldown
            crate::core::accounts::mail_not_sent(&deps, &requested.email).await?;
            return Err(err);
        }
        let pending = PendingEmailCode { email: requested.email, row_id: requested.row_id };
        cx.session.insert(email_code_key(flow), pending).await.map_err(AppError::internal)?;
        if resending && is_plain_form_post(&cx.parts) {
            set_flash(
                &cx.session,
                &Flash { form: "email-code".into(), notice: Some("sent".into()), ..Flash::default() },
            )
            .await?;
        }
        Ok(flow.path().to_string())
    }
    .await;
    cx.finish(result, Flash { form: "email-code-send".into(), email: Some(email), ..Flash::default() }).await
}

/// The code typed in the browser that asked for it.
#[server(endpoint = "auth/email-code-verify")]
pub async fn enter_email_code(flow: EmailFlow, code: String) -> Result<(), AppError> {
    use crate::server::auth::{email_code_key, now, PendingEmailCode};
    let cx = Ctx::get().await?;
    let result = async {
        let pending = cx.session.get::<PendingEmailCode>(email_code_key(flow)).await.ok().flatten();
        let pending = pending.ok_or_else(|| AppError::new(ErrorKind::InvalidCode))?;
        let redeemed =
            crate::core::accounts::redeem_code(&cx.state.deps(), flow, &pending.row_id, &code, &cx.meta(), now())
                .await?;
        after_email_code(&cx, flow, redeemed).await
    }
    .await;
    cx.finish(result, Flash { form: "email-code-verify".into(), ..Flash::default() }).await
}

/// The mail's link (posted from its page, so mail scanners that open links do not use them up); `code`
/// is needed when this is not the browser that asked.
#[server(endpoint = "auth/email-code-link")]
pub async fn open_email_link(flow: EmailFlow, token: String, code: Option<String>) -> Result<(), AppError> {
    use crate::server::auth::{email_code_key, now, PendingEmailCode};
    let cx = Ctx::get().await?;
    let result = async {
        let pending = cx.session.get::<PendingEmailCode>(email_code_key(flow)).await.ok().flatten();
        let row = pending.as_ref().map(|p| p.row_id.as_str());
        let deps = cx.state.deps();
        let redeemed =
            crate::core::accounts::redeem_link(&deps, flow, &token, row, code.as_deref(), &cx.meta(), now()).await?;
        after_email_code(&cx, flow, redeemed).await
    }
    .await;
    cx.finish(result, Flash { form: "email-code-link".into(), ..Flash::default() }).await
}

/// Signing in continues like any first factor; a recovery continues to the second factor or the new
/// password.
#[cfg(feature = "ssr")]
async fn after_email_code(
    cx: &Ctx,
    flow: EmailFlow,
    redeemed: crate::core::accounts::Redeemed,
) -> Result<String, AppError> {
    use crate::core::accounts::Notice;
    use crate::server::auth::{after_first_factor, after_recovery_code, email_code_key, notify};
    crate::server::sessions::forget(&cx.session, email_code_key(flow)).await;
    // the code or link from the mailbox is a one-time code (RFC 8176 "otp")
    let methods = ["otp".to_string()];
    match flow {
        EmailFlow::SignIn => {
            if redeemed.new_browser {
                let from = crate::core::user_agent::describe(&cx.meta());
                notify(&cx.state, Notice::EmailSignInNewBrowser { to: redeemed.email, from }).await;
            }
            let seen = crate::core::accounts::deletion::SeenAtSignIn::Unread;
            after_first_factor(&cx.state, &cx.session, &redeemed.account_id, seen, &methods, &cx.meta()).await
        }
        EmailFlow::Recover => after_recovery_code(&cx.state, &cx.session, &redeemed.account_id, &methods).await,
    }
}

/// "Use another address": forgets the code this browser waits for.
#[server(endpoint = "auth/email-code-restart")]
pub async fn restart_email_code(flow: EmailFlow) -> Result<(), AppError> {
    let cx = Ctx::get().await?;
    crate::server::sessions::forget(&cx.session, crate::server::auth::email_code_key(flow)).await;
    leptos_axum::redirect(flow.path());
    Ok(())
}

/// What /recover/password shows; `None` when no recovery waits for its new password in this browser.
#[server(endpoint = "auth/reset-state")]
pub async fn load_reset_page() -> Result<Option<ResetPageState>, AppError> {
    use crate::server::auth::{reset_grant, take_flash};
    let cx = Ctx::get().await?;
    let Some(grant) = reset_grant(&cx.session).await else {
        return Ok(None);
    };
    let Some(account) = crate::db::accounts::find_by_id(&cx.state.db.pool, &grant.account_id).await? else {
        return Ok(None);
    };
    Ok(Some(ResetPageState { email: account.email, flash: take_flash(&cx.session).await }))
}

/// The new password of a recovery that passed its checks. Every session of the account ends, its owner
/// is told, and this browser is signed in.
#[server(endpoint = "auth/reset-password")]
pub async fn reset_password(password: String) -> Result<(), AppError> {
    use crate::server::auth::{after_first_factor, notify, now, reset_grant, RESET_GRANT_KEY};
    let cx = Ctx::get().await?;
    let result = async {
        let grant = reset_grant(&cx.session).await.ok_or_else(|| AppError::new(ErrorKind::RecoveryExpired))?;
        // a refused password leaves the grant in place, so the person can try another
        let notice =
            crate::core::accounts::reset_password(&cx.state.deps(), &grant.account_id, &password, &cx.meta(), now())
                .await?;
        crate::server::sessions::forget(&cx.session, RESET_GRANT_KEY).await;
        notify(&cx.state, notice).await;
        let seen = crate::core::accounts::deletion::SeenAtSignIn::Unread;
        let next =
            after_first_factor(&cx.state, &cx.session, &grant.account_id, seen, &grant.methods, &cx.meta()).await?;
        Ok(if next == "/account" { "/account?password_reset=1".to_string() } else { next })
    }
    .await;
    cx.finish(result, Flash { form: "reset".into(), ..Flash::default() }).await
}
