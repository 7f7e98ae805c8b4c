use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

use crate::i18n::t;
use crate::server_fns::auth::{current_account, LogOut};
use crate::ui::components::{Alert, AlertKind, Button, ButtonKind, Card};

/// `/account`: who is signed in, and sign-out. Sends visitors who are not signed in to /login.
#[component]
pub fn AccountPage() -> impl IntoView {
    let account = Resource::new_blocking(|| (), |_| current_account());
    let log_out = ServerAction::<LogOut>::new();
    let query = use_query_map();
    let password_reset = move || query.read().get("password_reset").is_some();
    view! {
        <Title text=t("account.title") />
        <Suspense>
            {move || Suspend::new(async move {
                match account.await {
                    Ok(Some(a)) => view! {
                        <h1 class="vs-h1">{t("account.title")}</h1>
                        {move || password_reset().then(|| view! {
                            <Alert kind=AlertKind::Success>{t("account.password_reset")}</Alert>
                        })}
                        {a.mfa_setup_required.then(|| view! {
                            <Alert kind=AlertKind::Info>
                                {t("account.mfa_setup_required")}" "
                                <a href="/account/security" class="vs-link">{t("account.mfa_setup_link")}</a>
                            </Alert>
                        })}
                        <Card>
                            <dl class="vs-dl">
                                <dt>{t("account.email")}</dt>
                                <dd data-account-email="">{a.email.clone()}</dd>
                                <dt>{t("account.name")}</dt>
                                <dd>{a.display_name.clone().unwrap_or_else(|| t("account.no_name").to_string())}</dd>
                                <dt>{t("account.status")}</dt>
                                <dd>{if a.email_verified { t("account.verified") } else { t("account.unverified") }}</dd>
                            </dl>
                            <p><a href="/account/security" class="vs-link">{t("account.security")}</a></p>
                            <p><a href="/account/sessions" class="vs-link">{t("account.sessions")}</a></p>
                            <p><a href="/account/activity" class="vs-link">{t("account.activity")}</a></p>
                            <ActionForm action=log_out>
                                <Button kind=ButtonKind::Secondary>{t("account.sign_out")}</Button>
                            </ActionForm>
                        </Card>
                    }.into_any(),
                    _ => view! { <Redirect path="/login" /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
