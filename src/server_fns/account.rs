//! Changes the signed-in owner makes to the account. (Issue 7's account center grows here.)

use leptos::prelude::*;

use crate::error::AppError;
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
