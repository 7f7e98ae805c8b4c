//! The whole HTTP application: Leptos pages and server functions, health routes, static files, and the
//! middleware stack. `build` is what `serve` runs and what the integration tests drive.

use std::time::Duration;

use askama::Template;
use axum::{
    body::Body,
    extract::{Request, State},
    middleware::{self, Next},
    response::{Html, IntoResponse, Response},
    routing::get,
    Router,
};
use http::{header, HeaderMap, HeaderValue, StatusCode};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::compression::CompressionLayer;
use tower_http::timeout::TimeoutLayer;

use crate::app::{shell, App};
use crate::error::{AppError, ErrorKind};
use crate::i18n::t;
use crate::server::csrf::CsrfPolicy;
use crate::server::headers::HeaderPolicy;
use crate::server::sessions::{self, DbSessionStore};
use crate::server::state::AppState;
use crate::server::{account_data, csrf, headers, health, operation, session_client};

/// The app's routes, generated once per process. Generating renders the whole app with resource loading
/// suppressed by a process-wide flag (leptos_server's `SuppressResourceLoad`): a page render elsewhere that
/// polls a resource for the first time meanwhile waits for ever (leptos issue #4773). The server builds
/// its router once, but the integration tests build one per test, in parallel with other tests' requests.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES
        .get_or_init(|| {
            // client-only routes: the server answers these paths itself (see `oauth::routes`)
            generate_route_list(App)
                .into_iter()
                .filter(|r| !crate::server::oauth::CLIENT_ONLY_ROUTES.contains(&r.path()))
                .collect()
        })
        .clone()
}

pub fn build(state: AppState, store: DbSessionStore) -> Router {
    build_with(state, store, Router::new())
}

/// `build` plus `extra` routes under the same middleware: the integration tests mount probes here (a route
/// that writes the session, one that never answers) to test the stack without test code in the product.
pub fn build_with(state: AppState, store: DbSessionStore, extra: Router<AppState>) -> Router {
    let config = state.config.clone();
    let routes = route_list();
    let context_state = state.clone();
    let shell_options = state.leptos.clone();

    // Layers run outside-in in the reverse order of the `.layer` calls below: operation id first, so every
    // log line and error carries it; then headers, timeout, body limit, CSRF, room for the session's id
    // rotation (outside the session layer, whose saving at the end it covers), the session, and last what
    // the sessions page shows about it.
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/account/export", get(account_data::download))
        .merge(crate::server::oauth::routes())
        .merge(extra)
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(context_state.clone()),
            move || shell(shell_options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(
            {
                let state = state.clone();
                move || provide_context(state.clone())
            },
            shell,
        ))
        .with_state(state)
        .layer(middleware::from_fn_with_state(config.trusted_proxies.clone(), session_client::middleware))
        .layer(middleware::from_fn(crate::server::oauth::form_targets))
        .layer(sessions::layer(store.clone(), &config))
        .layer(middleware::from_fn_with_state(store, sessions::settle_rotation))
        .layer(middleware::from_fn_with_state(
            CsrfPolicy {
                origin: config.public_origin(),
                session_cookie: sessions::cookie_name(config.is_https()),
                exempt: crate::server::oauth::CSRF_EXEMPT,
            },
            csrf::middleware,
        ))
        .layer(middleware::from_fn_with_state(config.limits.body_bytes, limit_body))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(config.limits.request_timeout_secs),
        ))
        .layer(middleware::from_fn(explain_timeouts))
        .layer(CompressionLayer::new().gzip(true).compress_when(is_static_asset))
        .layer(middleware::from_fn_with_state(HeaderPolicy { hsts: config.is_https() }, headers::middleware))
        .layer(middleware::from_fn(operation::middleware))
}

/// Only the bundle (wasm, JavaScript, CSS) is compressed. Pages are not: compressing a page that reflects
/// input next to a secret opens it to BREACH-style length attacks, and pages are small anyway.
fn is_static_asset(_: StatusCode, _: http::Version, headers: &HeaderMap, _: &http::Extensions) -> bool {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v.starts_with("application/wasm")
            || v.starts_with("text/javascript")
            || v.starts_with("application/javascript")
            || v.starts_with("text/css")
    })
}

/// Refuses bodies over `limit` bytes with 413, whether or not the client declared a length. The body is read
/// here (it is small by then) because a limit enforced while a server function streams it would surface as
/// that function's error, a 500, instead of a clear 413.
async fn limit_body(State(limit): State<usize>, req: Request, next: Next) -> Response {
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return error_response(&AppError::new(ErrorKind::PayloadTooLarge), req.headers());
    }
    let (parts, body) = req.into_parts();
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Err(_) => error_response(&AppError::new(ErrorKind::PayloadTooLarge), &parts.headers),
    }
}

/// The timeout layer answers with an empty 408; give it the same error page or problem document, with
/// operation id, as every other error.
async fn explain_timeouts(req: Request, next: Next) -> Response {
    let request_headers = req.headers().clone();
    let response = next.run(req).await;
    if response.status() == StatusCode::REQUEST_TIMEOUT && response.headers().get(header::CONTENT_TYPE).is_none() {
        return error_response(&AppError::new(ErrorKind::Timeout), &request_headers);
    }
    response
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    app_name: &'a str,
    title: &'a str,
    message: &'a str,
    /// What exactly was wrong, when the error names it (e.g. an app's invalid authorization request).
    problems: Vec<&'a str>,
    operation_id: Option<&'a str>,
    operation_id_label: &'a str,
    operation_id_hint: &'a str,
    back: &'a str,
}

fn wants_json(request_headers: &HeaderMap) -> bool {
    let accept = request_headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    !accept.contains("text/html") && (accept.contains("json") || accept.is_empty() || accept == "*/*")
}

/// Renders `err` as an HTML page for browsers and as RFC 9457 problem+json for everything else.
pub fn error_response(err: &AppError, request_headers: &HeaderMap) -> Response {
    let status = StatusCode::from_u16(err.kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let message = err.message();
    let mut response = if wants_json(request_headers) {
        let body = serde_json::json!({
            "type": "about:blank",
            "title": message,
            "status": status.as_u16(),
            "kind": err.kind,
            "operation_id": err.operation_id,
            "problems": err.problems,
            "retry_after": err.retry_after,
        });
        let mut response = (status, body.to_string()).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        response
    } else {
        error_page(err, status, &message)
    };
    if let Some(seconds) = err.retry_after {
        if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
    }
    response
}

fn error_page(err: &AppError, status: StatusCode, message: &str) -> Response {
    let page = ErrorPage {
        app_name: t("app.name"),
        title: t("error.title"),
        message,
        problems: err.problems.iter().map(|p| p.message.as_str()).collect(),
        operation_id: err.operation_id.as_deref(),
        operation_id_label: t("error.operation_id"),
        operation_id_hint: t("error.operation_id_hint"),
        back: t("nav.back_home"),
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "error page did not render");
            (status, message.to_string()).into_response()
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        error_response(&self, &HeaderMap::new())
    }
}
