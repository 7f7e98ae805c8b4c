//! Roles: what an account may do beyond its own account. `admin` is the first; it decides who the MFA
//! policy `admins` asks for a second factor, and the back-office will check it. Granted and revoked from
//! the command line (`vestibule admin ...`) until the back-office has its own views; every change is
//! audited on the account.

use serde_json::json;

use crate::core::accounts::normalize_email;
use crate::core::audit::{record_in, Event, RequestMeta};
use crate::db::{accounts, roles as repo, Db};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Runs the portal: the back-office, and under `mfa.policy = "admins"` must use a second factor.
    Admin,
}

impl Role {
    pub const ALL: [Role; 1] = [Role::Admin];

    /// The name stored in `account_roles.role` and shown in listings.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
        }
    }

    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RoleError {
    #[error("no account has the address {0:?}")]
    NoSuchAccount(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// What a grant or revocation found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleChange {
    pub account_id: String,
    pub email: String,
    /// `false` when nothing changed (already held, or not held).
    pub changed: bool,
}

/// Gives the account with address `email` the role; the audit event is stored with the change.
pub async fn grant(db: &Db, email: &str, role: Role, meta: &RequestMeta, now: i64) -> Result<RoleChange, RoleError> {
    change(db, email, role, meta, now, true).await
}

/// Takes the role from the account with address `email`; the audit event is stored with the change.
pub async fn revoke(db: &Db, email: &str, role: Role, meta: &RequestMeta, now: i64) -> Result<RoleChange, RoleError> {
    change(db, email, role, meta, now, false).await
}

async fn change(
    db: &Db,
    email: &str,
    role: Role,
    meta: &RequestMeta,
    now: i64,
    give: bool,
) -> Result<RoleChange, RoleError> {
    let email = normalize_email(email).map_err(|_| RoleError::NoSuchAccount(email.to_string()))?;
    let mut tx = db.pool.begin().await?;
    let account = accounts::find_by_email(&mut *tx, &email).await?.ok_or(RoleError::NoSuchAccount(email))?;
    let changed = if give {
        repo::grant(&mut *tx, &account.id, role.as_str(), now).await?
    } else {
        repo::revoke(&mut *tx, &account.id, role.as_str()).await?
    };
    if changed {
        let event = if give { Event::RoleGranted } else { Event::RoleRevoked };
        record_in(&mut *tx, event, Some(&account.id), meta, json!({ "role": role.as_str() }), now).await?;
    }
    tx.commit().await?;
    Ok(RoleChange { account_id: account.id, email: account.email, changed })
}

/// Whether the account holds the role.
pub async fn holds(db: &Db, account_id: &str, role: Role) -> Result<bool, sqlx::Error> {
    repo::holds(&db.pool, account_id, role.as_str()).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::accounts::NewAccount;

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("Admin"), None);
        assert_eq!(Role::parse("root"), None);
    }

    #[tokio::test]
    async fn grant_and_revoke_change_once_each_and_are_audited() {
        let (_dir, db) = crate::db::test_db().await;
        let new = NewAccount {
            id: "a1",
            email: "ann@example.com",
            display_name: None,
            password_hash: None,
            user_handle: None,
            now: 1,
        };
        assert!(accounts::insert(&db.pool, &new).await.unwrap_or_else(|e| panic!("{e}")));
        let meta = RequestMeta::default();
        let ok = |r: Result<RoleChange, RoleError>| r.unwrap_or_else(|e| panic!("{e}"));

        assert!(!holds(&db, "a1", Role::Admin).await.unwrap_or(true));
        // the address as people type it
        let granted = ok(grant(&db, " Ann@Example.com ", Role::Admin, &meta, 10).await);
        assert_eq!((granted.account_id.as_str(), granted.changed), ("a1", true));
        assert!(!ok(grant(&db, "ann@example.com", Role::Admin, &meta, 20).await).changed, "already held");
        assert!(holds(&db, "a1", Role::Admin).await.unwrap_or(false));
        let kept: Vec<(String, i64)> = repo::for_account(&db.pool, "a1").await.unwrap_or_default();
        assert_eq!(kept, vec![("admin".to_string(), 10)], "the first grant's date is kept");

        assert!(ok(revoke(&db, "ann@example.com", Role::Admin, &meta, 30).await).changed);
        assert!(!ok(revoke(&db, "ann@example.com", Role::Admin, &meta, 40).await).changed, "not held");
        assert!(!holds(&db, "a1", Role::Admin).await.unwrap_or(true));

        let kinds: Vec<(String,)> = sqlx::query_as("SELECT kind FROM audit_events WHERE account_id = 'a1' ORDER BY at")
            .fetch_all(&db.pool)
            .await
            .unwrap_or_default();
        let kinds: Vec<&str> = kinds.iter().map(|k| k.0.as_str()).collect();
        assert_eq!(kinds, ["role_granted", "role_revoked"], "one event per real change");

        for unknown in ["bob@example.com", "not an address"] {
            assert!(matches!(grant(&db, unknown, Role::Admin, &meta, 50).await, Err(RoleError::NoSuchAccount(_))));
        }
    }
}
