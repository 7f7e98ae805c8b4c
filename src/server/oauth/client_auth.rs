//! OAuth's way of answering machines: reading form bodies and client credentials, and JSON errors
//! (RFC 6749 section 5.2) with `Cache-Control: no-store`.

use axum::response::{IntoResponse, Response};
use base64::Engine;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use secrecy::SecretString;

use crate::core::oidc::clients::{AuthMethod, PresentedClient};
use crate::core::oidc::{ErrorCode, OAuthError};

/// Longest form body an OAuth endpoint reads.
pub const FORM_LIMIT: usize = 16 * 1024;

/// The client credentials of a request: HTTP Basic (`client_secret_basic`), form fields
/// (`client_secret_post`) or a bare `client_id` (public clients). Using two ways at once is refused
/// (RFC 6749 section 2.3).
pub fn presented_client(headers: &HeaderMap, form: &[(String, String)]) -> Result<PresentedClient, OAuthError> {
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let basic = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| {
        let (scheme, rest) = v.split_once(' ')?;
        scheme.eq_ignore_ascii_case("basic").then(|| rest.trim().to_string())
    });
    if let Some(encoded) = basic {
        if field("client_secret").is_some() {
            return Err(OAuthError::invalid_request("use one way of client authentication, not two"));
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| OAuthError::invalid_client("the Authorization header is not valid Basic credentials"))?;
        let (id, secret) = decoded
            .split_once(':')
            .ok_or_else(|| OAuthError::invalid_client("the Authorization header is not valid Basic credentials"))?;
        return Ok(PresentedClient {
            client_id: form_decode(id),
            secret: Some(SecretString::from(form_decode(secret))),
            method: AuthMethod::ClientSecretBasic,
        });
    }
    let client_id = field("client_id").ok_or_else(|| OAuthError::invalid_client("client authentication is missing"))?;
    Ok(match field("client_secret") {
        Some(secret) => PresentedClient {
            client_id,
            secret: Some(SecretString::from(secret)),
            method: AuthMethod::ClientSecretPost,
        },
        None => PresentedClient { client_id, secret: None, method: AuthMethod::None },
    })
}

/// RFC 6749 section 2.3.1: the id and secret in Basic credentials are form-urlencoded first.
fn form_decode(value: &str) -> String {
    percent_encoding::percent_decode_str(&value.replace('+', " ")).decode_utf8_lossy().into_owned()
}

/// A form body as pairs; a parameter sent twice is refused (RFC 6749 section 3.1).
pub fn form_pairs(body: &[u8]) -> Result<Vec<(String, String)>, OAuthError> {
    let pairs: Vec<(String, String)> =
        url::form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    // a set, not a scan of the earlier pairs: this runs before the client is authenticated
    let mut seen = std::collections::HashSet::with_capacity(pairs.len());
    for (key, _) in &pairs {
        if !seen.insert(key.as_str()) {
            return Err(OAuthError::invalid_request(format!("{key} is given more than once")));
        }
    }
    Ok(pairs)
}

/// A JSON answer no cache may keep (tokens, introspection).
pub fn json_no_store(status: StatusCode, body: serde_json::Value) -> Response {
    let mut response = (status, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// An OAuth error answer: 401 with a `WWW-Authenticate` challenge for client authentication failures, 400
/// otherwise; a failure of ours is logged with its detail and answered without it.
pub fn error_json(error: &OAuthError) -> Response {
    let status = match error.code {
        ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
        ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    if let Some(internal) = &error.internal {
        tracing::error!(error = %internal, "OAuth request failed");
    }
    let mut response = json_no_store(
        status,
        serde_json::json!({ "error": error.code.as_str(), "error_description": error.description }),
    );
    if error.code == ErrorCode::InvalidClient {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"vestibule\""));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let encoded = base64::engine::general_purpose::STANDARD.encode(value);
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {encoded}")).unwrap_or_else(|e| panic!("{e}")),
        );
        headers
    }

    #[test]
    fn credentials_come_one_way_only() {
        use secrecy::ExposeSecret;
        let p = presented_client(&basic("my%20app:s%2Bcret"), &[]).unwrap_or_else(|e| panic!("{}", e.description));
        assert_eq!(
            (p.client_id.as_str(), p.secret.as_ref().map(|s| s.expose_secret().to_string())),
            ("my app", Some("s+cret".into()))
        );
        assert_eq!(p.method, AuthMethod::ClientSecretBasic);
        let form = vec![("client_id".to_string(), "a".to_string()), ("client_secret".to_string(), "b".to_string())];
        assert_eq!(
            presented_client(&HeaderMap::new(), &form).map(|p| p.method).ok(),
            Some(AuthMethod::ClientSecretPost)
        );
        assert!(presented_client(&basic("a:b"), &form).is_err(), "two ways at once");
        assert_eq!(presented_client(&HeaderMap::new(), &form[..1]).map(|p| p.method).ok(), Some(AuthMethod::None));
        assert!(presented_client(&HeaderMap::new(), &[]).is_err());
        assert!(form_pairs(b"a=1&a=2").is_err());
    }
}
