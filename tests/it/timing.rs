//! Enumeration by timing (security.md: "timing within noise"): sign-in failures for unknown addresses and
//! for known addresses with a wrong password take the same time. Compared as distributions (quartiles of
//! many interleaved requests), never as single timings.

use std::time::{Duration, Instant};

use crate::support::{app, Backend, Browser, TestApp};

const ROUNDS: usize = 40;

async fn timed_login(app: &TestApp, ip: &str, email: &str) -> Duration {
    let mut b = Browser::from_ip(app, ip);
    let start = Instant::now();
    let res = b.post("/api/auth/login", &[("email", email), ("password", "wrong password, long enough")]).await;
    let took = start.elapsed();
    assert_eq!(res.status(), 401);
    took
}

fn quartiles(mut samples: Vec<Duration>) -> [f64; 3] {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize].as_secs_f64();
    [at(0.25), at(0.5), at(0.75)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_known_addresses_fail_in_the_same_time() {
    let app = app(Backend::Sqlite).await;
    // ROUNDS known accounts sharing one real hash (made once), so no account is throttled by the test
    let hash = app.state.hasher.hash(crate::accounts::PASSWORD).await.unwrap();
    for i in 0..ROUNDS {
        sqlx::query(
            "INSERT INTO accounts (id, email, email_verified_at, password_hash, status, created_at, updated_at) \
             VALUES ($1, $2, 1, $3, 'active', 1, 1)",
        )
        .bind(format!("t{i}"))
        .bind(format!("known{i}@example.com"))
        .bind(&hash)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    }
    // warm up connections and caches
    timed_login(&app, "10.9.0.1", "warm@example.com").await;
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for i in 0..ROUNDS {
        // interleaved, so drift in machine load hits both sides alike
        known.push(timed_login(&app, &format!("10.9.1.{i}"), &format!("known{i}@example.com")).await);
        unknown.push(timed_login(&app, &format!("10.9.2.{i}"), &format!("unknown{i}@example.com")).await);
    }
    let (k, u) = (quartiles(known), quartiles(unknown));
    let spread = (k[2] - k[0]).max(u[2] - u[0]).max(k[1] * 0.05);
    assert!(
        (k[1] - u[1]).abs() <= spread,
        "medians differ by more than the interquartile spread: known {k:?} s, unknown {u:?} s"
    );
    // and the interquartile ranges overlap
    assert!(k[0] <= u[2] && u[0] <= k[2], "known {k:?} s, unknown {u:?} s");
}
