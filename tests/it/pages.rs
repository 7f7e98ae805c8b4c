use crate::both;
use crate::support::{app, app_with, body_text, header, Backend};

/// The page policy names a nonce, and the same nonce is on the hydration script, so the page can hydrate
/// under a CSP that runs nothing else.
async fn home_page_carries_security_headers_and_a_nonced_csp(backend: Backend) {
    let app = app(backend).await;
    let res = app.get("/").await;
    assert_eq!(res.status(), 200);
    assert!(header(&res, "content-type").starts_with("text/html"));
    let csp = header(&res, "content-security-policy").to_string();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_else(|| panic!("no nonce in {csp}"))
        .to_string();
    assert!(nonce.len() >= 22, "nonce too short: {nonce}");
    for part in ["object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "'strict-dynamic'"] {
        assert!(csp.contains(part), "{part} missing from {csp}");
    }
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(header(&res, "x-content-type-options"), "nosniff");
    assert_eq!(header(&res, "referrer-policy"), "same-origin");
    assert_eq!(header(&res, "cross-origin-opener-policy"), "same-origin");
    assert_eq!(header(&res, "x-frame-options"), "DENY");
    assert_eq!(header(&res, "cache-control"), "no-store");
    assert_eq!(header(&res, "strict-transport-security"), "", "no HSTS over http");
    assert!(!header(&res, "x-operation-id").is_empty());

    let html = body_text(res).await;
    assert!(html.contains(&format!("nonce=\"{nonce}\"")), "hydration script lacks the CSP nonce");
    assert!(html.contains("href=\"/signup\"") && html.contains("href=\"/login\""));
    assert!(html.contains("Skip to content"));

    // a fresh nonce per response
    let again = app.get("/").await;
    assert!(!header(&again, "content-security-policy").contains(&nonce));
}
both!(home_page_headers, home_page_carries_security_headers_and_a_nonced_csp);

async fn https_deployments_get_hsts(backend: Backend) {
    let app = app_with(backend, |c| c.public_url = "https://id.example.com".into(), axum::Router::new()).await;
    let res = app.get("/").await;
    assert_eq!(header(&res, "strict-transport-security"), "max-age=63072000; includeSubDomains");
    let res = app.get("/healthz").await;
    assert!(!header(&res, "strict-transport-security").is_empty(), "HSTS on every response");
    assert!(header(&res, "content-security-policy").contains("default-src 'none'"));
}
both!(https_hsts, https_deployments_get_hsts);

async fn unknown_paths_answer_404_with_a_page(backend: Backend) {
    let app = app(backend).await;
    let res = app.get("/no/such/page").await;
    assert_eq!(res.status(), 404);
    let html = body_text(res).await;
    assert!(html.contains("Page not found"));
}
both!(not_found, unknown_paths_answer_404_with_a_page);

async fn dev_outbox_exists_only_in_dev_mode(backend: Backend) {
    let prod = app(backend).await;
    let res = prod.get("/dev/outbox").await;
    assert_eq!(res.status(), 404);
    assert!(!body_text(res).await.contains("Dev outbox"));

    let dev = app_with(backend, |c| c.dev_mode = true, axum::Router::new()).await;
    let outbox = dev.state.mailer.outbox().expect("no SMTP: outbox mailer");
    let to = "Ann <ann@example.com>".parse().unwrap();
    let mail = vestibule::server::mail::templates::test_message(to, "<b>note</b>", "http://localhost:3000").unwrap();
    dev.state.mailer.send(mail).await.unwrap();
    assert_eq!(std::fs::read_dir(outbox.dir()).unwrap().count(), 2, ".eml and .json");

    let res = dev.get("/dev/outbox").await;
    assert_eq!(res.status(), 200);
    let html = body_text(res).await;
    assert!(html.contains("Dev outbox") && html.contains("ann@example.com") && html.contains("Vestibule test message"));
}
both!(dev_outbox, dev_outbox_exists_only_in_dev_mode);

/// The bundle is served gzip-compressed when the browser accepts it; pages never are (BREACH).
async fn static_assets_are_compressed_and_pages_are_not(backend: Backend) {
    let app = app(backend).await;
    let pkg = app.dir.path().join("site/pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("vestibule.css"), ".a{color:red}\n".repeat(400)).unwrap();
    let req = |path: &str| {
        http::Request::get(path).header("accept-encoding", "gzip").body(axum::body::Body::empty()).unwrap()
    };
    let css = app.send(req("/pkg/vestibule.css")).await;
    assert_eq!(css.status(), 200);
    assert_eq!(header(&css, "content-encoding"), "gzip");
    let page = app.send(req("/")).await;
    assert_eq!(header(&page, "content-encoding"), "");
}
both!(compression, static_assets_are_compressed_and_pages_are_not);
