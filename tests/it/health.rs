use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::both;
use crate::support::{self, app, app_with, body_text, Backend};

async fn healthz_and_readyz_answer(backend: Backend) {
    let app = app(backend).await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), 200);
    assert_eq!(body_text(res).await, r#"{"status":"ok"}"#);
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 200);
    assert!(body_text(res).await.contains("ready"));
}
both!(healthz_and_readyz, healthz_and_readyz_answer);

/// A TCP relay between the pool and PostgreSQL that can be cut and restored, to make the database
/// unreachable without stopping the shared test server.
struct Relay {
    addr: std::net::SocketAddr,
    up: Arc<AtomicBool>,
    pipes: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Relay {
    async fn start(target: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let pipes: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let (up2, pipes2) = (up.clone(), pipes.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !up2.load(Ordering::SeqCst) {
                    continue; // dropped: connection refused in effect
                }
                let target = target.clone();
                let pipe = tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                pipes2.lock().unwrap().push(pipe);
            }
        });
        Self { addr, up, pipes }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for pipe in self.pipes.lock().unwrap().drain(..) {
            pipe.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_503_while_postgres_is_unreachable_and_200_again_without_restart() {
    if support::skip_postgres() {
        return;
    }
    let url = support::fresh_postgres_database().await;
    let parsed = url::Url::parse(&url).unwrap();
    let target = format!("{}:{}", parsed.host_str().unwrap(), parsed.port().unwrap_or(5432));
    let relay = Relay::start(target).await;
    let mut via_relay = parsed.clone();
    via_relay.set_port(Some(relay.addr.port())).unwrap();

    let app = app_with(Backend::Postgres, |c| c.database_url = Some(via_relay.to_string()), axum::Router::new()).await;
    assert_eq!(app.get("/readyz").await.status(), 200);

    relay.cut();
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 503);
    assert!(body_text(res).await.contains("unavailable"));

    relay.restore();
    assert_eq!(app.get("/readyz").await.status(), 200);
}
