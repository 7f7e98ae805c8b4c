//! Progressive profiling: after a sign-in, an account that lacks a required profile attribute is asked for
//! it once (/account/complete-profile, with a way to continue without). A session flag carries the
//! question from the sign-in to the next visit of /account; showing the question clears it.

use tower_sessions::Session;

use crate::error::AppError;
use crate::server::state::AppState;

/// Set by a sign-in that left required attributes missing; cleared when /account/complete-profile shows.
pub const PROFILE_PROMPT_KEY: &str = "profile_prompt";

/// Runs with every completed sign-in (`signed_in::on_sign_in`): sets the flag when the account lacks a
/// required attribute, clears any flag an earlier sign-in in this browser left otherwise.
pub async fn after_sign_in(state: &AppState, session: &Session, account_id: &str) -> Result<(), AppError> {
    let defs = &state.config.profile.attributes;
    // without required attributes there is nothing to ask, and no account to read on the sign-in path
    let missing = if defs.iter().any(|d| d.required) {
        let account = crate::db::accounts::find_by_id(&state.db.pool, account_id).await?;
        let stored = match account {
            Some(a) => crate::core::profile::parse_stored(&a.attributes).map_err(AppError::internal)?,
            None => serde_json::Map::new(),
        };
        !crate::core::profile::missing_required(defs, &stored).is_empty()
    } else {
        false
    };
    if missing {
        session.insert(PROFILE_PROMPT_KEY, true).await.map_err(AppError::internal)?;
    } else {
        crate::server::sessions::forget(session, PROFILE_PROMPT_KEY).await;
    }
    Ok(())
}

/// Whether this session still has the question to ask.
pub async fn pending(session: &Session) -> bool {
    session.get::<bool>(PROFILE_PROMPT_KEY).await.ok().flatten().unwrap_or(false)
}

/// The question is being shown: it is not asked again until the next sign-in.
pub async fn clear(session: &Session) {
    crate::server::sessions::forget(session, PROFILE_PROMPT_KEY).await;
}
