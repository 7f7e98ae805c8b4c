//! The passkey part of /login: a button for discoverable passkeys, passkeys in the email field's autofill
//! (conditional mediation) where the browser supports it, and identifier-first: once an address is typed,
//! its account's passkey is offered when it has one. All of it needs JavaScript; without, a note says so
//! and the password form below still works.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::i18n::t;
use crate::server_fns::passkeys::{passkey_signin_finish, passkey_signin_start};
use crate::ui::components::{Alert, AlertKind, Button, ButtonKind};
use crate::ui::webauthn::{self, CeremonyError};

/// What the last passkey attempt left to say.
#[derive(Clone, Debug, PartialEq)]
enum Status {
    Idle,
    Waiting,
    Failed(String),
}

/// Shared by the button, the autofill and the identifier-first offer.
#[derive(Clone, Copy)]
pub struct PasskeySignIn {
    status: RwSignal<Status>,
    /// Options for the address typed in the email field, when its account has passkeys.
    offer: RwSignal<Option<String>>,
}

impl PasskeySignIn {
    pub fn new() -> Self {
        Self { status: RwSignal::new(Status::Idle), offer: RwSignal::new(None) }
    }

    /// Starts the autofill offer once the page is hydrated, where the browser supports it.
    pub fn start_autofill(self) {
        Effect::new(move |_| {
            spawn_local(async move {
                if !webauthn::conditional_available().await {
                    return;
                }
                let Ok(Some(options)) = passkey_signin_start(None, true).await else {
                    return;
                };
                // stays pending until the person picks a passkey in the autofill (or it is cancelled)
                if let Ok(answer) = webauthn::get_conditional(&options).await {
                    self.finish(answer, true).await;
                }
            });
        });
    }

    /// The typed address changed: ask whether its account has a passkey to offer.
    pub fn email_changed(self, email: String) {
        if email.trim().is_empty() {
            return self.offer.set(None);
        }
        spawn_local(async move {
            let offer = passkey_signin_start(Some(email), false).await.ok().flatten();
            self.offer.set(offer);
        });
    }

    /// A dialog ceremony with `options`, or fresh discoverable options when `None`.
    fn run(self, options: Option<String>) {
        webauthn::cancel_conditional();
        self.status.set(Status::Waiting);
        spawn_local(async move {
            let options = match options {
                Some(options) => Ok(Some(options)),
                None => passkey_signin_start(None, false).await,
            };
            let options = match options {
                Ok(Some(options)) => options,
                Ok(None) => return self.status.set(Status::Failed(t("passkeys.failed").into())),
                Err(e) => return self.status.set(Status::Failed(e.message())),
            };
            match webauthn::get(&options).await {
                Ok(answer) => self.finish(answer, false).await,
                Err(e) => self.status.set(Status::Failed(t(e.message_key()).into())),
            }
        });
    }

    async fn finish(self, answer: String, conditional: bool) {
        self.status.set(Status::Waiting);
        match passkey_signin_finish(answer, conditional).await {
            Ok(next) => webauthn::go_to(&next),
            Err(e) => self.status.set(Status::Failed(e.message())),
        }
    }
}

/// The "Sign in with a passkey" button and the status of passkey attempts.
#[component]
pub fn PasskeyButton(controls: PasskeySignIn) -> impl IntoView {
    // Effects run only in the browser: until hydration (and with JavaScript off) there is no button.
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));
    let supported = move || hydrated.get() && webauthn::supported();
    view! {
        <div class="vs-passkey" data-passkey-signin="">
            {move || (!supported()).then(|| view! {
                <p class="vs-muted">
                    {move || if hydrated.get() { t(CeremonyError::Unsupported.message_key()) } else { t("passkeys.needs_js") }}
                </p>
            })}
            {move || supported().then(|| view! {
                <div class="vs-actions">
                    {move || controls.offer.get().map(|options| view! {
                        <Button r#type="button" on:click=move |_| controls.run(Some(options.clone()))>
                            {t("login.passkey_offer")}
                        </Button>
                    })}
                    <Button r#type="button" kind=ButtonKind::Secondary on:click=move |_| controls.run(None)>
                        {t("login.passkey")}
                    </Button>
                </div>
            })}
            <div aria-live="polite">
                {move || match controls.status.get() {
                    Status::Idle => None,
                    Status::Waiting => Some(view! { <p class="vs-muted">{t("passkeys.waiting")}</p> }.into_any()),
                    Status::Failed(message) => Some(view! { <Alert kind=AlertKind::Error>{message}</Alert> }.into_any()),
                }}
            </div>
        </div>
    }
}
