use leptos::prelude::*;
use leptos_meta::Title;

use crate::i18n::t;
use crate::ui::components::{ButtonKind, Card, LinkButton};

/// The start page: what Vestibule is and the two ways in.
#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text=t("home.title") />
        <h1 class="vs-h1">{t("home.heading")}</h1>
        <p class="vs-lead">{t("home.lead")}</p>
        <Card>
            <div class="vs-actions">
                <LinkButton href="/signup">{t("home.signup")}</LinkButton>
                <span class="vs-muted">{t("home.have_account")}</span>
                <LinkButton href="/login" kind=ButtonKind::Secondary>{t("home.login")}</LinkButton>
            </div>
        </Card>
    }
}
