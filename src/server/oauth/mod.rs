//! The OAuth 2.0 / OpenID Connect endpoints: thin doors into `core::oidc`.

pub mod authorize;
pub mod cli;
pub mod client_auth;
pub mod config;
pub mod discovery;
pub mod flow;
pub mod keys;
pub mod logout;
pub mod token;
pub mod userinfo;

use axum::routing::{get, post};
use axum::Router;
use tower_http::cors::{Any, CorsLayer};

use crate::server::state::AppState;

/// Paths the browser app declares as pages only so its router hands them to the server with a full page
/// load; the server answers them (and they are left out of the server's page routes).
pub const CLIENT_ONLY_ROUTES: [&str; 1] = [flow::CONTINUE_PATH];

/// POSTs other sites may send (see `CsrfPolicy::exempt`). The consent and logout confirmations are our own
/// forms and stay protected.
pub const CSRF_EXEMPT: &[&str] = &[
    "/oauth2/authorize",
    "/oauth2/token",
    "/oauth2/revoke",
    "/oauth2/introspect",
    "/oauth2/userinfo",
    "/oauth2/logout",
];

/// The OAuth / OpenID Connect endpoints. The ones apps call from browsers (discovery, keys, token,
/// userinfo, revocation) allow cross-origin requests without credentials (CORS), for single-page apps.
pub fn routes() -> Router<AppState> {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([http::Method::GET, http::Method::POST])
        .allow_headers([http::header::AUTHORIZATION, http::header::CONTENT_TYPE]);
    let machine = Router::new()
        .route("/.well-known/openid-configuration", get(discovery::openid_configuration))
        .route("/oauth2/jwks", get(discovery::jwks))
        .route("/oauth2/token", post(token::token_post))
        .route("/oauth2/revoke", post(token::revoke_post))
        .route("/oauth2/introspect", post(token::introspect_post))
        .route("/oauth2/userinfo", get(userinfo::userinfo).post(userinfo::userinfo))
        .layer(cors);
    Router::new()
        .route("/oauth2/authorize", get(authorize::authorize_get).post(authorize::authorize_post))
        .route(flow::CONTINUE_PATH, get(authorize::continue_get))
        .route("/oauth2/consent", post(authorize::consent_post))
        .route("/oauth2/logout", get(logout::logout_get).post(logout::logout_post))
        .route(logout::CONFIRM_PATH, post(logout::confirm_post))
        .merge(machine)
}

/// Forgets what can no longer matter, every `every`: codes expired a day ago (their reuse is no longer
/// detected, nor dangerous) and revocations of access tokens that have expired anyway.
pub async fn run_cleanup(state: AppState, every: std::time::Duration) {
    let mut ticks = tokio::time::interval(every);
    loop {
        ticks.tick().await;
        let now = crate::server::auth::now();
        let codes = crate::db::oauth::delete_old_codes(&state.db.pool, now - 24 * 3600).await;
        let revocations = crate::db::oauth::delete_expired_revocations(&state.db.pool, now).await;
        if let Err(e) = codes.and(revocations) {
            tracing::warn!(error = %e, "OAuth cleanup failed; retried at the next interval");
        }
    }
}

/// While an app's authorization (or logout) request waits in this browser, pages may hold forms whose
/// redirects end at the app (sign-in → /oauth2/continue → redirect URI; consent; logout confirmation):
/// the page's `form-action` names the app's origin, and only then. Runs inside the session layer, before
/// pages render; other requests pass untouched.
pub async fn form_targets(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let is_page = req.method() == http::Method::GET
        && req
            .headers()
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("text/html"));
    if is_page {
        if let Some(session) = req.extensions().get::<tower_sessions::Session>().cloned() {
            let mut targets = Vec::new();
            if let Some(request) = flow::pending(&session).await {
                targets.extend(csp_source(&request.redirect_uri));
            }
            if let Some(return_to) = logout::pending_logout(&session).await.and_then(|p| p.return_to) {
                targets.extend(csp_source(&return_to));
            }
            if !targets.is_empty() {
                crate::server::headers::allow_form_targets(req.extensions(), targets);
            }
        }
    }
    next.run(req).await
}

/// The CSP source that allows navigating to `uri`: its origin, or its scheme for a native app's
/// private-use scheme. Only checked, registered URIs reach here; anything odd yields nothing.
fn csp_source(uri: &str) -> Option<String> {
    let url = url::Url::parse(uri).ok()?;
    let source = match url.origin() {
        url::Origin::Tuple(..) => url.origin().ascii_serialization(),
        url::Origin::Opaque(_) => format!("{}:", url.scheme()),
    };
    // a CSP source list is space- and semicolon-separated: nothing else may come through
    source.chars().all(|c| c.is_ascii_alphanumeric() || ":/.-+[]".contains(c)).then_some(source)
}

#[cfg(test)]
mod tests {
    #[test]
    fn redirect_uris_become_csp_sources() {
        assert_eq!(super::csp_source("https://app.example/cb?x=1").as_deref(), Some("https://app.example"));
        assert_eq!(super::csp_source("http://127.0.0.1:8080/cb").as_deref(), Some("http://127.0.0.1:8080"));
        assert_eq!(super::csp_source("com.example.app:/cb").as_deref(), Some("com.example.app:"));
        assert_eq!(super::csp_source("not a uri"), None);
    }
}
