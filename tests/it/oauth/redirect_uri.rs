//! security.md: "redirect_uri compared exactly (no prefix, no normalisation tricks); a mismatch shows an
//! error page and never redirects", and codes are bound to their redirect URI.

use super::{authorize, client, code_for, exchange, oauth_app, register, signed_in, token, Outcome, Params, CB};
use crate::both;
use crate::support::Backend;

/// Every near miss of `https://app.example/cb` (and requests without a usable client or URI) stops at our
/// error page: a 400 with no `Location`, so nothing reaches any address but the registered one.
async fn near_misses_show_an_error_page_and_never_redirect(backend: Backend) {
    let app = oauth_app(backend).await;
    let shop = register(&app, client()).await;
    let mut b = signed_in(&app, "ann@example.com").await;
    let near_misses = [
        "https://app.example/cb/",
        "https://app.example/cb?x=1",
        "https://app.example/cb/../cb",
        "https://app.example/./cb",
        "HTTPS://APP.EXAMPLE/cb",
        "https://APP.example/cb",
        "https://app.example/CB",
        "https://app.example:443/cb",
        "https://app.example/cb#f",
        "https://app.example/cb#",
        "https://app.example/cb?",
        "https://app.example.evil/cb",
        "https://app.example@evil/cb",
        "https://evil@app.example/cb",
        "https://app.example/cbx",
        "https://app.example/c",
        "http://app.example/cb",
        "https://app.example/%63b",
        "https://app.example/c%62",
        "https://app.example%2Fcb",
        "https%3A%2F%2Fapp.example%2Fcb",
        "https://app.example/cb%20",
        " https://app.example/cb",
        "https://app.example/cb ",
        "https://app.example/cb\n",
        "//app.example/cb",
        "/cb",
    ];
    for uri in near_misses {
        let params = Params::code(&shop.id).set("redirect_uri", uri);
        match authorize(&mut b, None, &params).await {
            Outcome::Page(400, body) => assert!(body.contains("not registered"), "{uri}: {body}"),
            other => panic!("{uri:?}: {other:?}"),
        }
    }
    let other_problems = [
        (Params::code(&shop.id).unset("redirect_uri"), "redirect_uri is missing"),
        (Params::code(&shop.id).set("redirect_uri", ""), "redirect_uri is missing"),
        (Params::code("no-such-client"), "unknown client_id"),
        (Params::code("").set("client_id", ""), "client_id is missing"),
        (Params::code(&shop.id).unset("client_id"), "client_id is missing"),
    ];
    for (params, why) in other_problems {
        match authorize(&mut b, None, &params).await {
            Outcome::Page(400, body) => assert!(body.contains(why), "{params:?}: {body}"),
            other => panic!("{params:?}: {other:?}"),
        }
    }
    // the same checks on a POSTed request (OpenID Connect Core 3.1.2.1), and errors in other parameters
    // are not shown before the redirect URI is checked (no redirect to an unchecked address)
    let params =
        Params::code(&shop.id).set("redirect_uri", "https://app.example.evil/cb").set("response_type", "token");
    let res = b
        .post_html(
            "/oauth2/authorize",
            &params.0.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>(),
            "/",
        )
        .await;
    assert_eq!(res.status(), 400);
    assert_eq!(crate::support::header(&res, "location"), "");

    // the exact URI works, by GET and by POST
    let code = code_for(&mut b, &Params::code(&shop.id)).await;
    assert!(!code.is_empty());
    let form = Params::code(&shop.id).0;
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let res = b.post_html("/oauth2/authorize", &form, "/").await;
    let app_redirect = super::follow(&mut b, None, res).await.app();
    assert_eq!(app_redirect.base(), CB);
    assert!(app_redirect.get("code").is_some());
}
both!(near_misses, near_misses_show_an_error_page_and_never_redirect);

/// A code is bound to the redirect URI of its request: the exchange must name the same one, exactly.
async fn the_token_request_must_name_the_same_redirect_uri(backend: Backend) {
    let app = oauth_app(backend).await;
    let other = "https://app.example/other";
    let shop = register(&app, super::NewClient { redirect_uris: vec![CB.into(), other.into()], ..client() }).await;
    let mut b = signed_in(&app, "bea@example.com").await;
    let code = code_for(&mut b, &Params::code(&shop.id)).await;
    for sent in [Some(other), Some("https://app.example/cb/"), Some(""), None] {
        let mut form = vec![("grant_type", "authorization_code"), ("code", code.as_str())];
        form.extend(sent.map(|uri| ("redirect_uri", uri)));
        let (status, body) = token(&app, shop.auth(), &form).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")), "{sent:?}: {body}");
    }
    // refused exchanges did not use the code up
    let (status, body) = exchange(&app, &shop, &code, None).await;
    assert_eq!(status, 200, "{body}");

    // a code issued for the second URI is exchanged with it, not with the first
    let code = code_for(&mut b, &Params::code(&shop.id).set("redirect_uri", other)).await;
    let (status, body) = exchange(&app, &shop, &code, None).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
    let form = [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", other)];
    assert_eq!(token(&app, shop.auth(), &form).await.0, 200);
}
both!(token_redirect_uri, the_token_request_must_name_the_same_redirect_uri);
