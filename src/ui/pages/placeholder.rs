use leptos::prelude::*;
use leptos_meta::Title;

use crate::i18n::t;
use crate::ui::components::{Alert, Card};

/// Stands at a route whose flow a later release fills (sign-up and sign-in), so links never lead to a 404.
#[component]
pub fn PlaceholderPage(title_key: &'static str) -> impl IntoView {
    view! {
        <Title text=t(title_key) />
        <h1 class="vs-h1">{t(title_key)}</h1>
        <Card>
            <Alert>{t("placeholder.body")}</Alert>
            <p><a href="/" class="vs-link">{t("placeholder.back")}</a></p>
        </Card>
    }
}
