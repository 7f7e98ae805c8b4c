//! The "Two-step verification" card of /account/security: the authenticator app (set up with a QR code or
//! the key typed by hand, confirmed with its first code; removed) and recovery codes (shown once, as text
//! and as a download; replaced on request). Plain forms throughout.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;

use super::form_state::{field_error, form_error, FormError};
use crate::i18n::t;
use crate::server_fns::mfa::{ConfirmTotpSetup, RegenerateRecoveryCodes, RemoveTotp, StartTotpSetup};
use crate::server_fns::security_keys::{security_key_add_finish, security_key_add_start, RemoveSecurityKey};
use crate::types::{SecurityKeyView, SecurityPageState, TotpView};
use crate::ui::components::{Alert, AlertKind, Button, ButtonKind, Card, PasskeyOnly, TextField};
use crate::ui::webauthn;

/// The card's forms; their versions reload the security page.
#[derive(Clone, Copy)]
pub struct TwoStepActions {
    start: ServerAction<StartTotpSetup>,
    confirm: ServerAction<ConfirmTotpSetup>,
    remove: ServerAction<RemoveTotp>,
    regenerate: ServerAction<RegenerateRecoveryCodes>,
    remove_key: ServerAction<RemoveSecurityKey>,
    /// Bumped when a security key was added (a ceremony, not an action).
    key_added: RwSignal<u32>,
    /// The outcome of adding a key: kept here, outside the card, so it outlives the reload it causes.
    key_status: RwSignal<Option<Result<String, String>>>,
}

impl TwoStepActions {
    pub fn new() -> Self {
        Self {
            start: ServerAction::new(),
            confirm: ServerAction::new(),
            remove: ServerAction::new(),
            regenerate: ServerAction::new(),
            remove_key: ServerAction::new(),
            key_added: RwSignal::new(0),
            key_status: RwSignal::new(None),
        }
    }

    /// Changes whenever one of the card's forms or ceremonies completed.
    pub fn version(&self) -> usize {
        self.start.version().get()
            + self.confirm.version().get()
            + self.remove.version().get()
            + self.regenerate.version().get()
            + self.remove_key.version().get()
            + self.key_added.get() as usize
    }
}

#[component]
pub fn TwoStep(state: SecurityPageState, actions: TwoStepActions) -> impl IntoView {
    let TwoStepActions { start, confirm, remove, regenerate, remove_key, key_added, key_status } = actions;
    let flash = state.flash.clone();
    let totp_error = Signal::derive({
        let (start_e, confirm_e, remove_e) = (
            form_error(start, flash.clone(), "totp"),
            form_error(confirm, flash.clone(), "totp"),
            form_error(remove, flash.clone(), "totp"),
        );
        move || confirm_e.get().or_else(|| start_e.get()).or_else(|| remove_e.get())
    });
    let recovery_error = form_error(regenerate, flash, "recovery");
    let query = use_query_map();
    let recovery_used = move || query.read().get("recovery_used").is_some();
    let left = state.mfa.recovery_codes_left;
    let totp = match state.mfa.totp.clone() {
        TotpView::Off => view! {
            <p class="vs-muted">{t("two_step.totp_off")}</p>
            <ActionForm action=start>
                <Button>{t("two_step.totp_start")}</Button>
            </ActionForm>
        }
        .into_any(),
        TotpView::Pending { secret, qr_svg_data_uri } => view! {
            <ol class="vs-steps">
                <li>{t("two_step.scan")}</li>
            </ol>
            <img class="vs-qr" src=qr_svg_data_uri alt=t("two_step.qr_alt") width="200" height="200" />
            <p>{t("two_step.manual")}</p>
            <p><code class="vs-secret" data-totp-secret="">{secret}</code></p>
            <ActionForm action=confirm>
                <TextField name="code" id="setup-code" label=t("two_step.code") autocomplete="one-time-code"
                    inputmode="numeric" required=true hint=t("two_step.code_hint")
                    error=field_error(totp_error, "code") />
                <Button>{t("two_step.confirm")}</Button>
            </ActionForm>
        }
        .into_any(),
        TotpView::On => view! {
            <p data-totp-on="">{t("two_step.totp_on")}</p>
            <ActionForm action=remove>
                <Button kind=ButtonKind::Secondary>{t("two_step.totp_remove")}</Button>
            </ActionForm>
        }
        .into_any(),
    };
    let new_codes = state.mfa.new_recovery_codes.clone();
    let has_factor = state.mfa.totp == TotpView::On || !state.mfa.security_keys.is_empty();
    let key_error = form_error(remove_key, state.flash.clone(), "security-keys");
    let keys = state.mfa.security_keys.clone();
    let recovery = has_factor.then(|| {
        let download = format!(
            "data:text/plain;charset=utf-8,{}",
            urlencoding_lite(&format!("{}\n\n{}\n", t("two_step.codes_file_heading"), new_codes.join("\n")))
        );
        view! {
            <h3 class="vs-item-heading" id="recovery">{t("two_step.recovery_heading")}</h3>
            <FormError error=recovery_error />
            {(!new_codes.is_empty()).then(|| view! {
                <Alert kind=AlertKind::Success>{t("two_step.codes_lead")}</Alert>
                <ul class="vs-codes" data-recovery-codes="">
                    {new_codes.iter().map(|c| view! { <li><code>{c.clone()}</code></li> }).collect_view()}
                </ul>
                <p><a class="vs-link" href=download download="vestibule-recovery-codes.txt">{t("two_step.codes_download")}</a></p>
            })}
            <p class="vs-muted" data-recovery-left=left.to_string()>
                {t("two_step.codes_left").replace("{n}", &left.to_string())}
            </p>
            <ActionForm action=regenerate>
                <Button kind=ButtonKind::Secondary>{t("two_step.codes_regenerate")}</Button>
            </ActionForm>
        }
    });
    view! {
        <Card>
            <h2 class="vs-card-heading" id="totp">{t("two_step.heading")}</h2>
            {move || recovery_used().then(|| view! {
                <Alert kind=AlertKind::Info>{t("two_step.recovery_used").replace("{n}", &left.to_string())}</Alert>
            })}
            <FormError error=totp_error />
            {totp}
            <h3 class="vs-item-heading" id="security-keys">{t("two_step.keys_heading")}</h3>
            <FormError error=key_error />
            {if keys.is_empty() {
                view! { <p class="vs-muted">{t("two_step.keys_none")}</p> }.into_any()
            } else {
                view! {
                    <ul class="vs-list" data-security-keys="">
                        {keys.into_iter().map(|k| view! { <KeyItem key_view=k remove_key /> }).collect_view()}
                    </ul>
                }.into_any()
            }}
            <AddSecurityKey key_added status=key_status />
            {recovery}
        </Card>
    }
}

#[component]
fn KeyItem(key_view: SecurityKeyView, remove_key: ServerAction<RemoveSecurityKey>) -> impl IntoView {
    let SecurityKeyView { id, name, created_on, last_used_on } = key_view;
    let last_used = last_used_on.unwrap_or_else(|| t("security.passkeys.never").to_string());
    let marker = name.clone();
    view! {
        <li class="vs-list-item" data-security-key=marker>
            <h4 class="vs-item-heading">{name}</h4>
            <dl class="vs-dl">
                <dt>{t("security.passkeys.created")}</dt><dd>{created_on}</dd>
                <dt>{t("security.passkeys.last_used")}</dt><dd>{last_used}</dd>
            </dl>
            <ActionForm action=remove_key attr:class="vs-inline-form">
                <input type="hidden" name="id" value=id />
                <Button kind=ButtonKind::Secondary>{t("two_step.key_remove")}</Button>
            </ActionForm>
        </li>
    }
}

/// Names and adds a security key (a WebAuthn ceremony: JavaScript only).
#[component]
fn AddSecurityKey(key_added: RwSignal<u32>, status: RwSignal<Option<Result<String, String>>>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let add = move |_| {
        status.set(None);
        spawn_local(async move {
            let result = async {
                let options = security_key_add_start().await.map_err(|e| e.message())?;
                let answer = webauthn::create(&options).await.map_err(|e| t(e.message_key()).to_string())?;
                let chosen = Some(name.get_untracked()).filter(|n| !n.trim().is_empty());
                security_key_add_finish(answer, chosen).await.map_err(|e| e.message())
            }
            .await;
            match result {
                Ok(()) => {
                    status.set(Some(Ok(t("two_step.key_added").into())));
                    key_added.update(|n| *n += 1);
                }
                Err(message) => status.set(Some(Err(message))),
            }
        });
    };
    view! {
        <PasskeyOnly for_security_keys=true>
            <div class="vs-field">
                <label for="security-key-name" class="vs-label">{t("two_step.key_name")}</label>
                <input id="security-key-name" class="vs-input" maxlength="64" autocomplete="off"
                    bind:value=name />
            </div>
            <Button r#type="button" kind=ButtonKind::Secondary on:click=add>{t("two_step.key_add")}</Button>
        </PasskeyOnly>
        <div aria-live="polite">
            {move || status.get().map(|r| match r {
                Ok(m) => view! { <Alert kind=AlertKind::Success>{m}</Alert> }.into_any(),
                Err(m) => view! { <Alert kind=AlertKind::Error>{m}</Alert> }.into_any(),
            })}
        </div>
    }
}

/// Percent-encodes text for a `data:` URL. By hand: a dozen lines, and the browser bundle gains no crate.
fn urlencoding_lite(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(char::from(byte)),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}
