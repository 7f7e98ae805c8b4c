use leptos::prelude::*;

use crate::i18n::t;
use crate::ui::webauthn;

/// Content that needs WebAuthn: rendered once hydrated in a browser that has it; otherwise a plain note
/// (about passkeys, or `for_security_keys`). (Not `<noscript>`: with JavaScript on its content is text,
/// which hydration would not match.)
#[component]
pub fn PasskeyOnly(children: ChildrenFn, #[prop(optional)] for_security_keys: bool) -> impl IntoView {
    let (unsupported, needs_js) = if for_security_keys {
        ("security_keys.unsupported", "security_keys.needs_js")
    } else {
        ("passkeys.unsupported", "passkeys.needs_js")
    };
    let (hydrated, set_hydrated) = signal(false);
    Effect::new(move |_| set_hydrated.set(true));
    view! {
        {move || match (hydrated.get(), webauthn::supported()) {
            (true, true) => Some(children().into_any()),
            (true, false) => Some(view! { <p class="vs-muted">{t(unsupported)}</p> }.into_any()),
            // until hydrated, and for good without JavaScript
            (false, _) => Some(view! { <p class="vs-muted">{t(needs_js)}</p> }.into_any()),
        }}
    }
}
