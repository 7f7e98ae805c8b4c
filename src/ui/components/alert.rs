use leptos::prelude::*;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AlertKind {
    #[default]
    Info,
    Success,
    Error,
}

/// A message about the page as a whole. Errors are announced at once (`role="alert"`), other kinds politely.
#[component]
pub fn Alert(children: Children, #[prop(optional)] kind: AlertKind) -> impl IntoView {
    let (class, role) = match kind {
        AlertKind::Info => ("vs-alert vs-alert-info", "status"),
        AlertKind::Success => ("vs-alert vs-alert-success", "status"),
        AlertKind::Error => ("vs-alert vs-alert-error", "alert"),
    };
    view! {
        <div class=class role=role>
            {children()}
        </div>
    }
}
