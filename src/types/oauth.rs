//! Wire types of the OAuth hosted pages (consent, logout confirmation) and of /account/apps.

use serde::{Deserialize, Serialize};

use super::Flash;

/// One thing an app asks for, worded for people on the server (both renders then agree).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeLine {
    /// The scope as the app named it (`email`, `api:read`).
    pub scope: String,
    pub text: String,
}

/// What /oauth2/consent needs: the app's request waiting in this browser and who is signed in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentPageState {
    pub client_name: String,
    /// The signed-in account's address, so the person sees which account the app gets.
    pub email: String,
    /// Known scopes first, in a fixed order, then the app's own API scopes.
    pub scopes: Vec<ScopeLine>,
}

/// What /oauth2/logout/confirm shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum LogoutConfirmState {
    /// An app asked to sign this browser out; `client_name` when the request named the app.
    Confirm {
        client_name: Option<String>,
    },
    /// Signed in, no app's request waiting: the normal sign-out.
    SignedIn,
    SignedOut,
}

/// One app with access on /account/apps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppView {
    /// The client id: names the app in the "remove access" form.
    pub id: String,
    pub name: String,
    /// What it may see and do, worded.
    pub scopes: Vec<ScopeLine>,
    /// When the person allowed it (or first signed in to it), dated on the server.
    pub since: String,
    pub last_used: Option<String>,
    /// It keeps access while the person is away (a live refresh token).
    pub offline: bool,
}

/// What /account/apps needs to render.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppsPageState {
    pub apps: Vec<AppView>,
    pub flash: Option<Flash>,
}
