//! Sign-in throughput against the argon2 bound, and page render rates, measured in one run.
//!
//! `cargo bench --features ssr --bench signin [-- SECONDS]`
//!
//! Drives the real router in-process (tower `oneshot`: no TCP or HTTP parsing) on an SQLite file with the
//! default argon2 parameters. Phase 1 measures raw argon2id verifications per second through the same
//! bounded hasher the server uses; phase 2 measures complete sign-ins (throttle check, lookup, verify,
//! session rotation and write, audit row); the ratio is the cost of everything that is not the hash.
//! Phases 3 and 4 render /login and an authenticated /account.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use http::Request;
use tower::ServiceExt;

use vestibule::server::config::RawConfig;
use vestibule::server::{router, serve};

const PASSWORD: &str = "plum tractor velvet harbor 42";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seconds: u64 = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(10);
    let phase = Duration::from_secs(seconds);
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let dir = tempfile::tempdir()?;
    let raw = RawConfig {
        data_dir: dir.path().join("data"),
        site_root: dir.path().join("site"),
        log_filter: "error".into(),
        ..RawConfig::default()
    };
    let config = raw.validate()?;
    let (state, store) = serve::prepare(config).await?;
    let app = router::build(state.clone(), store);
    tokio::spawn(state.db.clone().run_checkpoints(serve::CHECKPOINT_EVERY)); // as `vestibule serve` does

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
    let hash_rate = run(phase, in_flight, move || {
        let (hasher, hash) = (hasher.clone(), hash.clone());
        async move { hasher.verify(PASSWORD, &hash).await.map(|v| v.ok).unwrap_or(false) }
    })
    .await;

    let login = app.clone();
    let signin_rate = run(phase, in_flight, move || {
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
    .await;

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
    let login_rate = run(phase, cores * 4, move || {
        let app = pages.clone();
        async move { get_ok(app, "/login", None).await }
    })
    .await;
    let pages = app.clone();
    let account_rate = run(phase, cores * 4, move || {
        let (app, cookie) = (pages.clone(), cookie.clone());
        async move { get_ok(app, "/account", Some(cookie)).await }
    })
    .await;

    println!("| measurement ({seconds} s each, {cores} cores, {in_flight} in flight) | per second |");
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

/// Runs `task` from `in_flight` workers for `phase`; returns successful completions per second.
async fn run<F, Fut>(phase: Duration, in_flight: usize, task: F) -> f64
where
    F: Fn() -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let workers: Vec<_> = (0..in_flight)
        .map(|_| {
            let (task, done, failed) = (task.clone(), done.clone(), failed.clone());
            tokio::spawn(async move {
                while start.elapsed() < phase {
                    if task().await {
                        done.fetch_add(1, Ordering::Relaxed);
                    } else {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.await;
    }
    let failed = failed.load(Ordering::Relaxed);
    if failed > 0 {
        eprintln!("warning: {failed} operations failed");
    }
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}
