use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::or_redirect;
use crate::i18n::t;
use crate::server_fns::data::{load_data_page, RequestDeletion};
use crate::types::DataPageState;
use crate::ui::components::{Alert, AlertKind, Button, ButtonKind, Card, TextField};
use crate::ui::pages::auth::form_state::{field_error, form_error, FormError};
use crate::ui::pages::auth::{Confirm, ConfirmActions};

/// `/account/data`: download everything held about you (a plain link to `/account/export`, a JSON file)
/// and delete the account (type your address to confirm; a grace period follows in which signing in
/// cancels). Both need a recent sign-in: the confirm card appears in place. Plain forms and links, so it
/// all works without JavaScript. After a deletion (`?deletion=scheduled`, signed out by then) the page says
/// what happens next; other visitors go to /login.
#[component]
pub fn DataPage() -> impl IntoView {
    let delete = ServerAction::<RequestDeletion>::new();
    let confirm = ConfirmActions::new();
    let page = Resource::new_blocking(move || (delete.version().get(), confirm.version()), |_| load_data_page());
    let query = use_query_map();
    view! {
        <Title text=t("data.title") />
        <h1 class="vs-h1">{t("data.title")}</h1>
        <Suspense>
            {move || Suspend::new(async move {
                let loaded = page.await;
                // the query says so after a plain form post; the hydrated form knows it from its result (the
                // data reloads, signed out, before the router has moved to the new query)
                let deleted = matches!(delete.value().get_untracked(), Some(Ok(())));
                let scheduled =
                    deleted || query.read_untracked().get("deletion").is_some_and(|v| v == "scheduled");
                if scheduled && matches!(loaded, Ok(None)) {
                    return view! { <Scheduled /> }.into_any();
                }
                let state = match or_redirect(loaded) {
                    Ok(state) => state,
                    Err(away) => return away,
                };
                view! {
                    <p><a href="/account" class="vs-link">{t("data.back")}</a></p>
                    <Confirm options=state.confirm recently_confirmed=state.recently_confirmed
                        flash=state.flash.clone() actions=confirm
                        return_to="/account/data" />
                    <Export recently_confirmed=state.recently_confirmed />
                    <Delete state delete />
                }.into_any()
            })}
        </Suspense>
    }
}

#[component]
fn Export(recently_confirmed: bool) -> impl IntoView {
    view! {
        <Card>
            <h2 class="vs-card-heading" id="export">{t("data.export.heading")}</h2>
            <p class="vs-muted">{t("data.export.lead")}</p>
            {if recently_confirmed {
                // a plain link: the answer is a file (Content-Disposition: attachment) and the page stays;
                // rel="external" keeps the hydrated router from handling it as a page of the app
                view! {
                    <p>
                        <a href="/account/export" rel="external" class="vs-btn vs-btn-primary">
                            {t("data.export.download")}
                        </a>
                    </p>
                }.into_any()
            } else {
                view! { <p class="vs-hint">{t("data.export.confirm_first")}</p> }.into_any()
            }}
        </Card>
    }
}

/// The deletion form. Typing the address (rather than ticking a box) is the confirmation: it cannot be
/// done by reflex, it names which account goes when someone has several, and it works the same with and
/// without JavaScript.
#[component]
fn Delete(state: DataPageState, delete: ServerAction<RequestDeletion>) -> impl IntoView {
    let error = form_error(delete, state.flash.clone(), "delete");
    let grace = match &state.grace {
        Some(grace) => t("data.delete.grace").replace("{grace}", grace),
        None => t("data.delete.grace_none").to_string(),
    };
    let cancelled = state.deletion_cancelled_on.clone();
    view! {
        <Card>
            <h2 class="vs-card-heading" id="delete">{t("data.delete.heading")}</h2>
            {cancelled.map(|on| view! {
                <Alert kind=AlertKind::Info>{t("data.delete.cancelled").replace("{when}", &on)}</Alert>
            })}
            <p class="vs-muted">{t("data.delete.lead")}</p>
            <p class="vs-muted" data-grace="">{grace}</p>
            {if state.recently_confirmed {
                view! {
                    <FormError error />
                    <ActionForm action=delete>
                        <p>{t("data.delete.email_hint").replace("{email}", &state.email)}</p>
                        <TextField name="email" label=t("data.delete.email") r#type="email" autocomplete="off"
                            required=true error=field_error(error, "email") />
                        <Button kind=ButtonKind::Secondary>{t("data.delete.submit")}</Button>
                    </ActionForm>
                }.into_any()
            } else {
                view! { <p class="vs-hint">{t("data.delete.confirm_first")}</p> }.into_any()
            }}
        </Card>
    }
}

/// After the deletion: signed out, told what happens next and how to change one's mind.
#[component]
fn Scheduled() -> impl IntoView {
    view! {
        <Card>
            <h2 class="vs-card-heading">{t("data.scheduled.heading")}</h2>
            <Alert kind=AlertKind::Success>{t("data.scheduled.body")}</Alert>
            <p><a href="/login" class="vs-link">{t("data.scheduled.sign_in")}</a></p>
        </Card>
    }
}
