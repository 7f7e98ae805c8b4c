use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::form_state::{form_error, FormError};
use crate::i18n::t;
use crate::server_fns::auth::{load_verify_page, ResendVerification, VerifyEmailCode, VerifyEmailLink};
use crate::ui::components::{Alert, AlertKind, Button, ButtonKind, Card, TextField};

/// `/verify-email`: enter the 6-digit code, or (from the mail's link, `?token=`) confirm with one click.
/// Opening the link changes nothing by itself: the button posts, so mail scanners cannot use it up.
#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let by_code = ServerAction::<VerifyEmailCode>::new();
    let by_link = ServerAction::<VerifyEmailLink>::new();
    let resend = ServerAction::<ResendVerification>::new();
    let state = Resource::new_blocking(|| (), |_| load_verify_page());
    let query = use_query_map();
    view! {
        <Title text=t("verify.title") />
        <h1 class="vs-h1">{t("verify.title")}</h1>
        <Suspense>
            {move || Suspend::new(async move {
                let state = state.await.unwrap_or_default();
                let token = query.read_untracked().get("token");
                let flash = state.flash.clone();
                let resent = flash.as_ref().and_then(|f| f.notice.clone()).is_some();
                let code_error = form_error(by_code, flash.clone(), "verify");
                let link_error = form_error(by_link, flash.clone(), "verify");
                let resend_error = form_error(resend, None, "verify");
                let email = state.pending_email.clone().or_else(|| flash.and_then(|f| f.email)).unwrap_or_default();
                let (email_shown, email_field) = (email.clone(), email.clone());
                match token {
                    Some(token) => view! {
                        <Card>
                            <FormError error=link_error />
                            <p>{t("verify.link_lead")}</p>
                            <ActionForm action=by_link>
                                <input type="hidden" name="token" value=token />
                                <Button>{t("verify.link_submit")}</Button>
                            </ActionForm>
                        </Card>
                    }.into_any(),
                    None => view! {
                        <Card>
                            {move || (resent || resend.value().get().is_some_and(|r| r.is_ok()))
                                .then(|| view! { <Alert kind=AlertKind::Success>{t("verify.resent")}</Alert> })}
                            <FormError error=code_error />
                            <p>{t("verify.lead")}" "<strong>{email_shown}</strong></p>
                            <ActionForm action=by_code>
                                <TextField name="email" label=t("verify.email") r#type="email" autocomplete="email"
                                    required=true value=email_field />
                                <TextField name="code" label=t("verify.code") autocomplete="one-time-code" inputmode="numeric"
                                    required=true hint=t("verify.code_hint") />
                                <Button>{t("verify.submit")}</Button>
                            </ActionForm>
                        </Card>
                        <Card>
                            <FormError error=resend_error />
                            <p>{t("verify.resend_lead")}</p>
                            <ActionForm action=resend>
                                <input type="hidden" name="email" value=email />
                                <Button kind=ButtonKind::Secondary>{t("verify.resend")}</Button>
                            </ActionForm>
                        </Card>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
