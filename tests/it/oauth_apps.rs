//! The OAuth hosted pages and /account/apps (security.md "OAuth": third-party clients show a consent screen
//! naming the client and scopes; users can revoke grants): the consent page's loader and form, the app
//! named on the sign-in and sign-up pages, listing and removing an app's access (its refresh tokens stop
//! working; another account's app id changes nothing; works without JavaScript), and the export.

use axum::body::Body;
use http::{Request, Response};
use rand::SeedableRng;
use secrecy::ExposeSecret;

use crate::accounts::{verified_account, PASSWORD};
use crate::both;
use crate::mfa::{account_id, audit, password_sign_in, redirected_to, refusal};
use crate::support::{app, app_with, body_text, header, Backend, Browser, TestApp};
use vestibule::core::oidc::clients::{self, AuthMethod, NewClient};
use vestibule::core::oidc::keys::SigningAlg;
use vestibule::core::oidc::GrantType;
use vestibule::error::ErrorKind;
use vestibule::server::auth::now;
use vestibule::types::{AppsPageState, ConsentPageState, LogoutConfirmState};

const CALLBACK: &str = "https://shop.example/cb";

/// A registered confidential app (secret sent in the form) with refresh tokens; returns (id, secret).
async fn register(app: &TestApp, name: &str, first_party: bool) -> (String, String) {
    let new = NewClient {
        name: name.into(),
        auth_method: AuthMethod::ClientSecretPost,
        redirect_uris: vec![CALLBACK.into()],
        post_logout_redirect_uris: Vec::new(),
        scopes: ["openid", "profile", "email", "offline_access", "api:read"].map(String::from).to_vec(),
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        first_party,
        backchannel_logout_uri: None,
        signing_alg: SigningAlg::EdDSA,
    };
    let mut rng = rand::rngs::StdRng::from_os_rng();
    let (client, secret) = clients::create(&app.state.db, &app.state.token_key, &new, now(), &mut rng).await.unwrap();
    (client.id, secret.unwrap().0.expose_secret().to_string())
}

/// `GET /oauth2/authorize` in this browser; the answer's redirect target.
async fn authorize(b: &mut Browser<'_>, client_id: &str, scope: &str) -> String {
    let query = serde_urlencoded::to_string([
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", CALLBACK),
        ("scope", scope),
        ("state", "st-1"),
    ])
    .unwrap();
    let res = b.get(&format!("/oauth2/authorize?{query}")).await;
    assert_eq!(res.status(), 303, "{}", body_text(res).await);
    header(&res, "location").to_string()
}

/// The query of a redirect back to the app, as pairs.
fn back_at_app(location: &str) -> Vec<(String, String)> {
    assert!(location.starts_with(&format!("{CALLBACK}?")), "{location}");
    url::Url::parse(location).unwrap().query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

async fn consent_state(b: &mut Browser<'_>) -> Option<ConsentPageState> {
    let res = b.post("/api/oauth/consent-state", &[]).await;
    assert_eq!(res.status(), 200);
    serde_json::from_str(&body_text(res).await).unwrap()
}

/// The consent page's plain form (the page posts it the same way hydrated or not).
async fn decide(b: &mut Browser<'_>, decision: &str) -> String {
    let res = b.post_html("/oauth2/consent", &[("decision", decision)], "/oauth2/consent").await;
    assert_eq!(res.status(), 303, "{}", body_text(res).await);
    header(&res, "location").to_string()
}

/// `POST /oauth2/token` as the app's server sends it.
async fn token(app: &TestApp, form: &[(&str, &str)]) -> Response<Body> {
    let mut req = Request::post("/oauth2/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(serde_urlencoded::to_string(form).unwrap()))
        .unwrap();
    req.extensions_mut().insert(axum::extract::ConnectInfo("192.0.2.99:4444".parse::<std::net::SocketAddr>().unwrap()));
    app.send(req).await
}

/// Signs `b` in to the app through consent; returns the refresh token and the access token.
async fn allowed_with_refresh(app: &TestApp, b: &mut Browser<'_>, client: &(String, String)) -> (String, String) {
    assert_eq!(authorize(b, &client.0, "openid email offline_access").await, "/oauth2/consent");
    let back = back_at_app(&decide(b, "allow").await);
    let code = param(&back, "code").expect("a code").to_string();
    let res = token(
        app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("client_id", &client.0),
            ("client_secret", &client.1),
        ],
    )
    .await;
    let body = body_text(res).await;
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    let refresh_token = json["refresh_token"].as_str().unwrap_or_else(|| panic!("no refresh token: {body}"));
    (refresh_token.to_string(), json["access_token"].as_str().unwrap().to_string())
}

/// The status `/oauth2/userinfo` answers the access token with.
async fn userinfo(app: &TestApp, access_token: &str) -> u16 {
    let req = Request::get("/oauth2/userinfo").header("authorization", format!("Bearer {access_token}"));
    app.send(req.body(Body::empty()).unwrap()).await.status().as_u16()
}

/// Refreshes; the new refresh token, or `None` when refused.
async fn refresh(app: &TestApp, client: &(String, String), refresh_token: &str) -> Option<String> {
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
        ("client_id", client.0.as_str()),
        ("client_secret", client.1.as_str()),
    ];
    let res = token(app, &form).await;
    let status = res.status().as_u16();
    let json: serde_json::Value = serde_json::from_str(&body_text(res).await).unwrap();
    match status {
        200 => json["refresh_token"].as_str().map(str::to_owned),
        _ => {
            assert_eq!((status, json["error"].as_str()), (400, Some("invalid_grant")));
            None
        }
    }
}

async fn apps(b: &mut Browser<'_>) -> Option<AppsPageState> {
    let res = b.post("/api/account/apps", &[]).await;
    assert_eq!(res.status(), 200);
    serde_json::from_str(&body_text(res).await).unwrap()
}

async fn signed_in<'a>(app: &'a TestApp, email: &str) -> Browser<'a> {
    verified_account(app, email).await;
    let (b, next) = password_sign_in(app, email).await;
    assert_eq!(next, "/account");
    b
}

// ---- the consent page ----

async fn the_consent_page_shows_the_waiting_request_only(backend: Backend) {
    let app = app(backend).await;
    // the name is shown escaped, like anything typed
    let (shop, _) = register(&app, "Shop <i>&</i>", false).await;
    let email = "cora@example.com";
    let mut b = signed_in(&app, email).await;
    assert_eq!(consent_state(&mut b).await, None, "nothing waiting");
    let html = body_text(b.get("/oauth2/consent").await).await;
    assert!(html.contains("No app is waiting") && !html.contains("data-consent-form"), "{html}");

    assert_eq!(authorize(&mut b, &shop, "api:read email openid").await, "/oauth2/consent");
    let state = consent_state(&mut b).await.expect("waiting");
    assert_eq!((state.client_name.as_str(), state.email.as_str()), ("Shop <i>&</i>", email));
    let scopes: Vec<&str> = state.scopes.iter().map(|s| s.scope.as_str()).collect();
    assert_eq!(scopes, ["openid", "email", "api:read"], "known scopes first");
    assert!(state.scopes[1].text.contains("email address"), "{:?}", state.scopes);
    assert_eq!(state.scopes[2].text, "Use api:read");

    let res = b.get("/oauth2/consent").await;
    assert_eq!(res.status(), 200);
    let html = body_text(res).await;
    assert!(html.contains("Shop &lt;i&gt;&amp;&lt;/i&gt; wants to use your Vestibule account"), "{html}");
    assert!(!html.contains("<i>&</i>"));
    assert!(html.contains(r#"action="/oauth2/consent""#) && html.contains(r#"method="post""#), "{html}");
    assert!(html.contains(r#"name="decision" value="allow""#) && html.contains(r#"name="decision" value="deny""#));
    assert!(html.contains(email));

    // another browser, not signed in: nothing to answer there
    let mut stranger = Browser::new(&app);
    assert_eq!(consent_state(&mut stranger).await, None);
}
both!(consent_page, the_consent_page_shows_the_waiting_request_only);

async fn signing_in_and_up_name_the_app_the_person_continues_to(backend: Backend) {
    let app = app(backend).await;
    let (shop, _) = register(&app, "Shop", false).await;
    let mut b = Browser::new(&app);
    assert_eq!(body_text(b.post("/api/oauth/app-name", &[]).await).await, "null");
    assert!(!body_text(b.get("/login").await).await.contains("continue to"));
    assert_eq!(authorize(&mut b, &shop, "openid").await, "/login");
    assert_eq!(body_text(b.post("/api/oauth/app-name", &[]).await).await, "\"Shop\"");
    assert!(body_text(b.get("/login").await).await.contains("Sign in to continue to Shop"));
    assert!(body_text(b.get("/signup").await).await.contains("Create an account to continue to Shop"));
    assert_eq!(consent_state(&mut b).await, None, "not signed in yet");

    // the sign-in goes back into the request, which waits for consent
    verified_account(&app, "dan@example.com").await;
    let res = b.post("/api/auth/login", &[("email", "dan@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(redirected_to(res).await, "/oauth2/continue");
    let res = b.get("/oauth2/continue").await;
    assert_eq!(header(&res, "location"), "/oauth2/consent");
    assert!(consent_state(&mut b).await.is_some());
}
both!(continuing_to, signing_in_and_up_name_the_app_the_person_continues_to);

async fn deny_tells_the_app_and_allow_gives_a_code(backend: Backend) {
    let app = app(backend).await;
    let (shop, _) = register(&app, "Shop", false).await;
    let (own, _) = register(&app, "Our portal", true).await;
    let email = "eva@example.com";
    let mut b = signed_in(&app, email).await;
    let id = account_id(&app, email).await;

    assert_eq!(authorize(&mut b, &shop, "openid email").await, "/oauth2/consent");
    let back = back_at_app(&decide(&mut b, "deny").await);
    assert_eq!((param(&back, "error"), param(&back, "state")), (Some("access_denied"), Some("st-1")));
    assert_eq!(param(&back, "code"), None);
    assert_eq!(consent_state(&mut b).await, None, "the request is over");
    assert_eq!(vestibule::db::oauth::consent(&app.state.db.pool, &id, &shop).await.unwrap(), None);
    assert_eq!(audit(&app, "oauth_consent_denied").await.len(), 1);
    // answered already: nothing to allow any more
    let res = b.post_html("/oauth2/consent", &[("decision", "allow")], "/oauth2/consent").await;
    assert!(res.status().is_client_error(), "{}", res.status());

    assert_eq!(authorize(&mut b, &shop, "openid email").await, "/oauth2/consent");
    let back = back_at_app(&decide(&mut b, "allow").await);
    assert!(param(&back, "code").is_some_and(|c| !c.is_empty()), "{back:?}");
    assert_eq!(param(&back, "state"), Some("st-1"));
    assert_eq!(audit(&app, "oauth_consent_granted").await.len(), 1);
    // allowed once: the same request needs no second answer
    let back = back_at_app(&authorize(&mut b, &shop, "openid email").await);
    assert!(param(&back, "code").is_some());

    // the operator's own apps never show the page
    let back = back_at_app(&authorize(&mut b, &own, "openid profile").await);
    assert!(param(&back, "code").is_some());
}
both!(consent_decision, deny_tells_the_app_and_allow_gives_a_code);

// ---- /account/apps ----

async fn removing_an_app_ends_its_access_and_reaches_only_the_owners(backend: Backend) {
    let app = app(backend).await;
    let shop = register(&app, "Shop", false).await;
    let email = "fay@example.com";
    let mut b = signed_in(&app, email).await;
    let mut tom = signed_in(&app, "tom-x@example.com").await;
    assert_eq!(apps(&mut b).await.unwrap().apps, Vec::new());
    let (refresh_token, access_token) = allowed_with_refresh(&app, &mut b, &shop).await;
    assert_eq!(userinfo(&app, &access_token).await, 200);

    let page = apps(&mut b).await.expect("signed in");
    assert_eq!(page.apps.len(), 1, "{page:?}");
    let listed = &page.apps[0];
    assert_eq!((listed.id.as_str(), listed.name.as_str(), listed.offline), (shop.0.as_str(), "Shop", true));
    let scopes: Vec<&str> = listed.scopes.iter().map(|s| s.scope.as_str()).collect();
    assert_eq!(scopes, ["openid", "email", "offline_access"]);
    assert!(listed.since.ends_with("UTC") && listed.last_used.is_some(), "{listed:?}");
    let html = body_text(b.get("/account/apps").await).await;
    assert!(html.contains("Shop") && html.contains("Keeps access while you are away"), "{html}");
    assert!(html.contains("Remove access"));
    assert_eq!(apps(&mut tom).await.unwrap().apps, Vec::new(), "only the owner's apps");

    // another account naming the app removes nothing
    let res = tom.post("/api/account/remove-app", &[("id", &shop.0)]).await;
    assert_eq!(refusal(res).await, (404, ErrorKind::NotFound));
    let refresh_token = refresh(&app, &shop, &refresh_token).await.expect("still works");
    assert_eq!(apps(&mut b).await.unwrap().apps.len(), 1);
    assert!(audit(&app, "oauth_app_revoked").await.is_empty());

    let res = b.post("/api/account/remove-app", &[("id", &shop.0)]).await;
    assert_eq!(redirected_to(res).await, "/account/apps?removed=1");
    assert_eq!(refresh(&app, &shop, &refresh_token).await, None, "the refresh token stopped working");
    assert_eq!(userinfo(&app, &access_token).await, 401, "and the access tokens too");
    assert_eq!(apps(&mut b).await.unwrap().apps, Vec::new());
    let id = account_id(&app, email).await;
    assert_eq!(vestibule::db::oauth::consent(&app.state.db.pool, &id, &shop.0).await.unwrap(), None);
    let events = audit(&app, "oauth_app_revoked").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].account_id.as_deref(), Some(id.as_str()));
    assert!(events[0].detail.as_deref().unwrap_or("").contains(&shop.0));
    // removed already: nothing to remove
    let res = b.post("/api/account/remove-app", &[("id", &shop.0)]).await;
    assert_eq!(refusal(res).await, (404, ErrorKind::NotFound));
    // and the next sign-in to the app asks again
    assert_eq!(authorize(&mut b, &shop.0, "openid email").await, "/oauth2/consent");
}
both!(remove_app, removing_an_app_ends_its_access_and_reaches_only_the_owners);

async fn the_apps_page_works_without_javascript(backend: Backend) {
    let app = app(backend).await;
    let shop = register(&app, "Shop", false).await;
    let mut b = signed_in(&app, "gus@example.com").await;
    allowed_with_refresh(&app, &mut b, &shop).await;

    // an app this account never allowed: back to the page, which says so; nothing changed
    let res = b.post_html("/api/account/remove-app", &[("id", "not-an-app")], "/account/apps").await;
    assert!(header(&res, "location").starts_with("http://localhost:3000/account/apps"), "back to the form");
    let html = body_text(b.get("/account/apps").await).await;
    assert!(html.contains("There was nothing to remove"), "{html}");
    assert_eq!(apps(&mut b).await.unwrap().apps.len(), 1);

    let res = b.post_html("/api/account/remove-app", &[("id", &shop.0)], "/account/apps").await;
    assert_eq!((res.status().as_u16(), header(&res, "location")), (302, "/account/apps?removed=1"));
    let html = body_text(b.get("/account/apps?removed=1").await).await;
    assert!(html.contains("Access removed") && html.contains("No app has access"), "{html}");

    // signed out: to /login, and the loader shows nothing
    let mut stranger = Browser::new(&app);
    assert_eq!(header(&stranger.get("/account/apps").await, "location"), "/login");
    assert_eq!(apps(&mut stranger).await, None);
    let res = stranger.post("/api/account/remove-app", &[("id", &shop.0)]).await;
    assert_eq!(refusal(res).await, (401, ErrorKind::SignInRequired));
}
both!(no_javascript, the_apps_page_works_without_javascript);

async fn the_apps_page_waits_for_a_required_second_factor_like_the_other_account_pages(backend: Backend) {
    use vestibule::server::config::MfaPolicy;
    let app = app_with(backend, |c| c.mfa.policy = MfaPolicy::Required, axum::Router::new()).await;
    let email = "ike@example.com";
    verified_account(&app, email).await;
    let (mut b, next) = password_sign_in(&app, email).await;
    assert_eq!(next, "/account/security");
    assert_eq!(header(&b.get("/account/apps").await, "location"), "/account/security");
    assert_eq!(refusal(b.post("/api/account/apps", &[]).await).await, (403, ErrorKind::MfaSetupRequired));
    let res = b.post("/api/account/remove-app", &[("id", "x")]).await;
    assert_eq!(refusal(res).await, (403, ErrorKind::MfaSetupRequired));
}
both!(mfa_setup_first, the_apps_page_waits_for_a_required_second_factor_like_the_other_account_pages);

// ---- sign-out confirmation, the continue route, the export ----

async fn the_sign_out_confirmation_says_what_waits(backend: Backend) {
    let app = app(backend).await;
    let (shop, _) = register(&app, "Shop", false).await;
    let mut b = signed_in(&app, "hal-c@example.com").await;
    let state = |body: String| serde_json::from_str::<LogoutConfirmState>(&body).unwrap();
    let load = "/api/oauth/logout-state";
    assert_eq!(state(body_text(b.post(load, &[]).await).await), LogoutConfirmState::SignedIn);
    let html = body_text(b.get("/oauth2/logout/confirm").await).await;
    assert!(html.contains("Sign out?") && !html.contains("data-logout-confirm"), "{html}");

    // an app asks without a hint naming this sign-in: the page asks the person
    let res = b.get(&format!("/oauth2/logout?client_id={shop}")).await;
    assert_eq!(header(&res, "location"), "/oauth2/logout/confirm");
    let expected = LogoutConfirmState::Confirm { client_name: Some("Shop".into()) };
    assert_eq!(state(body_text(b.post(load, &[]).await).await), expected);
    let html = body_text(b.get("/oauth2/logout/confirm").await).await;
    assert!(html.contains("Shop asks to sign you out of Vestibule."), "{html}");
    assert!(html.contains(r#"action="/oauth2/logout/confirm""#) && html.contains("Stay signed in"));

    let res = b.post_html("/oauth2/logout/confirm", &[], "/oauth2/logout/confirm").await;
    assert_eq!(res.status(), 303);
    assert_eq!(b.whoami().await, None);
    assert_eq!(state(body_text(b.post(load, &[]).await).await), LogoutConfirmState::SignedOut);
    assert!(body_text(b.get("/oauth2/logout/confirm").await).await.contains("You are signed out"));
}
both!(logout_confirm, the_sign_out_confirmation_says_what_waits);

async fn continue_is_a_client_only_route_and_the_export_lists_apps_without_tokens(backend: Backend) {
    // the browser's router knows the path the server answers itself
    let pages = leptos_axum::generate_route_list(vestibule::app::App);
    assert!(pages.iter().any(|r| r.path() == vestibule::server::oauth::flow::CONTINUE_PATH));
    assert!(vestibule::server::oauth::CLIENT_ONLY_ROUTES.contains(&vestibule::server::oauth::flow::CONTINUE_PATH));

    let app = app(backend).await;
    let shop = register(&app, "Shop", false).await;
    let mut b = signed_in(&app, "ida@example.com").await;
    let (refresh_token, access_token) = allowed_with_refresh(&app, &mut b, &shop).await;
    let res = b.get("/account/export").await;
    assert_eq!(res.status(), 200);
    let text = body_text(res).await;
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let grants = json["oauth_grants"].as_array().unwrap();
    assert_eq!(grants.len(), 1, "{text}");
    let entry = &grants[0];
    assert_eq!((entry["client_id"].as_str(), entry["client_name"].as_str()), (Some(shop.0.as_str()), Some("Shop")));
    assert_eq!(entry["scopes"], serde_json::json!(["openid", "email", "offline_access"]));
    assert_eq!(entry["offline"], true);
    assert!(entry["since"].as_str().is_some_and(|t| t.ends_with('Z')) && entry["last_used_at"].is_string());
    assert_eq!(json["consents"], serde_json::json!([]));
    // no token, secret or hash of one
    let pool = &app.state.db.pool;
    let mut secrets = vec![refresh_token, access_token, shop.1.clone()];
    secrets.extend(
        sqlx::query_scalar::<_, String>("SELECT token_hash FROM oauth_refresh_tokens").fetch_all(pool).await.unwrap(),
    );
    secrets.extend(sqlx::query_scalar::<_, String>("SELECT code_hash FROM oauth_codes").fetch_all(pool).await.unwrap());
    secrets.extend(sqlx::query_scalar::<_, String>("SELECT id FROM oauth_grants").fetch_all(pool).await.unwrap());
    assert!(secrets.len() >= 5, "{secrets:?}");
    for secret in &secrets {
        assert!(!text.contains(secret.as_str()), "a secret in the export: {secret}");
    }
}
both!(continue_and_export, continue_is_a_client_only_route_and_the_export_lists_apps_without_tokens);
