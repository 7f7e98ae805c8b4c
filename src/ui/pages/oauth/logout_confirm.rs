use leptos::prelude::*;
use leptos_meta::Title;

use crate::i18n::t;
use crate::server_fns::auth::LogOut;
use crate::server_fns::oauth::load_logout_confirm;
use crate::types::LogoutConfirmState;
use crate::ui::components::{Alert, AlertKind, Button, Card};

/// `/oauth2/logout/confirm`: an app asked to sign this browser out without proving it was this sign-in
/// (no matching `id_token_hint`), so the person decides. A plain form to the server, which ends the
/// session and returns to the app (a full page load). Nothing waiting: the normal sign-out; signed out
/// already: says so.
#[component]
pub fn LogoutConfirmPage() -> impl IntoView {
    let page = Resource::new_blocking(|| (), |_| load_logout_confirm());
    view! {
        <Title text=t("logout_confirm.title") />
        <Suspense>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(LogoutConfirmState::Confirm { client_name }) => {
                        let app = client_name.unwrap_or_else(|| t("logout_confirm.unnamed_app").to_string());
                        let asks = t("logout_confirm.asks").replace("{app}", &app).replace("{product}", t("app.name"));
                        view! {
                            <h1 class="vs-h1" tabindex="-1" autofocus=true>{t("logout_confirm.title")}</h1>
                            <Card>
                                <p>{asks}</p>
                                <form method="post" action="/oauth2/logout/confirm" data-logout-confirm="">
                                    <div class="vs-actions">
                                        <Button>{t("logout_confirm.sign_out")}</Button>
                                        <a href="/account" class="vs-link">{t("logout_confirm.stay")}</a>
                                    </div>
                                </form>
                            </Card>
                        }
                        .into_any()
                    }
                    Ok(LogoutConfirmState::SignedIn) => view! { <PlainSignOut /> }.into_any(),
                    Ok(LogoutConfirmState::SignedOut) => view! {
                        <h1 class="vs-h1">{t("logout_confirm.signed_out")}</h1>
                        <Card>
                            <p><a href="/login" class="vs-link">{t("nav.login")}</a></p>
                        </Card>
                    }
                    .into_any(),
                    Err(e) => view! {
                        <h1 class="vs-h1">{t("logout_confirm.title")}</h1>
                        <Alert kind=AlertKind::Error><p>{e.message()}</p></Alert>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

/// The portal's own sign-out, for a visit without an app's request.
#[component]
fn PlainSignOut() -> impl IntoView {
    let log_out = ServerAction::<LogOut>::new();
    view! {
        <h1 class="vs-h1" tabindex="-1" autofocus=true>{t("logout_confirm.title")}</h1>
        <Card>
            <p>{t("logout_confirm.plain")}</p>
            <ActionForm action=log_out>
                <div class="vs-actions">
                    <Button>{t("logout_confirm.sign_out")}</Button>
                    <a href="/account" class="vs-link">{t("logout_confirm.stay")}</a>
                </div>
            </ActionForm>
        </Card>
    }
}
