//! Changes the signed-in owner makes to the account. (Issue 7's account center grows here.)

use leptos::prelude::*;

use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::types::ConfirmOptions;
#[cfg(feature = "ssr")]
use crate::types::Flash;
use crate::types::{ActivityPageState, SessionsPageState};

#[cfg(feature = "ssr")]
use super::auth::ctx::Ctx;

/// A new password, or a first one for an account without (needs a recent sign-in: the user confirms it is
/// them first otherwise). Every other session of the account ends; this browser stays signed in under a new
/// session id; the owner is told by mail.
#[server(endpoint = "account/change-password")]
pub async fn change_password(password: String) -> Result<(), AppError> {
    use crate::server::auth::{notify, now, require_recent_sign_in};
    let cx = Ctx::get().await?;
    let result = async {
        let account_id = require_recent_sign_in(&cx.state, &cx.session).await?;
        let notice =
            crate::core::accounts::change_password(&cx.state.deps(), &account_id, &password, &cx.meta(), now()).await?;
        // the change ended every session of the account, this one's row too: continuing under a new id
        // stores this session again, and only this one
        crate::server::sessions::rotate_id(&cx.session).await.map_err(AppError::internal)?;
        notify(&cx.state, notice).await;
        Ok("/account/security?password_changed=1#password".to_string())
    }
    .await;
    cx.finish(result, Flash { form: "password-change".into(), ..Flash::default() }).await
}

/// Events per page of /account/activity.
#[cfg(feature = "ssr")]
const ACTIVITY_PAGE: i64 = 25;

/// The signed-in account's security events, newest first, `ACTIVITY_PAGE` at a time; `before`: the `older`
/// of the previous page. `None` when nobody is signed in.
#[server(endpoint = "account/activity")]
pub async fn load_activity_page(before: Option<String>) -> Result<Option<ActivityPageState>, AppError> {
    use crate::db::audit;
    use crate::types::ActivityEntry;
    let cx = Ctx::get().await?;
    // MfaSetupRequired answers 403, not 500 (the page redirects to the security page)
    let Some(account_id) = crate::server::auth::account_or_none(&cx.session).await.map_err(super::with_status)? else {
        return Ok(None);
    };
    let pool = &cx.state.db.pool;
    let mut rows = match before.as_deref().filter(|b| !b.is_empty()) {
        Some(before) => audit::for_account_before(pool, &account_id, before, ACTIVITY_PAGE + 1).await?,
        None => audit::for_account(pool, &account_id, ACTIVITY_PAGE + 1).await?,
    };
    let more = rows.len() as i64 > ACTIVITY_PAGE;
    rows.truncate(ACTIVITY_PAGE as usize);
    let older = more.then(|| rows.last().map(|r| r.id.clone())).flatten();
    let entries = rows
        .into_iter()
        .map(|row| {
            let meta = crate::core::audit::RequestMeta { ip: row.ip, user_agent: row.user_agent, operation_id: None };
            ActivityEntry {
                what: crate::i18n::t_opt(&format!("activity.kind.{}", row.kind))
                    .unwrap_or(crate::i18n::t("activity.unknown"))
                    .to_string(),
                when: super::passkeys::shown_date(row.at),
                from: crate::core::user_agent::describe(&meta),
            }
        })
        .collect();
    Ok(Some(ActivityPageState { entries, older }))
}

/// The signed-in account's sessions, this browser's marked, oldest first; `None` when nobody is signed in.
#[server(endpoint = "account/sessions")]
pub async fn load_sessions_page() -> Result<Option<SessionsPageState>, AppError> {
    use crate::server::auth::{now, signed_in_recently, take_flash};
    use crate::server::sessions::id_hash;
    use crate::types::SessionView;
    let cx = Ctx::get().await?;
    // MfaSetupRequired answers 403, not 500 (the page redirects to the security page)
    let Some(account_id) = crate::server::auth::account_or_none(&cx.session).await.map_err(super::with_status)? else {
        return Ok(None);
    };
    let current = cx.session.id().map(|id| id_hash(&id));
    let browsers = crate::server::session_client::signed_in_browsers(&cx.state, &account_id, now()).await?;
    let shown = super::passkeys::shown_date;
    let sessions = browsers
        .into_iter()
        .map(|b| SessionView {
            current: current.as_deref() == Some(b.id_hash.as_str()),
            device: b
                .client
                .as_ref()
                .and_then(|c| c.user_agent.as_deref())
                .and_then(crate::core::user_agent::browser_and_os),
            ip: b.client.as_ref().and_then(|c| c.ip.clone()),
            signed_in: shown(b.signed_in_at),
            last_active: b.client.map(|c| shown(c.seen_at)),
            id: b.id_hash,
        })
        .collect();
    let recently_confirmed = signed_in_recently(&cx.session, cx.state.config.accounts.recent_sign_in_secs).await;
    let confirm =
        if recently_confirmed { ConfirmOptions::default() } else { confirm_options(&cx, &account_id).await? };
    Ok(Some(SessionsPageState { sessions, recently_confirmed, confirm, flash: take_flash(&cx.session).await }))
}

/// The ways the account can confirm it is them, for a confirm card outside the security page.
#[cfg(feature = "ssr")]
pub(super) async fn confirm_options(cx: &Ctx, account_id: &str) -> Result<ConfirmOptions, AppError> {
    let account = crate::db::accounts::find_by_id(&cx.state.db.pool, account_id).await?;
    let passkeys = crate::db::passkeys::count_for_account(&cx.state.db.pool, account_id).await?;
    let factors = crate::core::mfa::factors(&cx.state.db, account_id).await?;
    Ok(ConfirmOptions {
        password: account.is_some_and(|a| a.password_hash.is_some()),
        passkey: passkeys > 0,
        totp: factors.totp,
        security_key: factors.security_keys > 0,
        recovery_code: factors.recovery_codes_left > 0,
    })
}

/// Ends another of the account's sessions (needs a recent sign-in). This browser's own session ends with
/// "Sign out" instead.
#[server(endpoint = "account/end-session")]
pub async fn end_session(id: String) -> Result<(), AppError> {
    use crate::core::audit::{record, Event};
    use crate::server::auth::{now, require_recent_sign_in};
    let cx = Ctx::get().await?;
    let result = async {
        let account_id = require_recent_sign_in(&cx.state, &cx.session).await?;
        let current = cx.session.id().map(|id| crate::server::sessions::id_hash(&id));
        if current.as_deref() == Some(id.as_str()) {
            return Err(AppError::new(crate::error::ErrorKind::BadRequest));
        }
        // scoped to the account: another account's session id ends nothing
        let Some(data) = crate::db::sessions::delete_of_account(&cx.state.db.pool, &account_id, &id).await? else {
            return Err(AppError::new(crate::error::ErrorKind::NotFound));
        };
        crate::server::oauth::logout::end_sign_ins(&cx.state, &[data]).await?;
        record(&cx.state.db, Event::SessionEnded, Some(&account_id), &cx.meta(), serde_json::Value::Null, now())
            .await?;
        Ok("/account/sessions?ended=1".to_string())
    }
    .await;
    cx.finish(result, Flash { form: "sessions".into(), ..Flash::default() }).await
}

/// Signs out every other browser of the account (needs a recent sign-in).
#[server(endpoint = "account/end-other-sessions")]
pub async fn end_other_sessions() -> Result<(), AppError> {
    use crate::core::audit::{record, Event};
    use crate::server::auth::{now, require_recent_sign_in};
    let cx = Ctx::get().await?;
    let result = async {
        let account_id = require_recent_sign_in(&cx.state, &cx.session).await?;
        let current = cx.session.id().map(|id| crate::server::sessions::id_hash(&id)).unwrap_or_default();
        let ended = crate::db::sessions::delete_others_of_account(&cx.state.db.pool, &account_id, &current).await?;
        crate::server::oauth::logout::end_sign_ins(&cx.state, &ended).await?;
        let detail = serde_json::json!({ "ended": ended.len() });
        record(&cx.state.db, Event::OtherSessionsEnded, Some(&account_id), &cx.meta(), detail, now()).await?;
        Ok("/account/sessions?ended=1".to_string())
    }
    .await;
    cx.finish(result, Flash { form: "sessions".into(), ..Flash::default() }).await
}
