use leptos::prelude::*;

/// Visual weight of a button: one primary action per view, the rest secondary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ButtonKind {
    #[default]
    Primary,
    Secondary,
}

impl ButtonKind {
    fn class(self) -> &'static str {
        match self {
            ButtonKind::Primary => "vs-btn vs-btn-primary",
            ButtonKind::Secondary => "vs-btn vs-btn-secondary",
        }
    }
}

/// A real `<button>`: submits its form when JavaScript is off.
#[component]
pub fn Button(
    children: Children,
    #[prop(optional)] kind: ButtonKind,
    #[prop(optional, into)] name: Option<String>,
    #[prop(optional, into)] value: Option<String>,
    #[prop(default = "submit")] r#type: &'static str,
    #[prop(optional, into)] disabled: Signal<bool>,
) -> impl IntoView {
    view! {
        <button type=r#type class=kind.class() name=name value=value disabled=move || disabled.get()>
            {children()}
        </button>
    }
}

/// A link that looks like a button, for navigation (never for actions that change state).
#[component]
pub fn LinkButton(children: Children, href: &'static str, #[prop(optional)] kind: ButtonKind) -> impl IntoView {
    view! {
        <a href=href class=kind.class()>
            {children()}
        </a>
    }
}
