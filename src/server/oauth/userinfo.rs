//! `GET`/`POST /oauth2/userinfo` (OpenID Connect Core 5.3): the person's claims for the scopes the access
//! token carries, for a bearer token in the Authorization header (RFC 6750 section 2.1).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{header, HeaderValue, StatusCode};
use serde_json::Value;

use crate::core::oidc::claims::user_claims;
use crate::core::oidc::token::read_access_token;
use crate::core::oidc::{parse_scopes, ErrorCode, OAuthError};
use crate::server::auth::now;
use crate::server::oauth::client_auth::json_no_store;
use crate::server::state::AppState;

pub async fn userinfo(State(state): State<AppState>, headers: http::HeaderMap) -> Response {
    match claims(&state, &headers).await {
        Ok(body) => json_no_store(StatusCode::OK, body),
        Err(error) => bearer_error(&error),
    }
}

async fn claims(state: &AppState, headers: &http::HeaderMap) -> Result<Value, OAuthError> {
    let token = bearer_token(headers)
        .ok_or_else(|| OAuthError::new(ErrorCode::InvalidRequest, "send the access token as Authorization: Bearer"))?;
    let keys = state.oidc_keys.get(&state.db, &state.sealer).await?;
    let claims = read_access_token(&state.db, &keys, &state.oauth, token, now()).await?;
    let scopes = parse_scopes(claims.get("scope").and_then(Value::as_str).unwrap_or(""));
    if !scopes.iter().any(|s| s == "openid") {
        return Err(OAuthError::new(ErrorCode::InsufficientScope, "the token was not issued for openid"));
    }
    let invalid = || OAuthError::new(ErrorCode::InvalidToken, "the access token is invalid, expired or revoked");
    // a client-credentials token names no person: its `sub` is the client, and there is no account
    let account_id = claims.get("gid").and(claims.get("sub")).and_then(Value::as_str).ok_or_else(invalid)?;
    let account = crate::db::accounts::find_by_id(&state.db.pool, account_id)
        .await?
        .filter(|a| a.status == "active")
        .ok_or_else(invalid)?;
    Ok(Value::Object(user_claims(&account, &scopes)))
}

fn bearer_token(headers: &http::HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// RFC 6750 section 3: the error in a `WWW-Authenticate: Bearer` challenge.
fn bearer_error(error: &OAuthError) -> Response {
    let status = match error.code {
        ErrorCode::InsufficientScope => StatusCode::FORBIDDEN,
        ErrorCode::InvalidRequest => StatusCode::BAD_REQUEST,
        ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::UNAUTHORIZED,
    };
    if let Some(internal) = &error.internal {
        tracing::error!(error = %internal, "userinfo failed");
    }
    let challenge = format!("Bearer realm=\"vestibule\", error=\"{}\"", error.code.as_str());
    let mut response = (status, "").into_response();
    if let Ok(value) = HeaderValue::from_str(&challenge) {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, value);
    }
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
