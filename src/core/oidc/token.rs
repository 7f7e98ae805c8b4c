//! The token endpoint's grants (authorization code with PKCE, refresh token with rotation and reuse
//! detection, client credentials), and reading access tokens back for userinfo, introspection and
//! revocation.

use rand::CryptoRng;
use serde_json::{Map, Value};

use crate::core::audit::{record_in, Event, RequestMeta};
use crate::core::oidc::claims::user_claims;
use crate::core::oidc::clients::Client;
use crate::core::oidc::keys::KeySet;
use crate::core::oidc::{acr_for, new_id, parse_scopes, pkce, ErrorCode, GrantType, OAuthError, OAuthSettings};
use crate::core::tokens::{new_link_token, TokenKey};
use crate::db::accounts::{self, AccountRow};
use crate::db::oauth::{self as repo, GrantRow};
use crate::db::Db;

/// What the token endpoint needs.
pub struct Issuer<'a> {
    pub db: &'a Db,
    pub key: &'a TokenKey,
    pub keys: &'a KeySet,
    pub settings: &'a OAuthSettings,
}

/// The body of a token request, as sent.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct TokenParams {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
}

/// A successful token response. Holds live tokens: built into JSON at the edge, never logged.
pub struct Tokens {
    pub access_token: String,
    pub expires_in: i64,
    pub refresh_token: Option<String>,
    pub id_token: Option<String>,
    pub scope: String,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens").field("scope", &self.scope).finish_non_exhaustive()
    }
}

/// Dispatches on `grant_type`; the client is already authenticated.
pub async fn grant(
    issuer: &Issuer<'_>,
    client: &Client,
    params: &TokenParams,
    meta: &RequestMeta,
    now: i64,
    rng: &mut impl CryptoRng,
) -> Result<Tokens, OAuthError> {
    let grant_type = params.grant_type.as_deref().unwrap_or("");
    let Some(grant_type) = GrantType::parse(grant_type) else {
        return Err(OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            "grant_type must be authorization_code, refresh_token or client_credentials",
        ));
    };
    if !client.allows_grant(grant_type) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            format!("this client may not use {}", grant_type.as_str()),
        ));
    }
    match grant_type {
        GrantType::AuthorizationCode => exchange_code(issuer, client, params, meta, now, rng).await,
        GrantType::RefreshToken => refresh(issuer, client, params, meta, now, rng).await,
        GrantType::ClientCredentials => client_credentials(issuer, client, params, now, rng),
    }
}

async fn exchange_code(
    issuer: &Issuer<'_>,
    client: &Client,
    params: &TokenParams,
    meta: &RequestMeta,
    now: i64,
    rng: &mut impl CryptoRng,
) -> Result<Tokens, OAuthError> {
    let code = params
        .code
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| OAuthError::invalid_request("code is missing"))?;
    let code_hash = issuer.key.link_hash(code);
    let bad = || {
        OAuthError::invalid_grant("the code is invalid, expired, used, or was issued to another client or redirect URI")
    };
    let row = repo::find_code(&issuer.db.pool, &code_hash).await?.ok_or_else(bad)?;
    if row.client_id != client.id {
        return Err(bad());
    }
    if row.used_at.is_some() {
        revoke_reused(
            issuer.db,
            row.grant_id.as_deref(),
            &row.account_id,
            &client.id,
            Event::OAuthCodeReused,
            meta,
            now,
        )
        .await?;
        return Err(bad());
    }
    if row.expires_at < now || params.redirect_uri.as_deref() != Some(row.redirect_uri.as_str()) {
        return Err(bad());
    }
    match (row.code_challenge.as_deref(), params.code_verifier.as_deref()) {
        (Some(challenge), Some(verifier)) if pkce::verify_s256(verifier, challenge) => {}
        (None, None) => {}
        // a wrong or missing verifier, or a verifier for a code issued without a challenge
        _ => return Err(bad()),
    }
    let account = active_account(issuer.db, &row.account_id).await?.ok_or_else(bad)?;
    let amr: Vec<String> = serde_json::from_str(&row.amr).map_err(OAuthError::server)?;
    let scopes = parse_scopes(&row.scopes);
    let grant = GrantRow {
        id: new_id(rng),
        account_id: row.account_id.clone(),
        client_id: client.id.clone(),
        scopes: row.scopes.clone(),
        auth_time: row.auth_time,
        amr: row.amr.clone(),
        sid: row.sid.clone(),
        created_at: now,
        expires_at: now + issuer.settings.refresh_token_ttl_secs,
        last_used_at: now,
        revoked_at: None,
    };
    let refresh_token = wants_refresh(client, &scopes).then(|| new_link_token(rng));
    let mut tx = issuer.db.pool.begin().await?;
    repo::insert_grant(&mut *tx, &grant).await?;
    if !repo::use_code(&mut *tx, &code_hash, &grant.id, now).await? {
        // another request redeemed it first: this one is the reuse, and what the first issued is revoked
        drop(tx);
        let winner = repo::find_code(&issuer.db.pool, &code_hash).await?.and_then(|c| c.grant_id);
        revoke_reused(issuer.db, winner.as_deref(), &row.account_id, &client.id, Event::OAuthCodeReused, meta, now)
            .await?;
        return Err(bad());
    }
    if let Some(token) = &refresh_token {
        repo::insert_refresh_token(&mut *tx, &issuer.key.link_hash(token), &grant.id, now).await?;
    }
    tx.commit().await?;
    let user = UserGrant { account: &account, grant: &grant, scopes: &scopes, amr: &amr, nonce: row.nonce.as_deref() };
    issue(issuer, client, Some(&user), scopes.join(" "), refresh_token, now, rng)
}

/// Refresh tokens are issued when the app asked for `offline_access` and may use the refresh grant.
fn wants_refresh(client: &Client, scopes: &[String]) -> bool {
    client.allows_grant(GrantType::RefreshToken) && scopes.iter().any(|s| s == "offline_access")
}

async fn refresh(
    issuer: &Issuer<'_>,
    client: &Client,
    params: &TokenParams,
    meta: &RequestMeta,
    now: i64,
    rng: &mut impl CryptoRng,
) -> Result<Tokens, OAuthError> {
    let token = params.refresh_token.as_deref().filter(|t| !t.is_empty());
    let token = token.ok_or_else(|| OAuthError::invalid_request("refresh_token is missing"))?;
    let token_hash = issuer.key.link_hash(token);
    let bad = || OAuthError::invalid_grant("the refresh token is invalid, expired, revoked or already used");
    let (grant, used_at) = repo::find_refresh_token(&issuer.db.pool, &token_hash).await?.ok_or_else(bad)?;
    if grant.client_id != client.id {
        return Err(bad());
    }
    if used_at.is_some() {
        // RFC 9700 section 4.14.2: a rotated token used again means two parties hold the grant
        revoke_reused(issuer.db, Some(&grant.id), &grant.account_id, &client.id, Event::OAuthRefreshReused, meta, now)
            .await?;
        return Err(bad());
    }
    if grant.revoked_at.is_some() || grant.expires_at <= now {
        return Err(bad());
    }
    let granted = parse_scopes(&grant.scopes);
    let scopes = match params.scope.as_deref().filter(|s| !s.is_empty()) {
        None => granted.clone(),
        Some(asked) => {
            let asked = parse_scopes(asked);
            if let Some(extra) = asked.iter().find(|s| !granted.contains(s)) {
                return Err(OAuthError::new(ErrorCode::InvalidScope, format!("scope {extra} was not granted")));
            }
            asked
        }
    };
    let account = active_account(issuer.db, &grant.account_id).await?.ok_or_else(bad)?;
    let amr: Vec<String> = serde_json::from_str(&grant.amr).map_err(OAuthError::server)?;
    let next = new_link_token(rng);
    let mut tx = issuer.db.pool.begin().await?;
    if !repo::use_refresh_token(&mut *tx, &token_hash, now).await? {
        drop(tx);
        revoke_reused(issuer.db, Some(&grant.id), &grant.account_id, &client.id, Event::OAuthRefreshReused, meta, now)
            .await?;
        return Err(bad());
    }
    // the new token's `created_at` is the grant's last use (db::oauth::live_grants_for_account): one write
    // less while SQLite's write lock is held
    repo::insert_refresh_token(&mut *tx, &issuer.key.link_hash(&next), &grant.id, now).await?;
    tx.commit().await?;
    let user = UserGrant { account: &account, grant: &grant, scopes: &scopes, amr: &amr, nonce: None };
    issue(issuer, client, Some(&user), scopes.join(" "), Some(next), now, rng)
}

/// Client credentials: the app acts for itself, with API scopes only (no person, so no identity scopes).
fn client_credentials(
    issuer: &Issuer<'_>,
    client: &Client,
    params: &TokenParams,
    now: i64,
    rng: &mut impl CryptoRng,
) -> Result<Tokens, OAuthError> {
    let identity = |s: &String| crate::core::oidc::SUPPORTED_SCOPES.contains(&s.as_str());
    let scopes = match params.scope.as_deref().filter(|s| !s.is_empty()) {
        None => client.registered.scopes.iter().filter(|s| !identity(s)).cloned().collect(),
        Some(asked) => {
            let asked = parse_scopes(asked);
            if let Some(bad) = asked.iter().find(|s| identity(s) || !client.allows_scope(s)) {
                return Err(OAuthError::new(
                    ErrorCode::InvalidScope,
                    format!("scope {bad} is not available to client credentials"),
                ));
            }
            asked
        }
    };
    issue(issuer, client, None, scopes.join(" "), None, now, rng)
}

/// A grant's person, for the claims of its tokens.
struct UserGrant<'a> {
    account: &'a AccountRow,
    grant: &'a GrantRow,
    scopes: &'a [String],
    amr: &'a [String],
    nonce: Option<&'a str>,
}

/// Signs the access token (RFC 9068) and, for `openid`, the ID token.
fn issue(
    issuer: &Issuer<'_>,
    client: &Client,
    user: Option<&UserGrant<'_>>,
    scope: String,
    refresh_token: Option<String>,
    now: i64,
    rng: &mut impl CryptoRng,
) -> Result<Tokens, OAuthError> {
    let s = issuer.settings;
    let mut access = Map::new();
    access.insert("iss".into(), s.issuer.as_str().into());
    access.insert("aud".into(), s.audience.as_str().into());
    access.insert("client_id".into(), client.id.as_str().into());
    access.insert("iat".into(), now.into());
    access.insert("exp".into(), (now + s.access_token_ttl_secs).into());
    access.insert("jti".into(), new_id(rng).into());
    access.insert("scope".into(), scope.as_str().into());
    let mut id_token = None;
    match user {
        None => {
            access.insert("sub".into(), client.id.as_str().into());
        }
        Some(user) => {
            access.insert("sub".into(), user.account.id.as_str().into());
            access.insert("gid".into(), user.grant.id.as_str().into());
            access.insert("auth_time".into(), user.grant.auth_time.into());
            access.insert("acr".into(), acr_for(user.amr).into());
            access.insert("amr".into(), user.amr.into());
            if user.scopes.iter().any(|s| s == "openid") {
                let mut claims = user_claims(user.account, user.scopes);
                claims.insert("iss".into(), s.issuer.as_str().into());
                claims.insert("aud".into(), client.id.as_str().into());
                claims.insert("azp".into(), client.id.as_str().into());
                claims.insert("iat".into(), now.into());
                claims.insert("exp".into(), (now + s.id_token_ttl_secs).into());
                claims.insert("auth_time".into(), user.grant.auth_time.into());
                claims.insert("acr".into(), acr_for(user.amr).into());
                claims.insert("amr".into(), user.amr.into());
                claims.insert("sid".into(), user.grant.sid.as_str().into());
                if let Some(nonce) = user.nonce {
                    claims.insert("nonce".into(), nonce.into());
                }
                id_token = Some(issuer.keys.sign(client.registered.signing_alg, "JWT", &claims)?);
            }
        }
    }
    let access_token = issuer.keys.sign(client.registered.signing_alg, "at+jwt", &access)?;
    Ok(Tokens { access_token, expires_in: s.access_token_ttl_secs, refresh_token, id_token, scope })
}

async fn active_account(db: &Db, id: &str) -> Result<Option<AccountRow>, OAuthError> {
    Ok(accounts::find_by_id(&db.pool, id).await?.filter(|a| a.status == "active" && a.deletion_due_at.is_none()))
}

/// A code or refresh token came back after use: revoke the grant it belongs to, and log it.
async fn revoke_reused(
    db: &Db,
    grant_id: Option<&str>,
    account_id: &str,
    client_id: &str,
    event: Event,
    meta: &RequestMeta,
    now: i64,
) -> Result<(), OAuthError> {
    let mut tx = db.pool.begin().await?;
    if let Some(id) = grant_id {
        repo::revoke_grant(&mut *tx, id, now).await?;
    }
    let detail = serde_json::json!({ "client_id": client_id, "grant_id": grant_id });
    record_in(&mut *tx, event, Some(account_id), meta, detail, now).await?;
    tx.commit().await?;
    Ok(())
}

/// A live access token's claims: signed by one of our keys as `at+jwt`, ours (`iss`), not expired, not
/// revoked, and its grant (if it has one) not revoked.
pub async fn read_access_token(
    db: &Db,
    keys: &KeySet,
    settings: &OAuthSettings,
    token: &str,
    now: i64,
) -> Result<Map<String, Value>, OAuthError> {
    let invalid = || OAuthError::new(ErrorCode::InvalidToken, "the access token is invalid, expired or revoked");
    let (typ, claims) = keys.verify(token).map_err(|_| invalid())?;
    if !typ.eq_ignore_ascii_case("at+jwt") {
        return Err(invalid());
    }
    let str_claim = |name: &str| claims.get(name).and_then(Value::as_str);
    if str_claim("iss") != Some(settings.issuer.as_str()) {
        return Err(invalid());
    }
    if claims.get("exp").and_then(Value::as_i64).is_none_or(|exp| exp <= now) {
        return Err(invalid());
    }
    let jti = str_claim("jti").ok_or_else(invalid)?;
    if repo::access_token_revoked(&db.pool, jti).await? {
        return Err(invalid());
    }
    if let Some(gid) = str_claim("gid") {
        let grant = repo::find_grant(&db.pool, gid).await?;
        if grant.is_none_or(|g| g.revoked_at.is_some()) {
            return Err(invalid());
        }
    }
    Ok(claims)
}

/// What a refresh token belongs to, if it is live: (grant, whether this token is the current one).
pub async fn read_refresh_token(
    db: &Db,
    key: &TokenKey,
    token: &str,
    now: i64,
) -> Result<Option<GrantRow>, OAuthError> {
    let found = repo::find_refresh_token(&db.pool, &key.link_hash(token)).await?;
    Ok(found.filter(|(g, used)| used.is_none() && g.revoked_at.is_none() && g.expires_at > now).map(|(g, _)| g))
}

/// RFC 7009: a refresh token revokes its whole grant (and so the access tokens issued under it); an access
/// token is remembered as revoked until it expires. Tokens of other clients and unknown tokens are left
/// alone, with the same answer (nothing learned by guessing).
pub async fn revoke(
    db: &Db,
    key: &TokenKey,
    keys: &KeySet,
    client: &Client,
    token: &str,
    now: i64,
) -> Result<(), OAuthError> {
    if let Some((grant, _)) = repo::find_refresh_token(&db.pool, &key.link_hash(token)).await? {
        if grant.client_id == client.id {
            repo::revoke_grant(&db.pool, &grant.id, now).await?;
        }
        return Ok(());
    }
    let Ok((_, claims)) = keys.verify(token) else { return Ok(()) };
    let issued_to = claims.get("client_id").and_then(Value::as_str);
    let jti = claims.get("jti").and_then(Value::as_str);
    let exp = claims.get("exp").and_then(Value::as_i64);
    if let (Some(jti), Some(exp), true) = (jti, exp, issued_to == Some(client.id.as_str())) {
        if exp > now {
            repo::revoke_access_token(&db.pool, jti, exp).await?;
        }
    }
    Ok(())
}
