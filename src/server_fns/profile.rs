//! The profile at /account and, after a sign-in that left required attributes missing, the question at
//! /account/complete-profile. The forms post plain fields; operator-defined attributes arrive in one map
//! (`attributes[key]=value`, serde_qs' notation), where an unticked checkbox posts nothing.

use std::collections::HashMap;

use leptos::prelude::*;

use crate::error::AppError;
use crate::types::{AccountPageLoad, CompleteProfileState};

#[cfg(feature = "ssr")]
use super::auth::ctx::Ctx;

/// After a refused plain form post: the values as typed, for the next render of the form (never secrets:
/// a profile holds none).
#[cfg(feature = "ssr")]
#[derive(serde::Serialize, serde::Deserialize)]
struct Draft {
    form: String,
    values: crate::types::ProfileValues,
    attributes: HashMap<String, String>,
}

#[cfg(feature = "ssr")]
const DRAFT_KEY: &str = "profile_draft";

/// The form names in `Flash::form`.
#[cfg(feature = "ssr")]
const PROFILE_FORM: &str = "profile";
#[cfg(feature = "ssr")]
const COMPLETE_FORM: &str = "complete-profile";

#[cfg(feature = "ssr")]
impl From<crate::core::profile::ProfileError> for AppError {
    fn from(err: crate::core::profile::ProfileError) -> Self {
        use crate::core::profile::ProfileError;
        match err {
            ProfileError::Invalid(problems) => AppError::validation(problems),
            ProfileError::NoAccount => AppError::new(crate::error::ErrorKind::SignInRequired),
            ProfileError::Stored(detail) => AppError::internal(detail),
            ProfileError::Db(e) => AppError::from(e),
        }
    }
}

/// The draft of `form` left by the last refused plain post, if any (read once).
#[cfg(feature = "ssr")]
async fn take_draft(cx: &Ctx, form: &str) -> Option<Draft> {
    let draft = crate::server::sessions::take::<Draft>(&cx.session, DRAFT_KEY).await.ok().flatten()?;
    (draft.form == form).then_some(draft)
}

/// Keeps what a plain form post typed when it was refused for its values, so the form shows it again.
#[cfg(feature = "ssr")]
async fn keep_draft(cx: &Ctx, result: &Result<String, AppError>, draft: Draft) -> Result<(), AppError> {
    let refused = matches!(result, Err(e) if e.kind == crate::error::ErrorKind::Validation);
    if refused && crate::server::auth::is_plain_form_post(&cx.parts) {
        cx.session.insert(DRAFT_KEY, draft).await.map_err(AppError::internal)?;
    }
    Ok(())
}

/// The value a control shows from a draft: as typed; an absent checkbox is unticked.
#[cfg(feature = "ssr")]
fn typed_value(field: &crate::types::AttributeField, typed: &HashMap<String, String>) -> String {
    let value = typed.get(&field.key).cloned().unwrap_or_default();
    if field.kind == crate::types::AttributeKind::Boolean {
        return (value == "true" || value == "on").to_string();
    }
    value
}

/// What /account shows: the account and its profile. `None` when nobody is signed in;
/// `CompleteProfileFirst` once after a sign-in that left required attributes missing.
#[server(endpoint = "account/profile")]
pub async fn load_profile_page() -> Result<Option<AccountPageLoad>, AppError> {
    use crate::types::{ProfilePageState, ProfileValues};
    let cx = Ctx::get().await?;
    // a session the MFA policy holds answers 403, not 500
    let signed_in = crate::server::auth::account_or_none(&cx.session).await.map_err(super::with_status)?;
    let Some(account_id) = signed_in else {
        return Ok(None);
    };
    if crate::server::profile_prompt::pending(&cx.session).await {
        return Ok(Some(AccountPageLoad::CompleteProfileFirst));
    }
    let Some(account) = crate::db::accounts::find_by_id(&cx.state.db.pool, &account_id).await? else {
        return Ok(None);
    };
    let stored = crate::core::profile::store::attributes_of(&account)?;
    let draft = take_draft(&cx, PROFILE_FORM).await;
    let attributes = cx
        .state
        .config
        .profile
        .attributes
        .iter()
        .map(|def| {
            let mut field = def.field(stored.get(&def.key));
            if let Some(draft) = draft.as_ref().filter(|_| def.editable) {
                field.value = typed_value(&field, &draft.attributes);
            }
            field
        })
        .collect();
    let values = match draft {
        Some(draft) => draft.values,
        None => ProfileValues {
            display_name: account.display_name.unwrap_or_default(),
            given_name: account.given_name.unwrap_or_default(),
            family_name: account.family_name.unwrap_or_default(),
            locale: account.locale.unwrap_or_default(),
            time_zone: account.time_zone.unwrap_or_default(),
        },
    };
    let mut time_zones = crate::core::profile::time_zones().to_vec();
    // a stored name the list does not offer (an older alias) stays selectable, so saving keeps it
    if !values.time_zone.is_empty() && !time_zones.contains(&values.time_zone) {
        time_zones.insert(0, values.time_zone.clone());
    }
    let deletion_cancelled = crate::server::account_data::take_deletion_cancelled(&cx.session, &account_id).await?;
    Ok(Some(AccountPageLoad::Profile(Box::new(ProfilePageState {
        email: account.email,
        email_verified: account.email_verified_at.is_some(),
        values,
        attributes,
        languages: crate::core::profile::language_options(),
        time_zones,
        flash: crate::server::auth::take_flash(&cx.session).await,
        deletion_cancelled,
    }))))
}

/// Saves the signed-in account's profile (there is no account parameter: only the caller's own row is
/// ever written). Every field is checked and every problem reported at once; the audit log records the
/// names of the changed fields.
#[server(endpoint = "account/update-profile")]
pub async fn update_profile(
    #[server(default)] display_name: String,
    #[server(default)] given_name: String,
    #[server(default)] family_name: String,
    #[server(default)] locale: String,
    #[server(default)] time_zone: String,
    #[server(default)] attributes: HashMap<String, String>,
) -> Result<(), AppError> {
    use crate::core::profile::ProfileInput;
    use crate::server::auth::{now, require_account};
    use crate::types::{Flash, ProfileValues};
    let cx = Ctx::get().await?;
    let result = async {
        let account_id = require_account(&cx.session).await?;
        let input = ProfileInput {
            display_name: &display_name,
            given_name: &given_name,
            family_name: &family_name,
            locale: &locale,
            time_zone: &time_zone,
            attributes: &attributes,
        };
        let defs = &cx.state.config.profile.attributes;
        crate::core::profile::store::update(&cx.state.db, defs, &account_id, &input, &cx.meta(), now()).await?;
        Ok("/account?saved=1".to_string())
    }
    .await;
    let values = ProfileValues { display_name, given_name, family_name, locale, time_zone };
    keep_draft(&cx, &result, Draft { form: PROFILE_FORM.into(), values, attributes }).await?;
    cx.finish(result, Flash { form: PROFILE_FORM.into(), ..Flash::default() }).await
}

/// What /account/complete-profile asks for: the required attributes the account lacks. Showing it answers
/// the question of this sign-in (it is not asked again until the next). `None` when nobody is signed in.
#[server(endpoint = "account/complete-profile-state")]
pub async fn load_complete_profile_page() -> Result<Option<CompleteProfileState>, AppError> {
    let cx = Ctx::get().await?;
    // a session the MFA policy holds answers 403, not 500
    let signed_in = crate::server::auth::account_or_none(&cx.session).await.map_err(super::with_status)?;
    let Some(account_id) = signed_in else {
        return Ok(None);
    };
    crate::server::profile_prompt::clear(&cx.session).await;
    let Some(account) = crate::db::accounts::find_by_id(&cx.state.db.pool, &account_id).await? else {
        return Ok(None);
    };
    let stored = crate::core::profile::store::attributes_of(&account)?;
    let draft = take_draft(&cx, COMPLETE_FORM).await;
    let missing = crate::core::profile::missing_required(&cx.state.config.profile.attributes, &stored)
        .into_iter()
        .map(|def| {
            let mut field = def.field(stored.get(&def.key));
            if let Some(draft) = &draft {
                field.value = typed_value(&field, &draft.attributes);
            }
            field
        })
        .collect();
    Ok(Some(CompleteProfileState { missing, flash: crate::server::auth::take_flash(&cx.session).await }))
}

/// Adds the missing required attributes (only required attributes may be posted here), then continues to
/// /account.
#[server(endpoint = "account/complete-profile")]
pub async fn complete_profile(#[server(default)] attributes: HashMap<String, String>) -> Result<(), AppError> {
    use crate::server::auth::{now, require_account};
    use crate::types::Flash;
    let cx = Ctx::get().await?;
    let result = async {
        let account_id = require_account(&cx.session).await?;
        let defs = &cx.state.config.profile.attributes;
        crate::core::profile::store::complete(&cx.state.db, defs, &account_id, &attributes, &cx.meta(), now()).await?;
        Ok("/account?saved=1".to_string())
    }
    .await;
    let draft = Draft { form: COMPLETE_FORM.into(), values: Default::default(), attributes };
    keep_draft(&cx, &result, draft).await?;
    cx.finish(result, Flash { form: COMPLETE_FORM.into(), ..Flash::default() }).await
}
