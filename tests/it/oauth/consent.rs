//! security.md: "Third-party clients show a consent screen naming the client and scopes; prompt=none without
//! consent returns interaction_required; prompt=login and max_age force re-authentication", and the
//! second factor an app asks for with `acr_values=aal2`.

use super::{
    age_sign_in, authorize, client, code_for, exchange_ok, follow, oauth_app, register, signed_in, str_of, verify_jwt,
    NewClient, Outcome, Params,
};
use crate::accounts::PASSWORD;
use crate::both;
use crate::mfa::{audit, enrol, enrolled_account, redirected_to};
use crate::support::{Backend, Browser};
use vestibule::server::auth::now;

fn third_party() -> NewClient {
    NewClient { name: "Other Shop".into(), first_party: false, ..client() }
}

async fn decide(b: &mut Browser<'_>, decision: &str) -> Outcome {
    let res = b.post_html("/oauth2/consent", &[("decision", decision)], "/oauth2/consent").await;
    follow(b, None, res).await
}

async fn third_party_apps_ask_for_consent(backend: Backend) {
    let app = oauth_app(backend).await;
    let other = register(&app, third_party()).await;
    let mut b = signed_in(&app, "ann@example.com").await;

    // prompt=none cannot ask: interaction_required
    let back = authorize(&mut b, None, &Params::code(&other.id).set("prompt", "none")).await.app();
    assert_eq!(back.get("error").as_deref(), Some("interaction_required"));
    assert_eq!(back.get("state").as_deref(), Some("st-1"));

    // denied: access_denied to the app, nothing remembered
    let params = Params::code(&other.id).set("scope", "openid email");
    assert_eq!(authorize(&mut b, None, &params).await.ours(), "/oauth2/consent");
    assert_eq!(decide(&mut b, "deny").await.error(), "access_denied");
    assert_eq!(audit(&app, "oauth_consent_denied").await.len(), 1);
    assert_eq!(authorize(&mut b, None, &params).await.ours(), "/oauth2/consent", "asked again");

    // allowed: the code, and the consent is remembered for these scopes
    let code = decide(&mut b, "allow").await.code();
    exchange_ok(&app, &other, &code, None).await;
    assert_eq!(audit(&app, "oauth_consent_granted").await.len(), 1);
    code_for(&mut b, &params).await;
    code_for(&mut b, &params.clone().set("prompt", "none").set("scope", "openid")).await;
    // a new scope, or prompt=consent, asks again
    assert_eq!(authorize(&mut b, None, &params.clone().set("scope", "openid profile")).await.ours(), "/oauth2/consent");
    assert_eq!(authorize(&mut b, None, &params.clone().set("prompt", "consent")).await.ours(), "/oauth2/consent");
    // a consent decision with no request waiting is an error page, not a redirect
    let mut stranger = signed_in(&app, "bea@example.com").await;
    match decide(&mut stranger, "allow").await {
        Outcome::Page(400, _) => {}
        other => panic!("{other:?}"),
    }
    // the consent screen's form is our own: another site cannot post it
    let res =
        b.post_with_headers("/oauth2/consent", &[("decision", "allow")], &[("origin", "https://evil.example")]).await;
    assert_eq!(res.status(), 403);
    // first-party apps never ask
    let shop = register(&app, client()).await;
    code_for(&mut stranger, &Params::code(&shop.id).set("scope", "openid email profile")).await;
}
both!(consent, third_party_apps_ask_for_consent);

async fn prompt_none_never_shows_a_page(backend: Backend) {
    let app = oauth_app(backend).await;
    let shop = register(&app, client()).await;
    crate::accounts::verified_account(&app, "cy@example.com").await;
    let mut nobody = Browser::new(&app);
    let back = authorize(&mut nobody, None, &Params::code(&shop.id).set("prompt", "none")).await.app();
    assert_eq!(back.get("error").as_deref(), Some("login_required"));
    assert!(back.get("iss").is_some());
    // not signed in, without prompt=none: to the sign-in page, then back with a code
    assert_eq!(authorize(&mut nobody, None, &Params::code(&shop.id)).await.ours(), "/login");
    let res = nobody.post("/api/auth/login", &[("email", "cy@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(redirected_to(res).await, "/oauth2/continue");
    let res = nobody.get("/oauth2/continue").await;
    let code = follow(&mut nobody, None, res).await.code();
    exchange_ok(&app, &shop, &code, None).await;
    // the request is finished: continuing again is an error page
    let res = nobody.get("/oauth2/continue").await;
    match follow(&mut nobody, None, res).await {
        Outcome::Page(400, _) => {}
        other => panic!("{other:?}"),
    }
    // prompt=none combined with another value is refused
    let back = authorize(&mut nobody, None, &Params::code(&shop.id).set("prompt", "none login")).await.app();
    assert_eq!(back.get("error").as_deref(), Some("invalid_request"));
}
both!(prompt_none, prompt_none_never_shows_a_page);

async fn prompt_login_and_max_age_make_the_person_sign_in_again(backend: Backend) {
    let app = oauth_app(backend).await;
    let shop = register(&app, client()).await;
    let email = "dee@example.com";
    let mut b = signed_in(&app, email).await;
    age_sign_in(&mut b).await;
    let hour_ago = now() - 3600;

    // max_age older than the sign-in: fine; younger: sign in again (and prompt=none: login_required)
    let code = code_for(&mut b, &Params::code(&shop.id).set("max_age", "7200")).await;
    let old = verify_jwt(&app, str_of(&exchange_ok(&app, &shop, &code, None).await, "id_token")).await;
    assert!(old["auth_time"].as_i64().unwrap() <= hour_ago);
    let back = authorize(&mut b, None, &Params::code(&shop.id).set("max_age", "60").set("prompt", "none")).await.app();
    assert_eq!(back.get("error").as_deref(), Some("login_required"));
    for params in [Params::code(&shop.id).set("max_age", "0"), Params::code(&shop.id).set("max_age", "60")] {
        age_sign_in(&mut b).await;
        assert_eq!(authorize(&mut b, None, &params).await.ours(), "/login", "{params:?}");
        // the old sign-in stays (someone who gives up is still signed in) but no longer counts for this request
        assert_eq!(b.whoami().await.as_deref(), Some(email));
        let res = b.get("/oauth2/continue").await;
        assert_eq!(follow(&mut b, None, res).await.ours(), "/login", "continuing without signing in again");
        let before = now();
        let res = b.post("/api/auth/login", &[("email", email), ("password", PASSWORD)]).await;
        assert_eq!(redirected_to(res).await, "/oauth2/continue");
        let res = b.get("/oauth2/continue").await;
        let code = follow(&mut b, None, res).await.code();
        let fresh = verify_jwt(&app, str_of(&exchange_ok(&app, &shop, &code, None).await, "id_token")).await;
        assert!(fresh["auth_time"].as_i64().unwrap() >= before, "{fresh}");
    }

    // prompt=login, even while signed in
    age_sign_in(&mut b).await;
    let before = now();
    assert_eq!(authorize(&mut b, None, &Params::code(&shop.id).set("prompt", "login")).await.ours(), "/login");
    let back = authorize(&mut b, Some(email), &Params::code(&shop.id).set("prompt", "login")).await.app();
    let tokens = exchange_ok(&app, &shop, &back.get("code").unwrap(), None).await;
    let claims = verify_jwt(&app, str_of(&tokens, "id_token")).await;
    assert!(claims["auth_time"].as_i64().unwrap() >= before, "a new sign-in: {claims}");
    assert_eq!(claims["amr"], serde_json::json!(["pwd"]));
    assert_eq!(claims["acr"], "aal1");
}
both!(reauthentication, prompt_login_and_max_age_make_the_person_sign_in_again);

async fn acr_aal2_asks_for_the_second_factor(backend: Backend) {
    let app = oauth_app(backend).await;
    let shop = register(&app, client()).await;
    let aal2 = Params::code(&shop.id).set("acr_values", "aal2");

    // an account without a second factor: access_denied
    let mut b = signed_in(&app, "eve@example.com").await;
    assert_eq!(authorize(&mut b, None, &aal2).await.error(), "access_denied");

    // a single-factor sign-in of an account with an authenticator app: the second-factor step, then the code
    let (mut authenticator, _) = enrol(&mut b).await;
    assert_eq!(authorize(&mut b, None, &aal2).await.ours(), "/login/second-factor");
    assert_eq!(b.whoami().await, None, "half signed in until the second factor");
    let res = b.post("/api/mfa/sign-in-totp", &[("code", &authenticator.next_code())]).await;
    assert_eq!(redirected_to(res).await, "/oauth2/continue");
    let res = b.get("/oauth2/continue").await;
    let code = follow(&mut b, None, res).await.code();
    let tokens = exchange_ok(&app, &shop, &code, None).await;
    for token in ["id_token", "access_token"] {
        let claims = verify_jwt(&app, str_of(&tokens, token)).await;
        assert_eq!(claims["acr"], "aal2", "{token}");
        let amr: Vec<&str> = claims["amr"].as_array().unwrap().iter().map(|m| m.as_str().unwrap()).collect();
        assert!(amr.contains(&"otp") && amr.contains(&"mfa") && amr.contains(&"pwd"), "{amr:?}");
    }
    // now the sign-in is aal2: no second step, and prompt=none works
    code_for(&mut b, &aal2.clone().set("prompt", "none")).await;

    // signing in from scratch for an aal2 request: password, then the second factor, then the code
    let (mut fay_app, _) = enrolled_account(&app, "fay@example.com").await;
    let mut fresh = Browser::from_ip(&app, "198.51.100.20");
    assert_eq!(authorize(&mut fresh, Some("fay@example.com"), &aal2).await.ours(), "/login/second-factor");
    let res = fresh.post("/api/mfa/sign-in-totp", &[("code", &fay_app.next_code())]).await;
    assert_eq!(redirected_to(res).await, "/oauth2/continue");
    let res = fresh.get("/oauth2/continue").await;
    let code = follow(&mut fresh, None, res).await.code();
    let claims = verify_jwt(&app, str_of(&exchange_ok(&app, &shop, &code, None).await, "id_token")).await;
    assert_eq!(claims["acr"], "aal2");

    // prompt=none with aal2 missing: interaction_required, no page
    let mut single = signed_in(&app, "gus@example.com").await;
    let back = authorize(&mut single, None, &aal2.clone().set("prompt", "none")).await.app();
    assert_eq!(back.get("error").as_deref(), Some("interaction_required"));
}
both!(acr_aal2, acr_aal2_asks_for_the_second_factor);

/// Under `mfa.policy = required`, a person signed in but still without a second factor is sent to set one
/// up, and the app's request waits: the security page's link (/oauth2/continue) then finishes it.
async fn a_required_second_factor_is_set_up_before_the_app_gets_its_code(backend: Backend) {
    let app = super::oauth_app_with(backend, |c| c.mfa.policy = vestibule::server::config::MfaPolicy::Required).await;
    let shop = register(&app, client()).await;
    let email = "pia@example.com";
    crate::accounts::verified_account(&app, email).await;
    let (mut b, next) = crate::mfa::password_sign_in(&app, email).await;
    assert_eq!(next, "/account/security");

    assert_eq!(authorize(&mut b, None, &Params::code(&shop.id)).await.ours(), "/account/security");
    let named: serde_json::Value =
        serde_json::from_str(&crate::support::body_text(b.post("/api/oauth/app-name", &[]).await).await).unwrap();
    assert_eq!(named, "Shop", "the security page can offer the way back");
    enrol(&mut b).await;
    let res = b.get("/oauth2/continue").await;
    let code = follow(&mut b, None, res).await.code();
    let claims = verify_jwt(&app, str_of(&exchange_ok(&app, &shop, &code, None).await, "id_token")).await;
    assert_eq!(claims["amr"], serde_json::json!(["pwd"]), "set up now, used at the next sign-in");
}
both!(required_setup_first, a_required_second_factor_is_set_up_before_the_app_gets_its_code);

/// Browsers check a page's `form-action` on every redirect after a form is sent, so the sign-in and consent
/// pages of a waiting request name the app's origin there (and only while one waits).
async fn pages_of_a_waiting_request_let_their_forms_reach_the_app(backend: Backend) {
    let app = oauth_app(backend).await;
    let other = register(&app, third_party()).await;
    let mut b = Browser::new(&app);
    let form_action = |res: &http::Response<axum::body::Body>| {
        let csp = crate::support::header(res, "content-security-policy").to_string();
        csp.split(';').map(str::trim).find(|d| d.starts_with("form-action")).unwrap_or_default().to_string()
    };
    assert_eq!(form_action(&b.get("/login").await), "form-action 'self'");
    assert_eq!(authorize(&mut b, None, &Params::code(&other.id)).await.ours(), "/login");
    assert_eq!(form_action(&b.get("/login").await), "form-action 'self' https://app.example");
    let mut b = signed_in(&app, "fay@example.com").await;
    assert_eq!(authorize(&mut b, None, &Params::code(&other.id)).await.ours(), "/oauth2/consent");
    assert_eq!(form_action(&b.get("/oauth2/consent").await), "form-action 'self' https://app.example");
    assert!(decide(&mut b, "deny").await.app().get("error").is_some());
    assert_eq!(form_action(&b.get("/oauth2/consent").await), "form-action 'self'", "nothing waits any more");
}
both!(form_action, pages_of_a_waiting_request_let_their_forms_reach_the_app);
