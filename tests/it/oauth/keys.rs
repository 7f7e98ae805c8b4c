//! security.md: "Asymmetric signing (EdDSA/ES256/RS256) from an allowlist; `alg: none` and
//! HS256-with-public-key refused; keys rotate with the JWKS serving old and new; client secrets stored
//! hashed and compared in constant time".

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use super::{
    active, client, client_post, jwks, jwt_parts, oauth_app, register, signed_in, str_of, token, tokens_for, userinfo,
    verify_jwt, Auth, NewClient,
};
use crate::both;
use crate::support::{header, Backend};
use vestibule::core::oidc::clients::AuthMethod;
use vestibule::core::oidc::keys::SigningAlg;

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

fn hs256(header: &Value, payload: &str, key: &[u8]) -> String {
    let signed = format!("{}.{payload}", b64(header));
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(signed.as_bytes());
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

async fn tokens_verify_independently_and_forgeries_are_refused(backend: Backend) {
    let app = oauth_app(backend).await;
    let shop = register(&app, client()).await;
    let es = register(&app, NewClient { signing_alg: SigningAlg::ES256, ..client() }).await;
    let mut b = signed_in(&app, "ann@example.com").await;

    let tokens = tokens_for(&mut b, &app, &shop, "openid email").await;
    let (id_head, _) = jwt_parts(str_of(&tokens, "id_token"));
    assert_eq!((id_head["alg"].as_str(), id_head["typ"].as_str()), (Some("EdDSA"), Some("JWT")));
    let id_claims = verify_jwt(&app, str_of(&tokens, "id_token")).await;
    assert_eq!(id_claims["aud"], shop.id.as_str());
    let access = str_of(&tokens, "access_token");
    let (at_head, at_claims) = jwt_parts(access);
    assert_eq!(at_head["typ"], "at+jwt", "RFC 9068");
    assert_eq!(verify_jwt(&app, access).await, at_claims);
    let es_tokens = tokens_for(&mut b, &app, &es, "openid").await;
    assert_eq!(jwt_parts(str_of(&es_tokens, "id_token")).0["alg"], "ES256");
    verify_jwt(&app, str_of(&es_tokens, "id_token")).await;
    assert_eq!(userinfo(&app, str_of(&es_tokens, "access_token")).await.0, 200);

    // the JWKS: public keys of the allowed algorithms only
    for key in jwks(&app).await["keys"].as_array().unwrap() {
        assert!(["EdDSA", "ES256", "RS256"].contains(&key["alg"].as_str().unwrap()), "{key}");
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(key.get(private).is_none(), "{private} published in {key}");
        }
    }

    // forgeries of the real access token's claims, each refused by userinfo and introspection
    let payload = access.split('.').nth(1).unwrap();
    let signature = access.split('.').nth(2).unwrap();
    let kid = at_head["kid"].as_str().unwrap();
    let keys = jwks(&app).await;
    let ed_jwk = keys["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid).unwrap().clone();
    let raw_x = URL_SAFE_NO_PAD.decode(ed_jwk["x"].as_str().unwrap()).unwrap();
    let mut forgeries = vec![
        ("alg none", format!("{}.{payload}.", b64(&json!({ "alg": "none", "typ": "at+jwt" })))),
        ("alg none with kid", format!("{}.{payload}.", b64(&json!({ "alg": "none", "kid": kid, "typ": "at+jwt" })))),
        ("alg None", format!("{}.{payload}.", b64(&json!({ "alg": "None", "kid": kid, "typ": "at+jwt" })))),
        (
            "swapped to ES256",
            format!("{}.{payload}.{signature}", b64(&json!({ "alg": "ES256", "kid": kid, "typ": "at+jwt" }))),
        ),
        (
            "swapped to RS256",
            format!("{}.{payload}.{signature}", b64(&json!({ "alg": "RS256", "kid": kid, "typ": "at+jwt" }))),
        ),
        (
            "unknown kid",
            format!("{}.{payload}.{signature}", b64(&json!({ "alg": "EdDSA", "kid": "nope", "typ": "at+jwt" }))),
        ),
        ("no kid", format!("{}.{payload}.{signature}", b64(&json!({ "alg": "EdDSA", "typ": "at+jwt" })))),
        (
            "embedded jwk",
            format!("{}.{payload}.{signature}", b64(&json!({ "alg": "EdDSA", "jwk": ed_jwk, "typ": "at+jwt" }))),
        ),
        ("no signature", format!("{}.{payload}.", access.split('.').next().unwrap())),
    ];
    // HS256 keyed with what anyone knows: the public JWK as JSON, its `x`, and the kid
    let hs_header = json!({ "alg": "HS256", "kid": kid, "typ": "at+jwt" });
    for (what, key) in [
        ("HS256 with the JWK", ed_jwk.to_string().into_bytes()),
        ("HS256 with x", raw_x),
        ("HS256 with kid", kid.as_bytes().to_vec()),
    ] {
        forgeries.push((what, hs256(&hs_header, payload, &key)));
    }
    // changed claims under the real signature
    let mut claims = at_claims.clone();
    claims["scope"] = json!("openid email profile");
    forgeries.push(("widened scope", format!("{}.{}.{signature}", access.split('.').next().unwrap(), b64(&claims))));
    // an ID token is not an access token (typ JWT, aud the client)
    forgeries.push(("an ID token", str_of(&tokens, "id_token").to_string()));
    for (what, forged) in &forgeries {
        let (status, challenge, _) = userinfo(&app, forged).await;
        assert_eq!(status, 401, "{what}");
        assert!(challenge.contains("invalid_token"), "{what}: {challenge}");
        assert!(!active(&app, &shop, forged).await, "{what}");
    }
    assert_eq!(userinfo(&app, access).await.0, 200, "the real one still works");
}
both!(forgeries, tokens_verify_independently_and_forgeries_are_refused);

async fn rotation_keeps_the_previous_key_published(backend: Backend) {
    let app = oauth_app(backend).await;
    let shop = register(&app, client()).await;
    let mut b = signed_in(&app, "bea@example.com").await;
    let before = tokens_for(&mut b, &app, &shop, "openid").await;
    let old_kids: Vec<String> =
        jwks(&app).await["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_string()).collect();
    assert_eq!(old_kids.len(), 3, "one key per algorithm");

    let new_kids = app.state.oidc_keys.rotate_now(&app.state.db, &app.state.sealer).await.unwrap();
    let published: Vec<String> =
        jwks(&app).await["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_string()).collect();
    assert_eq!(published.len(), 6, "{published:?}");
    assert!(old_kids.iter().chain(&new_kids).all(|k| published.contains(k)), "old and new");

    // tokens signed before still verify; new ones are signed with the new key
    assert_eq!(userinfo(&app, str_of(&before, "access_token")).await.0, 200);
    verify_jwt(&app, str_of(&before, "id_token")).await;
    let after = tokens_for(&mut b, &app, &shop, "openid").await;
    let kid = jwt_parts(str_of(&after, "access_token")).0["kid"].as_str().unwrap().to_string();
    assert!(new_kids.contains(&kid) && !old_kids.contains(&kid));
    verify_jwt(&app, str_of(&after, "id_token")).await;

    // a second rotation retires the first keys
    app.state.oidc_keys.rotate_now(&app.state.db, &app.state.sealer).await.unwrap();
    let published: Vec<String> =
        jwks(&app).await["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_string()).collect();
    assert_eq!(published.len(), 6);
    assert!(!old_kids.iter().any(|k| published.contains(k)));
    assert_eq!(userinfo(&app, str_of(&before, "access_token")).await.0, 401);
    assert_eq!(userinfo(&app, str_of(&after, "access_token")).await.0, 200);
}
both!(rotation, rotation_keeps_the_previous_key_published);

async fn client_secrets_are_hashed_and_checked_by_the_registered_method(backend: Backend) {
    let app = oauth_app(backend).await;
    let basic = register(&app, client()).await;
    let post = register(&app, NewClient { auth_method: AuthMethod::ClientSecretPost, ..client() }).await;
    let (basic_secret, post_secret) = (basic.secret.clone().unwrap(), post.secret.clone().unwrap());
    let stored: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT id, secret_hash FROM oauth_clients").fetch_all(&app.state.db.pool).await.unwrap();
    for (id, hash) in &stored {
        let hash = hash.as_deref().unwrap_or_else(|| panic!("{id} has a hash"));
        assert!(!hash.contains(&basic_secret) && !hash.contains(&post_secret), "stored hashed");
    }

    let form = [("grant_type", "authorization_code"), ("code", "whatever"), ("redirect_uri", super::CB)];
    let wrong = [
        ("wrong secret", Auth::Basic(&basic.id, "wrong")),
        ("another client's secret", Auth::Basic(&basic.id, &post_secret)),
        ("secret in the form of a Basic client", Auth::Post(&basic.id, &basic_secret)),
        ("secret in Basic of a post client", Auth::Basic(&post.id, &post_secret)),
        ("no secret", Auth::Public(&basic.id)),
        ("unknown client", Auth::Basic("nobody", &basic_secret)),
        ("empty secret", Auth::Post(&post.id, "")),
    ];
    for (what, auth) in wrong {
        let res = client_post(&app, "/oauth2/token", auth, &form).await;
        assert_eq!(res.status(), 401, "{what}");
        assert!(header(&res, "www-authenticate").starts_with("Basic"), "{what}");
        let (_, body) = super::json(res).await;
        assert_eq!(body["error"], "invalid_client", "{what}");
    }
    // the right way gets past client authentication (to the bad code)
    for registered in [&basic, &post] {
        let (status, body) = token(&app, registered.auth(), &form).await;
        assert_eq!((status, body["error"].as_str()), (400, Some("invalid_grant")));
    }
    // both ways at once is refused
    let mut both_ways = form.to_vec();
    both_ways.push(("client_secret", &basic_secret));
    let res = client_post(&app, "/oauth2/token", basic.auth(), &both_ways).await;
    assert!(res.status() == 400 || res.status() == 401, "{}", res.status());

    // a rotated secret replaces the old one at once
    let fresh = vestibule::core::oidc::clients::rotate_secret(
        &app.state.db,
        &app.state.token_key,
        &basic.id,
        vestibule::server::auth::now(),
        &mut rand::rng(),
    )
    .await
    .unwrap();
    use secrecy::ExposeSecret;
    assert_eq!(token(&app, basic.auth(), &form).await.0, 401);
    assert_eq!(token(&app, Auth::Basic(&basic.id, fresh.0.expose_secret()), &form).await.0, 400);
}
both!(client_secrets, client_secrets_are_hashed_and_checked_by_the_registered_method);
