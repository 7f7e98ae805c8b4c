//! Signing in with a passkey: discoverable (button or browser autofill: the authenticator says whose
//! passkey it is) or for a known account (identifier-first, and confirming it is you before a change).

use rand::CryptoRng;
use serde::{Deserialize, Serialize};
use serde_json::json;
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyAuthentication, PublicKeyCredential, RequestChallengeResponse,
    WebauthnError,
};

use super::{check_fresh, encode_credential_id, PasskeyError};
use crate::core::accounts::deletion::SeenAtSignIn;
use crate::core::accounts::{issue, normalize_email, Deps, Notice};
use crate::core::audit::{self, Event, RequestMeta};
use crate::core::throttle::{self, Key};
use crate::db::accounts::{self, AccountRow};
use crate::db::passkeys::{self, PasskeyRow};

/// A sign-in waiting for the browser's answer. Kept in the server-side session, never sent out.
#[derive(Serialize, Deserialize)]
pub struct PendingSignIn {
    issued_at: i64,
    ceremony: Ceremony,
}

#[derive(Serialize, Deserialize)]
enum Ceremony {
    Discoverable(DiscoverableAuthentication),
    Account { account_id: String, state: PasskeyAuthentication },
}

/// A verified passkey sign-in.
#[derive(Debug)]
pub struct PasskeySignIn {
    pub account_id: String,
    /// The authenticator verified the person (PIN, biometrics): counts as multi-factor.
    pub user_verified: bool,
    /// Synced passkey (may live on several devices) rather than bound to one piece of hardware.
    pub backup_eligible: bool,
    /// What the credential's lookup read of the account's deletion (spares the sign-in another read).
    pub deletion_seen: SeenAtSignIn,
}

impl PasskeySignIn {
    /// Authentication methods (RFC 8176 `amr` values) this sign-in proves.
    pub fn methods(&self) -> Vec<String> {
        let mut methods = vec![if self.backup_eligible { "swk" } else { "hwk" }.to_string()];
        if self.user_verified {
            methods.push("mfa".into());
        }
        methods
    }
}

#[derive(Debug)]
pub enum SignInOutcome {
    SignedIn(PasskeySignIn),
    /// Unverified address (and verification is required): a code was sent.
    NeedsVerification {
        email: String,
        notice: Notice,
        row_id: String,
    },
}

/// Starts a sign-in where the authenticator picks the passkey. `conditional`: offered through the
/// browser's autofill on the email field instead of a dialog.
pub fn start_discoverable(
    deps: &Deps<'_>,
    conditional: bool,
    now: i64,
) -> Result<(RequestChallengeResponse, PendingSignIn), PasskeyError> {
    let (mut rcr, state) = deps.webauthn.start_discoverable_authentication()?;
    if !conditional {
        rcr.mediation = None;
    }
    Ok((rcr, PendingSignIn { issued_at: now, ceremony: Ceremony::Discoverable(state) }))
}

/// Starts a sign-in limited to this account's passkeys; `None` when it has none.
pub async fn start_for_account(
    deps: &Deps<'_>,
    account_id: &str,
    now: i64,
) -> Result<Option<(RequestChallengeResponse, PendingSignIn)>, PasskeyError> {
    let rows = passkeys::for_account(&deps.db.pool, account_id).await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let keys = rows.iter().map(|r| serde_json::from_str::<Passkey>(&r.credential)).collect::<Result<Vec<_>, _>>()?;
    let (rcr, state) = deps.webauthn.start_passkey_authentication(&keys)?;
    let ceremony = Ceremony::Account { account_id: account_id.to_string(), state };
    Ok(Some((rcr, PendingSignIn { issued_at: now, ceremony })))
}

/// Identifier-first: the passkey offer for an address, when its account has passkeys. Unknown addresses,
/// disabled accounts and accounts without passkeys all get `None` (the page then asks for the password).
pub async fn start_for_email(
    deps: &Deps<'_>,
    email: &str,
    now: i64,
) -> Result<Option<(RequestChallengeResponse, PendingSignIn)>, PasskeyError> {
    let Ok(email) = normalize_email(email) else {
        return Ok(None);
    };
    match accounts::find_by_email(&deps.db.pool, &email).await? {
        Some(account) if account.status == "active" => start_for_account(deps, &account.id, now).await,
        _ => Ok(None),
    }
}

/// Verifies the browser's answer to `pending` and records the use. Every refusal is audited and counts
/// against the client's IP for throttling.
pub async fn finish_sign_in(
    deps: &Deps<'_>,
    pending: PendingSignIn,
    response: &PublicKeyCredential,
    meta: &RequestMeta,
    now: i64,
    rng: &mut impl CryptoRng,
) -> Result<SignInOutcome, PasskeyError> {
    let ip_key = meta.ip.as_deref().map(|ip| Key::ip(ip, deps.settings.failures_per_ip_per_day));
    if let Some(key) = &ip_key {
        if let Some(wait) = throttle::retry_after(deps.db, std::slice::from_ref(key), now).await? {
            audit::record(deps.db, Event::SignInThrottled, None, meta, json!({"retry_after": wait}), now).await?;
            return Err(crate::core::accounts::AccountError::Throttled(wait).into());
        }
    }
    check_fresh(pending.issued_at, deps.settings.challenge_ttl_secs, now)?;
    let refuse = |account_id: Option<String>, reason: String| async move {
        if let Some(key) = &ip_key {
            throttle::record_failure(deps.db, std::slice::from_ref(key), now).await?;
        }
        let detail = json!({"method": "passkey", "reason": reason});
        audit::record(deps.db, Event::SignInFailed, account_id.as_deref(), meta, detail, now).await?;
        Err::<SignInOutcome, PasskeyError>(PasskeyError::Rejected)
    };

    let credential_id = encode_credential_id(response.get_credential_id());
    // the owner comes along: the user-handle check and the account checks after verification need it
    let Some((row, owner)) = passkeys::find_with_owner(&deps.db.pool, &credential_id).await? else {
        return refuse(None, "unknown_credential".into()).await;
    };
    let mut passkey: Passkey = serde_json::from_str(&row.credential)?;
    let verified = match pending.ceremony {
        Ceremony::Discoverable(state) => {
            // The authenticator names the user; it must be the credential's owner.
            let claimed = deps.webauthn.identify_discoverable_authentication(response).ok().map(|(handle, _)| handle);
            let matches = owner
                .user_handle
                .as_deref()
                .zip(claimed)
                .is_some_and(|(stored, claimed)| stored == claimed.to_string());
            if !matches {
                return refuse(Some(row.account_id.clone()), "user_handle_mismatch".into()).await;
            }
            deps.webauthn.finish_discoverable_authentication_v2(response, state, &passkey)
        }
        Ceremony::Account { account_id, state } => {
            if account_id != row.account_id {
                return refuse(Some(account_id), "credential_of_another_account".into()).await;
            }
            deps.webauthn.finish_passkey_authentication(response, &state)
        }
    };
    let result = match verified {
        Ok(result) => result,
        Err(WebauthnError::CredentialPossibleCompromise) => {
            return counter_regression(deps, &row, meta, now, refuse).await;
        }
        Err(e) => return refuse(Some(row.account_id.clone()), e.to_string()).await,
    };
    passkey.update_credential(&result);
    let stored = serde_json::to_string(&passkey)?;
    let counter = i64::from(result.counter());
    // the common case: the counter and the audit event in one write
    if may_sign_in(deps, &owner) {
        let (user_verified, backup_eligible) = (result.user_verified(), result.backup_eligible());
        let detail = json!({"method": "passkey", "passkey": row.id, "user_verified": user_verified});
        let event = audit::entry(Event::SignInSucceeded, Some(&owner.id), meta, detail, now);
        let (backend, id) = (deps.db.backend, row.id.clone());
        let write = deps.db.writer.run(move |c| {
            Box::pin(
                async move { passkeys::record_use_and_event(c, backend, &id, &stored, counter, now, &event).await },
            )
        });
        if !write.await? {
            return counter_regression(deps, &row, meta, now, refuse).await;
        }
        // the counter's row was still there, so the account was not erased since the lookup
        let deletion_seen =
            if owner.deletion_due_at.is_none() { SeenAtSignIn::NoneScheduled } else { SeenAtSignIn::Unread };
        let account_id = owner.id;
        return Ok(SignInOutcome::SignedIn(PasskeySignIn {
            account_id,
            user_verified,
            backup_eligible,
            deletion_seen,
        }));
    }
    let id = row.id.clone();
    let write =
        deps.db.writer.run(move |c| Box::pin(async move { passkeys::record_use(c, &id, &stored, counter, now).await }));
    if !write.await? {
        return counter_regression(deps, &row, meta, now, refuse).await;
    }
    not_signed_in(deps, owner, meta, now, rng).await
}

/// The counter did not grow (checked by webauthn-rs against the stored value, or lost the race to a
/// parallel sign-in when storing it): the credential may be cloned. Flagged in the audit log and refused.
async fn counter_regression<F, Fut>(
    deps: &Deps<'_>,
    row: &PasskeyRow,
    meta: &RequestMeta,
    now: i64,
    refuse: F,
) -> Result<SignInOutcome, PasskeyError>
where
    F: FnOnce(Option<String>, String) -> Fut,
    Fut: std::future::Future<Output = Result<SignInOutcome, PasskeyError>>,
{
    let detail = json!({"passkey": row.id, "name": row.name});
    audit::record(deps.db, Event::PasskeyCounterRegression, Some(&row.account_id), meta, detail, now).await?;
    refuse(Some(row.account_id.clone()), "counter_regression".into()).await
}

/// An active account, with its address verified where that is required.
fn may_sign_in(deps: &Deps<'_>, account: &AccountRow) -> bool {
    account.status == "active" && (account.email_verified_at.is_some() || !deps.settings.require_verified_email)
}

/// A verified passkey of an account that may not sign in yet: disabled (refused and audited), or with its
/// address unverified where verification is required (a code is sent).
async fn not_signed_in(
    deps: &Deps<'_>,
    account: AccountRow,
    meta: &RequestMeta,
    now: i64,
    rng: &mut impl CryptoRng,
) -> Result<SignInOutcome, PasskeyError> {
    if account.status != "active" {
        let detail = json!({"method": "passkey", "reason": account.status});
        audit::record(deps.db, Event::SignInFailed, Some(&account.id), meta, detail, now).await?;
        return Err(PasskeyError::Rejected);
    }
    let (notice, row_id) = issue(deps, &account.id, &account.email, None, now, rng).await?;
    audit::record(deps.db, Event::VerificationSent, Some(&account.id), meta, json!({"at_sign_in": true}), now).await?;
    Ok(SignInOutcome::NeedsVerification { email: account.email, notice, row_id })
}
