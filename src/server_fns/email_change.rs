//! Changing the account's address (/account/email): a code and a link to the new address (asking needs a
//! recent sign-in), then the code, or the link, makes it the account's address. Plain forms: every step
//! works without JavaScript. No function here takes a "verified" flag: only the code or link from the new
//! mailbox confirms an address.

use leptos::prelude::*;

use crate::error::AppError;
use crate::types::EmailChangePageState;
#[cfg(feature = "ssr")]
use crate::types::Flash;

#[cfg(feature = "ssr")]
use super::auth::{ctx::Ctx, os_seeded_rng};

/// The session key of the change this browser asked for (`PendingEmailChange`).
#[cfg(feature = "ssr")]
pub const EMAIL_CHANGE_KEY: &str = "email_change";

/// A change this browser asked for: the account, the new address (to show and to throttle guesses by) and
/// the message it may complete. The account is kept so that a later sign-in as someone else in this browser
/// neither shows nor completes it.
#[cfg(feature = "ssr")]
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct PendingEmailChange {
    pub account_id: String,
    pub email: String,
    pub row_id: String,
}

#[cfg(feature = "ssr")]
async fn pending(cx: &Ctx, account_id: &str) -> Option<PendingEmailChange> {
    let pending = cx.session.get::<PendingEmailChange>(EMAIL_CHANGE_KEY).await.ok().flatten()?;
    (pending.account_id == account_id).then_some(pending)
}

/// What /account/email shows; `None` when nobody is signed in. With `token` (the mail's link): whether this
/// browser must also type the code.
#[server(endpoint = "account/email-state")]
pub async fn load_email_change_page(token: Option<String>) -> Result<Option<EmailChangePageState>, AppError> {
    use crate::server::auth::{account_or_none, now, signed_in_recently, take_flash};
    let cx = Ctx::get().await?;
    let Some(account_id) = account_or_none(&cx.session).await? else {
        return Ok(None);
    };
    let Some(account) = crate::db::accounts::find_by_id(&cx.state.db.pool, &account_id).await? else {
        return Ok(None);
    };
    let pending = pending(&cx, &account_id).await;
    let link_needs_code = match token.as_deref().filter(|t| !t.is_empty()) {
        Some(token) => {
            let row = pending.as_ref().map(|p| p.row_id.as_str());
            crate::core::accounts::change_link_needs_code(&cx.state.deps(), &account_id, token, row, now()).await?
        }
        None => false,
    };
    let recently_confirmed = signed_in_recently(&cx.session, cx.state.config.accounts.recent_sign_in_secs).await;
    let confirm = if recently_confirmed {
        crate::types::ConfirmOptions::default()
    } else {
        super::account::confirm_options(&cx, &account_id).await?
    };
    Ok(Some(EmailChangePageState {
        email: account.email,
        pending_email: pending.map(|p| p.email),
        link_needs_code,
        recently_confirmed,
        confirm,
        flash: take_flash(&cx.session).await,
    }))
}

/// "Send a code to the new address" (also "send a new code"): needs a recent sign-in. The same answer
/// whether or not the address has an account.
#[server(endpoint = "account/email-change-request")]
pub async fn request_email_change(email: String) -> Result<(), AppError> {
    use crate::server::auth::{is_plain_form_post, now, require_recent_sign_in, send_notice, set_flash};
    let cx = Ctx::get().await?;
    let result = async {
        let account_id = require_recent_sign_in(&cx.state, &cx.session).await?;
        let deps = cx.state.deps();
        // a second message while one is pending: the page then says a new one is on its way
        let resending = pending(&cx, &account_id).await.is_some();
        let requested =
            crate::core::accounts::request_change(&deps, &account_id, &email, &cx.meta(), now(), &mut os_seeded_rng())
                .await?;
        if let Err(err) = send_notice(&cx.state, requested.notice).await {
            // nothing reached the mailbox: asking again at once must not wait for the cooldown
            crate::core::accounts::mail_not_sent(&deps, &requested.email).await?;
            return Err(err);
        }
        let pending = PendingEmailChange { account_id, email: requested.email, row_id: requested.row_id };
        cx.session.insert(EMAIL_CHANGE_KEY, pending).await.map_err(AppError::internal)?;
        if resending && is_plain_form_post(&cx.parts) {
            let flash = Flash { form: "email-change".into(), notice: Some("sent".into()), ..Flash::default() };
            set_flash(&cx.session, &flash).await?;
        }
        Ok("/account/email".to_string())
    }
    .await;
    cx.finish(result, Flash { form: "email-change-request".into(), email: Some(email), ..Flash::default() }).await
}

/// The code typed in the browser that asked for it.
#[server(endpoint = "account/email-change-verify")]
pub async fn confirm_email_change(code: String) -> Result<(), AppError> {
    use crate::server::auth::{now, require_account};
    let cx = Ctx::get().await?;
    let result = async {
        let account_id = require_account(&cx.session).await?;
        let pending = pending(&cx, &account_id).await;
        let pending = pending.ok_or_else(|| AppError::new(crate::error::ErrorKind::InvalidCode))?;
        let changed = crate::core::accounts::confirm_change_code(
            &cx.state.deps(),
            &account_id,
            &pending.email,
            &pending.row_id,
            &code,
            &cx.meta(),
            now(),
        )
        .await;
        after_change(&cx, changed).await
    }
    .await;
    cx.finish(result, Flash { form: "email-change-verify".into(), ..Flash::default() }).await
}

/// The mail's link (posted from its page, so mail scanners that open links do not use them up), by the
/// signed-in owner; `code` is needed when this is not the browser that asked.
#[server(endpoint = "account/email-change-link")]
pub async fn open_email_change_link(token: String, code: Option<String>) -> Result<(), AppError> {
    use crate::server::auth::{now, require_account};
    let cx = Ctx::get().await?;
    let result = async {
        let account_id = require_account(&cx.session).await?;
        let pending = pending(&cx, &account_id).await;
        let row = pending.as_ref().map(|p| p.row_id.as_str());
        let changed = crate::core::accounts::confirm_change_link(
            &cx.state.deps(),
            &account_id,
            &token,
            row,
            code.as_deref(),
            &cx.meta(),
            now(),
        )
        .await;
        after_change(&cx, changed).await
    }
    .await;
    cx.finish(result, Flash { form: "email-change-link".into(), ..Flash::default() }).await
}

/// After a code or link: the old address is told, the page shows the new one. A change that can never
/// complete (the address was taken meanwhile) is forgotten too, so the page offers a new one.
#[cfg(feature = "ssr")]
async fn after_change(
    cx: &Ctx,
    changed: Result<crate::core::accounts::AddressChanged, crate::core::accounts::EmailChangeError>,
) -> Result<String, AppError> {
    use crate::core::accounts::EmailChangeError;
    match changed {
        Ok(changed) => {
            crate::server::sessions::forget(&cx.session, EMAIL_CHANGE_KEY).await;
            crate::server::auth::notify(&cx.state, changed.notice).await;
            Ok("/account/email?changed=1".to_string())
        }
        Err(err) => {
            if matches!(err, EmailChangeError::AddressTaken) {
                crate::server::sessions::forget(&cx.session, EMAIL_CHANGE_KEY).await;
            }
            Err(err.into())
        }
    }
}

/// "Use another address": the pending change and its message stop working.
#[server(endpoint = "account/email-change-cancel")]
pub async fn cancel_email_change() -> Result<(), AppError> {
    use crate::server::auth::{now, require_account};
    let cx = Ctx::get().await?;
    let result = async {
        let account_id = require_account(&cx.session).await?;
        crate::core::accounts::cancel_change(&cx.state.deps(), &account_id, now()).await?;
        crate::server::sessions::forget(&cx.session, EMAIL_CHANGE_KEY).await;
        Ok("/account/email".to_string())
    }
    .await;
    cx.finish(result, Flash { form: "email-change-cancel".into(), ..Flash::default() }).await
}

/// What a person sees for a change's errors.
#[cfg(feature = "ssr")]
impl From<crate::core::accounts::EmailChangeError> for AppError {
    fn from(err: crate::core::accounts::EmailChangeError) -> Self {
        use crate::core::accounts::EmailChangeError;
        use crate::error::{ErrorKind, Problem};
        match err {
            EmailChangeError::SameAddress => AppError::validation(vec![Problem {
                field: "email".into(),
                message: crate::i18n::t("email_change.same_address").into(),
            }]),
            EmailChangeError::AddressTaken => AppError::new(ErrorKind::EmailTaken),
            EmailChangeError::NoAccount => AppError::new(ErrorKind::SignInRequired),
            EmailChangeError::Account(e) => e.into(),
        }
    }
}
