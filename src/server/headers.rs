//! Security headers on every response (security.md, "Headers").
//!
//! Pages rendered by Leptos get a Content-Security-Policy carrying the per-request nonce that leptos_axum
//! puts on its own inline scripts (the shell hands it over with `set_page_csp`); every other response gets a
//! policy that allows nothing to run. `strict-dynamic` lets the nonced hydration script load the wasm
//! bundle's JavaScript; `wasm-unsafe-eval` lets it compile the WebAssembly; nothing else runs.

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::Response,
};
use std::sync::{Arc, Mutex};

use http::{header, HeaderMap, HeaderValue};

/// The policy for HTML pages, with `nonce` allowed to run scripts. `form_targets`: further places a form
/// on this page may end up at (browsers check `form-action` on every redirect after a submission, so a
/// sign-in or consent form that ends at an app's redirect URI needs the app's origin here).
pub fn page_csp(nonce: &str, form_targets: &[String]) -> String {
    let mut form_action = String::from("'self'");
    for target in form_targets {
        form_action.push(' ');
        form_action.push_str(target);
    }
    format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action {form_action}; frame-ancestors 'none'"
    )
}

/// For responses that are not pages (JSON, files, errors): nothing may run or frame them.
pub const STRICT_CSP: &str =
    "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Where the shell leaves the page's nonce for this middleware. A request extension (shared through an
/// `Arc`) rather than Leptos' `ResponseOptions`: under load the latter was seen to arrive without the header,
/// which left a page with the deny-all policy and no hydration.
#[derive(Clone, Default)]
pub struct PageNonce(Arc<Mutex<PageCsp>>);

#[derive(Default)]
struct PageCsp {
    nonce: Option<String>,
    form_targets: Vec<String>,
}

/// Called before a page renders (by `server::oauth::form_targets`): where its forms may lead besides the
/// portal. Each target must already be a valid CSP source (an origin or a scheme).
pub fn allow_form_targets(extensions: &http::Extensions, targets: Vec<String>) {
    if let Some(PageNonce(slot)) = extensions.get::<PageNonce>() {
        if let Ok(mut slot) = slot.lock() {
            slot.form_targets = targets;
        }
    }
}

/// Called while the shell renders: records this response's nonce for the page policy.
pub fn set_page_csp() {
    use leptos::prelude::use_context;
    let (Some(nonce), Some(parts)) = (leptos::nonce::use_nonce(), use_context::<http::request::Parts>()) else {
        return;
    };
    if let Some(PageNonce(slot)) = parts.extensions.get::<PageNonce>() {
        if let Ok(mut slot) = slot.lock() {
            slot.nonce = Some(nonce.to_string());
        }
    }
}

/// Whether HSTS is sent (only when the public URL is https: over http browsers ignore it anyway).
#[derive(Clone, Copy)]
pub struct HeaderPolicy {
    pub hsts: bool,
}

pub async fn middleware(State(policy): State<HeaderPolicy>, mut req: Request, next: Next) -> Response {
    let page_nonce = PageNonce::default();
    req.extensions_mut().insert(page_nonce.clone());
    let mut response = next.run(req).await;
    // the shell has run by now: Leptos answers once the first chunk of the page is rendered
    let csp = page_nonce.0.lock().ok().and_then(|slot| Some(page_csp(slot.nonce.as_deref()?, &slot.form_targets)));
    if let Some(value) = csp.and_then(|csp| HeaderValue::from_str(&csp).ok()) {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, value);
    }
    apply(response.headers_mut(), policy);
    response
}

fn apply(headers: &mut HeaderMap, policy: HeaderPolicy) {
    let set = |headers: &mut HeaderMap, name: header::HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        set(headers, header::CONTENT_SECURITY_POLICY, STRICT_CSP);
    }
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    // same-origin keeps full URLs inside the portal (Leptos' no-JavaScript form posts return to the
    // Referer) and sends nothing to other sites.
    set(headers, header::REFERRER_POLICY, "same-origin");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, http::HeaderName::from_static("cross-origin-opener-policy"), "same-origin");
    set(headers, http::HeaderName::from_static("cross-origin-resource-policy"), "same-origin");
    set(
        headers,
        http::HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=(), payment=()",
    );
    if policy.hsts {
        set(headers, header::STRICT_TRANSPORT_SECURITY, "max-age=63072000; includeSubDomains");
    }
    // Pages may show personal data: never stored by browsers or proxies. Hashed static assets under /pkg
    // are the exception and get their own caching from the file service.
    let is_html = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v.starts_with("text/html") || v.starts_with("application/json") || v.starts_with("application/problem+json")
    });
    if is_html {
        set(headers, header::CACHE_CONTROL, "no-store");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_policy_allows_only_the_nonce_and_forbids_framing_and_plugins() {
        let csp = page_csp("abc", &[]);
        assert!(csp.contains("form-action 'self';"));
        assert!(page_csp("abc", &["https://app.example".into()]).contains("form-action 'self' https://app.example;"));
        assert!(csp.contains("script-src 'nonce-abc' 'strict-dynamic' 'wasm-unsafe-eval';"));
        for part in ["object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"] {
            assert!(csp.contains(part), "{part}");
        }
        assert!(!csp.contains("unsafe-inline"));
    }

    #[test]
    fn hsts_only_when_asked_and_page_csp_is_kept() {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("x"));
        apply(&mut h, HeaderPolicy { hsts: false });
        assert_eq!(h.get(header::CONTENT_SECURITY_POLICY).map(|v| v.as_bytes()), Some(&b"x"[..]));
        assert!(h.get(header::STRICT_TRANSPORT_SECURITY).is_none());
        let mut h = HeaderMap::new();
        apply(&mut h, HeaderPolicy { hsts: true });
        assert!(h.get(header::STRICT_TRANSPORT_SECURITY).is_some());
        assert_eq!(h.get(header::CONTENT_SECURITY_POLICY).map(|v| v.as_bytes()), Some(STRICT_CSP.as_bytes()));
    }
}
