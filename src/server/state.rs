//! What every request handler can reach. Cheap to clone: one reference count for the whole state (axum and
//! leptos clone it several times per request; a struct of a dozen `Arc`s paid a dozen atomic increments and
//! decrements each time, about 3 % of a passkey sign-in's CPU).

use std::ops::Deref;
use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::core::accounts::{Deps, Settings};
use crate::core::mfa::seal::SeedSealer;
use crate::core::passwords::hasher::Hasher;
use crate::core::tokens::TokenKey;
use crate::db::Db;
use crate::server::config::Config;
use crate::server::mail::{Mailer, Outbox};

#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// The state's fields, reached through `AppState`'s `Deref` (`state.db`, `state.config`).
pub struct Shared {
    pub config: Arc<Config>,
    pub db: Db,
    pub mailer: Mailer,
    pub leptos: LeptosOptions,
    pub hasher: Hasher,
    pub token_key: TokenKey,
    pub accounts: Arc<Settings>,
    /// The WebAuthn relying party (passkeys).
    pub webauthn: Arc<webauthn_rs::Webauthn>,
    /// Seals TOTP seeds at rest.
    pub sealer: Arc<SeedSealer>,
    /// Issuer, audience and token lifetimes of the OAuth provider.
    pub oauth: Arc<crate::core::oidc::OAuthSettings>,
    /// The OAuth/OIDC token signing keys, loaded on first use and reloaded every minute.
    pub oidc_keys: Arc<crate::server::oauth::keys::KeyCache>,
}

impl AppState {
    pub fn new(
        config: Config,
        db: Db,
        mailer: Mailer,
        hasher: Hasher,
        token_key: TokenKey,
        webauthn: webauthn_rs::Webauthn,
        sealer: SeedSealer,
    ) -> Self {
        let leptos = LeptosOptions::builder()
            .output_name("vestibule")
            .site_root(config.site_root.display().to_string())
            .site_pkg_dir("pkg")
            .site_addr(config.bind)
            .build();
        let accounts = Arc::new(Settings {
            public_url: config.public_url.as_str().trim_end_matches('/').to_string(),
            require_verified_email: config.accounts.require_verified_email,
            challenge_ttl_secs: config.webauthn.challenge_ttl_secs,
            mfa_issuer: config.mfa.issuer.clone().unwrap_or_else(|| config.webauthn.rp_name.clone()),
            email_sign_in: config.accounts.email_sign_in,
            mail_per_ip_per_day: config.limits.mail_per_ip_per_day,
            failures_per_ip_per_day: config.limits.failures_per_ip_per_day,
            ..Settings::default()
        });
        let webauthn = Arc::new(webauthn);
        let sealer = Arc::new(sealer);
        let oidc_keys = Arc::new(crate::server::oauth::keys::KeyCache::new());
        let oauth = Arc::new(config.oauth.settings(&accounts.public_url));
        Self(Arc::new(Shared {
            config: Arc::new(config),
            db,
            mailer,
            leptos,
            hasher,
            token_key,
            accounts,
            webauthn,
            sealer,
            oauth,
            oidc_keys,
        }))
    }

    /// What the account flows need, borrowed from the state.
    pub fn deps(&self) -> Deps<'_> {
        Deps {
            db: &self.db,
            hasher: &self.hasher,
            key: &self.token_key,
            settings: &self.accounts,
            webauthn: &self.webauthn,
            sealer: &self.sealer,
        }
    }

    /// The outbox, but only in dev mode: production never exposes written mail over HTTP.
    pub fn dev_outbox(&self) -> Option<&Outbox> {
        self.config.dev_mode.then(|| self.mailer.outbox()).flatten()
    }
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

// What axum's `State<T>` extractors and leptos_axum take out of the state.
impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

impl FromRef<AppState> for Db {
    fn from_ref(state: &AppState) -> Self {
        state.db.clone()
    }
}
