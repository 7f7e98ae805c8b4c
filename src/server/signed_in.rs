//! What every completed sign-in does besides marking the session, whichever way it signed in (password,
//! emailed code, passkey, second factor, password reset).

use tower_sessions::Session;

use crate::core::accounts::deletion::SeenAtSignIn;
use crate::core::audit::RequestMeta;
use crate::error::AppError;
use crate::server::state::AppState;

/// Runs once a session has signed in as `account_id` (the session already holds the account); `seen`: what
/// the sign-in already read of the account's deletion.
pub async fn on_sign_in(
    state: &AppState,
    session: &Session,
    account_id: &str,
    seen: SeenAtSignIn,
    meta: &RequestMeta,
) -> Result<(), AppError> {
    // first: a sign-in into an account erased meanwhile must not go on to anything else
    crate::server::account_data::cancel_deletion_on_sign_in(state, session, account_id, seen, meta).await?;
    crate::server::profile_prompt::after_sign_in(state, session, account_id).await?;
    Ok(())
}
