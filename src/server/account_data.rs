//! The HTTP side of "your data": the export download (`GET /account/export`, a plain route because it
//! answers with a file, not a page), cancelling a waiting deletion when its owner signs in, and the
//! background purge of accounts whose deletion is due.

use std::time::Duration;

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{header, HeaderValue, StatusCode};
use tower_sessions::Session;

use crate::core::accounts::deletion::{self, OnSignIn, SeenAtSignIn};
use crate::core::accounts::export::{self, SessionData};
use crate::core::audit::{self, Event, RequestMeta};
use crate::error::{AppError, ErrorKind};
use crate::server::auth::{is_plain_form_post, notify, now, request_meta, require_account, signed_in_recently};
use crate::server::router::error_response;
use crate::server::sessions::id_hash;
use crate::server::state::AppState;

/// Session key of `DeletionCancelled`: a sign-in of this session cancelled the account's deletion, until
/// the account page has said so once.
pub const DELETION_CANCELLED_KEY: &str = "deletion_cancelled";

/// A deletion a sign-in cancelled, waiting to be mentioned on the account page.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct DeletionCancelled {
    /// The account it was cancelled for (another account signing in later in this browser is not told).
    pub account_id: String,
    pub at: i64,
    /// The request (operation id) that showed it: a page render may ask more than once (server rendering
    /// builds the view twice), and each ask of that request gets the same answer.
    pub shown_in: Option<String>,
}

/// Whether the page being rendered for `account_id` should say that a sign-in cancelled its deletion:
/// `true` within the first request that asks, `false` from the next one on.
pub async fn take_deletion_cancelled(session: &Session, account_id: &str) -> Result<bool, AppError> {
    let Some(mut cancelled) = session.get::<DeletionCancelled>(DELETION_CANCELLED_KEY).await.ok().flatten() else {
        return Ok(false);
    };
    let this_request = crate::server::operation::current();
    let show = cancelled.account_id == account_id
        && match (&cancelled.shown_in, &this_request) {
            (None, Some(_)) => {
                cancelled.shown_in = this_request.clone();
                session.insert(DELETION_CANCELLED_KEY, &cancelled).await.map_err(AppError::internal)?;
                return Ok(true);
            }
            (Some(shown), Some(now)) => shown == now,
            // without a request id: once
            (None, None) => true,
            (Some(_), None) => false,
        };
    if !show || this_request.is_none() {
        crate::server::sessions::forget(session, DELETION_CANCELLED_KEY).await;
    }
    Ok(show)
}

/// `GET /account/export`: everything held about the signed-in account, as a JSON download. Needs a recent
/// sign-in; browsers are sent to sign in or to /account/data (where the confirm card is) otherwise, other
/// clients get the problem document.
pub async fn download(State(state): State<AppState>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    let browser = is_plain_form_post(&parts);
    let refuse = |err: AppError, to: &str| {
        if browser {
            Redirect::to(to).into_response()
        } else {
            error_response(&err, &parts.headers)
        }
    };
    let Some(session) = parts.extensions.get::<Session>().cloned() else {
        return error_response(&AppError::internal("no session"), &parts.headers);
    };
    let account_id = match require_account(&session).await {
        Ok(id) => id,
        Err(e) if e.kind == ErrorKind::MfaSetupRequired => return refuse(e, "/account/security"),
        Err(e) => return refuse(e, "/login"),
    };
    if !signed_in_recently(&session, state.config.accounts.recent_sign_in_secs).await {
        return refuse(AppError::new(ErrorKind::StepUpRequired), "/account/data");
    }
    let meta = request_meta(&parts, &state.config.trusted_proxies);
    match export_json(&state, &session, &account_id, &meta).await {
        Ok((body, day)) => {
            let disposition = format!("attachment; filename=\"account-data-{day}.json\"");
            let mut response = (StatusCode::OK, body).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            if let Ok(value) = HeaderValue::from_str(&disposition) {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
            response
        }
        Err(e) => error_response(&e, &parts.headers),
    }
}

/// The export as pretty JSON, and the day it was made (for the file name); audited.
async fn export_json(
    state: &AppState,
    session: &Session,
    account_id: &str,
    meta: &RequestMeta,
) -> Result<(String, String), AppError> {
    let now = now();
    let sessions = sessions_of(state, session, account_id, now).await?;
    let export = export::build(&state.db, account_id, sessions, now)
        .await?
        .ok_or_else(|| AppError::new(ErrorKind::SignInRequired))?;
    let body = serde_json::to_string_pretty(&export).map_err(AppError::internal)?;
    audit::record(&state.db, Event::DataExported, Some(account_id), meta, serde_json::Value::Null, now).await?;
    let day = export.exported_at.get(..10).unwrap_or("today").to_string();
    Ok((body, day))
}

/// The browsers signed in to the account, as the sessions page shows them.
async fn sessions_of(
    state: &AppState,
    session: &Session,
    account_id: &str,
    now: i64,
) -> Result<Vec<SessionData>, AppError> {
    let current = session.id().map(|id| id_hash(&id));
    let browsers = crate::server::session_client::signed_in_browsers(state, account_id, now).await?;
    Ok(browsers
        .into_iter()
        .map(|b| SessionData {
            signed_in_at: export::rfc3339(b.signed_in_at),
            last_active: b.client.as_ref().and_then(|c| export::rfc3339(c.seen_at)),
            ip: b.client.as_ref().and_then(|c| c.ip.clone()),
            current: current.as_deref() == Some(b.id_hash.as_str()),
            user_agent: b.client.and_then(|c| c.user_agent),
        })
        .collect())
}

/// Part of every completed sign-in (`signed_in::on_sign_in`): a deletion the account waits for is
/// cancelled, its owner told by mail, and this session remembers it for the account page. An account
/// erased while this sign-in ran is signed straight out again.
pub async fn cancel_deletion_on_sign_in(
    state: &AppState,
    session: &Session,
    account_id: &str,
    seen: SeenAtSignIn,
    meta: &RequestMeta,
) -> Result<(), AppError> {
    let now = now();
    match deletion::on_sign_in(&state.db, account_id, seen, meta, now).await? {
        OnSignIn::Nothing => Ok(()),
        OnSignIn::Cancelled(notice) => {
            let cancelled = DeletionCancelled { account_id: account_id.to_string(), at: now, shown_in: None };
            session.insert(DELETION_CANCELLED_KEY, cancelled).await.map_err(AppError::internal)?;
            notify(state, notice).await;
            Ok(())
        }
        OnSignIn::Erased => {
            session.flush().await.map_err(AppError::internal)?;
            Err(AppError::new(ErrorKind::InvalidCredentials))
        }
    }
}

/// Erases the accounts whose deletion is due and deletes abandoned authenticator-app set-ups, now and
/// every `every` (started by `serve`); failures are logged and the next round tries again.
pub async fn run_purges(state: AppState, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match crate::core::accounts::erase::erase_due(&state.db, &state.token_key, now()).await {
            Ok(0) => {}
            Ok(erased) => tracing::info!(erased, "accounts erased (deletion due)"),
            Err(e) => tracing::warn!(error = %e, "purge of accounts due for erasure failed"),
        }
        match crate::core::mfa::totp::drop_abandoned_enrolments(&state.db, now()).await {
            Ok(0) => {}
            Ok(dropped) => tracing::info!(dropped, "abandoned authenticator-app set-ups deleted"),
            Err(e) => tracing::warn!(error = %e, "purge of abandoned authenticator-app set-ups failed"),
        }
    }
}
