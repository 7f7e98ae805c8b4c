//! Token endpoint throughput: client-credentials and refresh-token grants per second, in one run.
//!
//! `cargo bench --features ssr --bench tokens [-- SECONDS]`
//!
//! Drives the real router in-process (tower `oneshot`: no TCP or HTTP parsing) on an SQLite file, like
//! bench/signin.rs and bench/passkeys.rs. Every request is a POST to /oauth2/token with HTTP Basic client
//! authentication (HMAC of the secret, compared in constant time) and must answer 200: any other answer
//! stops the bench with the body it got.
//!
//! - client credentials: one confidential client per signing algorithm (EdDSA is the default, RS256 is
//!   what older clients ask for); each answer is one signed access token (RFC 9068).
//! - refresh: `CHAINS` grants with scope "openid offline_access" are seeded directly in the database, each
//!   with a live refresh token; every worker rotates its own share of the chains, the answer's
//!   `refresh_token` being the chain's next request. So each request is a real rotation (lookup with its
//!   grant, account check, mark used, insert the next token, touch the grant, one commit) with reuse
//!   detection armed, and signs an access token and an ID token.
//!
//! For scale, signing alone (`KeySet::sign` of an access token's claims) is measured per algorithm: the
//! analogue of the argon2 bound in bench/signin.rs. After the refresh phase at 1 in flight, its parts are
//! timed alone (see `breakdown`): the core grant without the router, client authentication, the reads and
//! the write transaction of a rotation (also at 8 in flight, and queued behind an in-process mutex).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support.rs"]
mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use base64::Engine;
use http::Request;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use rand::SeedableRng;
use vestibule::core::audit::RequestMeta;
use vestibule::core::oidc::clients::{self, AuthMethod, NewClient, PresentedClient};
use vestibule::core::oidc::keys::SigningAlg;
use vestibule::core::oidc::token::{self, Issuer, TokenParams};
use vestibule::core::oidc::{new_id, GrantType};
use vestibule::core::tokens::new_link_token;
use vestibule::db::accounts::NewAccount;
use vestibule::db::oauth::{self as repo, GrantRow};
use vestibule::server::state::AppState;

/// Grants seeded for the refresh phases (one more is kept aside for the reuse check).
const CHAINS: usize = 1024;
const IN_FLIGHT: [usize; 2] = [1, 8];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let support::Portal { phase, cores, state, app, _dir } = support::portal().await?;

    let mut rng = rand::rng();
    let now = vestibule::server::auth::now();
    // One client-credentials client per algorithm, and one app with refresh tokens (EdDSA, the default).
    let mut machine = Vec::new();
    for alg in SigningAlg::ALL {
        let new = NewClient {
            name: format!("Bench service {alg:?}"),
            scopes: vec!["api:read".into(), "api:write".into()],
            grant_types: vec![GrantType::ClientCredentials],
            signing_alg: alg,
            ..confidential_client()
        };
        machine.push((alg, register(&state, &new, now, &mut rng).await?.1));
    }
    let app_client = NewClient {
        name: "Bench app".into(),
        redirect_uris: vec!["https://app.example/cb".into()],
        scopes: clients::default_scopes(),
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        signing_alg: SigningAlg::EdDSA,
        ..confidential_client()
    };
    let (app_id, app_basic) = register(&state, &app_client, now, &mut rng).await?;

    // One person who signed in to the app CHAINS + 1 times (one grant each, as /oauth2/token would create).
    let account_id = uuid::Uuid::new_v4().to_string();
    let account = NewAccount {
        id: &account_id,
        email: "bench@example.com",
        display_name: Some("Bench"),
        password_hash: None,
        user_handle: None,
        now,
    };
    assert!(vestibule::db::accounts::insert(&state.db.pool, &account).await?, "the account is new");
    let mut tokens = Vec::with_capacity(CHAINS + 1);
    let mut tx = state.db.pool.begin().await?;
    for _ in 0..=CHAINS {
        let grant = GrantRow {
            id: new_id(&mut rng),
            account_id: account_id.clone(),
            client_id: app_id.clone(),
            scopes: "openid offline_access".into(),
            auth_time: now,
            amr: r#"["pwd"]"#.into(),
            sid: new_id(&mut rng),
            created_at: now,
            expires_at: now + state.oauth.refresh_token_ttl_secs,
            last_used_at: now,
            revoked_at: None,
        };
        repo::insert_grant(&mut *tx, &grant).await?;
        let token = new_link_token(&mut rng);
        repo::insert_refresh_token(&mut *tx, &state.token_key.link_hash(&token), &grant.id, now).await?;
        tokens.push(token);
    }
    tx.commit().await?;

    // By hand first, so a broken setup fails loudly instead of measuring errors: each client gets a token,
    // and a rotated refresh token presented again is refused and ends its grant (the detection is armed).
    for (alg, auth) in &machine {
        let answer = token_request(&app, auth, CLIENT_CREDENTIALS.into()).await?;
        assert!(answer["access_token"].is_string(), "{alg:?}: {answer}");
    }
    let spare = tokens.pop().expect("seeded");
    let rotated = token_request(&app, &app_basic, refresh_form(&spare)).await?;
    let next = rotated["refresh_token"].as_str().expect("a rotated refresh token").to_string();
    assert!(rotated["id_token"].is_string() && rotated["access_token"].is_string(), "{rotated}");
    let reused = token_request(&app, &app_basic, refresh_form(&spare)).await;
    assert!(reused.as_ref().is_err_and(|e| e.contains("invalid_grant")), "reuse refused: {reused:?}");
    let after = token_request(&app, &app_basic, refresh_form(&next)).await;
    assert!(after.is_err(), "the reuse revoked the grant: {after:?}");
    let chains: Arc<Vec<Mutex<String>>> = Arc::new(tokens.into_iter().map(Mutex::new).collect());

    // The bound: signing an access token's claims alone, per algorithm, one per core in flight.
    let keys = state.oidc_keys.get(&state.db, &state.sealer).await?;
    let claims = serde_json::json!({
        "iss": state.oauth.issuer, "aud": state.oauth.audience, "client_id": app_id, "iat": now, "exp": now + 600,
        "jti": new_id(&mut rng), "scope": "api:read api:write", "sub": app_id,
    });
    let claims = claims.as_object().cloned().unwrap_or_default();
    let mut rows = Vec::new();
    for alg in SigningAlg::ALL {
        let (keys, claims) = (keys.clone(), claims.clone());
        let rate = run(phase, cores, move |_, _| {
            let (keys, claims) = (keys.clone(), claims.clone());
            async move { keys.sign(alg, "at+jwt", &claims).map(|_| ()).map_err(|e| e.to_string()) }
        })
        .await?;
        rows.push((format!("signing alone, {alg:?}, {cores} in flight (bound)"), rate));
    }

    for (alg, auth) in &machine {
        let in_flight: &[usize] = if *alg == SigningAlg::EdDSA { &IN_FLIGHT } else { &IN_FLIGHT[1..] };
        for &workers in in_flight {
            let (app, auth) = (app.clone(), auth.clone());
            let rate = run(phase, workers, move |_, _| {
                let (app, auth) = (app.clone(), auth.clone());
                async move { token_request(&app, &auth, CLIENT_CREDENTIALS.into()).await.map(|_| ()) }
            })
            .await?;
            rows.push((format!("client credentials grants, {alg:?}, {workers} in flight"), rate));
        }
    }

    for workers in IN_FLIGHT {
        let (app, auth, shared) = (app.clone(), app_basic.clone(), chains.clone());
        let rate = run(phase, workers, move |worker, round| {
            let (app, auth, chains) = (app.clone(), auth.clone(), shared.clone());
            // worker w rotates chains w, w + workers, w + 2 * workers, ...: never another worker's
            let chain = worker + workers * (round % (CHAINS / workers));
            async move {
                let token = chains[chain].lock().unwrap().clone();
                let answer = token_request(&app, &auth, refresh_form(&token)).await?;
                let next = answer["refresh_token"].as_str().ok_or_else(|| format!("no refresh_token in {answer}"))?;
                *chains[chain].lock().unwrap() = next.to_string();
                Ok(())
            }
        })
        .await?;
        rows.push((format!("refresh grants (rotation + access and ID token), EdDSA, {workers} in flight"), rate));
        if workers == 1 {
            // right after the same requests through the router, on the same database
            rows.extend(breakdown(phase, &state, &account_id, &app_id, &app_basic, &chains).await?);
        }
    }

    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "| measurement ({} s each, {cores} cores, SQLite, {CHAINS} grants seeded) | per second | median | p99 |",
        phase.as_secs()
    );
    println!("|---|---:|---:|---:|");
    for (name, r) in rows {
        println!("| {name} | {:.0} | {:.2} ms | {:.2} ms |", r.per_second, ms(r.median), ms(r.p99));
    }
    Ok(())
}

/// Where a refresh's time goes, one in flight: the core grant alone (no router, no client authentication:
/// rotation, account check and two signatures), and client authentication alone (the client's row and the
/// secret's HMAC). The rest of a request through the router is the edge's. A bare query gives the price of
/// one round trip to SQLite's connection thread; a refresh makes seven (client, token with grant, account,
/// and a transaction marking the token used, inserting the next one and touching the grant).
async fn breakdown(
    phase: Duration,
    state: &AppState,
    account_id: &str,
    app_id: &str,
    app_basic: &str,
    chains: &Arc<Vec<Mutex<String>>>,
) -> Result<Vec<(String, support::Rate)>, Box<dyn std::error::Error>> {
    let mut rows = Vec::new();
    let client = clients::find(&state.db, app_id).await?.expect("registered");
    let (core_state, core_chains, core_client) = (state.clone(), chains.clone(), client.clone());
    let rate = run(phase, 1, move |_, round| {
        let (state, chains, client) = (core_state.clone(), core_chains.clone(), core_client.clone());
        async move {
            let keys = state.oidc_keys.get(&state.db, &state.sealer).await.map_err(|e| e.to_string())?;
            let issuer = Issuer { db: &state.db, key: &state.token_key, keys: &keys, settings: &state.oauth };
            let chain = round % CHAINS;
            let refresh_token = Some(chains[chain].lock().unwrap().clone());
            let params =
                TokenParams { grant_type: Some("refresh_token".into()), refresh_token, ..TokenParams::default() };
            let mut rng = rand::rngs::StdRng::from_os_rng();
            let now = vestibule::server::auth::now();
            let tokens = token::grant(&issuer, &client, &params, &RequestMeta::default(), now, &mut rng)
                .await
                .map_err(|e| e.description)?;
            *chains[chain].lock().unwrap() = tokens.refresh_token.ok_or("no refresh token")?;
            Ok(())
        }
    })
    .await?;
    rows.push(("refresh grants in the core alone (no router, no client authentication), 1 in flight".into(), rate));
    let secret = base64::engine::general_purpose::STANDARD.decode(app_basic.trim_start_matches("Basic "))?;
    let secret = String::from_utf8(secret)?.split_once(':').map(|(_, s)| s.to_string()).unwrap_or_default();
    let (auth_state, app_id) = (state.clone(), app_id.to_string());
    let rate = run(phase, 1, move |_, _| {
        let (state, secret, client_id) = (auth_state.clone(), secret.clone(), app_id.clone());
        async move {
            let presented =
                PresentedClient { client_id, secret: Some(secret.into()), method: AuthMethod::ClientSecretBasic };
            clients::authenticate(&state.db, &state.token_key, &presented).await.map(|_| ()).map_err(|e| e.description)
        }
    })
    .await?;
    rows.push(("client authentication alone (client row + secret HMAC), 1 in flight".into(), rate));
    let pool = state.db.pool.clone();
    let rate = run(phase, 1, move |_, _| {
        let pool = pool.clone();
        async move { sqlx::query("SELECT 1").execute(&pool).await.map(|_| ()).map_err(|e| e.to_string()) }
    })
    .await?;
    rows.push(("a bare query through the pool (`SELECT 1`), 1 in flight, for scale".into(), rate));
    // the rotation's reads by itself: the token with its grant, then the account
    let (db, key, chains_read, account) =
        (state.db.clone(), state.token_key.clone(), chains.clone(), account_id.to_string());
    let rate = run(phase, 1, move |_, round| {
        let (db, key, chains, account) = (db.clone(), key.clone(), chains_read.clone(), account.clone());
        async move {
            let hash = key.link_hash(&chains[round % CHAINS].lock().unwrap().clone());
            let found = repo::find_refresh_token(&db.pool, &hash).await.map_err(|e| e.to_string())?;
            let person = vestibule::db::accounts::find_by_id(&db.pool, &account).await.map_err(|e| e.to_string())?;
            found.and(person).map(|_| ()).ok_or_else(|| "token or account not found".to_string())
        }
    })
    .await?;
    rows.push(("the rotation's reads alone (token with grant, account), 1 in flight".into(), rate));
    // the rotation's transaction by itself, on one seeded grant with a fresh token each time; with 8 in
    // flight the writers meet at SQLite's single write lock
    let spare = repo::live_grants_for_account(&state.db.pool, account_id, 0).await?;
    let grant_id = spare.first().map(|g| g.id.clone()).ok_or("a seeded grant")?;
    // and the same with the writers queued in-process (what a single writer lock in `db` would do) instead
    // of meeting at SQLite's lock, whose busy handler sleeps 1, 2, 5, 10... ms between tries
    let writer = Arc::new(tokio::sync::Mutex::new(()));
    for (workers, queued) in [(1, false), (8, false), (8, true)] {
        let (db, key, grant_id, writer) = (state.db.clone(), state.token_key.clone(), grant_id.clone(), writer.clone());
        let rate = run(phase, workers, move |_, _| {
            let (db, key, grant_id, writer) = (db.clone(), key.clone(), grant_id.clone(), writer.clone());
            async move {
                let hash = key.link_hash(&uuid::Uuid::new_v4().to_string());
                let _turn = if queued { Some(writer.lock().await) } else { None };
                let write = async {
                    let mut tx = db.pool.begin().await?;
                    repo::insert_refresh_token(&mut *tx, &hash, &grant_id, 1).await?;
                    repo::use_refresh_token(&mut *tx, &hash, 2).await?;
                    tx.commit().await
                };
                write.await.map_err(|e: sqlx::Error| e.to_string())
            }
        })
        .await?;
        let how = if queued { ", queued in-process" } else { "" };
        rows.push((
            format!("the rotation's write transaction alone (2 statements + commit), {workers} in flight{how}"),
            rate,
        ));
    }
    Ok(rows)
}

const CLIENT_CREDENTIALS: &str = "grant_type=client_credentials&scope=api%3Aread";

fn refresh_form(token: &str) -> String {
    format!("grant_type=refresh_token&refresh_token={token}") // base64url: nothing to escape
}

fn confidential_client() -> NewClient {
    NewClient {
        name: String::new(),
        auth_method: AuthMethod::ClientSecretBasic,
        redirect_uris: vec![],
        post_logout_redirect_uris: vec![],
        scopes: vec![],
        grant_types: vec![],
        first_party: true,
        backchannel_logout_uri: None,
        signing_alg: SigningAlg::EdDSA,
    }
}

/// Registers `new`: its id and its HTTP Basic `Authorization` value.
async fn register(
    state: &AppState,
    new: &NewClient,
    now: i64,
    rng: &mut impl rand::CryptoRng,
) -> Result<(String, String), Box<dyn std::error::Error>> {
    use secrecy::ExposeSecret;
    let (client, secret) = clients::create(&state.db, &state.token_key, new, now, rng).await?;
    let secret = secret.expect("a confidential client has a secret");
    // id (hex) and secret (base64url) need no form-encoding inside the credentials
    let pair = format!("{}:{}", client.id, secret.0.expose_secret());
    Ok((client.id, format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair))))
}

/// POSTs a token request; the JSON answer of a 200, or the status and body of anything else.
async fn token_request(app: &axum::Router, authorization: &str, form: String) -> Result<Value, String> {
    let req = Request::post("/oauth2/token")
        .header("authorization", authorization)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(form))
        .map_err(|e| e.to_string())?;
    let res = app.clone().oneshot(req).await.map_err(|e| e.to_string())?;
    let status = res.status();
    let body = res.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
    if status != http::StatusCode::OK {
        return Err(format!("{status}: {}", String::from_utf8_lossy(&body)));
    }
    serde_json::from_slice(&body).map_err(|e| e.to_string())
}

/// `support::run` where any failed request fails the phase, with the first error.
async fn run<F, Fut>(phase: Duration, workers: usize, task: F) -> Result<support::Rate, String>
where
    F: Fn(usize, usize) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    support::run(phase, workers, task).await.all_ok(workers)
}
