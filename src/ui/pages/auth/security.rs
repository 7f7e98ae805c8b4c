//! `/account/security`: the account's passkeys (add, rename, remove), its password (remove once passkeys
//! are enough), and confirming it is you before such changes (step-up). Renaming, removing and confirming
//! with the password are plain forms; adding a passkey or confirming with one needs JavaScript.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

use super::form_state::{field_error, form_error, FormError};
use super::two_step::{TwoStep, TwoStepActions};
use crate::error::AppError;
use crate::i18n::t;
use crate::server_fns::account::ChangePassword;
use crate::server_fns::mfa::{ConfirmWithRecoveryCode, ConfirmWithTotp};
use crate::server_fns::passkeys::{
    load_security_page, passkey_add_finish, passkey_add_start, passkey_confirm_finish, passkey_confirm_start,
    ConfirmWithPassword, RemovePasskey, RemovePassword, RenamePasskey,
};
use crate::server_fns::security_keys::{security_key_confirm_finish, security_key_confirm_start};
use crate::types::{ConfirmOptions, Flash, PasskeyView, SecurityPageState};
use crate::ui::components::{Alert, AlertKind, Button, ButtonKind, Card, PasskeyOnly, TextField};
use crate::ui::pages::oauth::{ContinueVia, ContinuingTo};
use crate::ui::webauthn;

#[component]
pub fn SecurityPage() -> impl IntoView {
    let rename = ServerAction::<RenamePasskey>::new();
    let remove = ServerAction::<RemovePasskey>::new();
    let remove_pw = ServerAction::<RemovePassword>::new();
    let change_pw = ServerAction::<ChangePassword>::new();
    let confirm = ConfirmActions::new();
    let two_step = TwoStepActions::new();
    // bumped by the passkey ceremonies (not actions) to reload the page's data
    let reload = confirm.reload;
    // outside the reloading part, so the outcome of adding a passkey outlives the reload it causes
    let add_status = RwSignal::new(None::<Result<String, String>>);
    let page = Resource::new_blocking(
        move || {
            (
                rename.version().get(),
                remove.version().get(),
                remove_pw.version().get(),
                change_pw.version().get(),
                confirm.version(),
                two_step.version(),
            )
        },
        |_| load_security_page(),
    );
    view! {
        <Title text=t("security.title") />
        <Suspense>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(Some(state)) => view! {
                        <h1 class="vs-h1">{t("security.title")}</h1>
                        <p><a href="/account" class="vs-link">{t("security.back")}</a></p>
                        {state.mfa.setup_required.then(|| view! {
                            <Alert kind=AlertKind::Info>{t("security.mfa_setup_required")}</Alert>
                        })}
                        {(!state.mfa.setup_required).then(|| view! { <ContinuingTo via=ContinueVia::Setup /> })}
                        <Confirm options=state.confirm_options() recently_confirmed=state.recently_confirmed
                            flash=state.flash.clone() actions=confirm />
                        <TwoStep state=state.clone() actions=two_step />
                        <Passkeys state=state.clone() rename remove reload add_status />
                        <Password state remove_pw change_pw />
                    }.into_any(),
                    _ => view! { <Redirect path="/login" /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The confirm card's forms, and a signal its passkey and security-key confirmations (ceremonies, not
/// actions) bump; `version` changes with each, so a page reloads its data after a confirmation.
#[derive(Clone, Copy)]
pub(crate) struct ConfirmActions {
    pub password: ServerAction<ConfirmWithPassword>,
    pub totp: ServerAction<ConfirmWithTotp>,
    pub recovery: ServerAction<ConfirmWithRecoveryCode>,
    pub reload: RwSignal<u32>,
}

impl ConfirmActions {
    pub fn new() -> Self {
        Self {
            password: ServerAction::new(),
            totp: ServerAction::new(),
            recovery: ServerAction::new(),
            reload: RwSignal::new(0),
        }
    }

    pub fn version(&self) -> usize {
        self.password.version().get()
            + self.totp.version().get()
            + self.recovery.version().get()
            + self.reload.get() as usize
    }
}

/// Step-up: shown when the last sign-in is too old for sensitive changes, with every way `options` says
/// the account has. `return_to`: the page to come back to after a plain form (default /account/security).
#[component]
pub(crate) fn Confirm(
    options: ConfirmOptions,
    recently_confirmed: bool,
    flash: Option<Flash>,
    actions: ConfirmActions,
    #[prop(optional)] return_to: Option<&'static str>,
) -> impl IntoView {
    if recently_confirmed {
        return None;
    }
    let ConfirmActions { password: confirm, totp: confirm_totp, recovery: confirm_recovery, reload } = actions;
    let error = form_error(confirm, flash, "confirm");
    let totp_error = form_error(confirm_totp, None, "confirm");
    let recovery_error = form_error(confirm_recovery, None, "confirm");
    let totp_on = options.totp;
    let has_keys = options.security_key;
    let return_field = move || return_to.map(|path| view! { <input type="hidden" name="return_to" value=path /> });
    let key_error = RwSignal::new(None::<String>);
    let with_key = move |_| {
        key_error.set(None);
        spawn_local(async move {
            let result = async {
                let options = security_key_confirm_start().await.map_err(|e| e.message())?;
                let answer = webauthn::get(&options).await.map_err(|e| t(e.message_key()).to_string())?;
                security_key_confirm_finish(answer).await.map_err(|e| e.message())
            }
            .await;
            match result {
                Ok(()) => reload.update(|n| *n += 1),
                Err(message) => key_error.set(Some(message)),
            }
        });
    };
    let has_recovery_codes = options.recovery_code;
    let passkey_error = RwSignal::new(None::<String>);
    let with_passkey = move |_| {
        passkey_error.set(None);
        spawn_local(async move {
            let result = async {
                let options = passkey_confirm_start().await.map_err(|e| e.message())?;
                let answer = webauthn::get(&options).await.map_err(|e| t(e.message_key()).to_string())?;
                passkey_confirm_finish(answer).await.map_err(|e| e.message())
            }
            .await;
            match result {
                Ok(()) => reload.update(|n| *n += 1),
                Err(message) => passkey_error.set(Some(message)),
            }
        });
    };
    Some(view! {
        <Card>
            <h2 class="vs-card-heading" id="confirm">{t("security.confirm.heading")}</h2>
            <p class="vs-muted">{t("security.confirm.lead")}</p>
            <FormError error />
            <FormError error=totp_error />
            <FormError error=recovery_error />
            {totp_on.then(|| view! {
                <ActionForm action=confirm_totp>
                    {return_field()}
                    <TextField name="code" id="confirm-totp-code" label=t("security.confirm.totp")
                        autocomplete="one-time-code" inputmode="numeric" required=true />
                    <Button>{t("security.confirm.submit")}</Button>
                </ActionForm>
            })}
            {options.password.then(|| view! {
                <ActionForm action=confirm>
                    {return_field()}
                    <TextField name="password" label=t("security.confirm.password") r#type="password"
                        autocomplete="current-password" required=true />
                    <Button>{t("security.confirm.submit")}</Button>
                </ActionForm>
            })}
            {options.passkey.then(|| view! {
                <PasskeyOnly>
                    <Button r#type="button" kind=ButtonKind::Secondary on:click=with_passkey>
                        {t("security.confirm.passkey")}
                    </Button>
                </PasskeyOnly>
                <div aria-live="polite">
                    {move || passkey_error.get().map(|m| view! { <Alert kind=AlertKind::Error>{m}</Alert> })}
                </div>
            })}
            {has_keys.then(|| view! {
                <PasskeyOnly for_security_keys=true>
                    <Button r#type="button" kind=ButtonKind::Secondary on:click=with_key>
                        {t("security.confirm.security_key")}
                    </Button>
                </PasskeyOnly>
                <div aria-live="polite">
                    {move || key_error.get().map(|m| view! { <Alert kind=AlertKind::Error>{m}</Alert> })}
                </div>
            })}
            {has_recovery_codes.then(|| view! {
                <details class="vs-details">
                    <summary>{t("security.confirm.recovery_summary")}</summary>
                    <ActionForm action=confirm_recovery>
                        {return_field()}
                        <TextField name="code" id="confirm-recovery-code" label=t("security.confirm.recovery")
                            autocomplete="off" required=true />
                        <Button kind=ButtonKind::Secondary>{t("security.confirm.submit")}</Button>
                    </ActionForm>
                </details>
            })}
        </Card>
    })
}

#[component]
fn Passkeys(
    state: SecurityPageState,
    rename: ServerAction<RenamePasskey>,
    remove: ServerAction<RemovePasskey>,
    reload: RwSignal<u32>,
    add_status: RwSignal<Option<Result<String, String>>>,
) -> impl IntoView {
    let remove_error = form_error(remove, state.flash.clone(), "passkeys");
    let add = move |_| {
        add_status.set(None);
        spawn_local(async move {
            let result = async {
                let options = passkey_add_start().await.map_err(|e| e.message())?;
                let answer = webauthn::create(&options).await.map_err(|e| t(e.message_key()).to_string())?;
                passkey_add_finish(answer, None).await.map_err(|e| e.message())
            }
            .await;
            match result {
                Ok(()) => {
                    add_status.set(Some(Ok(t("security.passkeys.added").into())));
                    reload.update(|n| *n += 1);
                }
                Err(message) => add_status.set(Some(Err(message))),
            }
        });
    };
    let flash = state.flash.clone();
    view! {
        <Card>
            <h2 class="vs-card-heading">{t("security.passkeys.heading")}</h2>
            <FormError error=remove_error />
            {if state.passkeys.is_empty() {
                view! { <p class="vs-muted">{t("security.passkeys.none")}</p> }.into_any()
            } else {
                view! {
                    <ul class="vs-list" data-passkeys="">
                        {state.passkeys.into_iter().map(|p| {
                            let error = form_error(rename, flash.clone(), &format!("rename:{}", p.id));
                            view! { <PasskeyItem passkey=p rename remove error /> }
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <PasskeyOnly>
                <Button r#type="button" on:click=add>{t("security.passkeys.add")}</Button>
            </PasskeyOnly>
            <div aria-live="polite">
                {move || add_status.get().map(|r| match r {
                    Ok(m) => view! { <Alert kind=AlertKind::Success>{m}</Alert> }.into_any(),
                    Err(m) => view! { <Alert kind=AlertKind::Error>{m}</Alert> }.into_any(),
                })}
            </div>
        </Card>
    }
}

#[component]
fn PasskeyItem(
    passkey: PasskeyView,
    rename: ServerAction<RenamePasskey>,
    remove: ServerAction<RemovePasskey>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let name_id = format!("passkey-name-{}", passkey.id);
    let error_id = format!("{name_id}-error");
    let error_p_id = error_id.clone();
    let last_used = passkey.last_used_on.clone().unwrap_or_else(|| t("security.passkeys.never").to_string());
    let name_id_for_label = name_id.clone();
    let current_name = passkey.name.clone();
    let (id_for_rename, id_for_remove) = (passkey.id.clone(), passkey.id.clone());
    let PasskeyView { name, authenticator, created_on, .. } = passkey;
    let name_error = Signal::derive(move || error.get().map(|e| e.problem("name").unwrap_or_else(|| e.message())));
    view! {
        <li class="vs-list-item" data-passkey=name.clone()>
            <h3 class="vs-item-heading">{name.clone()}</h3>
            <dl class="vs-dl">
                {authenticator.map(|a| view! {
                    <dt>{t("security.passkeys.authenticator")}</dt><dd>{a}</dd>
                })}
                <dt>{t("security.passkeys.created")}</dt><dd>{created_on}</dd>
                <dt>{t("security.passkeys.last_used")}</dt><dd>{last_used}</dd>
            </dl>
            <ActionForm action=rename attr:class="vs-inline-form">
                <input type="hidden" name="id" value=id_for_rename />
                <div class="vs-field">
                    <label for=name_id_for_label class="vs-label">{t("security.passkeys.name")}</label>
                    <input id=name_id name="name" class="vs-input" required=true maxlength="64" value=current_name
                        aria-invalid=move || name_error.get().map(|_| "true")
                        aria-describedby=move || name_error.get().map(|_| error_id.clone()) />
                    {move || name_error.get().map(|m| view! {
                        <p id=error_p_id.clone() class="vs-error">{m}</p>
                    })}
                </div>
                <Button kind=ButtonKind::Secondary>{t("security.passkeys.rename")}</Button>
            </ActionForm>
            <ActionForm action=remove attr:class="vs-inline-form">
                <input type="hidden" name="id" value=id_for_remove />
                <Button kind=ButtonKind::Secondary>{t("security.passkeys.remove")}</Button>
            </ActionForm>
        </li>
    }
}

/// The password: change it, or add one to a passwordless account (both plain forms needing a recent
/// sign-in), and remove it once passkeys are enough.
#[component]
fn Password(
    state: SecurityPageState,
    remove_pw: ServerAction<RemovePassword>,
    change_pw: ServerAction<ChangePassword>,
) -> impl IntoView {
    let error = form_error(remove_pw, state.flash.clone(), "password");
    let change_error = form_error(change_pw, state.flash.clone(), "password-change");
    let query = use_query_map();
    let changed = move || query.read().get("password_changed").is_some() && change_error.get().is_none();
    let (heading, submit) = if state.has_password {
        (t("security.password.change_heading"), t("security.password.change"))
    } else {
        (t("security.password.set_heading"), t("security.password.set"))
    };
    view! {
        <Card>
            <h2 class="vs-card-heading" id="password">{heading}</h2>
            {move || changed().then(|| view! { <Alert kind=AlertKind::Success>{t("security.password.changed")}</Alert> })}
            <FormError error=change_error />
            <ActionForm action=change_pw>
                // lets password managers file the new password under the right account
                <input type="text" name="username" value=state.email.clone() autocomplete="username" hidden=true
                    readonly=true aria-hidden="true" tabindex="-1" />
                <TextField name="password" id="new-password" label=t("security.password.new") r#type="password"
                    autocomplete="new-password" required=true hint=t("signup.password_hint")
                    error=field_error(change_error, "password") />
                <Button>{submit}</Button>
            </ActionForm>
        </Card>
        <Card>
            <h2 class="vs-card-heading">{t("security.password.heading")}</h2>
            <FormError error />
            {match (state.has_password, state.passkeys.is_empty()) {
                (true, false) => view! {
                    <p class="vs-muted">{t("security.password.can_remove")}</p>
                    <ActionForm action=remove_pw>
                        <Button kind=ButtonKind::Secondary>{t("security.password.remove")}</Button>
                    </ActionForm>
                }.into_any(),
                (true, true) => view! { <p class="vs-muted">{t("security.password.add_passkey_first")}</p> }.into_any(),
                (false, _) => view! { <p class="vs-muted">{t("security.password.none")}</p> }.into_any(),
            }}
        </Card>
    }
}
