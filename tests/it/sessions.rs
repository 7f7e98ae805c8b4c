use axum::extract::State;
use axum::{body::Body, routing::get, Router};
use http::{Request, StatusCode};
use tower_sessions::Session;

use crate::accounts::verified_account;
use crate::both;
use crate::mfa::password_sign_in;
use crate::support::{app_with, body_text, Backend};
use vestibule::server::sessions::{id_hash, rotate_id};
use vestibule::server::state::AppState;

fn probes() -> Router<AppState> {
    Router::new()
        .route(
            "/probe/session/write",
            get(|session: Session| async move {
                session.insert("n", 1u32).await.unwrap();
                "written"
            }),
        )
        .route(
            "/probe/session/read",
            get(|session: Session| async move { format!("{:?}", session.get::<u32>("n").await.unwrap()) }),
        )
        .route("/probe/session/rotate", get(|state, session| rotate(state, session, StatusCode::OK)))
        .route(
            "/probe/session/rotate-and-fail",
            get(|state, session| rotate(state, session, StatusCode::INTERNAL_SERVER_ERROR)),
        )
}

/// Rotates the session's id as a sign-in does and answers `status`; the body says whether the old row was
/// still stored right after the rotation.
async fn rotate(State(state): State<AppState>, session: Session, status: StatusCode) -> (StatusCode, String) {
    let old = id_hash(&session.id().unwrap());
    rotate_id(&session).await.unwrap();
    session.insert("n", 2u32).await.unwrap();
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE id_hash = $1")
        .bind(old)
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
    (status, format!("old row stored: {stored}"))
}

fn set_cookie(res: &http::Response<Body>) -> String {
    res.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

/// Cookie flags per security.md, the session row in the database, and reading it back.
async fn session_cookie_is_flagged_and_backed_by_the_database(backend: Backend) {
    let app = app_with(backend, |_| {}, probes()).await;
    let res = app.get("/probe/session/write").await;
    let cookie = set_cookie(&res);
    assert!(cookie.starts_with("vestibule="), "{cookie}");
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(flag), "{flag} missing: {cookie}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
    let pair = cookie.split(';').next().unwrap().to_string();
    let id = pair.trim_start_matches("vestibule=");
    assert!(id.len() >= 22, "session id of at least 128 bits: {id}");

    let rows: Vec<(String,)> =
        sqlx::query_as("SELECT id_hash FROM sessions").fetch_all(&app.state.db.pool).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_ne!(rows[0].0, id, "the database holds a hash, not the id");

    let req = Request::get("/probe/session/read").header("cookie", &pair).body(Body::empty()).unwrap();
    assert_eq!(body_text(app.send(req).await).await, "Some(1)");

    // a made-up id is worth nothing
    let req = Request::get("/probe/session/read")
        .header("cookie", "vestibule=AAAAAAAAAAAAAAAAAAAAAA")
        .body(Body::empty())
        .unwrap();
    assert_eq!(body_text(app.send(req).await).await, "None");
}
both!(session_cookie, session_cookie_is_flagged_and_backed_by_the_database);

async fn https_deployments_use_a_host_prefixed_secure_cookie(backend: Backend) {
    let app = app_with(backend, |c| c.public_url = "https://id.example.com".into(), probes()).await;
    let cookie = set_cookie(&app.get("/probe/session/write").await);
    assert!(cookie.starts_with("__Host-vestibule="), "{cookie}");
    assert!(cookie.contains("Secure") && cookie.contains("Path=/") && !cookie.contains("Domain"), "{cookie}");
}
both!(host_prefixed_cookie, https_deployments_use_a_host_prefixed_secure_cookie);

/// A page load that changes nothing in the session writes nothing back. tower-sessions writes a changed
/// session whole when the request ends, and counts removing a key it does not hold as a change: every
/// account page takes its one-time notice that way, and so overwrote what another request of the same
/// browser had stored meanwhile (an app's waiting logout request, lost in an end-to-end run).
async fn reading_pages_leave_the_stored_session_alone(backend: Backend) {
    let app = app_with(backend, |_| {}, Router::new()).await;
    verified_account(&app, "reader@example.com").await;
    let (mut b, _) = password_sign_in(&app, "reader@example.com").await;
    // any write of the session puts the current time here
    sqlx::query("UPDATE sessions SET updated_at = 0").execute(&app.state.db.pool).await.unwrap();
    for page in ["/account", "/account/security", "/account/sessions", "/account/activity", "/account/data"] {
        assert_eq!(b.get(page).await.status(), 200, "{page}");
    }
    let written: Vec<i64> = sqlx::query_scalar("SELECT updated_at FROM sessions WHERE account_id IS NOT NULL")
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap();
    // this browser's session and the one the emailed code signed in
    assert_eq!(written, [0, 0], "a signed-in session was written back");
}
both!(reading_pages, reading_pages_leave_the_stored_session_alone);

async fn session_hashes(app: &crate::support::TestApp) -> Vec<String> {
    sqlx::query_scalar("SELECT id_hash FROM sessions").fetch_all(&app.state.db.pool).await.unwrap()
}

fn cookie_pair(res: &http::Response<Body>) -> String {
    set_cookie(res).split(';').next().unwrap().to_string()
}

/// A rotated id's old row goes with the new row's insert (one request to the writer), not at the rotation;
/// either way, by the time the browser hears of the new id the old one is worth nothing. When the request
/// fails and no new row is stored, the old row is deleted all the same.
async fn a_rotated_sessions_old_row_goes_when_the_request_ends(backend: Backend) {
    let app = app_with(backend, |_| {}, probes()).await;
    let old = cookie_pair(&app.get("/probe/session/write").await);
    let req = Request::get("/probe/session/rotate").header("cookie", &old).body(Body::empty()).unwrap();
    let res = app.send(req).await;
    let new = cookie_pair(&res);
    assert_ne!(new, old, "a new id");
    assert_eq!(body_text(res).await, "old row stored: 1", "deleted with the new row's insert, not before");
    let hashes = session_hashes(&app).await;
    assert_eq!(hashes.len(), 1, "only the new row: {hashes:?}");
    let read = |cookie: &str| Request::get("/probe/session/read").header("cookie", cookie).body(Body::empty()).unwrap();
    assert_eq!(body_text(app.send(read(&new)).await).await, "Some(2)");
    assert_eq!(body_text(app.send(read(&old)).await).await, "None", "the old id stopped working");

    let req = Request::get("/probe/session/rotate-and-fail").header("cookie", &new).body(Body::empty()).unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status(), 500);
    assert!(set_cookie(&res).is_empty(), "no new id handed out");
    assert!(session_hashes(&app).await.is_empty(), "the rotated row is gone though no new row was stored");
    assert_eq!(body_text(app.send(read(&new)).await).await, "None");
}
both!(rotation, a_rotated_sessions_old_row_goes_when_the_request_ends);
