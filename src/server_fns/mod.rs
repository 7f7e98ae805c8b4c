//! Server functions, grouped by flow. Thin: decode, call the core, map the error.

pub mod account;
pub mod auth;
pub mod data;
pub mod dev;
pub mod email_change;
pub mod email_codes;
pub mod mfa;
pub mod oauth;
pub mod passkeys;
pub mod profile;
pub mod security_keys;

use crate::error::AppError;

/// Returns `err` after setting the HTTP status its kind implies (server functions answer 500 otherwise).
/// During server rendering this sets the page's status, so a page that fails with NotFound answers 404.
pub fn with_status(err: AppError) -> AppError {
    #[cfg(feature = "ssr")]
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(status) = http::StatusCode::from_u16(err.kind.status()) {
            response.set_status(status);
        }
        if let Some(value) = err.retry_after.and_then(|s| http::HeaderValue::from_str(&s.to_string()).ok()) {
            response.insert_header(http::header::RETRY_AFTER, value);
        }
    }
    err
}
