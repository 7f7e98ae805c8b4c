//! `/.well-known/openid-configuration` (OpenID Connect Discovery 1.0, RFC 8414) and `/oauth2/jwks`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue, StatusCode};
use serde_json::{json, Value};

use crate::core::oidc::claims::CLAIMS_SUPPORTED;
use crate::core::oidc::keys::SigningAlg;
use crate::core::oidc::{GrantType, ACR_MULTI_FACTOR, ACR_SINGLE_FACTOR, SUPPORTED_SCOPES};
use crate::error::AppError;
use crate::server::state::AppState;

/// What the provider offers, for client libraries to configure themselves from the issuer URL.
pub fn document(issuer: &str) -> Value {
    let at = |path: &str| format!("{issuer}{path}");
    let algs: Vec<&str> = SigningAlg::ALL.iter().map(|a| a.as_str()).collect();
    json!({
        "issuer": issuer,
        "authorization_endpoint": at("/oauth2/authorize"),
        "token_endpoint": at("/oauth2/token"),
        "userinfo_endpoint": at("/oauth2/userinfo"),
        "jwks_uri": at("/oauth2/jwks"),
        "revocation_endpoint": at("/oauth2/revoke"),
        "introspection_endpoint": at("/oauth2/introspect"),
        "end_session_endpoint": at("/oauth2/logout"),
        "scopes_supported": SUPPORTED_SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": GrantType::ALL.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algs,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": CLAIMS_SUPPORTED,
        "acr_values_supported": [ACR_SINGLE_FACTOR, ACR_MULTI_FACTOR],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "authorization_response_iss_parameter_supported": true,
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "frontchannel_logout_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "claims_parameter_supported": false,
    })
}

pub async fn openid_configuration(State(state): State<AppState>) -> Response {
    cacheable(document(&state.oauth.issuer), "public, max-age=3600")
}

/// The public keys: current and previous per algorithm. Cached briefly, so a rotation reaches apps within
/// minutes while the previous key keeps verifying what it signed.
pub async fn jwks(State(state): State<AppState>) -> Response {
    match state.oidc_keys.get(&state.db, &state.sealer).await {
        Ok(keys) => cacheable(keys.jwks(), "public, max-age=300"),
        Err(e) => AppError::internal(e).into_response(),
    }
}

fn cacheable(body: Value, cache: &'static str) -> Response {
    let mut response = (StatusCode::OK, body.to_string()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}
