//! Security keys as a second factor (webauthn-rs' security-key flow: not discoverable, so a key names no
//! account and cannot sign in by itself). Several per account, each named. The ceremony state waits in
//! the server-side session, single use and expiring, as for passkeys.

use rand::CryptoRng;
use serde::{Deserialize, Serialize};
use serde_json::json;
use webauthn_rs::prelude::{
    CreationChallengeResponse, PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse, SecurityKey,
    SecurityKeyAuthentication, SecurityKeyRegistration, WebauthnError,
};

use super::{recovery, second_factor_key, MfaError};
use crate::core::accounts::{Deps, Notice};
use crate::core::audit::{self, Event, RequestMeta};
use crate::core::passkeys::{self, clean_name, encode_credential_id};
use crate::core::throttle;
use crate::db::accounts;
use crate::db::mfa::{self as repo, SecurityKeyRow};

/// Adding a key, waiting for the browser. Kept in the server-side session, never sent out.
#[derive(Serialize, Deserialize)]
pub struct PendingKeyRegistration {
    account_id: String,
    issued_at: i64,
    state: SecurityKeyRegistration,
}

/// Using a key, waiting for the browser.
#[derive(Serialize, Deserialize)]
pub struct PendingKeyUse {
    account_id: String,
    issued_at: i64,
    state: SecurityKeyAuthentication,
}

impl PendingKeyUse {
    pub fn account_id(&self) -> &str {
        &self.account_id
    }
}

fn check_fresh(deps: &Deps<'_>, issued_at: i64, now: i64) -> Result<(), MfaError> {
    passkeys::check_fresh(issued_at, deps.settings.challenge_ttl_secs, now).map_err(|_| MfaError::CeremonyExpired)
}

fn stored(row: &SecurityKeyRow) -> Result<SecurityKey, MfaError> {
    serde_json::from_str(&row.credential).map_err(|e| MfaError::Stored(e.to_string()))
}

/// Starts adding a key; the account's keys are excluded so one key is not added twice.
pub async fn start_registration(
    deps: &Deps<'_>,
    account_id: &str,
    now: i64,
) -> Result<(CreationChallengeResponse, PendingKeyRegistration), MfaError> {
    let account = accounts::find_by_id(&deps.db.pool, account_id).await?.ok_or(MfaError::NotEnrolled)?;
    let existing = repo::security_keys_for_account(&deps.db.pool, account_id).await?;
    let exclude = existing.iter().map(|r| stored(r).map(|k| k.cred_id().clone())).collect::<Result<Vec<_>, _>>()?;
    // the user handle of a key that is not discoverable is never read back; the passkey one when it exists
    let handle =
        account.user_handle.as_deref().and_then(|h| uuid::Uuid::parse_str(h).ok()).unwrap_or_else(uuid::Uuid::new_v4);
    let shown = account.display_name.clone().unwrap_or_else(|| account.email.clone());
    let (mut ccr, state) = deps
        .webauthn
        .start_securitykey_registration(handle, &account.email, &shown, Some(exclude), None, None)
        .map_err(|e| MfaError::Webauthn(e.to_string()))?;
    // webauthn-rs asks for credProtect "userVerificationRequired" (not enforced) on a key that is not
    // discoverable; Chromium refuses that pairing outright ("Requested protection policy is inconsistent",
    // NotSupportedError). The key is a second factor after a password, so protection is not needed.
    if let Some(extensions) = ccr.public_key.extensions.as_mut() {
        extensions.cred_protect = None;
    }
    Ok((ccr, PendingKeyRegistration { account_id: account_id.to_string(), issued_at: now, state }))
}

/// Finishes adding a key for the account that started it. The first second factor also brings recovery
/// codes (returned to be shown once).
#[allow(clippy::too_many_arguments)] // one call site; a struct would only rename the same eight things
pub async fn finish_registration(
    deps: &Deps<'_>,
    account_id: &str,
    pending: PendingKeyRegistration,
    response: &RegisterPublicKeyCredential,
    name: Option<&str>,
    meta: &RequestMeta,
    now: i64,
    rng: &mut impl CryptoRng,
) -> Result<(Notice, Option<Vec<String>>), MfaError> {
    if pending.account_id != account_id {
        return Err(MfaError::CeremonyExpired);
    }
    check_fresh(deps, pending.issued_at, now)?;
    let name = match name.map(str::trim).filter(|n| !n.is_empty()) {
        Some(name) => clean_name(name).map_err(|_| MfaError::InvalidName)?,
        None => "Security key".to_string(),
    };
    let key = match deps.webauthn.finish_securitykey_registration(response, &pending.state) {
        Ok(key) => key,
        Err(e) => {
            let detail = json!({"reason": e.to_string()});
            audit::record(deps.db, Event::SecurityKeyRegistrationFailed, Some(account_id), meta, detail, now).await?;
            return Err(MfaError::KeyRejected);
        }
    };
    let row = SecurityKeyRow {
        id: uuid::Uuid::new_v4().to_string(),
        account_id: account_id.to_string(),
        credential_id: encode_credential_id(key.cred_id()),
        name: name.clone(),
        credential: serde_json::to_string(&key).map_err(|e| MfaError::Stored(e.to_string()))?,
        created_at: now,
        last_used_at: None,
    };
    if !repo::insert_security_key(&deps.db.pool, &row).await? {
        return Err(MfaError::KeyDuplicate);
    }
    audit::record(deps.db, Event::SecurityKeyAdded, Some(account_id), meta, json!({"key": row.id, "name": name}), now)
        .await?;
    let first = repo::unused_recovery_codes(&deps.db.pool, account_id).await? == 0;
    let codes = if first { Some(recovery::new_set(deps, account_id, meta, now, rng).await?) } else { None };
    let email = accounts::find_by_id(&deps.db.pool, account_id).await?.map(|a| a.email).unwrap_or_default();
    Ok((Notice::FactorAdded { to: email, factor: "security_key" }, codes))
}

/// Starts using one of the account's keys; `None` when it has none.
pub async fn start_use(
    deps: &Deps<'_>,
    account_id: &str,
    now: i64,
) -> Result<Option<(RequestChallengeResponse, PendingKeyUse)>, MfaError> {
    let rows = repo::security_keys_for_account(&deps.db.pool, account_id).await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let keys = rows.iter().map(stored).collect::<Result<Vec<_>, _>>()?;
    let (rcr, state) =
        deps.webauthn.start_securitykey_authentication(&keys).map_err(|e| MfaError::Webauthn(e.to_string()))?;
    Ok(Some((rcr, PendingKeyUse { account_id: account_id.to_string(), issued_at: now, state })))
}

/// Verifies the key's answer (second-factor step or step-up). Refusals count against the second-factor
/// budget and are audited; a counter that does not grow is flagged.
pub async fn finish_use(
    deps: &Deps<'_>,
    pending: PendingKeyUse,
    response: &PublicKeyCredential,
    meta: &RequestMeta,
    now: i64,
) -> Result<(), MfaError> {
    let account_id = pending.account_id.clone();
    let budget = second_factor_key(&account_id);
    if let Some(wait) = throttle::retry_after(deps.db, std::slice::from_ref(&budget), now).await? {
        return Err(MfaError::Throttled(wait));
    }
    check_fresh(deps, pending.issued_at, now)?;
    let budget_ref = &budget;
    let account_ref = account_id.as_str();
    let refuse = |reason: String| async move {
        throttle::record_failure(deps.db, std::slice::from_ref(budget_ref), now).await?;
        let detail = json!({"method": "security_key", "reason": reason});
        audit::record(deps.db, Event::SecondFactorFailed, Some(account_ref), meta, detail, now).await?;
        Err::<(), MfaError>(MfaError::KeyRejected)
    };
    let credential_id = encode_credential_id(response.get_credential_id());
    let rows = repo::security_keys_for_account(&deps.db.pool, &account_id).await?;
    let Some(row) = rows.into_iter().find(|r| r.credential_id == credential_id) else {
        return refuse("unknown_key".into()).await;
    };
    let result = match deps.webauthn.finish_securitykey_authentication(response, &pending.state) {
        Ok(result) => result,
        Err(WebauthnError::CredentialPossibleCompromise) => {
            let detail = json!({"key": row.id, "name": row.name});
            audit::record(deps.db, Event::SecurityKeyCounterRegression, Some(&account_id), meta, detail, now).await?;
            return refuse("counter_regression".into()).await;
        }
        Err(e) => return refuse(e.to_string()).await,
    };
    let mut key = stored(&row)?;
    key.update_credential(&result);
    let json = serde_json::to_string(&key).map_err(|e| MfaError::Stored(e.to_string()))?;
    if !repo::record_security_key_use(&deps.db.pool, &row.id, &json, i64::from(result.counter()), now).await? {
        let detail = json!({"key": row.id, "name": row.name});
        audit::record(deps.db, Event::SecurityKeyCounterRegression, Some(&account_id), meta, detail, now).await?;
        return refuse("counter_regression".into()).await;
    }
    throttle::clear(deps.db, &budget).await?;
    Ok(())
}

/// Removes one of the account's keys (the caller checked step-up and policy).
pub async fn remove(
    deps: &Deps<'_>,
    account_id: &str,
    id: &str,
    meta: &RequestMeta,
    now: i64,
) -> Result<Notice, MfaError> {
    let name = repo::delete_security_key(&deps.db.pool, account_id, id).await?.ok_or(MfaError::NotEnrolled)?;
    super::drop_recovery_codes_without_factor(deps.db, account_id).await?;
    audit::record(deps.db, Event::SecurityKeyRemoved, Some(account_id), meta, json!({"key": id, "name": name}), now)
        .await?;
    let email = accounts::find_by_id(&deps.db.pool, account_id).await?.map(|a| a.email).unwrap_or_default();
    Ok(Notice::FactorRemoved { to: email, factor: "security_key" })
}
