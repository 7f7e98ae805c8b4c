use leptos::prelude::*;
use leptos_meta::Title;

use crate::i18n::t;
use crate::server_fns::oauth::load_consent_page;
use crate::types::ConsentPageState;
use crate::ui::components::{Alert, AlertKind, Button, ButtonKind, Card};

/// `/oauth2/consent`: an app (not one of the operator's own) asks to use the signed-in account: which
/// app, which account, what it would see, and Allow / Deny. One plain form posted to the server, which
/// answers with a redirect to the app: a full page load whether or not the page is hydrated (an
/// ActionForm would follow the redirect with the browser's router). Nothing waiting, or nobody signed
/// in: a note to go back to the app.
#[component]
pub fn ConsentPage() -> impl IntoView {
    let page = Resource::new_blocking(|| (), |_| load_consent_page());
    view! {
        <Title text=t("consent.title") />
        <Suspense>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(Some(state)) => view! { <ConsentForm state /> }.into_any(),
                    Ok(None) => view! {
                        <h1 class="vs-h1">{t("consent.nothing_heading")}</h1>
                        <Card><p data-consent-nothing="">{t("consent.nothing")}</p></Card>
                    }
                    .into_any(),
                    Err(e) => view! {
                        <h1 class="vs-h1">{t("consent.title")}</h1>
                        <Alert kind=AlertKind::Error><p>{e.message()}</p></Alert>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ConsentForm(state: ConsentPageState) -> impl IntoView {
    let heading = t("consent.heading").replace("{app}", &state.client_name).replace("{product}", t("app.name"));
    view! {
        // the page's one question: keyboard and screen-reader users start at it (tabindex lets it take focus)
        <h1 class="vs-h1" tabindex="-1" autofocus=true>{heading}</h1>
        <Card>
            <p>{t("consent.account").replace("{email}", &state.email)}</p>
            <p id="consent-scopes-lead">{t("consent.lead")}</p>
            <ul class="vs-list" aria-labelledby="consent-scopes-lead" data-consent-scopes="">
                {state.scopes.into_iter().map(|line| view! {
                    <li data-scope=line.scope>{line.text}</li>
                }).collect_view()}
            </ul>
            <form method="post" action="/oauth2/consent" data-consent-form="">
                <div class="vs-actions">
                    <Button name="decision" value="allow">{t("consent.allow")}</Button>
                    <Button kind=ButtonKind::Secondary name="decision" value="deny">{t("consent.deny")}</Button>
                </div>
            </form>
            <p class="vs-hint">
                {t("consent.later")}" "<a href="/account/apps" class="vs-link">{t("apps.title")}</a>
            </p>
        </Card>
    }
}
