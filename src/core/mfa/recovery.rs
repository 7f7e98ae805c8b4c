//! Recovery codes: ten per set, each 60 random bits shown as three groups of four base32 characters. Stored
//! as HMAC-SHA-256 under the server key bound to the account (a copy of the database alone cannot test
//! guesses), each usable once; a new set replaces the old one entirely.

use rand::{CryptoRng, Rng};
use serde_json::json;

use super::{second_factor_key, MfaError};
use crate::core::accounts::Deps;
use crate::core::audit::{self, Event, RequestMeta};
use crate::core::throttle;
use crate::db::mfa as repo;

pub const CODES_PER_SET: usize = 10;
/// Crockford's base32 without I, L, O, U: nothing to confuse when copied by hand.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

fn new_code(rng: &mut impl CryptoRng) -> String {
    let chars: Vec<char> = (0..12).map(|_| char::from(ALPHABET[rng.random_range(0..32)])).collect();
    chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

/// What a person typed, in the stored form: upper case, no spaces or dashes, look-alikes mapped.
fn normalize(typed: &str) -> String {
    let plain: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect();
    plain.chars().collect::<Vec<_>>().chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

/// Replaces the account's codes with a new set; returns the codes to show once.
pub async fn new_set(
    deps: &Deps<'_>,
    account_id: &str,
    meta: &RequestMeta,
    now: i64,
    rng: &mut impl CryptoRng,
) -> Result<Vec<String>, MfaError> {
    let codes: Vec<String> = (0..CODES_PER_SET).map(|_| new_code(rng)).collect();
    let mut tx = deps.db.pool.begin().await?;
    repo::delete_recovery_codes(&mut *tx, account_id).await?;
    for code in &codes {
        let id = uuid::Uuid::now_v7().to_string();
        repo::insert_recovery_code(&mut *tx, &id, account_id, &deps.key.recovery_hash(account_id, code), now).await?;
    }
    tx.commit().await?;
    audit::record(deps.db, Event::RecoveryCodesCreated, Some(account_id), meta, json!({"count": codes.len()}), now)
        .await?;
    Ok(codes)
}

/// Uses one of the account's codes (second-factor step, step-up); returns how many remain. Wrong codes
/// count against the second-factor budget.
pub async fn redeem(
    deps: &Deps<'_>,
    account_id: &str,
    typed: &str,
    meta: &RequestMeta,
    now: i64,
) -> Result<i64, MfaError> {
    let key = second_factor_key(account_id);
    if let Some(wait) = throttle::retry_after(deps.db, std::slice::from_ref(&key), now).await? {
        return Err(MfaError::Throttled(wait));
    }
    let hash = deps.key.recovery_hash(account_id, &normalize(typed));
    if !repo::use_recovery_code(&deps.db.pool, account_id, &hash, now).await? {
        throttle::record_failure(deps.db, std::slice::from_ref(&key), now).await?;
        let detail = json!({"method": "recovery_code"});
        audit::record(deps.db, Event::SecondFactorFailed, Some(account_id), meta, detail, now).await?;
        return Err(MfaError::InvalidCode);
    }
    throttle::clear(deps.db, &key).await?;
    let left = repo::unused_recovery_codes(&deps.db.pool, account_id).await?;
    audit::record(deps.db, Event::RecoveryCodeUsed, Some(account_id), meta, json!({"left": left}), now).await?;
    Ok(left)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_three_groups_of_four_from_the_alphabet() {
        let code = new_code(&mut rand::rng());
        assert_eq!(code.len(), 14);
        assert!(code.split('-').all(|g| g.len() == 4 && g.bytes().all(|b| ALPHABET.contains(&b))));
    }

    #[test]
    fn typed_codes_are_normalized() {
        assert_eq!(normalize(" abcd efgh-jkm0 "), "ABCD-EFGH-JKM0");
        assert_eq!(normalize("o1il-2345-6789"), "0111-2345-6789");
        assert_eq!(normalize("ABCDEFGHJKMN"), "ABCD-EFGH-JKMN");
    }
}
