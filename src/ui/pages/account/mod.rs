//! The account center: what the signed-in owner sees and manages about their account.

mod activity;
mod apps;
mod complete_profile;
mod data;
mod email;
mod profile;
mod profile_fields;
mod sessions;

pub use activity::ActivityPage;
pub use apps::AppsPage;
pub use complete_profile::CompleteProfilePage;
pub use data::DataPage;
pub use email::EmailPage;
pub use profile::AccountPage;
pub use sessions::SessionsPage;

use leptos::prelude::*;
use leptos_router::components::Redirect;

use crate::error::{AppError, ErrorKind};

/// A page's data (`None`: nobody signed in), or the redirect a visitor gets instead: to setting up a second
/// factor while the MFA policy holds the session there, otherwise to sign-in.
fn or_redirect<T>(loaded: Result<Option<T>, AppError>) -> Result<T, AnyView> {
    match loaded {
        Ok(Some(state)) => Ok(state),
        Err(e) if e.kind == ErrorKind::MfaSetupRequired => {
            Err(view! { <Redirect path="/account/security" /> }.into_any())
        }
        _ => Err(view! { <Redirect path="/login" /> }.into_any()),
    }
}
