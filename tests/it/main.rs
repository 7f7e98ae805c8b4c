//! The integration-test binary: drives the real router (`tower::ServiceExt::oneshot`, no network) on
//! SQLite and on a real PostgreSQL. `both!` runs each test body once per back end.
//!
//! PostgreSQL: `VESTIBULE_TEST_POSTGRES_URL` names an admin URL (scripts/test starts a server and sets it);
//! each test gets a fresh database. Without it the PostgreSQL half fails with a message saying so, unless
//! `VESTIBULE_TEST_SKIP_POSTGRES=1` is set on purpose.

// The whole crate is test code: unwrap, expect and panic are how it fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod account_data;
mod accounts;
mod activity;
mod admins;
mod cli;
mod csrf;
mod email_change;
mod email_codes;
mod errors;
mod health;
mod mail;
mod mfa;
mod oauth;
mod oauth_apps;
mod pages;
mod passkeys;
mod password_change;
mod profile;
mod recovery;
mod seal_rotation;
mod security_keys;
mod sessions;
mod sessions_page;
mod timing;
