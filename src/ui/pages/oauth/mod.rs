//! The pages of an app's sign-in (OAuth 2.0 / OpenID Connect): consent, the sign-out confirmation, the
//! hand-over back to the server at /oauth2/continue, and the line on the sign-in and sign-up pages that
//! names the app the person continues to.

mod consent;
mod continue_page;
mod logout_confirm;

pub use consent::ConsentPage;
pub use continue_page::ContinuePage;
pub use logout_confirm::LogoutConfirmPage;

use leptos::prelude::*;

use crate::i18n::t;
use crate::server_fns::oauth::oauth_app_name;

/// Which page shows the app the person continues to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContinueVia {
    SignIn,
    SignUp,
    /// The security page, once a second factor the policy required is set up: a link back into the app's
    /// sign-in.
    Setup,
}

/// "Sign in to continue to {App}" (or "Create an account to ..."), while an app's request waits in this
/// browser; nothing otherwise.
#[component]
pub fn ContinuingTo(via: ContinueVia) -> impl IntoView {
    let app = Resource::new(|| (), |_| oauth_app_name());
    let key = match via {
        ContinueVia::SignIn => t("oauth.continue.sign_in"),
        ContinueVia::SignUp => t("oauth.continue.sign_up"),
        ContinueVia::Setup => t("oauth.continue.after_setup"),
    };
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                app.await.ok().flatten().map(|name| {
                    let text = key.replace("{app}", &name);
                    match via {
                        // rel="external": a full page load, the server answers /oauth2/continue
                        ContinueVia::Setup => view! {
                            <p class="vs-lead" data-continuing-to="">
                                <a href="/oauth2/continue" rel="external" class="vs-link">{text}</a>
                            </p>
                        }.into_any(),
                        _ => view! { <p class="vs-lead" data-continuing-to="">{text}</p> }.into_any(),
                    }
                })
            })}
        </Suspense>
    }
}
