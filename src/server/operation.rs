//! Operation ids: every request gets one, echoed in the `x-operation-id` response header, attached to its
//! log lines, and shown on error pages so support can find the request in the logs.

use axum::{extract::Request, middleware::Next, response::Response};
use http::HeaderValue;
use tracing::Instrument;

tokio::task_local! {
    static OPERATION_ID: String;
}

pub const HEADER: &str = "x-operation-id";

/// The id as a request extension, for code that runs outside the task-local scope (Leptos may render a
/// page's async parts on other tasks; it provides the request `Parts` as context there).
#[derive(Clone, Debug)]
pub struct OperationId(pub String);

/// The operation id of the request being handled, if any.
pub fn current() -> Option<String> {
    OPERATION_ID.try_with(Clone::clone).ok().or_else(|| {
        leptos::prelude::use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<OperationId>().map(|id| id.0.clone()))
    })
}

/// Assigns the id (a UUIDv7: sortable by time, unguessable enough to not leak counts) and runs the rest of
/// the stack inside a tracing span and the task-local scope.
pub async fn middleware(mut req: Request, next: Next) -> Response {
    let id = uuid::Uuid::now_v7().to_string();
    req.extensions_mut().insert(OperationId(id.clone()));
    let span = tracing::info_span!("request", operation_id = %id, method = %req.method(), path = %req.uri().path());
    let mut response = OPERATION_ID.scope(id.clone(), next.run(req).instrument(span)).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(HEADER, value);
    }
    response
}
