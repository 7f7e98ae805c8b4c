use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::form_state::{field_error, form_error, FormError};
use crate::i18n::t;
use crate::server_fns::email_codes::{
    load_email_code_page, EnterEmailCode, OpenEmailLink, RestartEmailCode, SendEmailCode,
};
use crate::types::EmailFlow;
use crate::ui::components::{Alert, AlertKind, Button, ButtonKind, Card, TextField};

/// The words of a flow's page.
struct Texts {
    title: &'static str,
    lead: &'static str,
    submit: &'static str,
    link_lead: &'static str,
    link_submit: &'static str,
    back: &'static str,
}

fn texts(flow: EmailFlow) -> Texts {
    match flow {
        EmailFlow::SignIn => Texts {
            title: t("email_code.sign_in.title"),
            lead: t("email_code.sign_in.lead"),
            submit: t("email_code.sign_in.submit"),
            link_lead: t("email_code.sign_in.link_lead"),
            link_submit: t("email_code.sign_in.link_submit"),
            back: t("email_code.sign_in.back"),
        },
        EmailFlow::Recover => Texts {
            title: t("email_code.recover.title"),
            lead: t("email_code.recover.lead"),
            submit: t("email_code.recover.submit"),
            link_lead: t("email_code.recover.link_lead"),
            link_submit: t("email_code.recover.link_submit"),
            back: t("email_code.recover.back"),
        },
    }
}

/// The two forms of the code step.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CodeForm {
    Enter,
    Resend,
}

/// `error`, hidden once `other` was the form used last.
fn unless_other_newer(
    error: Signal<Option<crate::error::AppError>>,
    last_used: RwSignal<Option<CodeForm>>,
    other: CodeForm,
) -> Signal<Option<crate::error::AppError>> {
    Signal::derive(move || error.get().filter(|_| last_used.get() != Some(other)))
}

/// `/login/email` (sign in with an emailed code) and `/recover` (forgot password): the address, then the
/// code; or, from the mail's link (`?token=`), one button (plus the code when this is not the browser that
/// asked). Opening the link changes nothing by itself, so mail scanners cannot use it up.
#[component]
pub fn EmailCodePage(flow: EmailFlow) -> impl IntoView {
    let send = ServerAction::<SendEmailCode>::new();
    // "send a new code" is its own action, so only a resend says that a new message is on its way
    let resend = ServerAction::<SendEmailCode>::new();
    let enter = ServerAction::<EnterEmailCode>::new();
    let by_link = ServerAction::<OpenEmailLink>::new();
    let restart = ServerAction::<RestartEmailCode>::new();
    // Hydrated, the code form and "send a new code" answer on the same page: only the newer answer's error
    // shows, so a code refused before a new message was asked for does not stay beside the news of it.
    // (Without JavaScript each answer is a new page, which shows one error anyway.)
    let last_used = RwSignal::new(None::<CodeForm>);
    Effect::new(move |_| {
        if enter.pending().get() {
            last_used.set(Some(CodeForm::Enter));
        }
    });
    Effect::new(move |_| {
        if resend.pending().get() {
            last_used.set(Some(CodeForm::Resend));
        }
    });
    let query = use_query_map();
    let token = move || query.read().get("token");
    // hydrated, the forms answer without a page load: read the state again after each
    let state = Resource::new_blocking(
        move || (send.version().get(), resend.version().get(), restart.version().get(), token()),
        move |(_, _, _, token)| load_email_code_page(flow, token),
    );
    let texts = texts(flow);
    view! {
        <Title text=texts.title />
        <h1 class="vs-h1">{texts.title}</h1>
        <Suspense>
            {move || Suspend::new(async move {
                let state = state.await.unwrap_or_default();
                let texts = self::texts(flow);
                let flash = state.flash.clone();
                // mt-4: alone in its paragraph right under a button, the small link needs the space (WCAG 2.5.8
                // target size; axe "target-size")
                let back = view! { <p class="vs-muted mt-4"><a href="/login" class="vs-link">{texts.back}</a></p> };
                if !state.enabled {
                    return view! {
                        <Card><Alert kind=AlertKind::Info>{t("email_code.off")}</Alert>{back}</Card>
                    }.into_any();
                }
                if let Some(token) = token() {
                    let error = form_error(by_link, flash, "email-code-link");
                    return view! {
                        <Card>
                            <FormError error />
                            <p>{texts.link_lead}</p>
                            <ActionForm action=by_link>
                                <input type="hidden" name="flow" value=flow.as_str() />
                                <input type="hidden" name="token" value=token />
                                {state.link_needs_code.then(|| view! {
                                    <p>{t("email_code.link_needs_code")}</p>
                                    <TextField name="code" label=t("email_code.code") autocomplete="one-time-code"
                                        inputmode="numeric" required=true hint=t("email_code.code_hint") />
                                })}
                                <Button>{texts.link_submit}</Button>
                            </ActionForm>
                            {back}
                        </Card>
                    }.into_any();
                }
                match state.pending_email {
                    Some(email) => {
                        let sent = flash.as_ref().is_some_and(|f| f.form == "email-code" && f.notice.is_some());
                        let code_error = unless_other_newer(
                            form_error(enter, flash.clone(), "email-code-verify"), last_used, CodeForm::Resend);
                        let resend_error =
                            unless_other_newer(form_error(resend, flash, "email-code-send"), last_used, CodeForm::Enter);
                        let code_lead = t("email_code.code_lead").replace("{email}", &email);
                        view! {
                            <Card>
                                {move || (sent || resend.value().get().is_some_and(|r| r.is_ok()))
                                    .then(|| view! { <Alert kind=AlertKind::Success>{t("email_code.sent")}</Alert> })}
                                <FormError error=code_error />
                                <p>{code_lead}</p>
                                <ActionForm action=enter>
                                    <input type="hidden" name="flow" value=flow.as_str() />
                                    <TextField name="code" label=t("email_code.code") autocomplete="one-time-code"
                                        inputmode="numeric" required=true hint=t("email_code.code_hint") />
                                    <Button>{t("email_code.code_submit")}</Button>
                                </ActionForm>
                            </Card>
                            <Card>
                                <FormError error=resend_error />
                                <p>{t("email_code.resend_lead")}</p>
                                // side by side with a gap, not two buttons touching
                                <div class="vs-actions">
                                    <ActionForm action=resend>
                                        <input type="hidden" name="flow" value=flow.as_str() />
                                        <input type="hidden" name="email" value=email />
                                        <Button kind=ButtonKind::Secondary>{t("email_code.resend")}</Button>
                                    </ActionForm>
                                    <ActionForm action=restart>
                                        <input type="hidden" name="flow" value=flow.as_str() />
                                        <Button kind=ButtonKind::Secondary>{t("email_code.other_address")}</Button>
                                    </ActionForm>
                                </div>
                                {back}
                            </Card>
                        }.into_any()
                    }
                    None => {
                        let error = form_error(send, flash.clone(), "email-code-send");
                        let email = flash.filter(|f| f.form == "email-code-send").and_then(|f| f.email);
                        view! {
                            <Card>
                                <FormError error />
                                <p>{texts.lead}</p>
                                <ActionForm action=send>
                                    <input type="hidden" name="flow" value=flow.as_str() />
                                    <TextField name="email" label=t("email_code.email") r#type="email" autocomplete="email"
                                        required=true value=email.unwrap_or_default() error=field_error(error, "email") />
                                    <Button>{texts.submit}</Button>
                                </ActionForm>
                                {back}
                            </Card>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}
