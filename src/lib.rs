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

/// The server's allocator, for every binary that links the server (the `vestibule` command, tests and
/// benches alike, so the benchmarks measure what ships). glibc's malloc was a tenth of a passkey sign-in's
/// CPU: memory allocated on a tokio worker and freed on SQLite's connection thread (or the other way round)
/// goes through its arena locks and consolidation; mimalloc frees across threads without them.
#[cfg(feature = "ssr")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Entry point of the WebAssembly bundle: attaches the reactive system to the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}
