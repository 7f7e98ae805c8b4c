//! Test harness: a configured app on a fresh database of either back end, and request helpers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use axum::body::Body;
use axum::Router;
use http::{Request, Response};
use http_body_util::BodyExt;
use tower::ServiceExt;

use vestibule::server::config::RawConfig;
use vestibule::server::router;
use vestibule::server::serve;
use vestibule::server::state::AppState;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs `$body(Backend)` as two tests, `sqlite` and `postgres`, in a module named `$name`.
#[macro_export]
macro_rules! both {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$body($crate::support::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if $crate::support::skip_postgres() {
                    return;
                }
                super::$body($crate::support::Backend::Postgres).await
            }
        }
    };
}

pub fn skip_postgres() -> bool {
    std::env::var("VESTIBULE_TEST_SKIP_POSTGRES").is_ok_and(|v| v == "1")
}

pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    pub dir: tempfile::TempDir,
}

/// A fresh PostgreSQL database; returns its URL.
pub async fn fresh_postgres_database() -> String {
    let admin = std::env::var("VESTIBULE_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!(
            "VESTIBULE_TEST_POSTGRES_URL is not set: run scripts/test (it starts PostgreSQL), or set \
             VESTIBULE_TEST_SKIP_POSTGRES=1 to skip the PostgreSQL half on purpose"
        )
    });
    sqlx::any::install_default_drivers();
    let name = format!("vt_{}", uuid::Uuid::new_v4().simple());
    let pool = sqlx::AnyPool::connect(&admin).await.expect("connect to the test PostgreSQL");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&pool).await.expect("create test database");
    pool.close().await;
    let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).expect("admin URL has a database path");
    format!("{base}/{name}")
}

pub fn base_config(dir: &tempfile::TempDir) -> RawConfig {
    RawConfig {
        data_dir: dir.path().join("data"),
        site_root: dir.path().join("site"),
        database_url: Some(format!("sqlite://{}/data/vestibule.db", dir.path().display())),
        ..RawConfig::default()
    }
}

pub async fn database_url(backend: Backend, dir: &tempfile::TempDir) -> String {
    match backend {
        Backend::Sqlite => format!("sqlite://{}/data/vestibule.db", dir.path().display()),
        Backend::Postgres => fresh_postgres_database().await,
    }
}

/// The app with default settings on `backend`.
pub async fn app(backend: Backend) -> TestApp {
    app_with(backend, |_| {}, Router::new()).await
}

/// The app with settings changed by `configure` and `extra` probe routes mounted under the middleware.
pub async fn app_with(backend: Backend, configure: impl FnOnce(&mut RawConfig), extra: Router<AppState>) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut raw = base_config(&dir);
    raw.database_url = Some(database_url(backend, &dir).await);
    configure(&mut raw);
    let config = raw.validate().unwrap_or_else(|e| panic!("{e}"));
    let (state, store) = serve::prepare(config).await.unwrap_or_else(|e| panic!("{e}"));
    let router = router::build_with(state.clone(), store, extra);
    TestApp { router, state, dir }
}

impl TestApp {
    pub async fn send(&self, req: Request<Body>) -> Response<Body> {
        self.router.clone().oneshot(req).await.unwrap()
    }

    pub async fn get(&self, path: &str) -> Response<Body> {
        self.send(Request::get(path).header("accept", "text/html").body(Body::empty()).unwrap()).await
    }
}

pub async fn body_text(res: Response<Body>) -> String {
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8_lossy(&bytes).into_owned()
}

pub fn header<'a>(res: &'a Response<Body>, name: &str) -> &'a str {
    res.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}
