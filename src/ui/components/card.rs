use leptos::prelude::*;

/// A surface that groups one task (a form, a list) under a heading.
#[component]
pub fn Card(children: Children, #[prop(optional, into)] heading: Option<String>) -> impl IntoView {
    view! {
        <section class="vs-card">
            {heading.map(|h| view! { <h2 class="vs-card-heading">{h}</h2> })}
            {children()}
        </section>
    }
}
