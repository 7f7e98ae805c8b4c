//! Wire types of /account/email (changing the account's address).

use serde::{Deserialize, Serialize};

use super::{ConfirmOptions, Flash};

/// What /account/email needs to render.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailChangePageState {
    /// The account's address now.
    pub email: String,
    /// The new address this browser asked to move to, while its code is awaited (shown as typed, also when
    /// no code could be sent to it, so the page reveals nothing about the address).
    pub pending_email: Option<String>,
    /// Opened from the mail's link (`?token=`) in another browser than the one that asked: the code from
    /// the same message is needed too.
    pub link_needs_code: bool,
    /// Signed in (or confirmed) recently enough to ask for a change without confirming again.
    pub recently_confirmed: bool,
    /// The ways to confirm it is you, shown when not `recently_confirmed`.
    pub confirm: ConfirmOptions,
    pub flash: Option<Flash>,
}
