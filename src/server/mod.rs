//! The HTTP edge: configuration, application state, middleware and the non-Leptos routes.

pub mod account_data;
pub mod admin_cli;
pub mod auth;
pub mod config;
pub mod csrf;
pub mod headers;
pub mod health;
pub mod keys;
pub mod logging;
pub mod mail;
pub mod oauth;
pub mod operation;
pub mod profile_prompt;
pub mod proxies;
pub mod router;
pub mod serve;
pub mod session_client;
pub mod sessions;
pub mod signed_in;
pub mod state;
