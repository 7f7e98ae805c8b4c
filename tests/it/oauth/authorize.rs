//! security.md: "state echoed, nonce in the ID token, `iss` in the authorization response; implicit and
//! password grants absent".

use serde_json::{json, Value};

use super::{
    authorize, client, code_for, exchange_ok, oauth_app, register, signed_in, str_of, token, verify_jwt, Params, CB,
};
use crate::both;
use crate::support::{body_text, Backend};

const ISSUER: &str = "http://localhost:3000";

async fn state_nonce_and_iss_come_back(backend: Backend) {
    let app = oauth_app(backend).await;
    let shop = register(&app, client()).await;
    let mut b = signed_in(&app, "ann@example.com").await;

    // state with characters that need encoding comes back exactly; iss names us (RFC 9207)
    let state = "a b&c=d/é+%20";
    let params = Params::code(&shop.id).set("state", state).set("nonce", "n-0S6_WzA2Mj");
    let back = authorize(&mut b, None, &params).await.app();
    assert_eq!(back.base(), CB);
    assert_eq!(back.get("state").as_deref(), Some(state));
    assert_eq!(back.get("iss").as_deref(), Some(ISSUER));
    let tokens = exchange_ok(&app, &shop, &back.get("code").unwrap(), None).await;
    let claims = verify_jwt(&app, str_of(&tokens, "id_token")).await;
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["aud"], shop.id.as_str());

    // without a nonce the ID token has none; without state the answer has none
    let code = code_for(&mut b, &Params::code(&shop.id).unset("state")).await;
    let tokens = exchange_ok(&app, &shop, &code, None).await;
    assert!(verify_jwt(&app, str_of(&tokens, "id_token")).await.get("nonce").is_none());
    let back = authorize(&mut b, None, &Params::code(&shop.id).unset("state")).await.app();
    assert!(back.get("state").is_none() && back.get("iss").is_some());

    // errors carry state and iss too
    let back = authorize(&mut b, None, &Params::code(&shop.id).set("scope", "openid admin")).await.app();
    assert_eq!(back.base(), CB);
    assert_eq!(back.get("error").as_deref(), Some("invalid_scope"));
    assert_eq!(back.get("state").as_deref(), Some("st-1"));
    assert_eq!(back.get("iss").as_deref(), Some(ISSUER));
    assert!(back.get("code").is_none());
}
both!(state_nonce_iss, state_nonce_and_iss_come_back);

async fn only_the_code_flow_exists(backend: Backend) {
    let app = oauth_app(backend).await;
    let shop = register(&app, client()).await;
    let mut b = signed_in(&app, "bea@example.com").await;

    for response_type in
        ["token", "id_token", "code id_token", "code token", "id_token token", "code id_token token", "none"]
    {
        let back = authorize(&mut b, None, &Params::code(&shop.id).set("response_type", response_type)).await.app();
        assert_eq!(back.get("error").as_deref(), Some("unsupported_response_type"), "{response_type}");
        // the error goes in the query, never in a fragment (no implicit-style answer)
        assert!(back.url.fragment().is_none() && back.get("access_token").is_none() && back.get("id_token").is_none());
        assert_eq!(back.get("iss").as_deref(), Some(ISSUER));
    }
    let back = authorize(&mut b, None, &Params::code(&shop.id).unset("response_type")).await.app();
    assert_eq!(back.get("error").as_deref(), Some("invalid_request"));
    let back = authorize(&mut b, None, &Params::code(&shop.id).set("response_mode", "fragment")).await.app();
    assert_eq!(back.get("error").as_deref(), Some("invalid_request"));
    assert!(back.url.fragment().is_none());

    let password_grant =
        [("grant_type", "password"), ("username", "bea@example.com"), ("password", crate::accounts::PASSWORD)];
    for form in
        [&password_grant[..], &[("grant_type", "implicit")], &[("grant_type", "token")], &[("grant_type", "")], &[]]
    {
        let (status, body) = token(&app, shop.auth(), form).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("unsupported_grant_type")), "{form:?}: {body}");
        assert!(body.get("access_token").is_none());
    }
}
both!(code_flow_only, only_the_code_flow_exists);

async fn discovery_lists_only_what_exists(backend: Backend) {
    let app = oauth_app(backend).await;
    let res = app.get("/.well-known/openid-configuration").await;
    assert_eq!(res.status(), 200);
    let doc: Value = serde_json::from_str(&body_text(res).await).unwrap();
    assert_eq!(doc["issuer"], ISSUER);
    assert_eq!(doc["response_types_supported"], json!(["code"]));
    assert_eq!(doc["response_modes_supported"], json!(["query"]));
    assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(doc["grant_types_supported"], json!(["authorization_code", "refresh_token", "client_credentials"]));
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    let algs = doc["id_token_signing_alg_values_supported"].as_array().unwrap();
    assert!(algs.iter().all(|a| ["EdDSA", "ES256", "RS256"].contains(&a.as_str().unwrap())), "{algs:?}");
    assert_eq!(doc["jwks_uri"], format!("{ISSUER}/oauth2/jwks"));
    for endpoint in ["authorization_endpoint", "token_endpoint", "userinfo_endpoint", "end_session_endpoint"] {
        assert!(str_of(&doc, endpoint).starts_with(&format!("{ISSUER}/oauth2/")), "{endpoint}");
    }
}
both!(discovery, discovery_lists_only_what_exists);

/// Single-page apps call the machine endpoints from other origins: they answer CORS preflights (without
/// credentials); the endpoints browsers are sent to do not.
async fn machine_endpoints_allow_cross_origin_calls(backend: Backend) {
    let app = oauth_app(backend).await;
    let preflight = |path: &str| {
        http::Request::builder()
            .method("OPTIONS")
            .uri(path)
            .header("origin", "https://spa.example")
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization, content-type")
            .body(axum::body::Body::empty())
            .unwrap()
    };
    for path in
        ["/oauth2/token", "/oauth2/revoke", "/oauth2/userinfo", "/oauth2/jwks", "/.well-known/openid-configuration"]
    {
        let res = app.send(preflight(path)).await;
        assert_eq!(crate::support::header(&res, "access-control-allow-origin"), "*", "{path}");
        assert!(res.headers().get("access-control-allow-credentials").is_none(), "{path}");
    }
    for path in ["/oauth2/authorize", "/oauth2/consent", "/oauth2/logout"] {
        let res = app.send(preflight(path)).await;
        assert!(res.headers().get("access-control-allow-origin").is_none(), "{path}");
    }
}
both!(cors, machine_endpoints_allow_cross_origin_calls);
