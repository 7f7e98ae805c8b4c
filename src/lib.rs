//! Vestibule: a self-hosted customer identity portal.
//!
//! One crate, two targets: feature `ssr` builds the server (axum + leptos_axum + sqlx), feature `hydrate`
//! builds the browser side (WebAssembly). Server-only modules sit behind `ssr` so the browser never links
//! secrets, SQL or password hashing. See docs/architecture.md for the map.

pub mod app;
pub mod error;
pub mod i18n;
pub mod server_fns;
pub mod types;
pub mod ui;

#[cfg(feature = "ssr")]
pub mod core;
#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod server;

/// Entry point of the WebAssembly bundle: attaches the reactive system to the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
