//! One module (later a folder) per flow.

pub mod dev_outbox;
pub mod home;
pub mod not_found;
pub mod placeholder;
