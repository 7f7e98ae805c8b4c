//! The account's data export (GDPR art. 15 and 20): everything held about the owner as one JSON document,
//! format "vestibule.account-export" (docs/export-format.md documents every field and the version rule).
//! Secrets never appear: no password hash, TOTP seed, code or link hash, recovery code, session id, nor
//! the credentials' public keys (not secret, but of no use to anyone outside this service).

use serde::Serialize;
use serde_json::Value;

use crate::db::{accounts, audit, mfa, passkeys, roles, verifications, Db};

pub const FORMAT: &str = "vestibule.account-export";
/// Bumped when a field is removed or changes meaning; added fields keep it.
pub const VERSION: u32 = 1;

#[derive(Debug, Serialize)]
pub struct Export {
    pub format: &'static str,
    pub version: u32,
    pub exported_at: String,
    pub account: AccountData,
    pub passkeys: Vec<PasskeyData>,
    pub security_keys: Vec<SecurityKeyData>,
    pub totp: TotpData,
    pub recovery_codes: RecoveryCodesData,
    pub sessions: Vec<SessionData>,
    pub email_messages: Vec<MessageData>,
    /// Always empty: what the owner let each application see is in `oauth_grants` (its `scopes`).
    pub consents: Vec<Value>,
    /// The applications with access to the account (what /account/apps lists); never a token or a hash.
    pub oauth_grants: Vec<AppData>,
    /// Administration roles the account holds (e.g. "admin"); usually none.
    pub roles: Vec<RoleData>,
    pub audit_events: Vec<EventData>,
}

#[derive(Debug, Serialize)]
pub struct AccountData {
    pub id: String,
    pub email: String,
    pub email_verified_at: Option<String>,
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
    /// The operator-defined attributes, as stored.
    pub attributes: Value,
    pub status: String,
    pub created_at: Option<String>,
    /// Whether the account has a password (the password itself is never stored, only a hash, which stays).
    pub has_password: bool,
    pub deletion_due_at: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct PasskeyData {
    pub id: String,
    pub name: String,
    /// The authenticator model's AAGUID, when it said.
    pub aaguid: Option<String>,
    /// The model's name, when known.
    pub authenticator: Option<&'static str>,
    pub created_at: Option<String>,
    pub last_used_at: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SecurityKeyData {
    pub id: String,
    pub name: String,
    pub created_at: Option<String>,
    pub last_used_at: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct TotpData {
    /// Set up and confirmed with a first code.
    pub enabled: bool,
    pub created_at: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct RecoveryCodesData {
    pub created_at: Option<String>,
    pub total: i64,
    pub left: i64,
}

/// A browser signed in to the account, as the caller read it from the session store.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SessionData {
    pub signed_in_at: Option<String>,
    pub last_active: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The browser that asked for this export.
    pub current: bool,
}

#[derive(Debug, Serialize)]
pub struct MessageData {
    /// "verify_email", "sign_in", "recover" or "change_email".
    pub purpose: String,
    pub to: String,
    pub sent_at: Option<String>,
    /// When it was used, replaced by a newer message, or used up by wrong attempts.
    pub used_at: Option<String>,
}

/// An application the owner allowed, or signed in to, with the account.
#[derive(Debug, Serialize)]
pub struct AppData {
    pub client_id: String,
    pub client_name: String,
    /// What it may see and do (OAuth scopes).
    pub scopes: Vec<String>,
    /// When the owner allowed it (or first signed in to it).
    pub since: Option<String>,
    pub last_used_at: Option<String>,
    /// It keeps access while the owner is away (a live refresh token).
    pub offline: bool,
}

#[derive(Debug, Serialize)]
pub struct RoleData {
    pub role: String,
    pub granted_at: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct EventData {
    pub at: Option<String>,
    pub kind: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: Option<Value>,
}

/// Unix seconds as RFC 3339 (UTC); `None` only for times outside what a calendar can show.
pub fn rfc3339(at: i64) -> Option<String> {
    let at = time::OffsetDateTime::from_unix_timestamp(at).ok()?;
    at.format(&time::format_description::well_known::Rfc3339).ok()
}

fn json_or_text(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

/// Everything held about `account_id`; `sessions` comes from the caller, which knows how sessions store
/// their browser. `None` when there is no such account.
pub async fn build(
    db: &Db,
    account_id: &str,
    sessions: Vec<SessionData>,
    now: i64,
) -> Result<Option<Export>, sqlx::Error> {
    let pool = &db.pool;
    let Some(a) = accounts::find_by_id(pool, account_id).await? else {
        return Ok(None);
    };
    let account = AccountData {
        id: a.id,
        email: a.email,
        email_verified_at: a.email_verified_at.and_then(rfc3339),
        display_name: a.display_name,
        given_name: a.given_name,
        family_name: a.family_name,
        locale: a.locale,
        time_zone: a.time_zone,
        attributes: json_or_text(&a.attributes),
        status: a.status,
        created_at: rfc3339(a.created_at),
        has_password: a.password_hash.is_some(),
        deletion_due_at: a.deletion_due_at.and_then(rfc3339),
    };
    let passkeys = passkeys::for_account(pool, account_id)
        .await?
        .into_iter()
        .map(|p| PasskeyData {
            authenticator: p.aaguid.as_deref().and_then(crate::core::passkeys::aaguid::name),
            id: p.id,
            name: p.name,
            aaguid: p.aaguid,
            created_at: rfc3339(p.created_at),
            last_used_at: p.last_used_at.and_then(rfc3339),
        })
        .collect();
    let security_keys = mfa::security_keys_for_account(pool, account_id)
        .await?
        .into_iter()
        .map(|k| SecurityKeyData {
            id: k.id,
            name: k.name,
            created_at: rfc3339(k.created_at),
            last_used_at: k.last_used_at.and_then(rfc3339),
        })
        .collect();
    let totp = mfa::totp_for_account(pool, account_id).await?;
    let totp = TotpData {
        enabled: totp.as_ref().is_some_and(|t| t.confirmed_at.is_some()),
        created_at: totp.and_then(|t| rfc3339(t.created_at)),
    };
    let recovery_codes = match mfa::recovery_code_summary(pool, account_id).await? {
        Some((created_at, total, left)) => RecoveryCodesData { created_at: rfc3339(created_at), total, left },
        None => RecoveryCodesData { created_at: None, total: 0, left: 0 },
    };
    let email_messages = verifications::summaries_for_account(pool, account_id)
        .await?
        .into_iter()
        .map(|m| MessageData {
            purpose: m.purpose,
            to: m.email,
            sent_at: rfc3339(m.created_at),
            used_at: m.consumed_at.and_then(rfc3339),
        })
        .collect();
    let oauth_grants = crate::core::oidc::grants::apps_for_account(db, account_id, now)
        .await?
        .into_iter()
        .map(|app| AppData {
            client_id: app.client_id,
            client_name: app.client_name,
            scopes: app.scopes,
            since: rfc3339(app.since),
            last_used_at: app.last_used_at.and_then(rfc3339),
            offline: app.offline,
        })
        .collect();
    let roles = roles::for_account(pool, account_id)
        .await?
        .into_iter()
        .map(|(role, granted_at)| RoleData { role, granted_at: rfc3339(granted_at) })
        .collect();
    let audit_events = audit::all_for_account(pool, account_id)
        .await?
        .into_iter()
        .map(|e| EventData {
            at: rfc3339(e.at),
            kind: e.kind,
            ip: e.ip,
            user_agent: e.user_agent,
            detail: e.detail.as_deref().map(json_or_text),
        })
        .collect();
    Ok(Some(Export {
        format: FORMAT,
        version: VERSION,
        exported_at: rfc3339(now).unwrap_or_default(),
        account,
        passkeys,
        security_keys,
        totp,
        recovery_codes,
        sessions,
        email_messages,
        consents: Vec::new(),
        oauth_grants,
        roles,
        audit_events,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_in_utc() {
        assert_eq!(rfc3339(0).as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(rfc3339(1_700_000_000).as_deref(), Some("2023-11-14T22:13:20Z"));
        assert_eq!(rfc3339(i64::MAX), None);
    }

    #[tokio::test]
    async fn an_unknown_account_has_no_export_and_a_bare_one_has_empty_lists() {
        let (_dir, db) = crate::db::test_db().await;
        assert!(build(&db, "nobody", Vec::new(), 10).await.unwrap_or_else(|e| panic!("{e}")).is_none());
        let new = accounts::NewAccount {
            id: "a1",
            email: "ann@example.com",
            display_name: Some("Ann"),
            password_hash: Some("$argon2id$v=19$secret-hash"),
            user_handle: None,
            now: 5,
        };
        assert!(accounts::insert(&db.pool, &new).await.unwrap_or_else(|e| panic!("{e}")));
        let export = build(&db, "a1", Vec::new(), 10).await.unwrap_or_else(|e| panic!("{e}"));
        let text = serde_json::to_string(&export).unwrap_or_else(|e| panic!("{e}"));
        let json: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(json["format"], FORMAT);
        assert_eq!(json["version"], 1);
        assert_eq!(json["account"]["has_password"], true);
        assert_eq!(json["account"]["attributes"], serde_json::json!({}));
        assert_eq!(json["totp"], serde_json::json!({"enabled": false, "created_at": null}));
        assert_eq!(json["recovery_codes"], serde_json::json!({"created_at": null, "total": 0, "left": 0}));
        for list in ["passkeys", "security_keys", "sessions", "email_messages", "consents", "oauth_grants"] {
            assert_eq!(json[list], serde_json::json!([]), "{list}");
        }
        assert!(!text.contains("argon2"), "{text}");
    }
}
