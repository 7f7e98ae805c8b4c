//! security.md: "PKCE S256 required for public clients (and accepted for all); `plain` refused; a verifier
//! without a challenge fails" and "Codes single use, <= 60 s to 10 min, bound to client and redirect_uri;
//! a reused code revokes what it issued".

use super::{
    active, authorize, client, code_for, exchange, exchange_ok, oauth_app, oauth_app_with, public_client, refresh,
    register, signed_in, str_of, userinfo, Params, Pkce, CB,
};
use crate::both;
use crate::mfa::audit;
use crate::support::{base_config, Backend};

fn invalid_grant(answer: &(u16, serde_json::Value)) -> bool {
    answer.0 == 400 && answer.1["error"] == "invalid_grant"
}

async fn pkce_is_s256_only_and_required_for_public_clients(backend: Backend) {
    let app = oauth_app(backend).await;
    let phone = register(&app, public_client()).await;
    let shop = register(&app, client()).await;
    let mut b = signed_in(&app, "ann@example.com").await;
    let pkce = Pkce::generate();

    // refused at the authorization endpoint: told to the app (its redirect URI is checked by now)
    let refused = [
        Params::code(&phone.id),
        Params::code(&phone.id).set("code_challenge", &pkce.challenge).set("code_challenge_method", "plain"),
        Params::code(&shop.id).set("code_challenge", &pkce.verifier).set("code_challenge_method", "plain"),
        Params::code(&phone.id).set("code_challenge", &pkce.challenge),
        Params::code(&shop.id).set("code_challenge", &pkce.challenge),
        Params::code(&phone.id).set("code_challenge_method", "S256"),
        Params::code(&phone.id).set("code_challenge", "too-short").set("code_challenge_method", "S256"),
        Params::code(&phone.id).set("code_challenge", &pkce.challenge).set("code_challenge_method", "s256"),
    ];
    for params in refused {
        let back = authorize(&mut b, None, &params).await.app();
        assert_eq!(back.base(), CB);
        assert_eq!(back.get("error").as_deref(), Some("invalid_request"), "{params:?}");
        assert_eq!(back.get("state").as_deref(), Some("st-1"));
        assert!(back.get("code").is_none());
    }

    // a public client with S256: a wrong or missing verifier fails, the right one works
    let code = code_for(&mut b, &Params::code(&phone.id).pkce(&pkce)).await;
    let other = Pkce::generate();
    assert!(invalid_grant(&exchange(&app, &phone, &code, Some(&other.verifier)).await), "another verifier");
    assert!(invalid_grant(&exchange(&app, &phone, &code, Some(&pkce.challenge)).await), "the challenge itself (plain)");
    assert!(invalid_grant(&exchange(&app, &phone, &code, None).await), "no verifier");
    let tokens = exchange_ok(&app, &phone, &code, Some(&pkce.verifier)).await;
    assert_eq!(userinfo(&app, str_of(&tokens, "access_token")).await.0, 200);

    // a confidential client may use PKCE too, and then must send the verifier
    let pkce = Pkce::generate();
    let code = code_for(&mut b, &Params::code(&shop.id).pkce(&pkce)).await;
    assert!(invalid_grant(&exchange(&app, &shop, &code, None).await));
    exchange_ok(&app, &shop, &code, Some(&pkce.verifier)).await;

    // a verifier for a code issued without a challenge fails (RFC 9700 section 4.8.2: PKCE downgrade)
    let code = code_for(&mut b, &Params::code(&shop.id)).await;
    assert!(invalid_grant(&exchange(&app, &shop, &code, Some(&Pkce::generate().verifier)).await));
    exchange_ok(&app, &shop, &code, None).await;
}
both!(pkce, pkce_is_s256_only_and_required_for_public_clients);

async fn a_code_works_once_and_its_reuse_revokes_what_it_issued(backend: Backend) {
    let app = oauth_app(backend).await;
    let shop = register(&app, client()).await;
    let mut b = signed_in(&app, "bea@example.com").await;
    let code = code_for(&mut b, &Params::code(&shop.id).set("scope", "openid offline_access")).await;
    let first = exchange_ok(&app, &shop, &code, None).await;
    let (access, refresh_token) = (str_of(&first, "access_token"), str_of(&first, "refresh_token"));
    assert!(active(&app, &shop, access).await);
    assert!(active(&app, &shop, refresh_token).await);

    let again = exchange(&app, &shop, &code, None).await;
    assert!(invalid_grant(&again), "{again:?}");
    assert!(!active(&app, &shop, access).await, "the access token of the first exchange is revoked");
    assert!(!active(&app, &shop, refresh_token).await, "and its refresh token");
    assert_eq!(userinfo(&app, access).await.0, 401);
    assert!(invalid_grant(&refresh(&app, &shop, refresh_token, None).await));
    let events = audit(&app, "oauth_code_reused").await;
    assert_eq!(events.len(), 1);
    assert!(events[0].detail.as_deref().is_some_and(|d| d.contains(&shop.id)), "{:?}", events[0].detail);
    // a third try: still refused, nothing else happens
    assert!(invalid_grant(&exchange(&app, &shop, &code, None).await));
}
both!(single_use, a_code_works_once_and_its_reuse_revokes_what_it_issued);

async fn a_code_is_bound_to_its_client_and_expires(backend: Backend) {
    let app = oauth_app_with(backend, |c| c.oauth.code_ttl_secs = 60).await;
    let shop = register(&app, client()).await;
    let rival = register(&app, client()).await;
    let mut b = signed_in(&app, "cy@example.com").await;

    // client A's code at client B: refused, and A can still redeem it (B learns nothing and burns nothing)
    let code = code_for(&mut b, &Params::code(&shop.id)).await;
    assert!(invalid_grant(&exchange(&app, &rival, &code, None).await));
    exchange_ok(&app, &shop, &code, None).await;

    // the code's lifetime is the configured one; once past, refused
    let before = vestibule::server::auth::now();
    let code = code_for(&mut b, &Params::code(&shop.id)).await;
    let (created, expires): (i64, i64) =
        sqlx::query_as("SELECT created_at, expires_at FROM oauth_codes WHERE used_at IS NULL")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
    assert!(created >= before && expires == created + 60, "{created} {expires}");
    sqlx::query("UPDATE oauth_codes SET expires_at = $1 WHERE used_at IS NULL")
        .bind(vestibule::server::auth::now() - 1)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    assert!(invalid_grant(&exchange(&app, &shop, &code, None).await), "expired");

    // unknown and empty codes
    assert!(invalid_grant(&exchange(&app, &shop, "no-such-code", None).await));
    let (status, body) = exchange(&app, &shop, "", None).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_request")));
}
both!(bound_and_expiring, a_code_is_bound_to_its_client_and_expires);

#[test]
fn the_code_lifetime_is_configurable_between_60_and_600_seconds() {
    let dir = tempfile::tempdir().unwrap();
    for (ttl, ok) in [(59, false), (60, true), (300, true), (600, true), (601, false), (0, false), (-60, false)] {
        let mut raw = base_config(&dir);
        raw.oauth.code_ttl_secs = ttl;
        match raw.validate() {
            Ok(_) => assert!(ok, "{ttl} accepted"),
            Err(e) => {
                assert!(!ok, "{ttl} refused: {e}");
                assert!(e.to_string().contains("oauth.code_ttl_secs"), "{e}");
            }
        }
    }
}
