use leptos::prelude::*;

use crate::i18n::t;
use crate::ui::webauthn;

/// Content that needs WebAuthn: rendered once hydrated in a browser that has it; otherwise a plain note.
/// (Not `<noscript>`: with JavaScript on its content is text, which hydration would not match.)
#[component]
pub fn PasskeyOnly(children: ChildrenFn) -> impl IntoView {
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));
    view! {
        {move || match (hydrated.get(), webauthn::supported()) {
            (true, true) => Some(children().into_any()),
            (true, false) => Some(view! { <p class="vs-muted">{t("passkeys.unsupported")}</p> }.into_any()),
            // until hydrated, and for good without JavaScript
            (false, _) => Some(view! { <p class="vs-muted">{t("passkeys.needs_js")}</p> }.into_any()),
        }}
    }
}
