use axum::{body::Body, routing::get, Router};
use http::Request;

use crate::both;
use crate::support::{app_with, body_text, header, Backend};
use vestibule::error::{AppError, ErrorKind};

fn probes() -> Router<vestibule::server::state::AppState> {
    Router::new().route("/probe/never", get(std::future::pending::<&'static str>)).route(
        "/probe/fail",
        get(|| async {
            Err::<(), AppError>(AppError::internal("secret detail: relation \"accounts\" does not exist"))
        }),
    )
}

/// Internal failures show a message and the operation id, never the detail.
async fn internal_errors_reveal_nothing_but_the_operation_id(backend: Backend) {
    let app = app_with(backend, |_| {}, probes()).await;
    let res = app.get("/probe/fail").await;
    assert_eq!(res.status(), 500);
    let op = header(&res, "x-operation-id").to_string();
    let html = body_text(res).await;
    assert!(html.contains(&op), "page shows the operation id");
    assert!(!html.contains("secret detail") && !html.contains("accounts"));

    let res =
        app.send(Request::get("/probe/fail").header("accept", "application/json").body(Body::empty()).unwrap()).await;
    assert_eq!(header(&res, "content-type"), "application/problem+json");
    let op = header(&res, "x-operation-id").to_string();
    let json: serde_json::Value = serde_json::from_str(&body_text(res).await).unwrap();
    assert_eq!(json["status"], 500);
    assert_eq!(json["kind"], "internal");
    assert_eq!(json["operation_id"], op.as_str());
    assert!(!json.to_string().contains("secret"));
}
both!(internal_errors, internal_errors_reveal_nothing_but_the_operation_id);

async fn slow_requests_time_out_with_408(backend: Backend) {
    let app = app_with(backend, |c| c.limits.request_timeout_secs = 1, probes()).await;
    let res = app.get("/probe/never").await;
    assert_eq!(res.status(), 408);
    assert!(body_text(res).await.contains("took too long"));
}
both!(timeouts, slow_requests_time_out_with_408);

async fn oversized_bodies_are_refused_with_413(backend: Backend) {
    let app = app_with(backend, |c| c.limits.body_bytes = 2048, probes()).await;
    let req = Request::post("/api/dev/outbox")
        .header("origin", "http://localhost:3000")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(Body::from(vec![b'a'; 4096]))
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status(), 413);
    assert_eq!(header(&res, "content-type"), "application/problem+json");
    assert!(body_text(res).await.contains("payload_too_large"));
}
both!(body_limit, oversized_bodies_are_refused_with_413);

/// A server function's typed error reaches the client as JSON with kind and operation id, and the HTTP
/// status its kind implies.
async fn server_function_errors_carry_kind_status_and_operation_id(backend: Backend) {
    let app = app_with(backend, |_| {}, probes()).await; // not dev mode: the outbox function answers NotFound
    let req = Request::post("/api/dev/outbox")
        .header("origin", "http://localhost:3000")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::empty())
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status(), 404);
    let op = header(&res, "x-operation-id").to_string();
    let err: AppError = serde_json::from_str(&body_text(res).await).unwrap();
    assert_eq!(err, AppError { operation_id: Some(op), ..AppError::new(ErrorKind::NotFound) });
}
both!(server_fn_errors, server_function_errors_carry_kind_status_and_operation_id);
