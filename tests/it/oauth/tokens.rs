//! Client credentials, userinfo, introspection (RFC 7662) and revocation (RFC 7009).

use serde_json::json;

use super::{
    active, client, client_post, exchange_ok, json, oauth_app, public_client, refresh, register, revoke, signed_in,
    str_of, token, tokens_for, userinfo, verify_jwt, Auth, NewClient, Params, Pkce,
};
use crate::both;
use crate::mfa::account_id;
use crate::support::Backend;
use vestibule::core::oidc::GrantType;

async fn client_credentials_are_for_api_scopes_of_confidential_clients(backend: Backend) {
    let app = oauth_app(backend).await;
    let scopes = vec!["openid".into(), "email".into(), "api:read".into(), "api:write".into()];
    let service = register(
        &app,
        NewClient { grant_types: vec![GrantType::ClientCredentials], redirect_uris: vec![], scopes, ..client() },
    )
    .await;
    let form = [("grant_type", "client_credentials"), ("scope", "api:read")];
    let (status, body) = token(&app, service.auth(), &form).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "api:read");
    assert!(body.get("refresh_token").is_none() && body.get("id_token").is_none());
    let access = str_of(&body, "access_token");
    let claims = verify_jwt(&app, access).await;
    assert_eq!(claims["sub"], service.id.as_str(), "the app acts for itself");
    assert_eq!(claims["client_id"], service.id.as_str());
    assert!(claims.get("gid").is_none() && claims.get("auth_time").is_none());
    assert!(active(&app, &service, access).await);
    // userinfo has no person to describe
    let (status, challenge, _) = userinfo(&app, access).await;
    assert!(status == 401 || status == 403, "{status}");
    assert!(challenge.starts_with("Bearer"), "{challenge}");

    // without scope: the API scopes it was registered for, never identity scopes
    let (status, body) = token(&app, service.auth(), &[("grant_type", "client_credentials")]).await;
    assert_eq!((status, body["scope"].as_str()), (200, Some("api:read api:write")));
    for scope in ["openid", "api:read email", "offline_access", "api:admin"] {
        let (status, body) =
            token(&app, service.auth(), &[("grant_type", "client_credentials"), ("scope", scope)]).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")), "{scope}");
    }
    // a secret is needed: a wrong one, or none
    let (status, _) = token(&app, Auth::Basic(&service.id, "wrong"), &form).await;
    assert_eq!(status, 401);
    let (status, _) = token(&app, Auth::Public(&service.id), &form).await;
    assert_eq!(status, 401);
    // public clients cannot use it (registration refuses it; and an app registered for the code flow
    // may not use it either)
    let phone = register(&app, public_client()).await;
    let (status, body) = token(&app, phone.auth(), &form).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("unauthorized_client")));
    let registered = vestibule::core::oidc::clients::create(
        &app.state.db,
        &app.state.token_key,
        &NewClient { grant_types: vec![GrantType::ClientCredentials], ..public_client() },
        0,
        &mut rand::rng(),
    )
    .await;
    assert!(registered.is_err());
    let shop = register(&app, client()).await;
    let (status, body) = token(&app, shop.auth(), &form).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("unauthorized_client")));
}
both!(client_credentials, client_credentials_are_for_api_scopes_of_confidential_clients);

async fn userinfo_releases_claims_by_scope(backend: Backend) {
    let app = oauth_app(backend).await;
    let shop = register(&app, client()).await;
    let email = "ann@example.com";
    let mut b = signed_in(&app, email).await;
    let sub = account_id(&app, email).await;

    let only_openid = tokens_for(&mut b, &app, &shop, "openid").await;
    let (status, _, claims) = userinfo(&app, str_of(&only_openid, "access_token")).await;
    assert_eq!((status, claims), (200, json!({ "sub": sub })));

    let with_email = tokens_for(&mut b, &app, &shop, "openid email").await;
    let (_, _, claims) = userinfo(&app, str_of(&with_email, "access_token")).await;
    assert_eq!(claims, json!({ "sub": sub, "email": email, "email_verified": true }));
    let id_token = verify_jwt(&app, str_of(&with_email, "id_token")).await;
    assert_eq!((id_token["sub"].as_str(), id_token["email"].as_str()), (Some(sub.as_str()), Some(email)));

    let profile = tokens_for(&mut b, &app, &shop, "openid profile").await;
    let (_, _, claims) = userinfo(&app, str_of(&profile, "access_token")).await;
    assert!(claims.get("email").is_none(), "{claims}");
    assert_eq!(claims["sub"], sub.as_str());

    // no token, a junk token, a token without openid
    let res = app.send(http::Request::get("/oauth2/userinfo").body(axum::body::Body::empty()).unwrap()).await;
    assert!(res.status() == 400 || res.status() == 401, "{}", res.status());
    let (status, challenge, _) = userinfo(&app, "junk").await;
    assert_eq!(status, 401);
    assert!(challenge.contains("invalid_token"), "{challenge}");
    let service = register(&app, client()).await;
    let api_only = tokens_for(&mut b, &app, &service, "profile").await;
    assert_eq!(userinfo(&app, str_of(&api_only, "access_token")).await.0, 403);
}
both!(userinfo_by_scope, userinfo_releases_claims_by_scope);

async fn introspection_is_for_confidential_clients(backend: Backend) {
    let app = oauth_app(backend).await;
    let shop = register(&app, client()).await;
    let phone = register(&app, public_client()).await;
    let mut b = signed_in(&app, "bea@example.com").await;
    let tokens = tokens_for(&mut b, &app, &shop, "openid offline_access").await;
    let access = str_of(&tokens, "access_token");

    let (status, body) = json(client_post(&app, "/oauth2/introspect", shop.auth(), &[("token", access)]).await).await;
    assert_eq!(status, 200);
    assert_eq!(body["active"], true);
    assert_eq!(body["client_id"], shop.id.as_str());
    assert_eq!(body["sub"], account_id(&app, "bea@example.com").await.as_str());
    assert_eq!(body["scope"], "openid offline_access");
    let (status, body) = json(client_post(&app, "/oauth2/introspect", phone.auth(), &[("token", access)]).await).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "a public client cannot");
    let (status, _) =
        json(client_post(&app, "/oauth2/introspect", Auth::Basic(&shop.id, "wrong"), &[("token", access)]).await).await;
    assert_eq!(status, 401);
    // another client's refresh token is not shown
    let rival = register(&app, client()).await;
    assert!(!active(&app, &rival, str_of(&tokens, "refresh_token")).await);
    assert!(active(&app, &shop, str_of(&tokens, "refresh_token")).await);
    assert!(!active(&app, &shop, "junk").await);
}
both!(introspection, introspection_is_for_confidential_clients);

async fn revocation_ends_access_and_refresh_tokens(backend: Backend) {
    let app = oauth_app(backend).await;
    let shop = register(&app, client()).await;
    let mut b = signed_in(&app, "cy@example.com").await;

    // an access token: inactive afterwards, its grant's refresh token goes on
    let tokens = tokens_for(&mut b, &app, &shop, "openid offline_access").await;
    let access = str_of(&tokens, "access_token");
    assert_eq!(revoke(&app, &shop, access).await, 200);
    assert!(!active(&app, &shop, access).await);
    assert_eq!(userinfo(&app, access).await.0, 401);
    let (status, next) = refresh(&app, &shop, str_of(&tokens, "refresh_token"), None).await;
    assert_eq!(status, 200, "{next}");

    // a refresh token: the whole grant ends, access tokens included
    assert_eq!(revoke(&app, &shop, str_of(&next, "refresh_token")).await, 200);
    let (status, body) = refresh(&app, &shop, str_of(&next, "refresh_token"), None).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
    assert!(!active(&app, &shop, str_of(&next, "access_token")).await);

    // unknown tokens and another client's tokens: 200, and the other client's token lives on
    assert_eq!(revoke(&app, &shop, "no-such-token").await, 200);
    let rival = register(&app, client()).await;
    let theirs = tokens_for(&mut b, &app, &rival, "openid offline_access").await;
    assert_eq!(revoke(&app, &shop, str_of(&theirs, "refresh_token")).await, 200);
    assert_eq!(revoke(&app, &shop, str_of(&theirs, "access_token")).await, 200);
    assert!(active(&app, &rival, str_of(&theirs, "refresh_token")).await);
    assert!(active(&app, &rival, str_of(&theirs, "access_token")).await);
    // revocation needs the client's credentials
    let res = client_post(&app, "/oauth2/revoke", Auth::Basic(&shop.id, "wrong"), &[("token", access)]).await;
    assert_eq!(res.status(), 401);

    // a public client revokes its own tokens with its id alone
    let phone = register(&app, public_client()).await;
    let pkce = Pkce::generate();
    let code =
        super::code_for(&mut b, &Params::code(&phone.id).set("scope", "openid offline_access").pkce(&pkce)).await;
    let tokens = exchange_ok(&app, &phone, &code, Some(&pkce.verifier)).await;
    assert_eq!(revoke(&app, &phone, str_of(&tokens, "refresh_token")).await, 200);
    let (status, _) = refresh(&app, &phone, str_of(&tokens, "refresh_token"), None).await;
    assert_eq!(status, 400);
}
both!(revocation, revocation_ends_access_and_refresh_tokens);
