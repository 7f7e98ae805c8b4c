//! Passkey sign-in throughput: completed discoverable sign-ins per second.
//!
//! `cargo bench --features ssr --bench passkeys [-- SECONDS]`
//!
//! Drives the real router in-process (tower `oneshot`: no TCP or HTTP parsing) on an SQLite file, like
//! bench/signin.rs. Each sign-in is what the "Sign in with a passkey" button does: `signin-start` (new
//! session holding the challenge), the authenticator's assertion (the software authenticator the
//! integration tests use: one P-256 signature), and `signin-finish` (ceremony taken from the session,
//! credential lookup, user-handle check, signature and counter verification, counter update, audit row,
//! session rotation). Accounts are prepared first, each with its own passkey; every worker signs in with
//! its own share of them in turn, so each passkey's counter only goes up. Runs with 1, 2, 8 and 32 workers.
//!
//! For scale, three parts are also measured alone: webauthn-rs verifying one assertion (the signature
//! check every sign-in needs, the analogue of the argon2 bound in bench/signin.rs), the software
//! authenticator signing one (client work that a real deployment does not pay, but that runs on the same
//! cores here), and `signin-start` by itself.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support.rs"]
mod support;

#[path = "../tests/it/support/authenticator.rs"]
mod authenticator;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use http::Request;
use http_body_util::BodyExt;
use tower::ServiceExt;
use webauthn_rs_proto::RequestChallengeResponse;

use authenticator::Authenticator;
use vestibule::core::audit::RequestMeta;
use vestibule::core::passkeys;

const ORIGIN: &str = "http://localhost:3000";
const ACCOUNTS: usize = 256;
const CONCURRENCY: [usize; 4] = [1, 2, 8, 32];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let support::Portal { phase, cores, state, app, _dir } = support::portal().await?;

    // Verified accounts whose only way in is a passkey, registered through the same core the sign-up
    // page uses (without the mail round trip: the address is marked verified directly).
    let prepared = Instant::now();
    let deps = state.deps();
    let mut authenticators = Vec::with_capacity(ACCOUNTS);
    for i in 0..ACCOUNTS {
        let now = vestibule::server::auth::now();
        let (ccr, pending) = passkeys::start_signup(&deps, &format!("bench{i}@example.com"), None, now)?;
        let mut auth = Authenticator::new();
        let credential = auth.register(&ccr, ORIGIN);
        let meta = RequestMeta::default();
        passkeys::finish_registration(&deps, pending, &credential, None, &meta, now, &mut rand::rng()).await?;
        authenticators.push(Mutex::new(auth));
    }
    sqlx::query("UPDATE accounts SET email_verified_at = 1").execute(&state.db.pool).await?;
    let authenticators = Arc::new(authenticators);
    let prepared = prepared.elapsed();

    // one sign-in by hand, so a broken setup fails loudly instead of measuring errors
    assert!(sign_in(&app, &authenticators, 0).await, "a passkey sign-in works");

    // The bounds: what one assertion costs the server in signature checking (webauthn-rs verifying a
    // P-256 ECDSA signature and the authenticator data), and the software authenticator's signing, which
    // every sign-in below also pays on the same cores (a real browser's device does this elsewhere).
    let (rcr, discoverable) = state.webauthn.start_discoverable_authentication()?;
    let answer = authenticators[ACCOUNTS - 1].lock().unwrap().assert_with(0, &rcr, ORIGIN);
    let (row, _) = vestibule::db::passkeys::find_with_owner(
        &state.db.pool,
        &passkeys::encode_credential_id(answer.get_credential_id()),
    )
    .await?
    .expect("the credential is stored");
    let stored: webauthn_rs::prelude::Passkey = serde_json::from_str(&row.credential)?;
    let webauthn = state.webauthn.clone();
    let verify_rate = support::run_counting(phase, cores, "operations", move |_, _| {
        let (webauthn, state, stored, answer) =
            (webauthn.clone(), discoverable.clone(), stored.clone(), answer.clone());
        async move { webauthn.finish_discoverable_authentication_v2(&answer, state, &stored).is_ok() }
    })
    .await;
    // throwaway credentials, one per worker (the prepared accounts' counters must not move)
    let throwaway: Arc<Vec<Mutex<Authenticator>>> = Arc::new(
        (0..cores)
            .map(|_| {
                let (ccr, _) = state.webauthn.start_passkey_registration(uuid::Uuid::new_v4(), "b", "b", None)?;
                let mut auth = Authenticator::new();
                auth.register(&ccr, ORIGIN);
                Ok(Mutex::new(auth))
            })
            .collect::<Result<_, webauthn_rs::prelude::WebauthnError>>()?,
    );
    let sign_rate = support::run_counting(phase, cores, "operations", move |worker, _| {
        let (auths, rcr) = (throwaway.clone(), rcr.clone());
        async move { !auths[worker].lock().unwrap().assert_with(0, &rcr, ORIGIN).response.signature.is_empty() }
    })
    .await;

    let start_app = app.clone();
    let start_rate = support::run_counting(phase, 2, "operations", move |_, _| {
        let app = start_app.clone();
        async move {
            matches!(
                post(&app, "/api/passkeys/signin-start", "conditional=false".into(), None).await,
                Some((200, Some(_), _))
            )
        }
    })
    .await;

    let mut rows = Vec::new();
    for workers in CONCURRENCY {
        let (app, auths) = (app.clone(), authenticators.clone());
        let result = support::run_counting(phase, workers, "operations", move |worker, round| {
            let (app, auths) = (app.clone(), auths.clone());
            // worker w uses accounts w, w + workers, w + 2 * workers, ...: never one another's
            let per_worker = ACCOUNTS / workers;
            let account = worker + workers * (round % per_worker);
            async move { sign_in(&app, &auths, account).await }
        })
        .await;
        rows.push((workers, result));
    }

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "| measurement ({} s each, {cores} cores, SQLite, {ACCOUNTS} accounts prepared in {:.1} s) | per second | median | p99 | CPU per op |",
        phase.as_secs(),
        prepared.as_secs_f64()
    );
    println!("|---|---:|---:|---:|---:|");
    println!(
        "| webauthn-rs assertion verifications (P-256 ECDSA), {cores} in flight, bound | {:.0} | {:.2} ms | {:.2} ms | {:.3} ms |",
        verify_rate.per_second,
        ms(verify_rate.median),
        ms(verify_rate.p99),
        ms(verify_rate.cpu_per_op)
    );
    println!(
        "| software authenticator assertions (client side, paid inside every sign-in below) | {:.0} | {:.2} ms | {:.2} ms | {:.3} ms |",
        sign_rate.per_second,
        ms(sign_rate.median),
        ms(sign_rate.p99),
        ms(sign_rate.cpu_per_op)
    );
    println!(
        "| signin-start alone (options + new session row), 2 in flight | {:.0} | {:.2} ms | {:.2} ms | {:.3} ms |",
        start_rate.per_second,
        ms(start_rate.median),
        ms(start_rate.p99),
        ms(start_rate.cpu_per_op)
    );
    for (workers, r) in rows {
        println!(
            "| complete passkey sign-ins, {workers} in flight | {:.0} | {:.2} ms | {:.2} ms | {:.3} ms |",
            r.per_second,
            ms(r.median),
            ms(r.p99),
            ms(r.cpu_per_op)
        );
    }
    Ok(())
}

/// One button sign-in for `account` in a fresh browser; whether it reached /account.
async fn sign_in(app: &axum::Router, auths: &[Mutex<Authenticator>], account: usize) -> bool {
    let res = post(app, "/api/passkeys/signin-start", "conditional=false".into(), None).await;
    let Some((status, cookie, body)) = res else { return false };
    let (Some(cookie), 200) = (cookie, status) else { return false };
    let Ok(json) = serde_json::from_str::<String>(&body) else { return false };
    let Ok(options) = serde_json::from_str::<RequestChallengeResponse>(&json) else { return false };
    let credential = {
        let mut auth = auths[account].lock().unwrap();
        auth.assert_with(0, &options, ORIGIN)
    };
    let form = serde_urlencoded::to_string([("credential", serde_json::to_string(&credential).unwrap_or_default())])
        .unwrap_or_default();
    let res = post(app, "/api/passkeys/signin-finish", form + "&conditional=false", Some(cookie)).await;
    matches!(res, Some((200, _, body)) if body == "\"/account\"")
}

/// POSTs a form as the hydrated page does; the status, the session cookie set, and the body.
async fn post(
    app: &axum::Router,
    path: &str,
    form: String,
    cookie: Option<String>,
) -> Option<(u16, Option<String>, String)> {
    let mut req = Request::post(path)
        .header("origin", ORIGIN)
        .header("accept", "application/json")
        .header("content-type", "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        req = req.header("cookie", cookie);
    }
    let res = app.clone().oneshot(req.body(Body::from(form)).ok()?).await.ok()?;
    let status = res.status().as_u16();
    let cookie = res
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_owned);
    let body = res.into_body().collect().await.ok()?.to_bytes();
    Some((status, cookie, String::from_utf8_lossy(&body).into_owned()))
}
