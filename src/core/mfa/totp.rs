//! Authenticator apps (TOTP, RFC 6238: SHA-1, 6 digits, 30-second steps, the common profile every app
//! supports). The seed is 160 random bits from the OS generator, sealed at rest, shown (as text and as a QR
//! code) only while the enrolment waits for its first code. A code is accepted for the step before, the
//! current one or the one after, and only for a step later than the last accepted.

use rand::CryptoRng;
use serde_json::json;
use totp_rs::{Algorithm, TOTP};

use super::{recovery, second_factor_key, MfaError};
use crate::core::accounts::{Deps, Notice};
use crate::core::audit::{self, Event, RequestMeta};
use crate::core::throttle;
use crate::core::tokens::hashes_equal;
use crate::db::mfa as repo;

pub const STEP_SECS: i64 = 30;
const DIGITS: usize = 6;
const SEED_BYTES: usize = 20;
/// How long a set-up waits for its first code. After that its seed (shown on screen, perhaps left open)
/// no longer counts, and the purge deletes it: a secret nobody finished setting up is not kept.
pub const ENROLMENT_TTL_SECS: i64 = 3600;

/// A set-up still waiting for its first code, and not yet too old for it.
fn waiting(row: &repo::TotpRow, now: i64) -> bool {
    row.confirmed_at.is_none() && row.created_at > now - ENROLMENT_TTL_SECS
}

/// What the enrolment screen shows. Holds the seed: never logged, never kept after the page is rendered.
pub struct Enrolment {
    /// The seed in base32, for typing into an app by hand.
    pub secret: String,
    pub otpauth_uri: String,
    /// The URI as a QR code, an SVG document.
    pub qr_svg: String,
}

impl std::fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Enrolment(..)")
    }
}

fn totp(seed: Vec<u8>, issuer: &str, email: &str) -> Result<TOTP, MfaError> {
    // issuers and labels may not contain ':' in otpauth URIs
    let issuer = Some(issuer.replace(':', " "));
    TOTP::new(Algorithm::SHA1, DIGITS, 1, STEP_SECS.unsigned_abs(), seed, issuer, email.replace(':', " "))
        .map_err(|e| MfaError::Totp(e.to_string()))
}

/// The step (within one of `now`'s) that `code` is valid for, if any.
fn matching_step(totp: &TOTP, code: &str, now: i64) -> Option<i64> {
    let code = code.trim().replace([' ', '-'], "");
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = now.div_euclid(STEP_SECS);
    // every candidate is compared, in constant time, so timing does not tell which step matched
    let mut found = None;
    for step in [current - 1, current, current + 1] {
        let expected = totp.generate(u64::try_from(step * STEP_SECS).unwrap_or_default());
        if hashes_equal(&expected, &code) && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// Starts (or restarts) setting up an app: a new seed, waiting for its first code.
pub async fn start_enrolment(
    deps: &Deps<'_>,
    account_id: &str,
    now: i64,
    rng: &mut impl CryptoRng,
) -> Result<(), MfaError> {
    let mut seed = [0u8; SEED_BYTES];
    rng.fill_bytes(&mut seed);
    let (sealed, key_id) = deps.sealer.seal(account_id, &seed, rng)?;
    if !repo::put_pending_totp(&deps.db.pool, account_id, &sealed, &key_id, now).await? {
        return Err(MfaError::AlreadyEnrolled);
    }
    Ok(())
}

/// The enrolment waiting for its first code, if any (one older than `ENROLMENT_TTL_SECS` is not).
pub async fn pending_enrolment(
    deps: &Deps<'_>,
    account_id: &str,
    email: &str,
    now: i64,
) -> Result<Option<Enrolment>, MfaError> {
    let Some(row) = repo::totp_for_account(&deps.db.pool, account_id).await? else {
        return Ok(None);
    };
    if !waiting(&row, now) {
        return Ok(None);
    }
    let seed = deps.sealer.open(account_id, &row.sealed_secret, &row.key_id)?;
    let totp = totp(seed, &deps.settings.mfa_issuer, email)?;
    let otpauth_uri = totp.get_url();
    let qr_svg = qrcode::QrCode::new(otpauth_uri.as_bytes())
        .map_err(|e| MfaError::Totp(e.to_string()))?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Ok(Some(Enrolment { secret: totp.get_secret_base32(), otpauth_uri, qr_svg }))
}

/// Completes the enrolment with its first code. When it is the account's first second factor, a set of
/// recovery codes is created and returned to be shown once.
pub async fn confirm_enrolment(
    deps: &Deps<'_>,
    account_id: &str,
    email: &str,
    code: &str,
    meta: &RequestMeta,
    now: i64,
    rng: &mut impl CryptoRng,
) -> Result<(Notice, Option<Vec<String>>), MfaError> {
    let row = repo::totp_for_account(&deps.db.pool, account_id).await?.ok_or(MfaError::NotEnrolling)?;
    if row.confirmed_at.is_some() {
        return Err(MfaError::AlreadyEnrolled);
    }
    if !waiting(&row, now) {
        return Err(MfaError::NotEnrolling);
    }
    check_code(deps, &row, email, code, meta, now).await?;
    audit::record(deps.db, Event::TotpAdded, Some(account_id), meta, serde_json::Value::Null, now).await?;
    let first = repo::unused_recovery_codes(&deps.db.pool, account_id).await? == 0;
    let codes = if first { Some(recovery::new_set(deps, account_id, meta, now, rng).await?) } else { None };
    Ok((Notice::FactorAdded { to: email.to_string(), factor: "totp" }, codes))
}

/// Deletes the set-ups that waited longer than `ENROLMENT_TTL_SECS` for their first code (run by the
/// purge); returns how many.
pub async fn drop_abandoned_enrolments(db: &crate::db::Db, now: i64) -> Result<u64, sqlx::Error> {
    // exactly the rows `waiting` no longer accepts: created_at <= now - TTL
    repo::delete_pending_totp_before(&db.pool, now - ENROLMENT_TTL_SECS + 1).await
}

/// Checks a code at the second-factor step or a step-up.
pub async fn verify(
    deps: &Deps<'_>,
    account_id: &str,
    email: &str,
    code: &str,
    meta: &RequestMeta,
    now: i64,
) -> Result<(), MfaError> {
    let row = repo::totp_for_account(&deps.db.pool, account_id).await?.ok_or(MfaError::NotEnrolled)?;
    if row.confirmed_at.is_none() {
        return Err(MfaError::NotEnrolled);
    }
    check_code(deps, &row, email, code, meta, now).await
}

async fn check_code(
    deps: &Deps<'_>,
    row: &repo::TotpRow,
    email: &str,
    code: &str,
    meta: &RequestMeta,
    now: i64,
) -> Result<(), MfaError> {
    let key = second_factor_key(&row.account_id);
    if let Some(wait) = throttle::retry_after(deps.db, std::slice::from_ref(&key), now).await? {
        return Err(MfaError::Throttled(wait));
    }
    let seed = deps.sealer.open(&row.account_id, &row.sealed_secret, &row.key_id)?;
    let step = matching_step(&totp(seed, &deps.settings.mfa_issuer, email)?, code, now);
    // accepted only for a step after the last accepted one: a code works once, also when two requests race
    let accepted = match step {
        Some(step) => repo::accept_totp_step(&deps.db.pool, &row.account_id, step, now).await?,
        None => false,
    };
    if !accepted {
        throttle::record_failure(deps.db, std::slice::from_ref(&key), now).await?;
        let detail = json!({"method": "totp", "reason": if step.is_some() { "replayed" } else { "wrong" }});
        audit::record(deps.db, Event::SecondFactorFailed, Some(&row.account_id), meta, detail, now).await?;
        return Err(MfaError::InvalidCode);
    }
    throttle::clear(deps.db, &key).await?;
    Ok(())
}

/// Removes the account's app (the caller checked step-up and policy). Recovery codes go with the last
/// second factor.
pub async fn remove(
    deps: &Deps<'_>,
    account_id: &str,
    email: &str,
    meta: &RequestMeta,
    now: i64,
) -> Result<Notice, MfaError> {
    if !repo::delete_totp(&deps.db.pool, account_id).await? {
        return Err(MfaError::NotEnrolled);
    }
    super::drop_recovery_codes_without_factor(deps.db, account_id).await?;
    audit::record(deps.db, Event::TotpRemoved, Some(account_id), meta, serde_json::Value::Null, now).await?;
    Ok(Notice::FactorRemoved { to: email.to_string(), factor: "totp" })
}

/// Moves every seed sealed under an older key to the current one; returns how many moved.
pub async fn reseal_all(deps: &Deps<'_>, rng: &mut impl CryptoRng) -> Result<usize, MfaError> {
    let rows = repo::totp_not_under_key(&deps.db.pool, deps.sealer.current_key_id()).await?;
    for row in &rows {
        let seed = deps.sealer.open(&row.account_id, &row.sealed_secret, &row.key_id)?;
        let (sealed, key_id) = deps.sealer.seal(&row.account_id, &seed, rng)?;
        repo::reseal_totp(&deps.db.pool, &row.account_id, &sealed, &key_id).await?;
    }
    Ok(rows.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_their_step_and_the_neighbours_only() {
        let t = totp(vec![7; SEED_BYTES], "Vestibule", "a@example.com").unwrap_or_else(|e| panic!("{e}"));
        let now = 1_700_000_015; // inside step 56_666_667
        let step = now / STEP_SECS;
        let code_at = |s: i64| t.generate(u64::try_from(s * STEP_SECS).unwrap_or_default());
        assert_eq!(matching_step(&t, &code_at(step), now), Some(step));
        assert_eq!(matching_step(&t, &code_at(step - 1), now), Some(step - 1));
        assert_eq!(matching_step(&t, &code_at(step + 1), now), Some(step + 1));
        assert_eq!(matching_step(&t, &code_at(step - 2), now), None);
        assert_eq!(matching_step(&t, &code_at(step + 2), now), None);
        let spaced = format!("{} {}", &code_at(step)[..3], &code_at(step)[3..]);
        assert_eq!(matching_step(&t, &spaced, now), Some(step));
        assert_eq!(matching_step(&t, "12345", now), None);
        assert_eq!(matching_step(&t, "abcdef", now), None);
    }

    #[test]
    fn the_uri_names_issuer_and_account_without_colons() {
        let t = totp(vec![7; SEED_BYTES], "Acme: Shop", "a@example.com").unwrap_or_else(|e| panic!("{e}"));
        let uri = t.get_url();
        assert!(uri.starts_with("otpauth://totp/Acme%20%20Shop:a%40example.com?secret="), "{uri}");
        assert!(uri.contains("issuer=Acme%20%20Shop"));
    }
}
