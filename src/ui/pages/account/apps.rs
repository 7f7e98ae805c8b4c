use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::or_redirect;
use crate::error::ErrorKind;
use crate::i18n::t;
use crate::server_fns::oauth::{load_apps_page, RemoveAppAccess};
use crate::types::AppView;
use crate::ui::components::{Alert, AlertKind, Card};
use crate::ui::pages::auth::form_state::{form_error, FormError};

/// `/account/apps`: the apps the owner let use the account (name, what each may see, since when, last
/// used, whether it keeps access while the owner is away) and removing an app's access. Plain forms: they
/// work hydrated and with JavaScript off. Visitors not signed in go to /login.
#[component]
pub fn AppsPage() -> impl IntoView {
    let remove = ServerAction::<RemoveAppAccess>::new();
    let page = Resource::new_blocking(move || remove.version().get(), |_| load_apps_page());
    let query = use_query_map();
    let removed = move || query.read().get("removed").is_some();
    view! {
        <Title text=t("apps.title") />
        <h1 class="vs-h1">{t("apps.title")}</h1>
        <p><a href="/account" class="vs-link">{t("apps.back")}</a></p>
        <Suspense>
            {move || Suspend::new(async move {
                let state = match or_redirect(page.await) {
                    Ok(state) => state,
                    Err(away) => return away,
                };
                let error = form_error(remove, state.flash.clone(), "apps");
                let empty = state.apps.is_empty();
                view! {
                    <Card>
                        {move || (removed() && error.get().is_none()).then(|| view! {
                            <Alert kind=AlertKind::Success>{t("apps.removed")}</Alert>
                        })}
                        // an app this account never allowed (or already removed): say so plainly
                        {move || match error.get() {
                            Some(e) if e.kind == ErrorKind::NotFound => view! {
                                <Alert kind=AlertKind::Error><p>{t("apps.nothing_to_remove")}</p></Alert>
                            }.into_any(),
                            other => view! { <FormError error=Signal::derive(move || other.clone()) /> }.into_any(),
                        }}
                        <p class="vs-muted">{t("apps.lead")}</p>
                        {if empty {
                            view! { <p data-apps-none="">{t("apps.none")}</p> }.into_any()
                        } else {
                            view! {
                                <ul class="vs-list" data-apps="">
                                    {state.apps.into_iter().map(|app| view! { <AppItem app remove /> }).collect_view()}
                                </ul>
                            }.into_any()
                        }}
                    </Card>
                }
                .into_any()
            })}
        </Suspense>
    }
}

#[component]
fn AppItem(app: AppView, remove: ServerAction<RemoveAppAccess>) -> impl IntoView {
    let mut dates = vec![format!("{}: {}", t("apps.since"), app.since)];
    dates.extend(app.last_used.map(|at| format!("{}: {at}", t("apps.last_used"))));
    // names the button for screen readers too: "Remove access" alone is ambiguous in a list of apps
    let label = t("apps.remove_label").replace("{app}", &app.name);
    let id = app.id.clone();
    view! {
        <li class="vs-list-item" data-app=app.id>
            <h2 class="vs-item-heading">{app.name}</h2>
            <p>{t("apps.may")}</p>
            <ul>
                {app.scopes.into_iter().map(|line| view! { <li data-scope=line.scope>{line.text}</li> }).collect_view()}
            </ul>
            {app.offline.then(|| view! { <p><span class="vs-badge">{t("apps.offline")}</span></p> })}
            <p class="vs-hint">{dates.join(" · ")}</p>
            <ActionForm action=remove attr:class="vs-inline-form">
                <input type="hidden" name="id" value=id />
                <button type="submit" class="vs-btn vs-btn-secondary" aria-label=label>{t("apps.remove")}</button>
            </ActionForm>
        </li>
    }
}
