//! Wire types shared by server and browser: what pages and server functions exchange. Never secrets.

use serde::{Deserialize, Serialize};

/// One message in the dev outbox, as the `/dev/outbox` page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub file: String,
    pub to: String,
    pub subject: String,
    /// RFC 3339, UTC.
    pub written_at: String,
}
