//! The apps a person let in: what /account/apps lists and revokes, and what a password reset, a deletion
//! or a sign-out ends.

use crate::core::audit::{record_in, Event, RequestMeta};
use crate::core::oidc::parse_scopes;
use crate::db::oauth::{self as repo, GrantRow};
use crate::db::Db;

/// One app with access to the account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppAccess {
    pub client_id: String,
    pub client_name: String,
    /// What the person allowed (consent) or, for a first-party app, what its sign-ins asked for.
    pub scopes: Vec<String>,
    /// When the person allowed it (third-party apps) or first signed in to it.
    pub since: i64,
    pub last_used_at: Option<i64>,
    /// The app keeps access while the person is away (a live refresh token).
    pub offline: bool,
}

/// Every app with a consent or a live grant, by name.
pub async fn apps_for_account(db: &Db, account_id: &str, now: i64) -> Result<Vec<AppAccess>, sqlx::Error> {
    let consents = repo::consents_for_account(&db.pool, account_id).await?;
    let grants = repo::live_grants_for_account(&db.pool, account_id, now).await?;
    let mut apps: Vec<AppAccess> = Vec::new();
    for (client_id, scopes, granted_at) in consents {
        apps.push(AppAccess {
            client_id,
            client_name: String::new(),
            scopes: parse_scopes(&scopes),
            since: granted_at,
            last_used_at: None,
            offline: false,
        });
    }
    for grant in &grants {
        let offline = grant.scopes.split(' ').any(|s| s == "offline_access");
        match apps.iter_mut().find(|a| a.client_id == grant.client_id) {
            Some(app) => {
                app.last_used_at = app.last_used_at.max(Some(grant.last_used_at));
                app.offline |= offline;
            }
            None => apps.push(AppAccess {
                client_id: grant.client_id.clone(),
                client_name: String::new(),
                scopes: parse_scopes(&grant.scopes),
                since: grant.created_at,
                last_used_at: Some(grant.last_used_at),
                offline,
            }),
        }
    }
    for app in &mut apps {
        let client = repo::find_client(&db.pool, &app.client_id).await?;
        app.client_name = client.map(|c| c.name).unwrap_or_else(|| app.client_id.clone());
    }
    apps.sort_by_key(|a| a.client_name.to_lowercase());
    Ok(apps)
}

/// Withdraws the consent and ends every grant of the app for this account; `false` when the app had
/// neither (nothing to revoke, or another account's app id).
pub async fn revoke_app(
    db: &Db,
    account_id: &str,
    client_id: &str,
    meta: &RequestMeta,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    let had_consent = repo::delete_consent(&mut *tx, account_id, client_id).await?;
    let grants = repo::revoke_account_grants(&mut *tx, account_id, Some(client_id), now).await?;
    if !had_consent && grants == 0 {
        return Ok(false);
    }
    let detail = serde_json::json!({ "client_id": client_id });
    record_in(&mut *tx, Event::OAuthAppRevoked, Some(account_id), meta, detail, now).await?;
    tx.commit().await?;
    Ok(true)
}

/// Ends every app's tokens for the account (password reset, deletion): security.md "a reset ends other
/// sessions and refresh tokens". Consents stay: the person allowed the app, the tokens were the risk.
pub async fn revoke_all<'e>(db: impl sqlx::AnyExecutor<'e>, account_id: &str, now: i64) -> Result<u64, sqlx::Error> {
    repo::revoke_account_grants(db, account_id, None, now).await
}

/// A browser signed out: codes not yet exchanged stop working, and its apps' grants end unless they hold `offline_access` (the app was allowed to
/// keep access while the person is away). Returns every grant the sign-in had, for back-channel logout.
pub async fn end_sign_in(db: &Db, sid: &str, now: i64) -> Result<Vec<GrantRow>, sqlx::Error> {
    // a code issued to this sign-in and not yet exchanged would otherwise start a grant after it ended
    repo::delete_unused_codes_of_sid(&db.pool, sid).await?;
    let grants = repo::live_grants_for_sid(&db.pool, sid).await?;
    for grant in &grants {
        if !grant.scopes.split(' ').any(|s| s == "offline_access") {
            repo::revoke_grant(&db.pool, &grant.id, now).await?;
        }
    }
    Ok(grants)
}
