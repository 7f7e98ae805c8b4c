//! Page frames shared by every hosted page.

use leptos::prelude::*;

use crate::i18n::t;

/// Header with a skip link and the main navigation, the page's `<main>`, and a footer. The skip link is the
/// first focusable element so keyboard users reach the content in one step.
#[component]
pub fn PageLayout(children: Children) -> impl IntoView {
    view! {
        // rel="external" keeps the client-side router out of this link: the browser's own in-page
        // navigation then moves keyboard focus to <main>, which the router's would not.
        <a href="#content" rel="external" class="vs-skip-link">{t("nav.skip")}</a>
        <header class="vs-header">
            <a href="/" class="vs-brand">{t("app.name")}</a>
            <nav aria-label=t("nav.main")>
                <ul class="vs-nav">
                    <li><a href="/login">{t("nav.login")}</a></li>
                    <li><a href="/signup">{t("nav.signup")}</a></li>
                </ul>
            </nav>
        </header>
        <main id="content" class="vs-main" tabindex="-1">
            {children()}
        </main>
        <footer class="vs-footer">
            <p>{t("app.tagline")}</p>
        </footer>
    }
}
