//! Where a form's error comes from: the hydrated action's result, or (JavaScript off) the flash the server
//! kept across the redirect back to the form.

use leptos::prelude::*;

use crate::error::AppError;
use crate::types::Flash;
use crate::ui::components::{Alert, AlertKind};

/// The error to show for `form`: the latest action result wins over the flash.
pub fn form_error<A>(action: ServerAction<A>, flash: Option<Flash>, form: &str) -> Signal<Option<AppError>>
where
    A: leptos::server_fn::ServerFn<Output = (), Error = AppError> + Clone + Send + Sync + 'static,
    A::Output: Send + Sync + 'static,
{
    let from_flash = flash.filter(|f| f.form == form).and_then(|f| f.error);
    Signal::derive(move || match action.value().get() {
        Some(Err(err)) => Some(err),
        Some(Ok(())) => None,
        None => from_flash.clone(),
    })
}

/// The page-level message of an error (field problems are shown at their fields).
#[component]
pub fn FormError(error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error.get().map(|e| {
            let id = e.operation_id.clone();
            view! {
                <Alert kind=AlertKind::Error>
                    <p>{e.message()}</p>
                    {id.filter(|_| e.kind == crate::error::ErrorKind::Internal || e.kind == crate::error::ErrorKind::Unavailable)
                        .map(|id| view! { <p class="vs-hint">{crate::i18n::t("error.operation_id")}": "<code>{id}</code></p> })}
                </Alert>
            }
        })
    }
}

/// The message for one field of the current error.
pub fn field_error(error: Signal<Option<AppError>>, field: &'static str) -> Signal<Option<String>> {
    Signal::derive(move || error.get().and_then(|e| e.problem(field)))
}
