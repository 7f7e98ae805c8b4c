//! Sign-in throughput against the argon2 bound, and page render rates, measured in one run.
//!
//! `cargo bench --features ssr --bench signin [-- SECONDS]`
//!
//! Drives the real router in-process (tower `oneshot`: no TCP or HTTP parsing) on an SQLite file with the
//! default argon2 parameters. Phase 1 measures raw argon2id verifications per second through the same
//! bounded hasher the server uses; phase 2 measures complete sign-ins (throttle check, lookup, verify,
//! session rotation and write, audit row); the ratio is the cost of everything that is not the hash.
//! Phases 3 and 4 render /login and an authenticated /account.

#[path = "support.rs"]
mod support;

use axum::body::Body;
use http::Request;
use tower::ServiceExt;

const PASSWORD: &str = "plum tractor velvet harbor 42";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let support::Portal { phase, cores, state, app, _dir } = support::portal().await?;

    let hash = state.hasher.hash(PASSWORD).await?;
    sqlx::query(
        "INSERT INTO accounts (id, email, email_verified_at, password_hash, status, created_at, updated_at) \
         VALUES ('bench', 'bench@example.com', 1, $1, 'active', 1, 1)",
    )
    .bind(&hash)
    .execute(&state.db.pool)
    .await?;

    // Enough requests in flight to keep every hashing slot busy.
    let in_flight = cores * 2;

    let hasher = state.hasher.clone();
    let hash_rate = support::run_counting(phase, in_flight, "operations", move |_, _| {
        let (hasher, hash) = (hasher.clone(), hash.clone());
        async move { hasher.verify(PASSWORD, &hash).await.map(|v| v.ok).unwrap_or(false) }
    })
    .await
    .per_second;

    let login = app.clone();
    let signin_rate = support::run_counting(phase, in_flight, "operations", move |_, _| {
        let app = login.clone();
        async move {
            let req = Request::post("/api/auth/login")
                .header("origin", "http://localhost:3000")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(format!("email=bench%40example.com&password={}", PASSWORD.replace(' ', "+"))))
                .map_err(|_| ());
            match req {
                Ok(req) => app
                    .oneshot(req)
                    .await
                    .map(|r| r.headers().get("location").is_some_and(|l| l == "/account"))
                    .unwrap_or(false),
                Err(()) => false,
            }
        }
    })
    .await
    .per_second;

    // a signed-in cookie for /account
    let res = app
        .clone()
        .oneshot(
            Request::post("/api/auth/login")
                .header("origin", "http://localhost:3000")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(format!("email=bench%40example.com&password={}", PASSWORD.replace(' ', "+"))))?,
        )
        .await?;
    let cookie = res
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or_default()
        .to_string();

    let pages = app.clone();
    let login_rate = support::run_counting(phase, cores * 4, "operations", move |_, _| {
        let app = pages.clone();
        async move { get_ok(app, "/login", None).await }
    })
    .await
    .per_second;
    let pages = app.clone();
    let account_rate = support::run_counting(phase, cores * 4, "operations", move |_, _| {
        let (app, cookie) = (pages.clone(), cookie.clone());
        async move { get_ok(app, "/account", Some(cookie)).await }
    })
    .await
    .per_second;

    println!("| measurement ({} s each, {cores} cores, {in_flight} in flight) | per second |", phase.as_secs());
    println!("|---|---:|");
    println!("| argon2id verifications (m=19456 KiB, t=2, p=1), bound | {hash_rate:.1} |");
    println!("| complete password sign-ins | {signin_rate:.1} |");
    println!(
        "| sign-ins as share of the argon2 bound | {:.1} % |",
        100.0 * signin_rate / hash_rate.max(f64::MIN_POSITIVE)
    );
    println!("| rendered /login pages | {login_rate:.0} |");
    println!("| rendered /account pages (session lookup included) | {account_rate:.0} |");
    Ok(())
}

async fn get_ok(app: axum::Router, path: &str, cookie: Option<String>) -> bool {
    let mut req = Request::get(path).header("accept", "text/html");
    if let Some(cookie) = cookie {
        req = req.header("cookie", cookie);
    }
    let Ok(req) = req.body(Body::empty()) else { return false };
    match app.oneshot(req).await {
        Ok(res) if res.status() == 200 => {
            // the page is streamed: read it to the end
            http_body_util::BodyExt::collect(res.into_body()).await.is_ok()
        }
        _ => false,
    }
}
