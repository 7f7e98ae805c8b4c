//! Creating passkeys: for a new account without a password (sign-up), or for a signed-in account.

use rand::CryptoRng;
use serde::{Deserialize, Serialize};
use serde_json::json;
use webauthn_rs::prelude::{CreationChallengeResponse, PasskeyRegistration, RegisterPublicKeyCredential, Uuid};

use webauthn_rs_proto::ResidentKeyRequirement;

use super::{aaguid, check_fresh, clean_name, encode_credential_id, PasskeyError};
use crate::core::accounts::{issue, normalize_display_name, normalize_email, Deps, Notice};
use crate::core::audit::{self, Event, RequestMeta};
use crate::db::accounts::{self, NewAccount};
use crate::db::passkeys::{self, PasskeyRow};

/// A registration waiting for the browser's answer. Kept in the server-side session, never sent out.
#[derive(Serialize, Deserialize)]
pub struct PendingRegistration {
    issued_at: i64,
    purpose: Purpose,
    state: PasskeyRegistration,
}

#[derive(Serialize, Deserialize)]
enum Purpose {
    /// A new account whose only way in is this passkey.
    SignUp { email: String, display_name: Option<String>, user_handle: String },
    /// Another passkey for a signed-in account.
    Add { account_id: String },
}

impl PendingRegistration {
    /// The account this adds a passkey to (`None` for a sign-up).
    pub fn account_id(&self) -> Option<&str> {
        match &self.purpose {
            Purpose::Add { account_id } => Some(account_id),
            Purpose::SignUp { .. } => None,
        }
    }
}

#[derive(Debug)]
pub enum Registered {
    /// A new account: verify the address next (the same as a password sign-up).
    SignedUp { account_id: String, email: String, notice: Notice, row_id: String },
    /// The address already has an account: its owner gets a notice, and the browser sees the same next
    /// step as for a new account (security.md: sign-up never reveals existing addresses).
    ExistingAddress { email: String, notice: Notice },
    /// Another passkey for the account at `email` (which is told).
    Added { account_id: String, email: String, name: String },
}

/// Starts a passwordless sign-up: checks the input, then asks the browser for a discoverable passkey.
pub fn start_signup(
    deps: &Deps<'_>,
    email: &str,
    display_name: Option<&str>,
    now: i64,
) -> Result<(CreationChallengeResponse, PendingRegistration), PasskeyError> {
    let email = normalize_email(email)?;
    let display_name = display_name.map(normalize_display_name).transpose()?.flatten();
    let user_handle = Uuid::new_v4();
    let shown = display_name.clone().unwrap_or_else(|| email.clone());
    let (ccr, state) = deps.webauthn.start_passkey_registration(user_handle, &email, &shown, None)?;
    let purpose = Purpose::SignUp { email, display_name, user_handle: user_handle.to_string() };
    Ok((discoverable(ccr), PendingRegistration { issued_at: now, purpose, state }))
}

/// Starts adding a passkey to a signed-in account; its existing passkeys are excluded.
pub async fn start_add(
    deps: &Deps<'_>,
    account_id: &str,
    now: i64,
) -> Result<(CreationChallengeResponse, PendingRegistration), PasskeyError> {
    let account = accounts::find_by_id(&deps.db.pool, account_id).await?.ok_or(PasskeyError::NotFound)?;
    let candidate = Uuid::new_v4().to_string();
    let handle = accounts::ensure_user_handle(&deps.db.pool, account_id, &candidate).await?;
    let user_handle = Uuid::parse_str(&handle).map_err(|_| PasskeyError::NotFound)?;
    let existing = passkeys::for_account(&deps.db.pool, account_id).await?;
    let exclude = existing
        .iter()
        .map(|row| serde_json::from_str::<webauthn_rs::prelude::Passkey>(&row.credential).map(|p| p.cred_id().clone()))
        .collect::<Result<Vec<_>, _>>()?;
    let shown = account.display_name.clone().unwrap_or_else(|| account.email.clone());
    let (ccr, state) = deps.webauthn.start_passkey_registration(user_handle, &account.email, &shown, Some(exclude))?;
    let purpose = Purpose::Add { account_id: account_id.to_string() };
    Ok((discoverable(ccr), PendingRegistration { issued_at: now, purpose, state }))
}

/// webauthn-rs discourages resident keys, but signing in without typing an address (the button and
/// autofill) needs a discoverable credential: ask for one. Verification does not depend on it.
fn discoverable(mut ccr: CreationChallengeResponse) -> CreationChallengeResponse {
    if let Some(selection) = ccr.public_key.authenticator_selection.as_mut() {
        selection.resident_key = Some(ResidentKeyRequirement::Required);
        selection.require_resident_key = true;
    }
    ccr
}

/// Verifies the browser's answer and stores the passkey (and, for a sign-up, the account).
pub async fn finish_registration(
    deps: &Deps<'_>,
    pending: PendingRegistration,
    response: &RegisterPublicKeyCredential,
    name: Option<&str>,
    meta: &RequestMeta,
    now: i64,
    rng: &mut impl CryptoRng,
) -> Result<Registered, PasskeyError> {
    check_fresh(pending.issued_at, deps.settings.challenge_ttl_secs, now)?;
    let account_id = pending.account_id().map(str::to_owned);
    let passkey = match deps.webauthn.finish_passkey_registration(response, &pending.state) {
        Ok(passkey) => passkey,
        Err(e) => {
            tracing::info!(error = %e, "passkey registration refused");
            let detail = json!({"reason": e.to_string()});
            audit::record(deps.db, Event::PasskeyRegistrationFailed, account_id.as_deref(), meta, detail, now).await?;
            return Err(PasskeyError::Rejected);
        }
    };
    let aaguid = aaguid::from_attestation_object(&response.response.attestation_object);
    let default_name = aaguid.as_deref().and_then(aaguid::name).unwrap_or("Passkey");
    let name = match name.filter(|n| !n.trim().is_empty()) {
        Some(name) => clean_name(name)?,
        None => default_name.to_string(),
    };
    let row = |account_id: &str| -> Result<PasskeyRow, PasskeyError> {
        Ok(PasskeyRow {
            // time-ordered, so passkeys added in the same second still list in the order they were added
            id: Uuid::now_v7().to_string(),
            account_id: account_id.to_string(),
            credential_id: encode_credential_id(passkey.cred_id()),
            name: name.clone(),
            aaguid: aaguid.clone(),
            credential: serde_json::to_string(&passkey)?,
            created_at: now,
            last_used_at: None,
        })
    };
    match pending.purpose {
        Purpose::Add { account_id } => {
            let account = accounts::find_by_id(&deps.db.pool, &account_id).await?.ok_or(PasskeyError::NotFound)?;
            if !passkeys::insert(&deps.db.pool, &row(&account_id)?).await? {
                return Err(PasskeyError::Duplicate);
            }
            let detail = json!({"name": name, "aaguid": aaguid});
            audit::record(deps.db, Event::PasskeyAdded, Some(&account_id), meta, detail, now).await?;
            Ok(Registered::Added { account_id, email: account.email, name })
        }
        Purpose::SignUp { email, display_name, user_handle } => {
            if accounts::find_by_email(&deps.db.pool, &email).await?.is_some() {
                return existing_address(deps, &email, meta, now).await;
            }
            let id = Uuid::new_v4().to_string();
            let mut tx = deps.db.pool.begin().await?;
            let new = NewAccount {
                id: &id,
                email: &email,
                display_name: display_name.as_deref(),
                password_hash: None,
                user_handle: Some(&user_handle),
                now,
            };
            if !accounts::insert(&mut *tx, &new).await? {
                // a concurrent sign-up with the same address won
                drop(tx);
                return existing_address(deps, &email, meta, now).await;
            }
            if !passkeys::insert(&mut *tx, &row(&id)?).await? {
                return Err(PasskeyError::Duplicate);
            }
            tx.commit().await?;
            audit::record(deps.db, Event::SignUp, Some(&id), meta, json!({"method": "passkey"}), now).await?;
            audit::record(deps.db, Event::PasskeyAdded, Some(&id), meta, json!({"name": name, "aaguid": aaguid}), now)
                .await?;
            let (notice, row_id) = issue(deps, &id, &email, None, now, rng).await?;
            audit::record(deps.db, Event::VerificationSent, Some(&id), meta, json!({}), now).await?;
            Ok(Registered::SignedUp { account_id: id, email, notice, row_id })
        }
    }
}

async fn existing_address(
    deps: &Deps<'_>,
    email: &str,
    meta: &RequestMeta,
    now: i64,
) -> Result<Registered, PasskeyError> {
    let existing = accounts::find_by_email(&deps.db.pool, email).await?;
    let id = existing.as_ref().map(|a| a.id.as_str());
    audit::record(deps.db, Event::SignUpWithExistingAddress, id, meta, json!({"method": "passkey"}), now).await?;
    let notice = Notice::SignUpAttempted { to: email.to_string() };
    Ok(Registered::ExistingAddress { email: email.to_string(), notice })
}
