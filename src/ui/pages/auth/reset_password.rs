use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;

use super::form_state::{field_error, form_error, FormError};
use crate::i18n::t;
use crate::server_fns::email_codes::{load_reset_page, ResetPassword};
use crate::ui::components::{Button, Card, TextField};

/// `/recover/password`: the new password, once the emailed code (and the second factor, when the account
/// has one) passed. Without a recovery waiting in this browser, back to /recover.
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let action = ServerAction::<ResetPassword>::new();
    let state = Resource::new_blocking(|| (), |_| load_reset_page());
    view! {
        <Title text=t("reset.title") />
        <h1 class="vs-h1">{t("reset.title")}</h1>
        <Suspense>
            {move || Suspend::new(async move {
                let Ok(Some(state)) = state.await else {
                    return view! { <Redirect path="/recover" /> }.into_any();
                };
                let error = form_error(action, state.flash.clone(), "reset");
                view! {
                    <Card>
                        <FormError error />
                        <p>{t("reset.lead").replace("{email}", &state.email)}</p>
                        <ActionForm action>
                            // lets password managers file the new password under the right account
                            <input type="text" name="username" value=state.email autocomplete="username" hidden=true
                                readonly=true aria-hidden="true" tabindex="-1" />
                            <TextField name="password" label=t("reset.password") r#type="password"
                                autocomplete="new-password" required=true hint=t("signup.password_hint")
                                error=field_error(error, "password") />
                            <Button>{t("reset.submit")}</Button>
                        </ActionForm>
                    </Card>
                }.into_any()
            })}
        </Suspense>
    }
}
