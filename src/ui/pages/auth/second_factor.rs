use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use super::form_state::{field_error, form_error, FormError};
use crate::i18n::t;
use crate::server_fns::auth::LogOut;
use crate::server_fns::mfa::{load_second_factor_page, SignInWithRecoveryCode, SignInWithTotp};
use crate::server_fns::security_keys::{security_key_sign_in_finish, security_key_sign_in_start};
use crate::ui::components::{Alert, AlertKind, Button, ButtonKind, Card, PasskeyOnly, TextField};
use crate::ui::webauthn;

/// `/login/second-factor`: after the password (or an emailed code), a code from the authenticator app or
/// a recovery code. Plain forms; without a sign-in waiting here, back to /login.
#[component]
pub fn SecondFactorPage() -> impl IntoView {
    let totp = ServerAction::<SignInWithTotp>::new();
    let recovery = ServerAction::<SignInWithRecoveryCode>::new();
    let cancel = ServerAction::<LogOut>::new();
    let state = Resource::new_blocking(|| (), |_| load_second_factor_page());
    view! {
        <Title text=t("second_factor.title") />
        <h1 class="vs-h1">{t("second_factor.title")}</h1>
        <Suspense>
            {move || Suspend::new(async move {
                let Ok(Some(state)) = state.await else {
                    return view! { <Redirect path="/login" /> }.into_any();
                };
                let totp_error = form_error(totp, state.flash.clone(), "second-factor-totp");
                let recovery_error = form_error(recovery, state.flash.clone(), "second-factor-recovery");
                view! {
                    {state.for_reset.then(|| view! { <p>{t("second_factor.for_reset")}</p> })}
                    {state.security_key.then(|| view! { <SecurityKeyStep /> })}
                    {state.totp.then(|| view! {
                        <Card>
                            <h2 class="vs-card-heading">{t("second_factor.totp_heading")}</h2>
                            <FormError error=totp_error />
                            <ActionForm action=totp>
                                <TextField name="code" id="totp-code" label=t("second_factor.totp_code")
                                    autocomplete="one-time-code" inputmode="numeric" required=true
                                    hint=t("second_factor.totp_hint") error=field_error(totp_error, "code") />
                                <Button>{t("second_factor.submit")}</Button>
                            </ActionForm>
                        </Card>
                    })}
                    {state.recovery_codes.then(|| view! {
                        <Card>
                            <h2 class="vs-card-heading">{t("second_factor.recovery_heading")}</h2>
                            <FormError error=recovery_error />
                            <ActionForm action=recovery>
                                <TextField name="code" id="recovery-code" label=t("second_factor.recovery_code")
                                    autocomplete="off" required=true hint=t("second_factor.recovery_hint") />
                                <Button kind=ButtonKind::Secondary>{t("second_factor.recovery_submit")}</Button>
                            </ActionForm>
                        </Card>
                    })}
                    // the support path, for whoever lost both the factor and the codes
                    <p class="vs-muted">{t("second_factor.no_recovery_codes")}</p>
                    <ActionForm action=cancel>
                        <Button kind=ButtonKind::Secondary>{t("second_factor.cancel")}</Button>
                    </ActionForm>
                }.into_any()
            })}
        </Suspense>
    }
}

/// The security-key way through the second-factor step (needs JavaScript, like every WebAuthn ceremony).
#[component]
fn SecurityKeyStep() -> impl IntoView {
    let error = RwSignal::new(None::<String>);
    let use_key = move |_| {
        error.set(None);
        spawn_local(async move {
            let result = async {
                let options = security_key_sign_in_start().await.map_err(|e| e.message())?;
                let answer = webauthn::get(&options).await.map_err(|e| t(e.message_key()).to_string())?;
                security_key_sign_in_finish(answer).await.map_err(|e| e.message())
            }
            .await;
            match result {
                Ok(next) => webauthn::go_to(&next),
                Err(message) => error.set(Some(message)),
            }
        });
    };
    view! {
        <Card>
            <h2 class="vs-card-heading">{t("second_factor.key_heading")}</h2>
            <PasskeyOnly for_security_keys=true>
                <Button r#type="button" on:click=use_key>{t("second_factor.key_button")}</Button>
            </PasskeyOnly>
            <div aria-live="polite">
                {move || error.get().map(|m| view! { <Alert kind=AlertKind::Error>{m}</Alert> })}
            </div>
        </Card>
    }
}
