use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::or_redirect;
use crate::i18n::t;
use crate::server_fns::email_change::{
    load_email_change_page, CancelEmailChange, ConfirmEmailChange, OpenEmailChangeLink, RequestEmailChange,
};
use crate::types::EmailChangePageState;
use crate::ui::components::{Alert, AlertKind, Button, ButtonKind, Card, TextField};
use crate::ui::pages::auth::form_state::{field_error, form_error, FormError};
use crate::ui::pages::auth::{Confirm, ConfirmActions};

/// `/account/email`: the account's address and a form for a new one. Asking needs a recent sign-in (the
/// confirm card appears in place); then the code sent to the new address, or the mail's link
/// (`?token=`: one button, plus the code in another browser than the one that asked), makes it the
/// account's address. Plain forms. Visitors not signed in go to /login.
#[component]
pub fn EmailPage() -> impl IntoView {
    let request = ServerAction::<RequestEmailChange>::new();
    // "send a new code" is its own action, so only a resend says that a new message is on its way
    let resend = ServerAction::<RequestEmailChange>::new();
    let enter = ServerAction::<ConfirmEmailChange>::new();
    let by_link = ServerAction::<OpenEmailChangeLink>::new();
    let cancel = ServerAction::<CancelEmailChange>::new();
    let confirm = ConfirmActions::new();
    let query = use_query_map();
    let token = move || query.read().get("token").filter(|t| !t.is_empty());
    let changed = move || query.read().get("changed").is_some();
    let page = Resource::new_blocking(
        move || {
            (
                (request.version().get(), resend.version().get(), enter.version().get(), by_link.version().get()),
                (cancel.version().get(), confirm.version()),
                token(),
            )
        },
        |(_, _, token)| load_email_change_page(token),
    );
    let actions = Actions { request, resend, enter, by_link, cancel };
    view! {
        <Title text=t("email_change.title") />
        <h1 class="vs-h1">{t("email_change.title")}</h1>
        <p><a href="/account" class="vs-link">{t("email_change.back")}</a></p>
        <Suspense>
            {move || Suspend::new(async move {
                let state = match or_redirect(page.await) {
                    Ok(state) => state,
                    Err(away) => return away,
                };
                let changed_to = changed().then(|| t("email_change.changed").replace("{email}", &state.email));
                let current = state.email.clone();
                view! {
                    {changed_to.map(|text| view! { <Alert kind=AlertKind::Success>{text}</Alert> })}
                    <Confirm options=state.confirm recently_confirmed=state.recently_confirmed
                        flash=state.flash.clone() actions=confirm
                        return_to="/account/email" />
                    <Card>
                        <dl class="vs-dl">
                            <dt>{t("email_change.current")}</dt>
                            <dd data-current-email="">{current}</dd>
                        </dl>
                    </Card>
                    {match token() {
                        Some(token) => view! { <LinkForm state token actions /> }.into_any(),
                        None => view! { <ChangeForms state actions /> }.into_any(),
                    }}
                }.into_any()
            })}
        </Suspense>
    }
}

/// The page's forms, handed to its parts.
#[derive(Clone, Copy)]
struct Actions {
    request: ServerAction<RequestEmailChange>,
    resend: ServerAction<RequestEmailChange>,
    enter: ServerAction<ConfirmEmailChange>,
    by_link: ServerAction<OpenEmailChangeLink>,
    cancel: ServerAction<CancelEmailChange>,
}

/// From the mail's link: one button (plus the code when this is not the browser that asked). Opening the
/// link changes nothing by itself, so mail scanners cannot use it up.
#[component]
fn LinkForm(state: EmailChangePageState, token: String, actions: Actions) -> impl IntoView {
    let error = form_error(actions.by_link, state.flash, "email-change-link");
    view! {
        <Card>
            <FormError error />
            <p>{t("email_change.link_lead")}</p>
            <ActionForm action=actions.by_link>
                <input type="hidden" name="token" value=token />
                {state.link_needs_code.then(|| view! {
                    <p>{t("email_change.link_needs_code")}</p>
                    <TextField name="code" label=t("email_change.code") autocomplete="one-time-code"
                        inputmode="numeric" required=true hint=t("email_change.code_hint") />
                })}
                <Button>{t("email_change.link_submit")}</Button>
            </ActionForm>
        </Card>
    }
}

/// The new-address form, or, once a code was sent, the code form with "send a new code" and "use another
/// address".
#[component]
fn ChangeForms(state: EmailChangePageState, actions: Actions) -> impl IntoView {
    let Actions { request, resend, enter, cancel, .. } = actions;
    let flash = state.flash;
    match state.pending_email {
        Some(email) => {
            let sent = flash.as_ref().is_some_and(|f| f.form == "email-change" && f.notice.is_some());
            let code_error = form_error(enter, flash.clone(), "email-change-verify");
            let resend_error = form_error(resend, flash.clone(), "email-change-request");
            let cancel_error = form_error(cancel, flash, "email-change-cancel");
            let code_lead = t("email_change.code_lead").replace("{email}", &email);
            let pending_email = email.clone();
            view! {
                <Card>
                    {move || (sent || resend.value().get().is_some_and(|r| r.is_ok()))
                        .then(|| view! { <Alert kind=AlertKind::Success>{t("email_change.sent")}</Alert> })}
                    <FormError error=code_error />
                    <p data-pending-email=pending_email>{code_lead}</p>
                    <ActionForm action=enter>
                        <TextField name="code" label=t("email_change.code") autocomplete="one-time-code"
                            inputmode="numeric" required=true hint=t("email_change.code_hint") />
                        <Button>{t("email_change.code_submit")}</Button>
                    </ActionForm>
                </Card>
                <Card>
                    <FormError error=resend_error />
                    <FormError error=cancel_error />
                    <p>{t("email_change.resend_lead")}</p>
                    // side by side with a gap, not two buttons touching
                    <div class="vs-actions">
                        <ActionForm action=resend>
                            <input type="hidden" name="email" value=email />
                            <Button kind=ButtonKind::Secondary>{t("email_change.resend")}</Button>
                        </ActionForm>
                        <ActionForm action=cancel>
                            <Button kind=ButtonKind::Secondary>{t("email_change.other_address")}</Button>
                        </ActionForm>
                    </div>
                </Card>
            }
            .into_any()
        }
        None => {
            let error = form_error(request, flash.clone(), "email-change-request");
            let typed = flash.filter(|f| f.form == "email-change-request").and_then(|f| f.email);
            view! {
                <Card>
                    <FormError error />
                    <p class="vs-muted">{t("email_change.lead")}</p>
                    <ActionForm action=request>
                        <TextField name="email" label=t("email_change.new") r#type="email" autocomplete="email"
                            required=true value=typed.unwrap_or_default() error=field_error(error, "email") />
                        <Button>{t("email_change.submit")}</Button>
                    </ActionForm>
                </Card>
            }
            .into_any()
        }
    }
}
