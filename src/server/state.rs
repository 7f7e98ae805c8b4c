//! What every request handler can reach. Cheap to clone (everything inside is shared).

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::db::Db;
use crate::server::config::Config;
use crate::server::mail::{Mailer, Outbox};

#[derive(Clone, FromRef)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub mailer: Mailer,
    pub leptos: LeptosOptions,
}

impl AppState {
    pub fn new(config: Config, db: Db, mailer: Mailer) -> Self {
        let leptos = LeptosOptions::builder()
            .output_name("vestibule")
            .site_root(config.site_root.display().to_string())
            .site_pkg_dir("pkg")
            .site_addr(config.bind)
            .build();
        Self { config: Arc::new(config), db, mailer, leptos }
    }

    /// The outbox, but only in dev mode: production never exposes written mail over HTTP.
    pub fn dev_outbox(&self) -> Option<&Outbox> {
        self.config.dev_mode.then(|| self.mailer.outbox()).flatten()
    }
}
