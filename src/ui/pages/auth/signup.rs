use leptos::prelude::*;
use leptos_meta::Title;

use super::form_state::{field_error, form_error, FormError};
use crate::i18n::t;
use crate::server_fns::auth::{page_flash, SignUp};
use crate::ui::components::{Alert, AlertKind, Button, ButtonKind, Card, PasskeyOnly, TextField};
use crate::ui::pages::oauth::{ContinueVia, ContinuingTo};
use crate::ui::webauthn;

/// `/signup`: email, optional name and a password, with live feedback on the password while typing
/// (hydrated); the server applies the full rules either way.
#[component]
pub fn SignupPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let flash = Resource::new_blocking(|| (), |_| page_flash());
    view! {
        <Title text=t("signup.title") />
        <h1 class="vs-h1">{t("signup.title")}</h1>
        <ContinuingTo via=ContinueVia::SignUp />
        <Suspense>
            {move || Suspend::new(async move {
                let flash = flash.await.ok().flatten();
                let error = form_error(action, flash.clone(), "signup");
                let email = flash.as_ref().filter(|f| f.form == "signup").and_then(|f| f.email.clone());
                let name = flash.as_ref().filter(|f| f.form == "signup").and_then(|f| f.display_name.clone());
                let (password, set_password) = signal(String::new());
                let (typed_email, set_typed_email) = signal(email.clone().unwrap_or_default());
                let (typed_name, set_typed_name) = signal(name.clone().unwrap_or_default());
                view! {
                    <Card>
                        <FormError error />
                        <ActionForm action>
                            <TextField name="email" label=t("signup.email") r#type="email" autocomplete="email" required=true
                                value=email.unwrap_or_default() error=field_error(error, "email")
                                on_input=Callback::new(move |v| set_typed_email.set(v)) />
                            <TextField name="display_name" label=t("signup.display_name") autocomplete="name"
                                hint=t("signup.display_name_hint") value=name.unwrap_or_default()
                                error=field_error(error, "display_name")
                                on_input=Callback::new(move |v| set_typed_name.set(v)) />
                            <PasskeySignup email=typed_email name=typed_name />
                            <p class="vs-divider">{t("signup.or_password")}</p>
                            <TextField name="password" label=t("signup.password") r#type="password" autocomplete="new-password"
                                required=true hint=t("signup.password_hint") error=field_error(error, "password")
                                on_input=Callback::new(move |v| set_password.set(v)) />
                            <PasswordFeedback password email=typed_email />
                            <Button>{t("signup.submit")}</Button>
                        </ActionForm>
                        <p class="vs-muted">{t("signup.have_account")}" "<a href="/login" class="vs-link">{t("nav.login")}</a></p>
                    </Card>
                }
            })}
        </Suspense>
    }
}

/// "Create account with a passkey": the same address and name, no password. Needs JavaScript and a
/// browser with WebAuthn; otherwise a note says so and the password fields below still work.
#[component]
fn PasskeySignup(email: ReadSignal<String>, name: ReadSignal<String>) -> impl IntoView {
    use crate::server_fns::passkeys::{passkey_signup_finish, passkey_signup_start};
    let failure = RwSignal::new(None::<String>);
    let create = move |_| {
        failure.set(None);
        let (email, name) = (email.get_untracked(), name.get_untracked());
        leptos::task::spawn_local(async move {
            let result = async {
                let name = Some(name).filter(|n| !n.trim().is_empty());
                let options = passkey_signup_start(email, name).await.map_err(|e| {
                    let problems: Vec<String> = e.problems.iter().map(|p| p.message.clone()).collect();
                    if problems.is_empty() {
                        e.message()
                    } else {
                        problems.join(" ")
                    }
                })?;
                let answer = webauthn::create(&options).await.map_err(|e| t(e.message_key()).to_string())?;
                passkey_signup_finish(answer).await.map_err(|e| e.message())
            }
            .await;
            match result {
                Ok(next) => webauthn::go_to(&next),
                Err(message) => failure.set(Some(message)),
            }
        });
    };
    view! {
        <div class="vs-passkey" data-passkey-signup="">
            <p class="vs-muted">{t("signup.passkey_lead")}</p>
            <PasskeyOnly>
                <Button r#type="button" kind=ButtonKind::Secondary on:click=create>{t("signup.passkey")}</Button>
            </PasskeyOnly>
            <div aria-live="polite">
                {move || failure.get().map(|m| view! { <Alert kind=AlertKind::Error>{m}</Alert> })}
            </div>
        </div>
    }
}

/// Live hints while the password is typed: length against the minimum, and the words it must not contain.
/// The blocklist check stays on the server (the list is too large for the browser bundle).
#[component]
fn PasswordFeedback(password: ReadSignal<String>, email: ReadSignal<String>) -> impl IntoView {
    const MIN: usize = 15;
    let hints = move || {
        let pw = password.get().to_lowercase();
        if pw.is_empty() {
            return Vec::new();
        }
        let mut hints = Vec::new();
        let len = pw.chars().count();
        if len < MIN {
            hints.push(
                t("signup.feedback.short").replace("{count}", &len.to_string()).replace("{min}", &MIN.to_string()),
            );
        } else {
            hints.push(t("signup.feedback.length_ok").to_string());
        }
        let local = email.get().to_lowercase().split('@').next().unwrap_or_default().to_string();
        if local.chars().count() >= 3 && pw.contains(&local) {
            hints.push(t("password.contains_email").to_string());
        }
        if pw.contains("vestibule") {
            hints.push(t("password.contains_product_name").to_string());
        }
        hints
    };
    view! {
        <div class="vs-hint" aria-live="polite" data-password-feedback="">
            {move || hints().into_iter().map(|h| view! { <p>{h}</p> }).collect_view()}
        </div>
    }
}
