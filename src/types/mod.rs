//! Wire types shared by server and browser: what pages and server functions exchange. Never secrets.

use serde::{Deserialize, Serialize};

mod data;
pub use data::*;
mod email_change;
pub use email_change::*;
mod oauth;
pub use oauth::*;
mod profile;
pub use profile::*;

/// One message in the dev outbox, as the `/dev/outbox` page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub file: String,
    pub to: String,
    pub subject: String,
    /// RFC 3339, UTC.
    pub written_at: String,
}

/// A form's outcome carried across a redirect when the form was posted without JavaScript: which form,
/// its error, and the non-secret values to put back (never a password or code).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flash {
    pub form: String,
    pub error: Option<crate::error::AppError>,
    pub email: Option<String>,
    pub display_name: Option<String>,
    /// A success message key, e.g. after a new code was sent.
    pub notice: Option<String>,
}

/// What /verify-email needs to render.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyPageState {
    pub pending_email: Option<String>,
    pub flash: Option<Flash>,
}

/// The signed-in account as /account shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountView {
    pub email: String,
    pub display_name: Option<String>,
    pub email_verified: bool,
    pub created_at: i64,
    /// The policy wants a second factor set up before anything else.
    pub mfa_setup_required: bool,
}

/// One passkey on /account/security.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyView {
    pub id: String,
    pub name: String,
    /// The authenticator's model, when known from its AAGUID.
    pub authenticator: Option<String>,
    /// Dates as shown (UTC), formatted on the server so both renders agree.
    pub created_on: String,
    pub last_used_on: Option<String>,
}

/// What /account/security needs to render.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityPageState {
    pub email: String,
    pub has_password: bool,
    pub passkeys: Vec<PasskeyView>,
    /// Signed in (or confirmed) recently enough for sensitive changes without asking again.
    pub recently_confirmed: bool,
    pub mfa: MfaView,
    pub flash: Option<Flash>,
}

impl SecurityPageState {
    /// The ways this account can confirm it is them.
    pub fn confirm_options(&self) -> ConfirmOptions {
        ConfirmOptions {
            password: self.has_password,
            passkey: !self.passkeys.is_empty(),
            totp: self.mfa.totp == TotpView::On,
            security_key: !self.mfa.security_keys.is_empty(),
            recovery_code: self.mfa.recovery_codes_left > 0,
        }
    }
}

/// The ways a signed-in account can confirm it is them (step-up), for the confirm card.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmOptions {
    pub password: bool,
    pub passkey: bool,
    pub totp: bool,
    pub security_key: bool,
    pub recovery_code: bool,
}

/// The second factors on /account/security.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MfaView {
    pub totp: TotpView,
    pub security_keys: Vec<SecurityKeyView>,
    pub recovery_codes_left: i64,
    /// A new set of recovery codes, sent with the one render that shows them (then gone from the server).
    pub new_recovery_codes: Vec<String>,
    /// The policy wants a second factor before anything else.
    pub setup_required: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TotpView {
    #[default]
    Off,
    /// Waiting for the first code: the seed is shown until then (and never after).
    Pending {
        secret: String,
        qr_svg_data_uri: String,
    },
    On,
}

/// One security key on /account/security.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityKeyView {
    pub id: String,
    pub name: String,
    pub created_on: String,
    pub last_used_on: Option<String>,
}

/// What /login/second-factor needs to render.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecondFactorPageState {
    pub totp: bool,
    pub security_key: bool,
    pub recovery_codes: bool,
    /// A password reset, not a sign-in, waits for the second factor.
    pub for_reset: bool,
    pub flash: Option<Flash>,
}

/// The flows that email a code and a link: signing in (`/login/email`) and recovering the account
/// (`/recover`, which ends in a new password).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailFlow {
    #[default]
    SignIn,
    Recover,
}

impl EmailFlow {
    /// The page of the flow (and of its links).
    pub fn path(self) -> &'static str {
        match self {
            EmailFlow::SignIn => "/login/email",
            EmailFlow::Recover => "/recover",
        }
    }

    /// The `purpose` of its messages in the database and the name in forms.
    pub fn as_str(self) -> &'static str {
        match self {
            EmailFlow::SignIn => "sign_in",
            EmailFlow::Recover => "recover",
        }
    }
}

/// What /login/email and /recover need to render.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailCodePageState {
    /// `false` when the configuration turned sign-in by email off.
    pub enabled: bool,
    /// A code was sent (or, for an unknown address, seemed to be): the page asks for it.
    pub pending_email: Option<String>,
    /// Opened from a link in another browser than the one that asked: the code from the message is needed
    /// too.
    pub link_needs_code: bool,
    pub flash: Option<Flash>,
}

/// What /recover/password needs to render.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetPageState {
    pub email: String,
    pub flash: Option<Flash>,
}

/// One line of /account/activity, worded and dated on the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityEntry {
    pub what: String,
    pub when: String,
    /// Browser and IP address, as far as known.
    pub from: String,
}

/// A page of /account/activity.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityPageState {
    pub entries: Vec<ActivityEntry>,
    /// Where the next (older) page starts, when there is one.
    pub older: Option<String>,
}

/// One signed-in session on /account/sessions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    /// Names the session in the "end" form (the SHA-256 of its id, never the id itself).
    pub id: String,
    /// Browser and operating system, when known.
    pub device: Option<String>,
    pub ip: Option<String>,
    pub signed_in: String,
    pub last_active: Option<String>,
    /// The session of the browser looking at the page.
    pub current: bool,
}

/// What /account/sessions needs to render.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionsPageState {
    pub sessions: Vec<SessionView>,
    /// Signed in (or confirmed) recently enough to end sessions without confirming again.
    pub recently_confirmed: bool,
    /// The ways to confirm it is you, shown when not `recently_confirmed`.
    pub confirm: ConfirmOptions,
    pub flash: Option<Flash>,
}
