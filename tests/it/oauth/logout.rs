//! RP-initiated logout (post-logout redirect URIs compared exactly, a confirmation unless the app proves
//! which sign-in it means) and back-channel logout tokens sent to the apps of the ending sign-in.

use std::time::Duration;

use super::{
    client, oauth_app, oauth_app_with, refresh, register, signed_in, str_of, tokens_for, userinfo, verify_jwt,
    NewClient, BYE,
};
use crate::both;
use crate::mfa::{account_id, password_sign_in};
use crate::support::{header, Backend, Browser};

/// `GET /oauth2/logout` with these parameters: status and `Location`.
async fn logout(b: &mut Browser<'_>, params: &[(&str, &str)]) -> (u16, String) {
    let res = b.get(&format!("/oauth2/logout?{}", serde_urlencoded::to_string(params).unwrap())).await;
    (res.status().as_u16(), header(&res, "location").to_string())
}

async fn post_logout_redirects_are_exact_and_need_this_sign_ins_id_token(backend: Backend) {
    let app = oauth_app(backend).await;
    let shop = register(&app, client()).await;
    let email = "ann@example.com";
    let mut b = signed_in(&app, email).await;
    let tokens = tokens_for(&mut b, &app, &shop, "openid").await;
    let hint = str_of(&tokens, "id_token").to_string();

    let near_misses = [
        "https://app.example/bye/",
        "https://app.example/bye?x=1",
        "https://app.example/bye#f",
        "HTTPS://APP.EXAMPLE/bye",
        "https://app.example:443/bye",
        "https://app.example.evil/bye",
        "https://app.example@evil/bye",
        "https://app.example/%62ye",
        "https://app.example/by",
        super::CB,
        "https://evil.example/",
    ];
    for uri in near_misses {
        for params in [
            vec![("id_token_hint", hint.as_str()), ("post_logout_redirect_uri", uri)],
            vec![("client_id", shop.id.as_str()), ("post_logout_redirect_uri", uri)],
        ] {
            assert_eq!(logout(&mut b, &params).await, (400, String::new()), "{uri}");
        }
    }
    // a URI without a client to check it against, a hint that is not ours, a client the hint does not name
    let rival = register(&app, client()).await;
    let refused = [
        vec![("post_logout_redirect_uri", BYE)],
        vec![("id_token_hint", "junk"), ("post_logout_redirect_uri", BYE)],
        vec![("client_id", "nobody"), ("post_logout_redirect_uri", BYE)],
        vec![("id_token_hint", hint.as_str()), ("client_id", rival.id.as_str()), ("post_logout_redirect_uri", BYE)],
        // an access token is not an ID token
        vec![("id_token_hint", str_of(&tokens, "access_token")), ("post_logout_redirect_uri", BYE)],
    ];
    for params in refused {
        assert_eq!(logout(&mut b, &params).await, (400, String::new()), "{params:?}");
    }
    assert_eq!(b.whoami().await.as_deref(), Some(email), "refused requests sign nobody out");

    // no hint: the person confirms first (a page elsewhere must not sign people out at will)
    let (status, location) =
        logout(&mut b, &[("client_id", &shop.id), ("post_logout_redirect_uri", BYE), ("state", "s1")]).await;
    assert_eq!((status, location.as_str()), (303, "/oauth2/logout/confirm"));
    assert_eq!(b.whoami().await.as_deref(), Some(email));
    // the confirmation is our own form: another site cannot post it
    let res = b.post_with_headers("/oauth2/logout/confirm", &[], &[("origin", "https://evil.example")]).await;
    assert_eq!(res.status(), 403);
    let res = b.post_html("/oauth2/logout/confirm", &[], "/oauth2/logout/confirm").await;
    assert_eq!(res.status(), 303);
    assert_eq!(header(&res, "location"), format!("{BYE}?state=s1"));
    assert_eq!(b.whoami().await, None);
    assert_eq!(userinfo(&app, str_of(&tokens, "access_token")).await.0, 401, "the sign-in's grants end with it");

    // an ID token of an earlier sign-in is no proof: confirm again
    let mut b = password_sign_in(&app, email).await.0;
    let (status, location) = logout(&mut b, &[("id_token_hint", &hint), ("post_logout_redirect_uri", BYE)]).await;
    assert_eq!((status, location.as_str()), (303, "/oauth2/logout/confirm"));

    // this sign-in's ID token: signed out at once and sent back with state; offline grants live on
    let tokens = tokens_for(&mut b, &app, &shop, "openid").await;
    let offline = tokens_for(&mut b, &app, &shop, "openid offline_access").await;
    let hint = str_of(&tokens, "id_token");
    let (status, location) =
        logout(&mut b, &[("id_token_hint", hint), ("post_logout_redirect_uri", BYE), ("state", "x y")]).await;
    assert_eq!((status, location.as_str()), (303, format!("{BYE}?state=x+y").as_str()));
    assert_eq!(b.whoami().await, None);
    assert_eq!(userinfo(&app, str_of(&tokens, "access_token")).await.0, 401);
    let (status, _) = refresh(&app, &shop, str_of(&offline, "refresh_token"), None).await;
    assert_eq!(status, 200, "offline_access outlives the sign-in");
    // signed out already: straight back to the app
    let (status, location) = logout(&mut b, &[("id_token_hint", hint), ("post_logout_redirect_uri", BYE)]).await;
    assert_eq!((status, location.as_str()), (303, BYE));
    // no app to return to: our signed-out page
    let (status, location) = logout(&mut b, &[]).await;
    assert_eq!((status, location.as_str()), (303, "/?signed_out=1"));
}
both!(rp_initiated, post_logout_redirects_are_exact_and_need_this_sign_ins_id_token);

/// A local listener standing in for the app's back-channel logout endpoint: every form body it receives.
async fn listener() -> (String, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let receive = axum::routing::post(move |body: String| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(body);
            ""
        }
    });
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri = format!("http://{}/backchannel", socket.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(socket, axum::Router::new().route("/backchannel", receive)).await });
    (uri, rx)
}

async fn signing_out_sends_logout_tokens_to_the_apps_of_the_sign_in(backend: Backend) {
    let app = oauth_app_with(backend, |c| c.oauth.allow_private_network = true).await;
    let (uri, mut received) = listener().await;
    let shop = register(&app, NewClient { backchannel_logout_uri: Some(uri), ..client() }).await;
    let email = "bea@example.com";
    let mut b = signed_in(&app, email).await;
    let tokens = tokens_for(&mut b, &app, &shop, "openid").await;
    let sid = verify_jwt(&app, str_of(&tokens, "id_token")).await["sid"].as_str().unwrap().to_string();
    // a second grant of the same sign-in: still one notification (a second one would be received below,
    // in place of the next sign-in's)
    tokens_for(&mut b, &app, &shop, "openid").await;

    assert_eq!(b.post("/logout", &[]).await.status(), 200, "the portal's own sign-out");
    let body = tokio::time::timeout(Duration::from_secs(20), received.recv()).await.expect("a logout token in time");
    let form: Vec<(String, String)> = serde_urlencoded::from_str(&body.unwrap()).unwrap();
    assert_eq!(form.len(), 1);
    assert_eq!(form[0].0, "logout_token");
    let token = &form[0].1;
    assert_eq!(super::jwt_parts(token).0["typ"], "logout+jwt");
    let claims = verify_jwt(&app, token).await;
    assert_eq!(claims["iss"], "http://localhost:3000");
    assert_eq!(claims["aud"], shop.id.as_str());
    assert_eq!(claims["sid"], sid.as_str());
    assert_eq!(claims["sub"], account_id(&app, email).await.as_str());
    assert!(claims["events"].get("http://schemas.openid.net/event/backchannel-logout").is_some(), "{claims}");
    assert!(claims.get("nonce").is_none(), "a logout token must not have a nonce");
    assert!(claims["jti"].is_string() && claims["iat"].is_i64() && claims["exp"].is_i64());

    // another sign-in, ended through the app's own logout request: again a token, naming that sign-in
    let mut b = password_sign_in(&app, email).await.0;
    let tokens = tokens_for(&mut b, &app, &shop, "openid").await;
    let hint = str_of(&tokens, "id_token");
    let new_sid = verify_jwt(&app, hint).await["sid"].as_str().unwrap().to_string();
    assert_ne!(new_sid, sid);
    let (status, _) = logout(&mut b, &[("id_token_hint", hint)]).await;
    assert_eq!(status, 303);
    let body = tokio::time::timeout(Duration::from_secs(20), received.recv()).await.expect("a logout token in time");
    let form: Vec<(String, String)> = serde_urlencoded::from_str(&body.unwrap()).unwrap();
    assert_eq!(verify_jwt(&app, &form[0].1).await["sid"], new_sid.as_str());
}
both!(back_channel, signing_out_sends_logout_tokens_to_the_apps_of_the_sign_in);
