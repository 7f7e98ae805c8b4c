//! Erasing accounts whose deletion is due (GDPR art. 17), run by `vestibule purge` and by a background
//! task of `serve`. One transaction per account: its id is recorded as taken for ever, its audit events
//! become pseudonymous stubs (still linkable to each other, no longer to the person), its sessions and the
//! throttle counters keyed by its address or id go, and the account row goes with everything that
//! references it (credentials, factors, recovery codes, email messages: ON DELETE CASCADE). One
//! `account_erased` event under the pseudonym says it happened. Addresses the account asked to change to
//! count as its own: sessions and counters keyed by them go too.

use crate::core::audit::Event;
use crate::core::tokens::TokenKey;
use crate::db::audit::AuditRow;
use crate::db::{accounts, audit, sessions, throttle, verifications, Db};

/// What an erased account's audit events carry instead of its id: "erased:" and the hex HMAC-SHA-256 of
/// the id under the server's token key.
pub fn pseudonym(key: &TokenKey, account_id: &str) -> String {
    format!("erased:{}", key.audit_pseudonym(account_id))
}

/// Erases every account due at `now`; returns how many were erased. An account whose deletion a sign-in
/// cancelled meanwhile is left alone.
pub async fn erase_due(db: &Db, key: &TokenKey, now: i64) -> Result<u64, sqlx::Error> {
    let mut erased = 0;
    for id in accounts::due_for_erasure(&db.pool, now).await? {
        if erase_account(db, key, &id, now).await? {
            erased += 1;
        }
    }
    Ok(erased)
}

/// Erases one account if its deletion is (still) due at `now`; `false` when it is not.
pub async fn erase_account(db: &Db, key: &TokenKey, account_id: &str, now: i64) -> Result<bool, sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    // first: the row lock, and the re-check (a sign-in may have cancelled the deletion since the listing)
    if !accounts::lock_if_due(&mut *tx, account_id, now).await? {
        return Ok(false);
    }
    let Some(account) = accounts::find_by_id(&mut *tx, account_id).await? else {
        return Ok(false);
    };
    let pseudonym = pseudonym(key, account_id);
    accounts::mark_erased(&mut *tx, account_id, now).await?;
    audit::stub_for_account(&mut *tx, account_id, &pseudonym).await?;
    sessions::delete_for_account(&mut *tx, account_id).await?;
    // its address, and any new one it asked to change to (those messages go with the account below)
    let mut addresses = verifications::addresses_for_account(&mut *tx, account_id).await?;
    addresses.retain(|a| *a != account.email);
    addresses.push(account.email);
    for address in &addresses {
        // sessions of browsers that typed the address (a sign-in or recovery code asked for) name no account
        sessions::delete_mentioning(&mut *tx, address).await?;
    }
    let mut subjects: Vec<&str> = addresses.iter().map(String::as_str).collect();
    subjects.push(account_id);
    throttle::delete_for_subjects(&mut *tx, &subjects).await?;
    accounts::delete(&mut *tx, account_id).await?;
    let event = AuditRow {
        id: uuid::Uuid::now_v7().to_string(),
        at: now,
        kind: Event::AccountErased.as_str().to_string(),
        account_id: Some(pseudonym),
        ip: None,
        user_agent: None,
        operation_id: None,
        detail: None,
    };
    audit::insert(&mut *tx, &event).await?;
    tx.commit().await?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_are_stable_per_account_and_key_and_reveal_nothing() {
        let key = TokenKey::from_bytes([3; 32]);
        let p = pseudonym(&key, "0b0e6f6c-1a2b-4c3d-8e9f-001122334455");
        assert_eq!(p, pseudonym(&key, "0b0e6f6c-1a2b-4c3d-8e9f-001122334455"));
        assert!(p.starts_with("erased:") && p.len() == "erased:".len() + 64, "{p}");
        assert!(!p.contains("0b0e6f6c"));
        assert_ne!(p, pseudonym(&key, "another"));
        assert_ne!(p, pseudonym(&TokenKey::from_bytes([4; 32]), "0b0e6f6c-1a2b-4c3d-8e9f-001122334455"));
        // domain-separated from the other uses of the key
        assert_ne!(key.audit_pseudonym("x"), key.link_hash("x"));
    }
}
