use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

use super::or_redirect;
use super::profile_fields::{problem_at, AttributeInput, AttributeValue, SelectField};
use crate::i18n::t;
use crate::server_fns::auth::LogOut;
use crate::server_fns::profile::{load_profile_page, UpdateProfile};
use crate::types::{AccountPageLoad, ChoiceOption, ProfilePageState};
use crate::ui::components::{Alert, AlertKind, Button, ButtonKind, Card, TextField};
use crate::ui::pages::auth::form_state::{field_error, form_error, FormError};

/// `/account`: the signed-in account (address and its state, where to manage the rest, sign-out) and the
/// profile form: the standard fields and the attributes the operator defines, each with its control,
/// hint and error; attributes only operators set are shown read-only. Once after a sign-in that left
/// required attributes missing, the visit goes to /account/complete-profile first. Visitors not signed in
/// go to /login; a session the MFA policy holds goes to setting up a factor.
#[component]
pub fn AccountPage() -> impl IntoView {
    let save = ServerAction::<UpdateProfile>::new();
    // reload after a successful save only: after a refused one the form keeps what was typed
    let saves = RwSignal::new(0u32);
    Effect::new(move |_| {
        if matches!(save.value().get(), Some(Ok(()))) {
            saves.update(|n| *n += 1);
        }
    });
    let page = Resource::new_blocking(move || saves.get(), |_| load_profile_page());
    view! {
        <Title text=t("account.title") />
        <h1 class="vs-h1">{t("account.title")}</h1>
        <Suspense>
            {move || Suspend::new(async move {
                let state = match or_redirect(page.await) {
                    Ok(AccountPageLoad::Profile(state)) => *state,
                    Ok(AccountPageLoad::CompleteProfileFirst) => {
                        return view! { <Redirect path="/account/complete-profile" /> }.into_any();
                    }
                    Err(away) => return away,
                };
                view! { <AccountView state save /> }.into_any()
            })}
        </Suspense>
    }
}

#[component]
fn AccountView(state: ProfilePageState, save: ServerAction<UpdateProfile>) -> impl IntoView {
    let log_out = ServerAction::<LogOut>::new();
    let query = use_query_map();
    let password_reset = move || query.read().get("password_reset").is_some();
    let saved = move || query.read().get("saved").is_some();
    let error = form_error(save, state.flash.clone(), "profile");
    let (editable, fixed): (Vec<_>, Vec<_>) = state.attributes.into_iter().partition(|a| a.editable);
    let values = state.values;
    let time_zones: Vec<ChoiceOption> =
        state.time_zones.into_iter().map(|z| ChoiceOption { value: z.clone(), label: z }).collect();
    view! {
        // the account-data page's notice: a sign-in cancelled the deletion the owner had asked for
        {state.deletion_cancelled.then(|| view! {
            <Alert kind=AlertKind::Info>
                <span data-deletion-cancelled="">{t("data.cancelled_notice")}</span>
            </Alert>
        })}
        {move || password_reset().then(|| view! {
            <Alert kind=AlertKind::Success>{t("account.password_reset")}</Alert>
        })}
        {move || (saved() && error.get().is_none()).then(|| view! {
            <Alert kind=AlertKind::Success>{t("profile.saved")}</Alert>
        })}
        <Card>
            <dl class="vs-dl">
                <dt>{t("account.email")}</dt>
                <dd data-account-email="">{state.email}</dd>
                <dt>{t("account.status")}</dt>
                <dd>{if state.email_verified { t("account.verified") } else { t("account.unverified") }}</dd>
            </dl>
            <p><a href="/account/email" class="vs-link">{t("profile.email_change")}</a></p>
            <p><a href="/account/security" class="vs-link">{t("account.security")}</a></p>
            <p><a href="/account/sessions" class="vs-link">{t("account.sessions")}</a></p>
            <p><a href="/account/apps" class="vs-link">{t("account.apps")}</a></p>
            <p><a href="/account/activity" class="vs-link">{t("account.activity")}</a></p>
            <p><a href="/account/data" class="vs-link">{t("profile.data")}</a></p>
            <ActionForm action=log_out>
                <Button kind=ButtonKind::Secondary>{t("account.sign_out")}</Button>
            </ActionForm>
        </Card>
        <Card>
            <h2 class="vs-card-heading">{t("profile.heading")}</h2>
            <p class="vs-muted">{t("profile.lead")}</p>
            <FormError error />
            <ActionForm action=save attr:data-profile-form="">
                <TextField name="display_name" label=t("profile.display_name") autocomplete="nickname"
                    hint=t("profile.display_name_hint") value=values.display_name
                    error=field_error(error, "display_name") />
                <TextField name="given_name" label=t("profile.given_name") autocomplete="given-name"
                    value=values.given_name error=field_error(error, "given_name") />
                <TextField name="family_name" label=t("profile.family_name") autocomplete="family-name"
                    value=values.family_name error=field_error(error, "family_name") />
                <SelectField name="locale" label=t("profile.locale") autocomplete="language"
                    options=state.languages value=values.locale empty=t("profile.not_set")
                    error=field_error(error, "locale") />
                <SelectField name="time_zone" label=t("profile.time_zone") hint=t("profile.time_zone_hint")
                    options=time_zones value=values.time_zone empty=t("profile.not_set")
                    error=field_error(error, "time_zone") />
                {editable.into_iter().map(|field| {
                    let field_error = problem_at(error, field.field_name());
                    view! { <AttributeInput field error=field_error /> }
                }).collect_view()}
                <Button>{t("profile.save")}</Button>
            </ActionForm>
        </Card>
        {(!fixed.is_empty()).then(|| view! {
            <Card>
                <h2 class="vs-card-heading">{t("profile.fixed")}</h2>
                <dl class="vs-dl" data-fixed-attributes="">
                    {fixed.into_iter().map(|field| view! { <AttributeValue field /> }).collect_view()}
                </dl>
            </Card>
        })}
    }
}
