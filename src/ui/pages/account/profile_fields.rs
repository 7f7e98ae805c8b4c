//! Controls of the profile forms: a labelled select, and the control of an operator-defined attribute by
//! its type (text, number, date, checkbox, select). Each has a visible label, its hint and its error tied
//! to it with `aria-describedby`, and `aria-invalid` while it has an error.

use leptos::prelude::*;

use crate::error::AppError;
use crate::i18n::t;
use crate::types::{AttributeField, AttributeKind, ChoiceOption};

/// The message for form field `field` (a name built at run time) in the current error.
pub(super) fn problem_at(error: Signal<Option<AppError>>, field: String) -> Signal<Option<String>> {
    Signal::derive(move || error.get().and_then(|e| e.problem(&field)))
}

/// `aria-describedby` of a control: its hint (when it has one) and its error (while there is one).
fn described_by(id: &str, has_hint: bool, error: Signal<Option<String>>) -> impl Fn() -> Option<String> {
    let (hint_id, error_id) = (format!("{id}-hint"), format!("{id}-error"));
    move || {
        let ids: Vec<&str> = [has_hint.then_some(hint_id.as_str()), error.get().map(|_| error_id.as_str())]
            .into_iter()
            .flatten()
            .collect();
        (!ids.is_empty()).then(|| ids.join(" "))
    }
}

#[component]
fn Hint(id: String, hint: Option<String>) -> impl IntoView {
    hint.map(|h| view! { <p id=format!("{id}-hint") class="vs-hint">{h}</p> })
}

#[component]
fn FieldError(id: String, error: Signal<Option<String>>) -> impl IntoView {
    move || error.get().map(|e| view! { <p id=format!("{id}-error") class="vs-error">{e}</p> })
}

/// A labelled select; the first option (`empty`, value "") means not set.
#[component]
pub(super) fn SelectField(
    name: &'static str,
    label: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    options: Vec<ChoiceOption>,
    value: String,
    empty: &'static str,
    error: Signal<Option<String>>,
    #[prop(optional)] autocomplete: Option<&'static str>,
) -> impl IntoView {
    let id = format!("field-{name}");
    view! {
        <div class="vs-field">
            <label for=id.clone() class="vs-label">{label}</label>
            <Hint id=id.clone() hint=hint.map(str::to_owned) />
            <select id=id.clone() name=name class="vs-input" autocomplete=autocomplete
                aria-invalid=move || error.get().map(|_| "true") aria-describedby=described_by(&id, hint.is_some(), error)>
                <option value="" selected=value.is_empty()>{empty}</option>
                {options.into_iter().map(|o| {
                    let selected = o.value == value;
                    view! { <option value=o.value selected=selected>{o.label}</option> }
                }).collect_view()}
            </select>
            <FieldError id error />
        </div>
    }
}

/// The control of one editable attribute, by its type.
#[component]
pub(super) fn AttributeInput(field: AttributeField, error: Signal<Option<String>>) -> impl IntoView {
    let id = format!("field-attributes-{}", field.key);
    let name = field.field_name();
    let has_hint = field.hint.is_some();
    let invalid = move || error.get().map(|_| "true");
    let control = match field.kind {
        AttributeKind::Boolean => {
            return view! {
                <div class="vs-field">
                    <div class="vs-check">
                        <input type="checkbox" id=id.clone() name=name value="true" checked=field.value == "true"
                            aria-invalid=invalid aria-describedby=described_by(&id, has_hint, error) />
                        <label for=id.clone() class="vs-label">{field.label}</label>
                    </div>
                    <Hint id=id.clone() hint=field.hint />
                    <FieldError id error />
                </div>
            }
            .into_any();
        }
        AttributeKind::Choice => {
            let empty = if field.required { t("profile.choose") } else { t("profile.not_set") };
            let value = field.value.clone();
            view! {
                <select id=id.clone() name=name class="vs-input" required=field.required
                    aria-invalid=invalid aria-describedby=described_by(&id, has_hint, error)>
                    <option value="" selected=value.is_empty()>{empty}</option>
                    {field.choices.into_iter().map(|o| {
                        let selected = o.value == value;
                        view! { <option value=o.value selected=selected>{o.label}</option> }
                    }).collect_view()}
                </select>
            }
            .into_any()
        }
        kind => {
            let r#type = match kind {
                AttributeKind::Number => "number",
                AttributeKind::Date => "date",
                _ => "text",
            };
            view! {
                <input id=id.clone() name=name type=r#type class="vs-input" value=field.value required=field.required
                    maxlength=field.max_length.map(|m| m.to_string()) min=field.min max=field.max step=field.step
                    aria-invalid=invalid aria-describedby=described_by(&id, has_hint, error) />
            }
            .into_any()
        }
    };
    view! {
        <div class="vs-field">
            <label for=id.clone() class="vs-label">{field.label}</label>
            <Hint id=id.clone() hint=field.hint />
            {control}
            <FieldError id error />
        </div>
    }
    .into_any()
}

/// An attribute only operators set, shown read-only.
#[component]
pub(super) fn AttributeValue(field: AttributeField) -> impl IntoView {
    let shown = field.shown_value(t("profile.yes"), t("profile.no"), t("profile.not_set"));
    view! {
        <dt>{field.label}</dt>
        <dd data-attribute=field.key>{shown}</dd>
    }
}
