//! The account center: what the signed-in owner sees and manages about their account.

mod activity;
mod sessions;

pub use activity::ActivityPage;
pub use sessions::SessionsPage;
