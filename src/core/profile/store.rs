//! Saving a profile: read, check and write one account's row in one transaction, and audit what changed
//! (field names only, never values).

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::{AttributeDef, Profile, ProfileInput};
use crate::core::audit::{record_in, Event, RequestMeta};
use crate::db::accounts::{self, AccountRow, ProfileUpdate};
use crate::db::Db;
use crate::error::Problem;

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// What to fix, per field.
    #[error("profile refused")]
    Invalid(Vec<Problem>),
    #[error("no such account")]
    NoAccount,
    /// The stored attributes are not a JSON object.
    #[error("{0}")]
    Stored(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

fn stored_profile(account: &AccountRow) -> Result<Profile, ProfileError> {
    Ok(Profile {
        display_name: account.display_name.clone(),
        given_name: account.given_name.clone(),
        family_name: account.family_name.clone(),
        locale: account.locale.clone(),
        time_zone: account.time_zone.clone(),
        attributes: super::parse_stored(&account.attributes).map_err(ProfileError::Stored)?,
    })
}

/// Replaces the profile of `account_id` with what the form submitted (see `normalize`). Returns the names
/// of the fields that changed (none: nothing was written).
pub async fn update(
    db: &Db,
    defs: &[AttributeDef],
    account_id: &str,
    input: &ProfileInput<'_>,
    meta: &RequestMeta,
    now: i64,
) -> Result<Vec<String>, ProfileError> {
    save(db, account_id, meta, now, |before| super::normalize(defs, input, &before.attributes)).await
}

/// Adds the required attributes the "complete your profile" form submitted (see `complete`).
pub async fn complete(
    db: &Db,
    defs: &[AttributeDef],
    account_id: &str,
    submitted: &HashMap<String, String>,
    meta: &RequestMeta,
    now: i64,
) -> Result<Vec<String>, ProfileError> {
    save(db, account_id, meta, now, |before| {
        let attributes = super::complete(defs, submitted, &before.attributes)?;
        Ok(Profile { attributes, ..before.clone() })
    })
    .await
}

async fn save(
    db: &Db,
    account_id: &str,
    meta: &RequestMeta,
    now: i64,
    change: impl FnOnce(&Profile) -> Result<Profile, Vec<Problem>>,
) -> Result<Vec<String>, ProfileError> {
    let mut tx = db.pool.begin().await?;
    // first statement: holds the row's write lock, so a concurrent save cannot drop this one's attributes
    accounts::touch(&mut *tx, account_id, now).await?;
    let account = accounts::find_by_id(&mut *tx, account_id).await?.ok_or(ProfileError::NoAccount)?;
    let before = stored_profile(&account)?;
    let after = change(&before).map_err(ProfileError::Invalid)?;
    let changed = after.changed_fields(&before);
    if changed.is_empty() {
        return Ok(changed); // the transaction rolls back: not even updated_at moves
    }
    let attributes = Value::Object(after.attributes.clone()).to_string();
    let update = ProfileUpdate {
        display_name: after.display_name.as_deref(),
        given_name: after.given_name.as_deref(),
        family_name: after.family_name.as_deref(),
        locale: after.locale.as_deref(),
        time_zone: after.time_zone.as_deref(),
        attributes: &attributes,
    };
    accounts::update_profile(&mut *tx, account_id, &update, now).await?;
    record_in(&mut *tx, Event::ProfileUpdated, Some(account_id), meta, json!({ "fields": changed }), now).await?;
    tx.commit().await?;
    Ok(changed)
}

/// The stored attributes of an account as the loaders show them.
pub fn attributes_of(account: &AccountRow) -> Result<Map<String, Value>, ProfileError> {
    super::parse_stored(&account.attributes).map_err(ProfileError::Stored)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::profile::attributes::compile;
    use crate::core::profile::RawAttribute;
    use crate::types::AttributeKind;

    #[tokio::test]
    async fn a_save_writes_only_its_row_and_audits_field_names_only() {
        let (_dir, db) = crate::db::test_db().await;
        for (id, email) in [("a1", "a@example.com"), ("b1", "b@example.com")] {
            let new = accounts::NewAccount {
                id,
                email,
                display_name: Some("Before"),
                password_hash: None,
                user_handle: None,
                now: 1,
            };
            assert!(accounts::insert(&db.pool, &new).await.unwrap_or(false));
        }
        let mut problems = Vec::new();
        let defs = compile(&[RawAttribute::new("company", "Company", AttributeKind::Text)], &mut problems);
        let posted: HashMap<String, String> = [("company".to_string(), "Secret Corp".to_string())].into();
        let input = ProfileInput {
            display_name: "After",
            given_name: "",
            family_name: "",
            locale: "",
            time_zone: "",
            attributes: &posted,
        };
        let meta = RequestMeta::default();
        let changed = update(&db, &defs, "a1", &input, &meta, 5).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(changed, ["display_name", "attributes.company"]);
        let a = accounts::find_by_id(&db.pool, "a1").await.ok().flatten().unwrap_or_else(|| panic!("a1"));
        let b = accounts::find_by_id(&db.pool, "b1").await.ok().flatten().unwrap_or_else(|| panic!("b1"));
        assert_eq!((a.display_name.as_deref(), a.attributes.as_str()), (Some("After"), r#"{"company":"Secret Corp"}"#));
        assert_eq!((b.display_name.as_deref(), b.attributes.as_str()), (Some("Before"), "{}"));
        let events = crate::db::audit::for_account(&db.pool, "a1", 10).await.unwrap_or_default();
        assert_eq!(events.len(), 1);
        let detail = events[0].detail.clone().unwrap_or_default();
        assert!(detail.contains("attributes.company") && !detail.contains("Secret") && !detail.contains("After"));
        // the same again changes nothing and records nothing
        assert!(update(&db, &defs, "a1", &input, &meta, 6).await.is_ok_and(|c| c.is_empty()));
        assert_eq!(crate::db::audit::for_account(&db.pool, "a1", 10).await.unwrap_or_default().len(), 1);
        assert!(matches!(update(&db, &defs, "nobody", &input, &meta, 7).await, Err(ProfileError::NoAccount)));
    }
}
