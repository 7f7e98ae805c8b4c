//! Page frames shared by every hosted page.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::i18n::t;
use crate::server_fns::auth::current_account;

/// Header with a skip link and the main navigation, the page's `<main>`, and a footer. The skip link is the
/// first focusable element so keyboard users reach the content in one step. The navigation offers signing
/// in and up, or the account once signed in (asked again on every navigation, since signing in or out
/// happens on the pages).
#[component]
pub fn PageLayout(children: Children) -> impl IntoView {
    let location = use_location();
    let account = Resource::new(move || location.pathname.get(), |_| current_account());
    let signed_in = move || account.get().and_then(Result::ok).flatten().is_some();
    view! {
        // rel="external" keeps the client-side router out of this link: the browser's own in-page
        // navigation then moves keyboard focus to <main>, which the router's would not.
        <a href="#content" rel="external" class="vs-skip-link">{t("nav.skip")}</a>
        <header class="vs-header">
            <a href="/" class="vs-brand">{t("app.name")}</a>
            <nav aria-label=t("nav.main")>
                <Suspense>
                    <ul class="vs-nav">
                        {move || if signed_in() {
                            view! { <li><a href="/account">{t("nav.account")}</a></li> }.into_any()
                        } else {
                            view! {
                                <li><a href="/login">{t("nav.login")}</a></li>
                                <li><a href="/signup">{t("nav.signup")}</a></li>
                            }.into_any()
                        }}
                    </ul>
                </Suspense>
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
