//! The HTML shell and the route table. Pages live in `ui::pages`.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

use crate::i18n::t;
use crate::types::EmailFlow;
use crate::ui::layouts::PageLayout;
use crate::ui::pages::account::EmailPage;
use crate::ui::pages::account::{AccountPage, CompleteProfilePage};
use crate::ui::pages::account::{ActivityPage, AppsPage, DataPage, SessionsPage};
use crate::ui::pages::auth::{
    EmailCodePage, LoginPage, ResetPasswordPage, SecondFactorPage, SecurityPage, SignupPage, VerifyEmailPage,
};
use crate::ui::pages::oauth::{ConsentPage, ContinuePage, LogoutConfirmPage};
use crate::ui::pages::{dev_outbox::DevOutboxPage, home::HomePage, not_found::NotFoundPage};

/// The document around every page. Runs on the server only.
///
/// The Content-Security-Policy header is set here because this is where the per-request nonce exists:
/// leptos_axum generates one per response and puts it on its own inline scripts, so hydration works under
/// a policy that allows no other script.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::server::headers::set_page_csp();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <link rel="icon" href="/favicon.ico" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body class="vs-body">
                <App />
            </body>
        </html>
    }
}

/// The application: every route the hosted pages serve.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    mark_hydrated();
    view! {
        <Stylesheet id="vestibule" href="/pkg/vestibule.css" />
        <Title formatter=|page: String| format!("{page} · {}", t("app.name")) />
        <Router>
            <PageLayout>
                <Routes fallback=NotFoundPage>
                    <Route path=path!("") view=HomePage />
                    <Route path=path!("/signup") view=SignupPage ssr=SsrMode::Async />
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async />
                    <Route path=path!("/login/second-factor") view=SecondFactorPage ssr=SsrMode::Async />
                    <Route path=path!("/login/email") view=|| view! { <EmailCodePage flow=EmailFlow::SignIn /> }
                        ssr=SsrMode::Async />
                    <Route path=path!("/recover") view=|| view! { <EmailCodePage flow=EmailFlow::Recover /> }
                        ssr=SsrMode::Async />
                    <Route path=path!("/recover/password") view=ResetPasswordPage ssr=SsrMode::Async />
                    <Route path=path!("/verify-email") view=VerifyEmailPage ssr=SsrMode::Async />
                    <Route path=path!("/account") view=AccountPage ssr=SsrMode::Async />
                    <Route path=path!("/account/complete-profile") view=CompleteProfilePage ssr=SsrMode::Async />
                    <Route path=path!("/account/security") view=SecurityPage ssr=SsrMode::Async />
                    <Route path=path!("/account/activity") view=ActivityPage ssr=SsrMode::Async />
                    <Route path=path!("/account/sessions") view=SessionsPage ssr=SsrMode::Async />
                    <Route path=path!("/account/data") view=DataPage ssr=SsrMode::Async />
                    <Route path=path!("/account/email") view=EmailPage ssr=SsrMode::Async />
                    <Route path=path!("/account/apps") view=AppsPage ssr=SsrMode::Async />
                    <Route path=path!("/oauth2/consent") view=ConsentPage ssr=SsrMode::Async />
                    <Route path=path!("/oauth2/logout/confirm") view=LogoutConfirmPage ssr=SsrMode::Async />
                    // client-only: the server answers this path (server::oauth::CLIENT_ONLY_ROUTES)
                    <Route path=path!("/oauth2/continue") view=ContinuePage />
                    <Route path=path!("/dev/outbox") view=DevOutboxPage ssr=SsrMode::Async />
                </Routes>
            </PageLayout>
        </Router>
    }
}

/// Sets `data-hydrated` on the document element once the WebAssembly has taken over the page. Effects never
/// run during server rendering, so the attribute proves hydration (the end-to-end tests wait for it).
fn mark_hydrated() {
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });
}
