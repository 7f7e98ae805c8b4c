//! Changes the signed-in owner makes to the account. (Issue 7's account center grows here.)

use leptos::prelude::*;

use crate::error::AppError;
use crate::types::ActivityPageState;
#[cfg(feature = "ssr")]
use crate::types::Flash;

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
        cx.session.cycle_id().await.map_err(AppError::internal)?;
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
    let account_id = match crate::server::auth::require_account(&cx.session).await {
        Ok(id) => id,
        Err(e) if e.kind == crate::error::ErrorKind::SignInRequired => return Ok(None),
        Err(e) => return Err(e),
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
