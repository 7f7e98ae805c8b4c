use leptos::prelude::*;

/// A labelled input with an optional hint and error. The label is always visible; hint and error are tied
/// to the input with `aria-describedby`, and an error sets `aria-invalid` so screen readers announce it.
#[component]
pub fn TextField(
    /// Form field name, also the base of the element ids.
    name: &'static str,
    label: &'static str,
    #[prop(default = "text")] r#type: &'static str,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional, into)] error: Signal<Option<String>>,
    #[prop(optional, into)] value: Option<String>,
    #[prop(optional)] required: bool,
    /// Called with the value on every keystroke (hydrated pages only).
    #[prop(optional)]
    on_input: Option<Callback<String>>,
    /// Called with the value when the field loses focus after a change (hydrated pages only).
    #[prop(optional)]
    on_change: Option<Callback<String>>,
    #[prop(optional)] inputmode: Option<&'static str>,
    /// Base of the element ids when two forms on one page share a field name.
    #[prop(optional)]
    id: Option<&'static str>,
) -> impl IntoView {
    let id = format!("field-{}", id.unwrap_or(name));
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let described_by = {
        let (hint_id, error_id) = (hint_id.clone(), error_id.clone());
        move || {
            let mut ids = Vec::new();
            if hint.is_some() {
                ids.push(hint_id.clone());
            }
            if error.get().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="vs-field">
            <label for=id.clone() class="vs-label">{label}</label>
            {hint.map(|h| view! { <p id=hint_id.clone() class="vs-hint">{h}</p> })}
            <input
                id=id
                name=name
                type=r#type
                class="vs-input"
                autocomplete=autocomplete
                value=value
                required=required
                inputmode=inputmode
                aria-invalid=move || error.get().map(|_| "true")
                aria-describedby=described_by
                on:input=move |ev| {
                    if let Some(cb) = on_input {
                        cb.run(event_target_value(&ev));
                    }
                }
                on:change=move |ev| {
                    if let Some(cb) = on_change {
                        cb.run(event_target_value(&ev));
                    }
                }
            />
            {move || error.get().map(|e| view! { <p id=error_id.clone() class="vs-error">{e}</p> })}
        </div>
    }
}
