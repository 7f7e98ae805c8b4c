//! The OAuth 2.0 authorization server and OpenID Connect provider: clients, signing keys, the
//! authorization and token rules, grants and consents. Free of HTTP: `server::oauth` parses requests into
//! these types and renders their answers.

pub mod authorize;
pub mod claims;
pub mod clients;
pub mod grants;
pub mod keys;
pub mod pkce;
pub mod token;

/// The scopes Vestibule itself understands; clients may be registered with further API scopes too.
pub const SUPPORTED_SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// `acr` values: NIST 800-63B authenticator assurance. `aal2` means the sign-in used two factors (or a
/// user-verified passkey); apps ask for it with `acr_values=aal2`.
pub const ACR_SINGLE_FACTOR: &str = "aal1";
pub const ACR_MULTI_FACTOR: &str = "aal2";

/// The `acr` a sign-in with these `amr` values reached.
pub fn acr_for(amr: &[String]) -> &'static str {
    if amr.iter().any(|m| m == "mfa") {
        ACR_MULTI_FACTOR
    } else {
        ACR_SINGLE_FACTOR
    }
}

/// The grants Vestibule offers. No implicit, hybrid or password grant exists (RFC 9700).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
}

impl GrantType {
    pub const ALL: [GrantType; 3] =
        [GrantType::AuthorizationCode, GrantType::RefreshToken, GrantType::ClientCredentials];

    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
            GrantType::ClientCredentials => "client_credentials",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == value)
    }
}

/// Lifetimes and names the flows need, from the `[oauth]` configuration.
#[derive(Clone, Debug)]
pub struct OAuthSettings {
    /// `iss`: the public URL without a trailing slash.
    pub issuer: String,
    /// `aud` of access tokens.
    pub audience: String,
    pub code_ttl_secs: i64,
    pub access_token_ttl_secs: i64,
    pub id_token_ttl_secs: i64,
    /// Absolute lifetime of a grant's refresh tokens: rotation never extends it.
    pub refresh_token_ttl_secs: i64,
}

/// The error codes of RFC 6749, RFC 7009, RFC 6750 and OpenID Connect Core that Vestibule answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidScope,
    AccessDenied,
    UnsupportedResponseType,
    ServerError,
    LoginRequired,
    InteractionRequired,
    InvalidToken,
    InsufficientScope,
    RequestNotSupported,
    RequestUriNotSupported,
    UnsupportedTokenType,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::ServerError => "server_error",
            ErrorCode::LoginRequired => "login_required",
            ErrorCode::InteractionRequired => "interaction_required",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::InsufficientScope => "insufficient_scope",
            ErrorCode::RequestNotSupported => "request_not_supported",
            ErrorCode::RequestUriNotSupported => "request_uri_not_supported",
            ErrorCode::UnsupportedTokenType => "unsupported_token_type",
        }
    }
}

/// An OAuth error answer. `description` is for the app's developer (English, no secrets, no internals);
/// `internal` is for the log only.
#[derive(Clone, Debug)]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: String,
    pub internal: Option<String>,
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        Self { code, description: description.into(), internal: None }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description)
    }

    pub fn invalid_client(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidClient, description)
    }

    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidGrant, description)
    }

    /// A failure of ours: the app learns only that; the detail goes to the log.
    pub fn server(detail: impl std::fmt::Display) -> Self {
        Self {
            code: ErrorCode::ServerError,
            description: "the server failed; try again".into(),
            internal: Some(detail.to_string()),
        }
    }

    pub fn from_client(err: clients::ClientError) -> Self {
        Self::server(err)
    }
}

impl From<sqlx::Error> for OAuthError {
    fn from(err: sqlx::Error) -> Self {
        Self::server(err)
    }
}

impl From<keys::KeyError> for OAuthError {
    fn from(err: keys::KeyError) -> Self {
        Self::server(err)
    }
}

/// Space-separated scopes in request order, without duplicates.
pub fn parse_scopes(value: &str) -> Vec<String> {
    let mut scopes: Vec<String> = Vec::new();
    for scope in value.split(' ').filter(|s| !s.is_empty()) {
        if !scopes.iter().any(|s| s == scope) {
            scopes.push(scope.to_string());
        }
    }
    scopes
}

/// 128 random bits as 32 hex digits: ids of grants and tokens.
pub fn new_id(rng: &mut impl rand::CryptoRng) -> String {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_in_order_without_duplicates() {
        assert_eq!(parse_scopes("openid  email openid profile"), ["openid", "email", "profile"]);
        assert!(parse_scopes("").is_empty());
    }

    #[test]
    fn acr_follows_the_methods() {
        assert_eq!(acr_for(&["pwd".into()]), "aal1");
        assert_eq!(acr_for(&["pwd".into(), "otp".into(), "mfa".into()]), "aal2");
    }
}
