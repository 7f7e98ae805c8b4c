//! Start-up and shutdown of the `serve` command.

use std::net::SocketAddr;
use std::time::Duration;

use tower_sessions::session_store::ExpiredDeletion;

use crate::core::passwords::hasher::{HashParams, Hasher};
use crate::db::Db;
use crate::server::config::Config;
use crate::server::keys;
use crate::server::mail::Mailer;
use crate::server::router;
use crate::server::sessions::DbSessionStore;
use crate::server::state::AppState;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the database URL is not usable: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migrations failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("mail settings are not usable: {0}")]
    Mail(#[from] crate::server::mail::MailError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("cannot create the data directory {dir}: {source}")]
    DataDir { dir: String, source: std::io::Error },
    #[error("password hashing cannot start: {0}")]
    Hasher(String),
    #[error("passkeys cannot start (check [webauthn] and public_url): {0}")]
    Webauthn(String),
    #[error("server error: {0}")]
    Serve(std::io::Error),
}

/// How long a sign-in waits for a free hashing slot before it is told the service is busy.
const HASH_QUEUE_WAIT: Duration = Duration::from_secs(2);

/// The application state and router for `config`, with migrations applied.
pub async fn prepare(config: Config) -> Result<(AppState, DbSessionStore), StartError> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|source| StartError::DataDir { dir: config.data_dir.display().to_string(), source })?;
    let db = Db::connect_lazy(&config.database_url)?;
    db.migrate().await?;
    let mailer = Mailer::from_config(&config)?;
    if let Some(outbox) = mailer.outbox() {
        tracing::warn!(dir = %outbox.dir().display(), "no [smtp] configured: mail is written to the outbox directory, not sent");
    }
    let store = DbSessionStore::new(db.clone(), Duration::from_secs(config.session.absolute_timeout_secs));
    let token_key = keys::load_or_create(config.secret_key.as_ref(), &config.data_dir)
        .map_err(|source| StartError::DataDir { dir: config.data_dir.display().to_string(), source })?;
    let a = &config.argon2;
    let params = HashParams { memory_kib: a.memory_kib, iterations: a.iterations, parallelism: a.parallelism };
    let hasher =
        Hasher::new(params, a.max_concurrent, HASH_QUEUE_WAIT).map_err(|e| StartError::Hasher(e.to_string()))?;
    let webauthn = build_webauthn(&config).map_err(|e| StartError::Webauthn(e.to_string()))?;
    let sealer = keys::seed_sealer(config.mfa.seal_key.as_ref(), &config.mfa.previous_seal_keys, &config.data_dir)
        .map_err(|source| StartError::DataDir { dir: config.data_dir.display().to_string(), source })?;
    Ok((AppState::new(config, db, mailer, hasher, token_key, webauthn, sealer), store))
}

/// The WebAuthn relying party: the configured RP id, the public origin and any extra origins.
pub fn build_webauthn(config: &Config) -> Result<webauthn_rs::Webauthn, webauthn_rs::prelude::WebauthnError> {
    let rp_id = config.rp_id();
    let mut builder = webauthn_rs::WebauthnBuilder::new(&rp_id, &config.public_url)?
        .rp_name(&config.webauthn.rp_name)
        .timeout(Duration::from_secs(config.webauthn.challenge_ttl_secs.unsigned_abs()));
    let extra: Vec<url::Url> = config.webauthn.extra_origins.iter().filter_map(|o| url::Url::parse(o).ok()).collect();
    for origin in &extra {
        builder = builder.append_allowed_origin(origin);
    }
    builder.build()
}

/// How often SQLite's write-ahead log is folded back into the database file: often enough that the log
/// stays small (a second of writes), rarely enough that its fsync is not paid per request.
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

pub async fn run(config: Config) -> Result<(), StartError> {
    let addr = config.bind;
    let cleanup_every = Duration::from_secs(config.session.cleanup_interval_secs);
    let purge_every = Duration::from_secs(config.accounts.purge_interval_secs);
    let public_url = config.public_url.to_string();
    let (state, store) = prepare(config).await?;
    let cleanup = tokio::spawn(store.clone().continuously_delete_expired(cleanup_every));
    let checkpoints = tokio::spawn(state.db.clone().run_checkpoints(CHECKPOINT_EVERY));
    // accounts whose deletion is due are erased at start and then every `accounts.purge_interval_secs`
    let purges = tokio::spawn(crate::server::account_data::run_purges(state.clone(), purge_every));
    let oauth_cleanup = tokio::spawn(crate::server::oauth::run_cleanup(state.clone(), purge_every));
    // token signing keys exist from the first start, and a key that cannot be opened is reported now rather
    // than at the first app sign-in; a database that is down only delays this to the first use
    if let Err(e) = state.oidc_keys.get(&state.db, &state.sealer).await {
        tracing::warn!(error = %e, "token signing keys not loaded at start; retried on first use");
    }
    let app = router::build(state, store);
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|source| StartError::Bind { addr, source })?;
    tracing::info!(%addr, %public_url, "Vestibule is listening");
    let served = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await;
    cleanup.abort();
    checkpoints.abort();
    purges.abort();
    oauth_cleanup.abort();
    tracing::info!("Vestibule stopped");
    served.map_err(StartError::Serve)
}

/// Resolves on SIGTERM or Ctrl-C; axum then stops accepting and lets running requests finish.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown signal received, finishing open requests");
}
