//! The account center: what the signed-in owner sees and manages about their account.

mod activity;

pub use activity::ActivityPage;
