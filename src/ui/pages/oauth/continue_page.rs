use leptos::prelude::*;
use leptos_meta::Title;

use crate::i18n::t;
use crate::ui::components::Card;

/// Must equal `server::oauth::flow::CONTINUE_PATH` (server-only; tests/it/oauth_apps.rs checks).
const CONTINUE_PATH: &str = "/oauth2/continue";

/// `/oauth2/continue`, as the browser's router knows it. The server answers this path itself (it is one
/// of `server::oauth::CLIENT_ONLY_ROUTES`): the hydrated app reaches this component only when a server
/// function redirected here after a sign-in, so it hands over to the server with a full page load. The
/// link covers the moment before that (and a browser that blocks the navigation).
#[component]
pub fn ContinuePage() -> impl IntoView {
    Effect::new(move |_| crate::ui::webauthn::go_to(CONTINUE_PATH));
    view! {
        <Title text=t("oauth.continue.title") />
        <h1 class="vs-h1">{t("oauth.continue.title")}</h1>
        <Card>
            // rel="external": the browser's router must not keep this link to itself
            <p><a href=CONTINUE_PATH rel="external" class="vs-link">{t("oauth.continue.link")}</a></p>
        </Card>
    }
}
