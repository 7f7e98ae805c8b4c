//! The `[oauth]` configuration: token lifetimes, the access tokens' audience, and whether back-channel
//! logout may call private addresses (development only).

use serde::Deserialize;

use crate::core::oidc::OAuthSettings;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OAuthConfig {
    /// How long an authorization code may wait for its exchange (60 to 600 s; RFC 9700 asks for short).
    pub code_ttl_secs: i64,
    /// Lifetime of access tokens (60 s to 1 h): revocation reaches resource servers that check tokens
    /// themselves only when the token expires.
    pub access_token_ttl_secs: i64,
    /// Lifetime of ID tokens (60 s to 1 h).
    pub id_token_ttl_secs: i64,
    /// Absolute lifetime of a grant's refresh tokens (1 h to 1 year); rotation never extends it.
    pub refresh_token_ttl_secs: i64,
    /// `aud` of access tokens. Default: the public URL (the issuer).
    pub audience: Option<String>,
    /// Let back-channel logout call loopback, private and link-local addresses. For development only:
    /// otherwise a client registration could make the server reach into its own network (security.md).
    pub allow_private_network: bool,
}

impl Default for OAuthConfig {
    fn default() -> Self {
        Self {
            code_ttl_secs: 60,
            access_token_ttl_secs: 600,
            id_token_ttl_secs: 600,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            audience: None,
            allow_private_network: false,
        }
    }
}

impl OAuthConfig {
    pub fn check(&self, problems: &mut Vec<String>) {
        let mut within = |name: &str, value: i64, low: i64, high: i64| {
            if !(low..=high).contains(&value) {
                problems.push(format!("oauth.{name} = {value} must be between {low} and {high}"));
            }
        };
        within("code_ttl_secs", self.code_ttl_secs, 60, 600);
        within("access_token_ttl_secs", self.access_token_ttl_secs, 60, 3600);
        within("id_token_ttl_secs", self.id_token_ttl_secs, 60, 3600);
        within("refresh_token_ttl_secs", self.refresh_token_ttl_secs, 3600, 365 * 24 * 3600);
        if self.audience.as_deref().is_some_and(|a| a.trim().is_empty()) {
            problems.push("oauth.audience must not be empty when set".into());
        }
    }

    /// What the flows need; `issuer` is the public URL without its trailing slash.
    pub fn settings(&self, issuer: &str) -> OAuthSettings {
        OAuthSettings {
            issuer: issuer.to_string(),
            audience: self.audience.clone().unwrap_or_else(|| issuer.to_string()),
            code_ttl_secs: self.code_ttl_secs,
            access_token_ttl_secs: self.access_token_ttl_secs,
            id_token_ttl_secs: self.id_token_ttl_secs,
            refresh_token_ttl_secs: self.refresh_token_ttl_secs,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_are_bounded() {
        let mut problems = Vec::new();
        OAuthConfig::default().check(&mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        let bad = OAuthConfig {
            code_ttl_secs: 3600,
            access_token_ttl_secs: 0,
            audience: Some(" ".into()),
            ..OAuthConfig::default()
        };
        bad.check(&mut problems);
        assert_eq!(problems.len(), 3, "{problems:?}");
    }
}
