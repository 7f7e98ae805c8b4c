//! /account/data: the page's data, deleting the account, and the one-time "deletion cancelled" notice.
//! (The export itself is a download: `GET /account/export`, server::account_data.)

use leptos::prelude::*;

use crate::error::AppError;
use crate::types::DataPageState;
#[cfg(feature = "ssr")]
use crate::types::{ConfirmOptions, Flash};

#[cfg(feature = "ssr")]
use super::auth::ctx::Ctx;

/// What /account/data shows the signed-in owner; `None` when nobody is signed in.
#[server(endpoint = "account/data")]
pub async fn load_data_page() -> Result<Option<DataPageState>, AppError> {
    use crate::core::audit::Event;
    use crate::server::auth::{account_or_none, signed_in_recently, take_flash};
    let cx = Ctx::get().await?;
    let Some(account_id) = account_or_none(&cx.session).await? else {
        return Ok(None);
    };
    let pool = &cx.state.db.pool;
    let Some(account) = crate::db::accounts::find_by_id(pool, &account_id).await? else {
        return Ok(None);
    };
    let recently_confirmed = signed_in_recently(&cx.session, cx.state.config.accounts.recent_sign_in_secs).await;
    let confirm = if recently_confirmed {
        ConfirmOptions::default()
    } else {
        super::account::confirm_options(&cx, &account_id).await?
    };
    // the latest word on deleting the account: shown when a sign-in cancelled a deletion
    let (requested, cancelled) = (Event::DeletionRequested.as_str(), Event::DeletionCancelled.as_str());
    let latest = crate::db::audit::latest_of_kinds(pool, &account_id, requested, cancelled).await?;
    let deletion_cancelled_on =
        latest.filter(|(kind, _)| kind == cancelled).map(|(_, at)| super::passkeys::shown_date(at));
    Ok(Some(DataPageState {
        email: account.email,
        recently_confirmed,
        confirm,
        grace: grace_words(cx.state.config.accounts.deletion_grace_secs),
        deletion_cancelled_on,
        flash: take_flash(&cx.session).await,
    }))
}

/// The grace period in words ("7 days", "36 hours"); `None` for none.
#[cfg(feature = "ssr")]
fn grace_words(secs: i64) -> Option<String> {
    use crate::i18n::t;
    const DAY: i64 = 24 * 3600;
    let count = |n: i64, one: &'static str, many: &'static str| {
        if n == 1 {
            t(one).to_string()
        } else {
            t(many).replace("{n}", &n.to_string())
        }
    };
    match secs {
        s if s <= 0 => None,
        s if s % DAY == 0 => Some(count(s / DAY, "data.grace.day", "data.grace.days")),
        s if s % 3600 == 0 => Some(count(s / 3600, "data.grace.hour", "data.grace.hours")),
        s => Some(count((s + 59) / 60, "data.grace.minute", "data.grace.minutes")),
    }
}

/// Asks to delete the signed-in account (needs a recent sign-in, and `email`: the account's address typed
/// to confirm). Every session of the account ends, this one too; the account is erased after the grace
/// period unless a sign-in cancels it. The browser lands on the page saying so.
#[server(endpoint = "account/delete")]
pub async fn request_deletion(email: String) -> Result<(), AppError> {
    use crate::core::accounts::deletion;
    use crate::server::auth::{notify, now, require_recent_sign_in};
    let cx = Ctx::get().await?;
    let result = async {
        let account_id = require_recent_sign_in(&cx.state, &cx.session).await?;
        let grace = cx.state.config.accounts.deletion_grace_secs;
        let scheduled = deletion::request(&cx.state.db, &account_id, &email, grace, &cx.meta(), now())
            .await
            .map_err(deletion_error)?;
        // the session's row is gone already; flushing clears the cookie and keeps it from being stored again
        cx.session.flush().await.map_err(AppError::internal)?;
        notify(&cx.state, scheduled.notice).await;
        Ok("/account/data?deletion=scheduled".to_string())
    }
    .await;
    cx.finish(result, Flash { form: "delete".into(), ..Flash::default() }).await
}

/// What a person sees when the deletion is refused: the typed address at its field.
#[cfg(feature = "ssr")]
fn deletion_error(e: crate::core::accounts::deletion::DeletionError) -> AppError {
    use crate::core::accounts::deletion::DeletionError;
    use crate::error::{ErrorKind, Problem};
    match e {
        DeletionError::Confirmation => AppError::validation(vec![Problem {
            field: "email".into(),
            message: crate::i18n::t("data.delete.mismatch").into(),
        }]),
        DeletionError::NotFound => AppError::new(ErrorKind::SignInRequired),
        DeletionError::Db(e) => AppError::from(e),
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::grace_words;

    #[test]
    fn the_grace_period_is_worded_in_the_largest_whole_unit() {
        assert_eq!(grace_words(0), None);
        assert_eq!(grace_words(604_800).as_deref(), Some("7 days"));
        assert_eq!(grace_words(86_400).as_deref(), Some("1 day"));
        assert_eq!(grace_words(36 * 3600).as_deref(), Some("36 hours"));
        assert_eq!(grace_words(3600).as_deref(), Some("1 hour"));
        assert_eq!(grace_words(90).as_deref(), Some("2 minutes"));
        assert_eq!(grace_words(60).as_deref(), Some("1 minute"));
    }
}
