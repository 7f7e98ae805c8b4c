//! One folder per flow.

pub mod account;
pub mod auth;
pub mod dev_outbox;
pub mod home;
pub mod not_found;
pub mod oauth;
