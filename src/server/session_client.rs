//! What the sessions page shows about each signed-in session: the browser (user agent) and IP address it
//! was last used from, and when. A middleware keeps it in the session's own data, writing at most once a
//! minute per session (or when the IP or browser changes), so most requests add no write.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use crate::core::audit::RequestMeta;
use crate::server::auth::{now, request_meta};
use crate::server::proxies::TrustedProxies;
use crate::server::sessions::ACCOUNT_ID_KEY;

/// Session data key of `SessionClient`.
pub const CLIENT_KEY: &str = "client";
/// "Last active" is at most this stale.
const REFRESH_SECS: i64 = 60;

/// Where a signed-in session was last used from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClient {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub seen_at: i64,
}

/// Records the client of signed-in sessions once the request is handled (so the sign-in itself is
/// recorded); static assets are skipped (they never need the session).
pub async fn middleware(State(trusted_proxies): State<TrustedProxies>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let asset = path.starts_with("/pkg/") || path == "/favicon.ico";
    let session = request.extensions().get::<Session>().cloned().filter(|_| !asset);
    let (parts, body) = request.into_parts();
    let meta = session.as_ref().map(|_| request_meta(&parts, &trusted_proxies));
    let response = next.run(Request::from_parts(parts, body)).await;
    if let (Some(session), Some(meta)) = (session, meta) {
        record(&session, meta).await;
    }
    response
}

async fn record(session: &Session, meta: RequestMeta) {
    if !matches!(session.get::<String>(ACCOUNT_ID_KEY).await, Ok(Some(_))) {
        return;
    }
    let user_agent = meta.user_agent.map(|ua| ua.chars().take(512).collect::<String>());
    let now = now();
    let seen = session.get::<SessionClient>(CLIENT_KEY).await.ok().flatten();
    let stale = seen.is_none_or(|c| now - c.seen_at >= REFRESH_SECS || c.ip != meta.ip || c.user_agent != user_agent);
    if stale {
        let client = SessionClient { ip: meta.ip, user_agent, seen_at: now };
        if let Err(e) = session.insert(CLIENT_KEY, client).await {
            // the page shows less; the request itself is unaffected
            tracing::warn!(error = %e, "session client not recorded");
        }
    }
}

/// One browser signed in to an account, as its session data tells (the sessions page and the export).
pub struct SignedInBrowser {
    pub id_hash: String,
    pub client: Option<SessionClient>,
    /// When it signed in (not moved by step-up).
    pub signed_in_at: i64,
}

/// The account's live, signed-in sessions, oldest first. Half sign-ins (waiting for a second factor, or a
/// password reset), which the sessions' account column also names, are left out: they hold no browser yet.
pub async fn signed_in_browsers(
    state: &crate::server::state::AppState,
    account_id: &str,
    now: i64,
) -> Result<Vec<SignedInBrowser>, sqlx::Error> {
    use crate::server::auth::{AUTH_TIME_KEY, SIGNED_IN_AT_KEY};
    let lifetime = i64::try_from(state.config.session.absolute_timeout_secs).unwrap_or(i64::MAX);
    let rows =
        crate::db::sessions::live_for_account(&state.db.pool, account_id, now, now.saturating_sub(lifetime)).await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let data: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&row.data).ok()?;
            if data.get(ACCOUNT_ID_KEY).and_then(|v| v.as_str()) != Some(account_id) {
                return None;
            }
            let client = data.get(CLIENT_KEY).and_then(|v| serde_json::from_value(v.clone()).ok());
            let signed_in_at = [SIGNED_IN_AT_KEY, AUTH_TIME_KEY]
                .into_iter()
                .find_map(|key| data.get(key).and_then(|v| v.as_i64()))
                .unwrap_or(row.created_at);
            Some(SignedInBrowser { id_hash: row.id_hash, client, signed_in_at })
        })
        .collect())
}
