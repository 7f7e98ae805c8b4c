//! Test harness: a configured app on a fresh database of either back end, and request helpers.

#![allow(dead_code)]

pub mod authenticator;

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

/// `[[profile.attributes]]` written as an operator writes them in the configuration file, for `app_with`
/// (`|c| c.profile.attributes = profile_attributes(TOML)`).
pub fn profile_attributes(toml: &str) -> Vec<vestibule::core::profile::RawAttribute> {
    use figment::providers::Format;
    let raw: RawConfig = figment::Figment::from(figment::providers::Toml::string(toml))
        .extract()
        .unwrap_or_else(|e| panic!("profile attributes: {e}"));
    raw.profile.attributes
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

/// A browser: one cookie jar (the session cookie), requests with the portal's Origin like a real one.
pub struct Browser<'a> {
    pub app: &'a TestApp,
    pub cookie: Option<String>,
    pub ip: std::net::SocketAddr,
    /// Sent as `User-Agent` with every request.
    pub user_agent: String,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self::from_ip(app, "192.0.2.10")
    }

    pub fn from_ip(app: &'a TestApp, ip: &str) -> Self {
        Self { app, cookie: None, ip: format!("{ip}:5555").parse().unwrap(), user_agent: "it-browser".into() }
    }

    /// The same browser under another `User-Agent` (another browser program on the same machine).
    pub fn with_user_agent(mut self, user_agent: &str) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    async fn send(&mut self, mut req: Request<Body>) -> Response<Body> {
        if let Some(cookie) = &self.cookie {
            req.headers_mut().insert("cookie", cookie.parse().unwrap());
        }
        req.extensions_mut().insert(axum::extract::ConnectInfo(self.ip));
        let res = self.app.send(req).await;
        if let Some(set) = res.headers().get("set-cookie").and_then(|v| v.to_str().ok()) {
            let pair = set.split(';').next().unwrap_or_default().to_string();
            // an emptied cookie (Max-Age=0) is a removal
            self.cookie = if set.contains("Max-Age=0") { None } else { Some(pair) };
        }
        res
    }

    /// A form post as the hydrated page sends it (the answer is the result; redirects in `Location`).
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Response<Body> {
        self.post_with(path, form, "application/json").await
    }

    /// A plain HTML form post (JavaScript off).
    pub async fn post_html(&mut self, path: &str, form: &[(&str, &str)], referer: &str) -> Response<Body> {
        let body = serde_urlencoded::to_string(form).unwrap();
        let req = Request::post(path)
            .header("origin", "http://localhost:3000")
            .header("referer", format!("http://localhost:3000{referer}"))
            .header("accept", "text/html")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("user-agent", self.user_agent.as_str())
            .body(Body::from(body))
            .unwrap();
        self.send(req).await
    }

    pub async fn post_with(&mut self, path: &str, form: &[(&str, &str)], accept: &str) -> Response<Body> {
        self.post_with_headers(path, form, &[("accept", accept)]).await
    }

    /// A form post as the hydrated page sends it, with `extra` headers added (or replacing the defaults).
    pub async fn post_with_headers(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
        extra: &[(&str, &str)],
    ) -> Response<Body> {
        let body = serde_urlencoded::to_string(form).unwrap();
        let mut req = Request::post(path)
            .header("origin", "http://localhost:3000")
            .header("accept", "application/json")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("user-agent", self.user_agent.as_str())
            .body(Body::from(body))
            .unwrap();
        for (name, value) in extra {
            let name = http::header::HeaderName::from_bytes(name.as_bytes()).unwrap();
            req.headers_mut().insert(name, value.parse().unwrap());
        }
        self.send(req).await
    }

    pub async fn get(&mut self, path: &str) -> Response<Body> {
        let req = Request::get(path).header("accept", "text/html").header("user-agent", self.user_agent.as_str());
        self.send(req.body(Body::empty()).unwrap()).await
    }

    /// The signed-in account's email, through the same server function the account page uses.
    pub async fn whoami(&mut self) -> Option<String> {
        let res = self.post("/api/auth/me", &[]).await;
        let json: serde_json::Value = serde_json::from_str(&body_text(res).await).unwrap();
        json.get("email").and_then(|e| e.as_str()).map(str::to_owned)
    }
}

/// A message from the outbox, its text part decoded.
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
}

impl Mail {
    pub fn code(&self) -> String {
        self.text
            .split_whitespace()
            .find(|w| w.len() == 6 && w.chars().all(|c| c.is_ascii_digit()))
            .expect("a 6-digit code in the message")
            .to_string()
    }

    /// The message's link with a token (to /verify-email, /login/email or /recover).
    pub fn link(&self) -> String {
        self.text
            .split_whitespace()
            .find(|w| w.starts_with("http") && w.contains("?token="))
            .expect("a link in the message")
            .to_string()
    }

    /// Whether the message carries a code or a link at all (notices must not).
    pub fn has_code_or_link(&self) -> bool {
        self.text.contains("?token=")
            || self.text.split_whitespace().any(|w| w.len() == 6 && w.chars().all(|c| c.is_ascii_digit()))
    }

    pub fn token(&self) -> String {
        self.link().split("token=").nth(1).unwrap().to_string()
    }
}

/// Every message sent to `to`, oldest first.
pub async fn mails_to(app: &TestApp, to: &str) -> Vec<Mail> {
    let outbox = app.state.mailer.outbox().expect("tests mail to the outbox");
    let mut entries = outbox.list().await.unwrap();
    entries.reverse();
    entries
        .into_iter()
        .filter(|e| e.to == to)
        .map(|e| {
            let raw = std::fs::read_to_string(outbox.dir().join(&e.file)).unwrap();
            // the text part, quoted-printable soft breaks and '=' escapes undone (our messages are ASCII)
            let text_part = raw.split("Content-Type: text/plain").nth(1).unwrap_or_default();
            let text_part = text_part.split("Content-Type: text/html").next().unwrap_or_default();
            let text = text_part.replace("=\r\n", "").replace("=3D", "=");
            Mail { to: e.to, subject: e.subject, text }
        })
        .collect()
}

pub async fn last_mail(app: &TestApp, to: &str) -> Mail {
    mails_to(app, to).await.pop().unwrap_or_else(|| panic!("no mail to {to}"))
}
