use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::or_redirect;
use crate::i18n::t;
use crate::server_fns::account::load_activity_page;
use crate::ui::components::Card;

/// `/account/activity`: the account's security events, newest first, in pages (`?before=` the last event
/// shown). Plain links page through, so it works without JavaScript. Visitors not signed in go to /login.
#[component]
pub fn ActivityPage() -> impl IntoView {
    let query = use_query_map();
    let page = Resource::new_blocking(move || query.read().get("before"), load_activity_page);
    view! {
        <Title text=t("activity.title") />
        <h1 class="vs-h1">{t("activity.title")}</h1>
        <p><a href="/account" class="vs-link">{t("activity.back")}</a></p>
        <Suspense>
            {move || Suspend::new(async move {
                let state = match or_redirect(page.await) {
                    Ok(state) => state,
                    Err(away) => return away,
                };
                let paged = query.read_untracked().get("before").is_some();
                view! {
                    <Card>
                        <p class="vs-muted">{t("activity.lead")}</p>
                        {state.entries.is_empty().then(|| view! { <p>{t("activity.empty")}</p> })}
                        <ol class="vs-list" data-activity="">
                            {state.entries.into_iter().map(|entry| view! {
                                <li class="vs-list-item">
                                    <strong>{entry.what}</strong>
                                    <span class="vs-hint">
                                        {entry.when}
                                        {(!entry.from.is_empty()).then(|| format!(" · {}: {}", t("activity.from"), entry.from))}
                                    </span>
                                </li>
                            }).collect_view()}
                        </ol>
                        <p class="vs-muted">
                            {paged.then(|| view! { <a href="/account/activity" class="vs-link">{t("activity.newest")}</a>" " })}
                            {state.older.map(|older| view! {
                                <a href=format!("/account/activity?before={older}") class="vs-link" rel="next">{t("activity.older")}</a>
                            })}
                        </p>
                    </Card>
                }.into_any()
            })}
        </Suspense>
    }
}
