//! The OAuth hosted pages: what the consent and sign-out confirmation pages show, the app a sign-in or
//! sign-up continues to, and /account/apps (the apps with access, and removing one's access).

use leptos::prelude::*;

use crate::error::AppError;
use crate::types::{AppsPageState, ConsentPageState, LogoutConfirmState};
#[cfg(feature = "ssr")]
use crate::types::{Flash, ScopeLine};

#[cfg(feature = "ssr")]
use super::auth::ctx::Ctx;

/// Scopes in plain words: the ones Vestibule knows each have their line, in a fixed order; an app's own
/// API scopes follow, with a generic line naming them.
#[cfg(feature = "ssr")]
pub(crate) fn scope_lines(scopes: &[String]) -> Vec<ScopeLine> {
    use crate::i18n::t;
    crate::core::oidc::authorize::scopes_for_consent(scopes)
        .into_iter()
        .map(|scope| {
            let text = match scope.as_str() {
                "openid" => t("oauth.scope.openid").to_string(),
                "profile" => t("oauth.scope.profile").to_string(),
                "email" => t("oauth.scope.email").to_string(),
                "offline_access" => t("oauth.scope.offline_access").to_string(),
                other => t("oauth.scope.api").replace("{scope}", other),
            };
            ScopeLine { scope, text }
        })
        .collect()
}

/// The app's request waiting in this browser and the signed-in account's address; `None` when nothing
/// waits or nobody is (fully) signed in.
#[server(endpoint = "oauth/consent-state")]
pub async fn load_consent_page() -> Result<Option<ConsentPageState>, AppError> {
    use crate::server::oauth::flow;
    let cx = Ctx::get().await?;
    let (Some(request), Some(signed_in)) = (flow::pending(&cx.session).await, flow::signed_in(&cx.session).await)
    else {
        return Ok(None);
    };
    let Some(account) = crate::db::accounts::find_by_id(&cx.state.db.pool, &signed_in.account_id).await? else {
        return Ok(None);
    };
    Ok(Some(ConsentPageState {
        client_name: request.client_name,
        email: account.email,
        scopes: scope_lines(&request.scopes),
    }))
}

/// What /oauth2/logout/confirm offers: confirming an app's sign-out request, the normal sign-out, or
/// nothing (signed out already).
#[server(endpoint = "oauth/logout-state")]
pub async fn load_logout_confirm() -> Result<LogoutConfirmState, AppError> {
    use crate::server::oauth::logout::pending_logout;
    let cx = Ctx::get().await?;
    // signed in also while the policy waits for a second factor: that session is one to end too
    if crate::server::auth::signed_in_account(&cx.session).await.is_none() {
        return Ok(LogoutConfirmState::SignedOut);
    }
    Ok(match pending_logout(&cx.session).await {
        Some(pending) => LogoutConfirmState::Confirm { client_name: pending.client_name },
        None => LogoutConfirmState::SignedIn,
    })
}

/// The name of the app whose request waits in this browser (the sign-in and sign-up pages say where the
/// person continues to); `None` outside an app's sign-in.
#[server(endpoint = "oauth/app-name")]
pub async fn oauth_app_name() -> Result<Option<String>, AppError> {
    let cx = Ctx::get().await?;
    Ok(crate::server::oauth::flow::pending(&cx.session).await.map(|request| request.client_name))
}

/// The apps with access to the signed-in account, by name; `None` when nobody is signed in.
#[server(endpoint = "account/apps")]
pub async fn load_apps_page() -> Result<Option<AppsPageState>, AppError> {
    use crate::server::auth::{account_or_none, now, take_flash};
    use crate::types::AppView;
    let cx = Ctx::get().await?;
    // (the policy's "set up a second factor first" answers 403, not 500)
    let Some(account_id) = account_or_none(&cx.session).await.map_err(super::with_status)? else {
        return Ok(None);
    };
    let shown = super::passkeys::shown_date;
    let apps = crate::core::oidc::grants::apps_for_account(&cx.state.db, &account_id, now())
        .await?
        .into_iter()
        .map(|app| AppView {
            scopes: scope_lines(&app.scopes),
            since: shown(app.since),
            last_used: app.last_used_at.map(shown),
            offline: app.offline,
            id: app.client_id,
            name: app.client_name,
        })
        .collect();
    Ok(Some(AppsPageState { apps, flash: take_flash(&cx.session).await }))
}

/// Removes an app's access: the consent and every grant (its refresh tokens stop working), audited.
/// `NotFound` when the account never allowed that app: nothing changes.
#[server(endpoint = "account/remove-app")]
pub async fn remove_app_access(id: String) -> Result<(), AppError> {
    use crate::error::ErrorKind;
    use crate::server::auth::{now, require_account};
    let cx = Ctx::get().await?;
    let result = async {
        let account_id = require_account(&cx.session).await?;
        // scoped to the account: another account's app (or an unknown id) removes nothing
        if !crate::core::oidc::grants::revoke_app(&cx.state.db, &account_id, &id, &cx.meta(), now()).await? {
            return Err(AppError::new(ErrorKind::NotFound));
        }
        Ok("/account/apps?removed=1".to_string())
    }
    .await;
    cx.finish(result, Flash { form: "apps".into(), ..Flash::default() }).await
}
