//! What an app learns about a person, by scope (OpenID Connect Core section 5.4): `sub` always; `profile`
//! adds names, language and time zone; `email` adds the address and whether it is verified. Operator-defined
//! profile attributes are not released to apps.

use serde_json::{Map, Value};

use crate::db::accounts::AccountRow;

/// The user claims for these scopes (for the ID token and userinfo).
pub fn user_claims(account: &AccountRow, scopes: &[String]) -> Map<String, Value> {
    let has = |scope: &str| scopes.iter().any(|s| s == scope);
    let mut claims = Map::new();
    claims.insert("sub".into(), Value::from(account.id.as_str()));
    if has("profile") {
        let mut put = |name: &str, value: &Option<String>| {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                claims.insert(name.into(), Value::from(value));
            }
        };
        put("name", &account.display_name);
        put("given_name", &account.given_name);
        put("family_name", &account.family_name);
        put("locale", &account.locale);
        put("zoneinfo", &account.time_zone);
    }
    if has("email") {
        claims.insert("email".into(), Value::from(account.email.as_str()));
        claims.insert("email_verified".into(), Value::from(account.email_verified_at.is_some()));
    }
    claims
}

/// The standard claims every scope's consent line describes, for the discovery document.
pub const CLAIMS_SUPPORTED: [&str; 17] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "sid",
    "name",
    "given_name",
    "family_name",
    "locale",
    "zoneinfo",
    "email",
    "email_verified",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> AccountRow {
        AccountRow {
            id: "acct-1".into(),
            email: "ada@example.com".into(),
            email_verified_at: Some(5),
            display_name: Some("Ada".into()),
            password_hash: Some("$argon2id$secret".into()),
            status: "active".into(),
            created_at: 1,
            user_handle: None,
            given_name: Some("Ada".into()),
            family_name: None,
            locale: Some("en".into()),
            time_zone: None,
            attributes: r#"{"member_no":"42"}"#.into(),
            deletion_requested_at: None,
            deletion_due_at: None,
        }
    }

    #[test]
    fn claims_follow_the_scopes_and_never_hold_secrets() {
        let only_sub = user_claims(&account(), &["openid".into()]);
        assert_eq!(Value::Object(only_sub), serde_json::json!({"sub": "acct-1"}));
        let all = user_claims(&account(), &["openid".into(), "profile".into(), "email".into()]);
        assert_eq!(all.get("email"), Some(&Value::from("ada@example.com")));
        assert_eq!(all.get("email_verified"), Some(&Value::from(true)));
        assert_eq!(all.get("given_name"), Some(&Value::from("Ada")));
        assert!(!all.contains_key("family_name"), "absent values are left out, not null");
        let text = Value::Object(all).to_string();
        assert!(!text.contains("argon2") && !text.contains("member_no"));
    }
}
