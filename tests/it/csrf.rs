use axum::body::Body;
use http::Request;

use crate::both;
use crate::support::{app_with, body_text, header, Backend};

fn post(path: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut req = Request::post(path).header("content-type", "application/x-www-form-urlencoded");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.body(Body::empty()).unwrap()
}

/// Server functions are state-changing entry points like any form: cross-site posts never reach them.
async fn cross_site_posts_are_refused_before_reaching_server_functions(backend: Backend) {
    let app = app_with(backend, |c| c.dev_mode = true, axum::Router::new()).await;
    let path = "/api/dev/outbox";

    let forged = [
        vec![("origin", "https://evil.example")],
        vec![("origin", "null")],
        vec![("sec-fetch-site", "cross-site"), ("origin", "http://localhost:3000")],
        vec![("sec-fetch-site", "same-site")],
        vec![("cookie", "vestibule=stolen")],
    ];
    for headers in forged {
        let res = app.send(post(path, &headers)).await;
        assert_eq!(res.status(), 403, "{headers:?}");
        let op = header(&res, "x-operation-id").to_string();
        let body = body_text(res).await;
        assert!(body.contains("\"kind\":\"forbidden\""), "{body}");
        assert!(body.contains(&op), "problem document carries the operation id");
    }

    for headers in [
        vec![("origin", "http://localhost:3000")],
        vec![("sec-fetch-site", "same-origin"), ("origin", "http://localhost:3000")],
        vec![], // not a browser, no session cookie: nothing to forge
    ] {
        let res = app.send(post(path, &headers)).await;
        assert_eq!(res.status(), 200, "{headers:?}");
    }
}
both!(cross_site_posts, cross_site_posts_are_refused_before_reaching_server_functions);

/// A browser form post (Accept: text/html) that is refused gets a page, not JSON.
async fn refused_form_posts_get_an_error_page(backend: Backend) {
    let app = app_with(backend, |_| {}, axum::Router::new()).await;
    let res = app.send(post("/api/dev/outbox", &[("origin", "https://evil.example"), ("accept", "text/html")])).await;
    assert_eq!(res.status(), 403);
    assert!(header(&res, "content-type").starts_with("text/html"));
    let op = header(&res, "x-operation-id").to_string();
    let html = body_text(res).await;
    assert!(html.contains("did not come from a Vestibule page"));
    assert!(html.contains(&op));
}
both!(refused_form_posts, refused_form_posts_get_an_error_page);
