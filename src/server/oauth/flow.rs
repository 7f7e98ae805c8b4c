//! An app's authorization request travelling through the hosted pages: kept in the browser's session
//! while the person signs in (any way: password, passkey, emailed code, second factor, sign-up) and
//! consents, then finished at `/oauth2/continue`.

use tower_sessions::Session;

use crate::core::oidc::authorize::{AuthorizationRequest, SignedIn};
use crate::error::AppError;
use crate::server::auth::{
    mfa_setup_pending, signed_in_account, AUTH_EVENT_KEY, AUTH_METHODS_KEY, AUTH_TIME_KEY, SIGN_IN_ID_KEY,
};

/// Session key of the `AuthorizationRequest` under way (one per browser: a newer one replaces it).
pub const AUTHORIZATION_KEY: &str = "oauth_authorization";
/// Where a finished sign-in goes when an app's request waits.
pub const CONTINUE_PATH: &str = "/oauth2/continue";
/// How long a person may take to sign in and consent before the request counts as abandoned.
pub const REQUEST_TTL_SECS: i64 = 30 * 60;

pub async fn pending(session: &Session) -> Option<AuthorizationRequest> {
    let request = session.get::<AuthorizationRequest>(AUTHORIZATION_KEY).await.ok().flatten()?;
    (crate::server::auth::now() - request.started_at <= REQUEST_TTL_SECS).then_some(request)
}

pub async fn keep(session: &Session, request: &AuthorizationRequest) -> Result<(), AppError> {
    session.insert(AUTHORIZATION_KEY, request).await.map_err(AppError::internal)
}

pub async fn forget(session: &Session) {
    crate::server::sessions::forget(session, AUTHORIZATION_KEY).await;
}

/// Where a completed sign-in leads: back into the app's request when one waits, else the account page.
pub async fn after_sign_in(session: &Session) -> String {
    if pending(session).await.is_some() {
        CONTINUE_PATH.to_string()
    } else {
        "/account".to_string()
    }
}

/// The browser's completed sign-in (not one waiting for a second factor or for one to be set up).
pub async fn signed_in(session: &Session) -> Option<SignedIn> {
    let account_id = signed_in_account(session).await?;
    if mfa_setup_pending(session).await {
        return None;
    }
    Some(SignedIn {
        account_id,
        auth_time: session.get::<i64>(AUTH_TIME_KEY).await.ok().flatten()?,
        amr: session.get::<Vec<String>>(AUTH_METHODS_KEY).await.ok().flatten().unwrap_or_default(),
        // sessions signed in before sign-in ids existed have none: they sign in again
        sid: session.get::<String>(SIGN_IN_ID_KEY).await.ok().flatten()?,
        auth_event: session.get::<String>(AUTH_EVENT_KEY).await.ok().flatten().unwrap_or_default(),
    })
}
