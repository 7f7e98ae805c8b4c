use leptos::prelude::*;

use crate::error::AppError;
use crate::types::OutboxEntry;

/// Lists the dev outbox, newest first. Answers `NotFound` unless the server runs in dev mode with the
/// outbox as its mailer, so a production server does not even admit the page exists.
#[server(endpoint = "dev/outbox")]
pub async fn list_outbox() -> Result<Vec<OutboxEntry>, AppError> {
    use crate::error::ErrorKind;
    let state = use_context::<crate::server::state::AppState>().ok_or_else(|| AppError::internal("no state"))?;
    let Some(outbox) = state.dev_outbox() else {
        return Err(super::with_status(AppError::new(ErrorKind::NotFound)));
    };
    outbox.list().await.map_err(AppError::internal)
}
