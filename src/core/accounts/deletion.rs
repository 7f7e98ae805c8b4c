//! Deleting an account (GDPR art. 17), first step: the owner asks (after confirming it is them, and typing
//! the address to show they mean it); every session ends at once, every open code and link is voided, and
//! the account waits out a grace period (`accounts.deletion_grace_secs`) in which a sign-in cancels the
//! deletion. `erase` removes it afterwards.

use serde_json::json;

use super::{normalize_email, Notice};
use crate::core::audit::{self, Event, RequestMeta};
use crate::db::{accounts, sessions, verifications, Db};

#[derive(Debug, thiserror::Error)]
pub enum DeletionError {
    /// The typed address is not the account's: the confirmation did not happen.
    #[error("the address typed to confirm is not the account's")]
    Confirmation,
    #[error("no such account")]
    NotFound,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// A scheduled deletion.
#[derive(Debug)]
pub struct Scheduled {
    /// When the account is erased (Unix seconds), unless a sign-in cancels it first.
    pub due_at: i64,
    pub sessions_ended: u64,
    /// The owner's notice: when, and that signing in cancels it.
    pub notice: Notice,
}

/// Schedules the erasure of `account_id` at `now + grace_secs` once `typed_email` matches its address (the
/// caller checked a recent sign-in). Ends every session of the account, the caller's included, and voids
/// every open code and link (a pending password in one included), in one transaction.
pub async fn request(
    db: &Db,
    account_id: &str,
    typed_email: &str,
    grace_secs: i64,
    meta: &RequestMeta,
    now: i64,
) -> Result<Scheduled, DeletionError> {
    let account = accounts::find_by_id(&db.pool, account_id).await?.ok_or(DeletionError::NotFound)?;
    if normalize_email(typed_email).ok().as_deref() != Some(account.email.as_str()) {
        return Err(DeletionError::Confirmation);
    }
    let due_at = now.saturating_add(grace_secs.max(0));
    let mut tx = db.pool.begin().await?;
    if !accounts::schedule_deletion(&mut *tx, account_id, now, due_at).await? {
        return Err(DeletionError::NotFound);
    }
    verifications::void_all(&mut *tx, account_id, now).await?;
    // half sign-ins and password-reset grants of the account are its sessions too (see sessions::owner)
    let sessions_ended = sessions::delete_for_account(&mut *tx, account_id).await?;
    // deleting an account ends its apps' tokens at once (security.md)
    crate::core::oidc::grants::revoke_all(&mut *tx, account_id, now).await?;
    tx.commit().await?;
    let detail = json!({"due_at": due_at, "sessions_ended": sessions_ended});
    audit::record(db, Event::DeletionRequested, Some(account_id), meta, detail, now).await?;
    Ok(Scheduled { due_at, sessions_ended, notice: Notice::DeletionScheduled { to: account.email, due_at } })
}

/// What a sign-in found.
#[derive(Debug)]
pub enum OnSignIn {
    /// No deletion was scheduled.
    Nothing,
    /// A scheduled deletion was cancelled; the owner is told.
    Cancelled(Notice),
    /// The account was erased meanwhile (the sign-in raced the purge): the sign-in must not complete.
    Erased,
}

/// What the sign-in itself already read of the account's deletion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeenAtSignIn {
    /// Nothing: `on_sign_in` reads it.
    Unread,
    /// The account row read with the credential had no deletion scheduled, and the sign-in's write after
    /// that read (the passkey's counter, whose row an erasure removes) found the account still there. So
    /// there is nothing to cancel and no erasure to report, and the passkey path spares a read. A deletion
    /// scheduled after that read is not cancelled by this sign-in, as one scheduled just after
    /// `on_sign_in`'s own read would not be.
    NoneScheduled,
}

/// Every completed sign-in passes here: a deletion still waiting is cancelled (also when its time has come
/// but no purge has erased the account yet: until then the owner can change their mind). Reads before it
/// writes, so ordinary sign-ins take no write lock.
pub async fn on_sign_in(
    db: &Db,
    account_id: &str,
    seen: SeenAtSignIn,
    meta: &RequestMeta,
    now: i64,
) -> Result<OnSignIn, sqlx::Error> {
    if seen == SeenAtSignIn::NoneScheduled {
        return Ok(OnSignIn::Nothing);
    }
    match accounts::deletion_due_at(&db.pool, account_id).await? {
        None => return Ok(OnSignIn::Erased),
        Some(None) => return Ok(OnSignIn::Nothing),
        Some(Some(_)) => {}
    }
    if !accounts::cancel_deletion(&db.pool, account_id, now).await? {
        // a concurrent sign-in cancelled it, or a purge erased the account first
        return Ok(match accounts::deletion_due_at(&db.pool, account_id).await? {
            None => OnSignIn::Erased,
            Some(_) => OnSignIn::Nothing,
        });
    }
    audit::record(db, Event::DeletionCancelled, Some(account_id), meta, serde_json::Value::Null, now).await?;
    let to = accounts::find_by_id(&db.pool, account_id).await?.map(|a| a.email).unwrap_or_default();
    Ok(OnSignIn::Cancelled(Notice::DeletionCancelled { to }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::accounts::NewAccount;

    async fn account(db: &Db, id: &str, email: &str) {
        let new = NewAccount { id, email, display_name: None, password_hash: None, user_handle: None, now: 1 };
        assert!(accounts::insert(&db.pool, &new).await.unwrap_or_else(|e| panic!("{e}")));
    }

    #[tokio::test]
    async fn the_typed_address_must_be_the_accounts() {
        let (_dir, db) = crate::db::test_db().await;
        account(&db, "a1", "ann@example.com").await;
        let meta = RequestMeta::default();
        for wrong in ["", "bob@example.com", "ann@example.org", "ann"] {
            let refused = request(&db, "a1", wrong, 60, &meta, 100).await;
            assert!(matches!(refused, Err(DeletionError::Confirmation)), "{wrong:?}");
        }
        let due = accounts::deletion_due_at(&db.pool, "a1").await.ok().flatten();
        assert_eq!(due, Some(None), "nothing scheduled");
        // case and spaces as people type them
        let scheduled = request(&db, "a1", "  Ann@Example.COM ", 60, &meta, 100).await;
        assert_eq!(scheduled.map(|s| s.due_at).ok(), Some(160));
        assert!(matches!(request(&db, "nobody", "x@example.com", 60, &meta, 100).await, Err(DeletionError::NotFound)));
    }

    #[tokio::test]
    async fn a_sign_in_cancels_once_and_an_erased_account_is_reported() {
        let (_dir, db) = crate::db::test_db().await;
        account(&db, "a2", "cy@example.com").await;
        let meta = RequestMeta::default();
        assert!(matches!(on_sign_in(&db, "a2", SeenAtSignIn::Unread, &meta, 5).await, Ok(OnSignIn::Nothing)));
        request(&db, "a2", "cy@example.com", 0, &meta, 10).await.unwrap_or_else(|e| panic!("{e}"));
        // past due but not erased yet: still cancelled
        let first = on_sign_in(&db, "a2", SeenAtSignIn::Unread, &meta, 20).await;
        assert!(
            matches!(first, Ok(OnSignIn::Cancelled(Notice::DeletionCancelled { ref to })) if to == "cy@example.com")
        );
        assert!(matches!(on_sign_in(&db, "a2", SeenAtSignIn::Unread, &meta, 21).await, Ok(OnSignIn::Nothing)));
        assert_eq!(accounts::deletion_due_at(&db.pool, "a2").await.ok().flatten(), Some(None));
        assert!(matches!(on_sign_in(&db, "gone", SeenAtSignIn::Unread, &meta, 21).await, Ok(OnSignIn::Erased)));
    }
}
