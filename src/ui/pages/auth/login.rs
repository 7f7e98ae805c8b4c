use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::form_state::{field_error, form_error, FormError};
use super::passkey_sign_in::{PasskeyButton, PasskeySignIn};
use crate::i18n::t;
use crate::server_fns::auth::{page_flash, LogIn};
use crate::ui::components::{Alert, AlertKind, Button, Card, TextField};
use crate::ui::pages::oauth::{ContinueVia, ContinuingTo};

/// `/login`: passkeys (button, autofill, offered for the typed address) and email with password.
#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<LogIn>::new();
    let flash = Resource::new_blocking(|| (), |_| page_flash());
    let query = use_query_map();
    let just_verified = move || query.read().get("verified").is_some();
    let passkeys = PasskeySignIn::new();
    passkeys.start_autofill();
    view! {
        <Title text=t("login.title") />
        <h1 class="vs-h1">{t("login.title")}</h1>
        <ContinuingTo via=ContinueVia::SignIn />
        <Suspense>
            {move || Suspend::new(async move {
                let flash = flash.await.ok().flatten();
                let error = form_error(action, flash.clone(), "login");
                let email = flash.as_ref().filter(|f| f.form == "login").and_then(|f| f.email.clone());
                view! {
                    <Card>
                        {move || just_verified().then(|| view! { <Alert kind=AlertKind::Success>{t("login.verified")}</Alert> })}
                        <FormError error />
                        <PasskeyButton controls=passkeys />
                        <p class="vs-divider">{t("login.or_password")}</p>
                        <ActionForm action>
                            // "webauthn" lets the browser offer passkeys in this field's autofill
                            <TextField name="email" label=t("login.email") r#type="email" autocomplete="username webauthn"
                                required=true value=email.unwrap_or_default() error=field_error(error, "email")
                                on_change=Callback::new(move |v| passkeys.email_changed(v)) />
                            <TextField name="password" label=t("login.password") r#type="password"
                                autocomplete="current-password" required=true />
                            <Button>{t("login.submit")}</Button>
                        </ActionForm>
                        <p class="vs-muted">
                            <a href="/recover" class="vs-link">{t("login.forgot")}</a>" · "
                            <a href="/login/email" class="vs-link">{t("login.email_code")}</a>
                        </p>
                        <p class="vs-muted">{t("login.no_account")}" "<a href="/signup" class="vs-link">{t("nav.signup")}</a></p>
                    </Card>
                }
            })}
        </Suspense>
    }
}
