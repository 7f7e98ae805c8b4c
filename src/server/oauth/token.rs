//! `POST /oauth2/token`, `POST /oauth2/revoke` (RFC 7009) and `POST /oauth2/introspect` (RFC 7662): called
//! by apps' servers, authenticated by client credentials, never by cookies.

use axum::extract::{Request, State};
use axum::response::Response;
use http::StatusCode;
use serde_json::{json, Value};

use crate::core::oidc::clients::{self, Client};
use crate::core::oidc::keys::KeySet;
use crate::core::oidc::token::{self, Issuer, TokenParams};
use crate::core::oidc::OAuthError;
use crate::server::auth::{now, request_meta};
use crate::server::oauth::client_auth::{error_json, form_pairs, json_no_store, presented_client, FORM_LIMIT};
use crate::server::state::AppState;

/// A client-authenticated form request: its pairs, the client, and the signing keys.
struct ClientRequest {
    pairs: Vec<(String, String)>,
    body: axum::body::Bytes,
    client: Client,
    keys: std::sync::Arc<KeySet>,
    parts: http::request::Parts,
}

impl ClientRequest {
    fn field(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }
}

async fn read(state: &AppState, req: Request) -> Result<ClientRequest, OAuthError> {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, FORM_LIMIT)
        .await
        .map_err(|_| OAuthError::invalid_request("the body is too large or could not be read"))?;
    let pairs = form_pairs(&body)?;
    let presented = presented_client(&parts.headers, &pairs)?;
    let client = clients::authenticate(&state.db, &state.token_key, &presented).await?;
    let keys = state.oidc_keys.get(&state.db, &state.sealer).await?;
    Ok(ClientRequest { pairs, body, client, keys, parts })
}

pub async fn token_post(State(state): State<AppState>, req: Request) -> Response {
    let result = async {
        let request = read(&state, req).await?;
        let params: TokenParams = serde_urlencoded::from_bytes(&request.body)
            .map_err(|_| OAuthError::invalid_request("the form could not be read"))?;
        let issuer = Issuer { db: &state.db, key: &state.token_key, keys: &request.keys, settings: &state.oauth };
        let meta = request_meta(&request.parts, &state.config.trusted_proxies);
        let mut rng = crate::server_fns::auth::os_seeded_rng();
        token::grant(&issuer, &request.client, &params, &meta, now(), &mut rng).await
    }
    .await;
    match result {
        Ok(tokens) => {
            let mut body = json!({
                "access_token": tokens.access_token,
                "token_type": "Bearer",
                "expires_in": tokens.expires_in,
                "scope": tokens.scope,
            });
            if let Some(refresh_token) = tokens.refresh_token {
                body["refresh_token"] = Value::from(refresh_token);
            }
            if let Some(id_token) = tokens.id_token {
                body["id_token"] = Value::from(id_token);
            }
            json_no_store(StatusCode::OK, body)
        }
        Err(error) => error_json(&error),
    }
}

pub async fn revoke_post(State(state): State<AppState>, req: Request) -> Response {
    let result = async {
        let request = read(&state, req).await?;
        let token = request.field("token").ok_or_else(|| OAuthError::invalid_request("token is missing"))?;
        token::revoke(&state.db, &state.token_key, &request.keys, &request.client, token, now()).await
    }
    .await;
    match result {
        // RFC 7009 section 2.2: 200 also for tokens that were invalid or unknown
        Ok(()) => json_no_store(StatusCode::OK, json!({})),
        Err(error) => error_json(&error),
    }
}

pub async fn introspect_post(State(state): State<AppState>, req: Request) -> Response {
    let result = async {
        let request = read(&state, req).await?;
        if request.client.is_public() {
            // RFC 7662 section 4: introspection must not be open to anyone who can name a client id
            return Err(OAuthError::invalid_client("public clients cannot introspect tokens"));
        }
        let token = request.field("token").ok_or_else(|| OAuthError::invalid_request("token is missing"))?;
        introspect(&state, &request, token).await
    }
    .await;
    match result {
        Ok(body) => json_no_store(StatusCode::OK, body),
        Err(error) => error_json(&error),
    }
}

async fn introspect(state: &AppState, request: &ClientRequest, token: &str) -> Result<Value, OAuthError> {
    let now = now();
    if let Ok(claims) = token::read_access_token(&state.db, &request.keys, &state.oauth, token, now).await {
        let mut body = json!({ "active": true, "token_type": "Bearer" });
        for name in ["scope", "client_id", "sub", "exp", "iat", "iss", "aud", "jti", "auth_time", "acr"] {
            if let Some(value) = claims.get(name) {
                body[name] = value.clone();
            }
        }
        return Ok(body);
    }
    // refresh tokens are shown only to the client they were issued to
    if let Some(grant) = token::read_refresh_token(&state.db, &state.token_key, token, now).await? {
        if grant.client_id == request.client.id {
            return Ok(json!({
                "active": true,
                "token_type": "refresh_token",
                "client_id": grant.client_id,
                "sub": grant.account_id,
                "scope": grant.scopes,
                "iat": grant.created_at,
                "exp": grant.expires_at,
                "iss": state.oauth.issuer,
            }));
        }
    }
    Ok(json!({ "active": false }))
}
