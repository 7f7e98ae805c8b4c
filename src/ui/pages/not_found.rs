use leptos::prelude::*;
use leptos_meta::Title;

use crate::i18n::t;
use crate::ui::components::Card;

/// Shown for any path without a route; the server answers 404.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text=t("not_found.title") />
        <h1 class="vs-h1">{t("not_found.title")}</h1>
        <Card>
            <p>{t("not_found.body")}</p>
            <p><a href="/" class="vs-link">{t("nav.back_home")}</a></p>
        </Card>
    }
}
