//! Wire types of /account/data: downloading your data and deleting your account.

use serde::{Deserialize, Serialize};

use super::{ConfirmOptions, Flash};

/// What /account/data needs to render for the signed-in owner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataPageState {
    /// The address the deletion form asks to be typed.
    pub email: String,
    /// Signed in (or confirmed) recently enough to download or delete without confirming again.
    pub recently_confirmed: bool,
    /// The ways to confirm it is you, shown when not `recently_confirmed`.
    pub confirm: ConfirmOptions,
    /// How long a deletion waits before the account is erased, worded ("7 days"); `None`: no wait.
    pub grace: Option<String>,
    /// When a sign-in last cancelled a deletion the owner had asked for (shown), if that is the latest word
    /// on deleting the account.
    pub deletion_cancelled_on: Option<String>,
    pub flash: Option<Flash>,
}
