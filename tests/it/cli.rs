//! The `vestibule` binary itself: configuration errors, migrate, and a real serve that stops cleanly on
//! SIGTERM with JSON logs.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_vestibule");

fn vestibule(dir: &tempfile::TempDir) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("VESTIBULE_DATA_DIR", dir.path().join("data"))
        .env("VESTIBULE_SITE_ROOT", dir.path().join("site"))
        .current_dir(dir.path());
    cmd
}

#[test]
fn invalid_configuration_is_reported_with_the_keys_to_change() {
    let dir = tempfile::tempdir().unwrap();
    let out = vestibule(&dir)
        .args(["check-config"])
        .env("VESTIBULE_PUBLIC_URL", "http://id.example.com")
        .env("VESTIBULE_ARGON2__MEMORY_KIB", "1024")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("2 problem(s)"), "{err}");
    assert!(err.contains("public_url") && err.contains("argon2.memory_kib"), "{err}");
}

#[test]
fn check_config_prints_a_summary_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("vestibule.toml"),
        "[smtp]\nhost = \"smtp.example.com\"\nsecurity = \"starttls\"\nusername = \"u\"\npassword = \"hunter2-secret\"\nfrom = \"A <a@example.com>\"\n",
    )
    .unwrap();
    let out = vestibule(&dir)
        .args(["check-config"])
        .env("VESTIBULE_DATABASE_URL", "postgres://u:pw-secret@db/x")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("configuration is valid") && text.contains("PostgreSQL") && text.contains("smtp.example.com")
    );
    assert!(!text.contains("hunter2-secret") && !text.contains("pw-secret"), "{text}");
}

#[test]
fn migrate_creates_the_sqlite_database() {
    let dir = tempfile::tempdir().unwrap();
    let out = vestibule(&dir).args(["migrate"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.path().join("data/vestibule.db").exists());
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn http_get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

#[test]
fn serve_answers_then_stops_cleanly_on_sigterm_with_json_logs() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = vestibule(&dir)
        .args(["serve"])
        .env("VESTIBULE_BIND", format!("127.0.0.1:{port}"))
        .env("VESTIBULE_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    // wait until it answers (a condition, bounded), then check readiness
    let deadline = Instant::now() + Duration::from_secs(30);
    let health = loop {
        if let Some(r) = http_get(port, "/healthz") {
            break r;
        }
        assert!(Instant::now() < deadline, "server did not come up");
        assert!(child.try_wait().unwrap().is_none(), "server exited early");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(http_get(port, "/readyz").unwrap_or_default().starts_with("HTTP/1.1 200"));
    // the token signing keys exist from the first start, before any app asked for one (one per algorithm)
    let keys: i64 = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let url = format!("sqlite://{}", dir.path().join("data/vestibule.db").display());
        let db = vestibule::db::Db::connect_lazy(&url).unwrap();
        sqlx::query_scalar("SELECT COUNT(*) FROM oauth_signing_keys").fetch_one(&db.pool).await.unwrap()
    });
    assert_eq!(keys, 3);

    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "server did not stop after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status}");

    let logs: Vec<String> = BufReader::new(child.stdout.take().unwrap()).lines().map_while(Result::ok).collect();
    assert!(!logs.is_empty());
    for line in &logs {
        let value: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(value.get("level").is_some() && value.get("timestamp").is_some(), "{line}");
    }
    assert!(logs.iter().any(|l| l.contains("shutdown signal received")), "{logs:?}");
    assert!(logs.iter().any(|l| l.contains("Vestibule stopped")), "{logs:?}");
}

/// The last stdout line of a command that must succeed (log lines may come before it).
fn last_line(out: &std::process::Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or_default().to_string()
}

#[test]
fn apps_and_signing_keys_are_managed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| vestibule(&dir).args(args).env("VESTIBULE_LOG_FILTER", "error").output().unwrap();
    let created: serde_json::Value = serde_json::from_str(&last_line(&run(&[
        "client",
        "create",
        "--name",
        "Shop",
        "--redirect-uri",
        "https://shop.example/cb",
        "--json",
    ])))
    .unwrap();
    let id = created["client_id"].as_str().unwrap().to_string();
    let secret = created["client_secret"].as_str().unwrap().to_string();
    assert_eq!(secret.len(), 43, "256 bits, base64url");

    let listed: serde_json::Value = serde_json::from_str(&last_line(&run(&["client", "list", "--json"]))).unwrap();
    assert_eq!(listed[0]["client_id"], id.as_str());
    assert_eq!(listed[0]["token_endpoint_auth_method"], "client_secret_basic");
    assert!(!listed.to_string().contains(&secret), "the secret is shown once, at creation");

    let rotated: serde_json::Value =
        serde_json::from_str(&last_line(&run(&["client", "rotate-secret", &id, "--json"]))).unwrap();
    assert_ne!(rotated["client_secret"], secret.as_str());

    // bad registrations: every problem at once, exit status 1, nothing stored
    let refused = run(&["client", "create", "--name", "", "--redirect-uri", "http://shop.example/cb", "--public"]);
    assert_eq!(refused.status.code(), Some(1));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("name") && err.contains("http is allowed only"), "{err}");

    let public: serde_json::Value = serde_json::from_str(&last_line(&run(&[
        "client",
        "create",
        "--name",
        "App",
        "--public",
        "--redirect-uri",
        "com.example.app:/cb",
        "--json",
    ])))
    .unwrap();
    assert!(public["client_secret"].is_null(), "a public client has no secret");
    assert!(!run(&["client", "rotate-secret", public["client_id"].as_str().unwrap()]).status.success());

    assert!(last_line(&run(&["client", "delete", &id])).contains("deleted"));
    assert!(!run(&["client", "delete", &id]).status.success(), "already gone");

    // keys: the first run created one per algorithm; a rotation adds three more
    let rotated = last_line(&run(&["keys", "rotate"]));
    assert!(rotated.contains("previous keys stay published"), "{rotated}");
}

#[test]
fn admins_are_granted_listed_and_revoked_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        vestibule(&dir)
            .args(args)
            .env("VESTIBULE_LOG_FILTER", "error")
            .env("VESTIBULE_MFA__POLICY", "admins")
            .output()
            .unwrap()
    };
    assert!(run(&["migrate"]).status.success());
    // an account, as a sign-up would have stored it
    let url = format!("sqlite://{}", dir.path().join("data/vestibule.db").display());
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let db = vestibule::db::Db::connect_lazy(&url).unwrap();
        let new = vestibule::db::accounts::NewAccount {
            id: "acct-ada",
            email: "ada@example.com",
            display_name: None,
            password_hash: None,
            user_handle: None,
            now: 1,
        };
        assert!(vestibule::db::accounts::insert(&db.pool, &new).await.unwrap());
    });

    // what the account's owner was told (no SMTP configured: the outbox)
    let outbox = vestibule::server::mail::Outbox::new(dir.path().join("data/outbox"));
    let told = || -> Vec<String> {
        let entries = tokio::runtime::Runtime::new().unwrap().block_on(outbox.list()).unwrap_or_default();
        let mut subjects: Vec<String> =
            entries.into_iter().filter(|e| e.to == "ada@example.com").map(|e| e.subject).collect();
        subjects.sort();
        subjects
    };

    assert_eq!(last_line(&run(&["admin", "list"])), "no admins (vestibule admin grant <email> makes one)");
    let granted = run(&["admin", "grant", "Ada@Example.com"]);
    let text = String::from_utf8_lossy(&granted.stdout);
    assert!(granted.status.success() && text.contains("ada@example.com is now an admin"), "{text}");
    assert!(text.contains("will be led to set one up at the next sign-in"), "the policy's effect is said: {text}");
    assert_eq!(told(), ["Your account is now an administrator"]);
    let again = run(&["admin", "grant", "ada@example.com"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("ada@example.com was already an admin"));
    assert_eq!(told().len(), 1, "nothing changed, nothing told");
    let listed: serde_json::Value = serde_json::from_str(&last_line(&run(&["admin", "list", "--json"]))).unwrap();
    assert_eq!(
        (listed[0]["email"].as_str(), listed[0]["account_id"].as_str()),
        (Some("ada@example.com"), Some("acct-ada"))
    );
    assert_eq!(listed.as_array().map(Vec::len), Some(1));

    // an address nobody has: exit status 1 and a message naming it
    let refused = run(&["admin", "grant", "nobody@example.com"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("nobody@example.com"));

    assert!(last_line(&run(&["admin", "revoke", "ada@example.com"])).contains("is no longer an admin"));
    assert!(last_line(&run(&["admin", "revoke", "ada@example.com"])).contains("was not an admin"));
    assert_eq!(told(), ["Your account is no longer an administrator", "Your account is now an administrator"]);
    let listed: serde_json::Value = serde_json::from_str(&last_line(&run(&["admin", "list", "--json"]))).unwrap();
    assert_eq!(listed, serde_json::json!([]));
}
