//! The OAuth 2.0 / OpenID Connect provider through the real router, one test module per area of
//! security.md "OAuth 2.0 / OpenID Connect", on SQLite and PostgreSQL.
//!
//! The tests trust as little of the product as they can: PKCE challenges are computed here (SHA-256 and
//! base64url by hand), and signatures of issued tokens are checked against the published JWKS with
//! ed25519-dalek and p256, not with josekit which the server signs with.

mod authorize;
mod codes;
mod consent;
mod keys;
mod logout;
mod redirect_uri;
mod refresh;
mod tokens;

use axum::body::Body;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use http::{Request, Response};
use secrecy::ExposeSecret;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::accounts::{verified_account, PASSWORD};
use crate::mfa::password_sign_in;
use crate::support::{app_with, body_text, header, Backend, Browser, TestApp};
use vestibule::core::oidc::clients::{self, AuthMethod, NewClient};
use vestibule::core::oidc::keys::SigningAlg;
use vestibule::core::oidc::GrantType;
use vestibule::server::auth::{now, AUTH_TIME_KEY};
use vestibule::server::config::RawConfig;

/// The redirect URI every test client registers, and where apps return after logout.
pub const CB: &str = "https://app.example/cb";
pub const BYE: &str = "https://app.example/bye";

/// The app with a probe that makes this browser's sign-in an hour old (for `max_age` and `prompt=login`:
/// a sign-in made in the same second as the request counts as fresh, and the tests never sleep).
pub async fn oauth_app(backend: Backend) -> TestApp {
    oauth_app_with(backend, |_| {}).await
}

pub async fn oauth_app_with(backend: Backend, configure: impl FnOnce(&mut RawConfig)) -> TestApp {
    let age = axum::routing::get(|session: tower_sessions::Session| async move {
        session.insert(AUTH_TIME_KEY, now() - 3600).await.unwrap();
        "aged"
    });
    app_with(backend, configure, axum::Router::new().route("/probe/age-sign-in", age)).await
}

pub async fn age_sign_in(b: &mut Browser<'_>) {
    assert_eq!(body_text(b.get("/probe/age-sign-in").await).await, "aged");
}

// ---- clients ----

/// A registered client and the credentials it authenticates with.
#[derive(Clone, Debug)]
pub struct Registered {
    pub id: String,
    pub secret: Option<String>,
    pub method: AuthMethod,
}

impl Registered {
    /// Its own credentials, sent the way it was registered for.
    pub fn auth(&self) -> Auth<'_> {
        let secret = self.secret.as_deref().unwrap_or("");
        match self.method {
            AuthMethod::ClientSecretBasic => Auth::Basic(&self.id, secret),
            AuthMethod::ClientSecretPost => Auth::Post(&self.id, secret),
            AuthMethod::None => Auth::Public(&self.id),
        }
    }
}

/// A confidential first-party client (Basic), the default scopes, code and refresh grants, EdDSA.
pub fn client() -> NewClient {
    NewClient {
        name: "Shop".into(),
        auth_method: AuthMethod::ClientSecretBasic,
        redirect_uris: vec![CB.into()],
        post_logout_redirect_uris: vec![BYE.into()],
        scopes: clients::default_scopes(),
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        first_party: true,
        backchannel_logout_uri: None,
        signing_alg: SigningAlg::EdDSA,
    }
}

/// A public (PKCE) first-party client.
pub fn public_client() -> NewClient {
    NewClient { name: "Phone app".into(), auth_method: AuthMethod::None, ..client() }
}

pub async fn register(app: &TestApp, new: NewClient) -> Registered {
    let (client, secret) = clients::create(&app.state.db, &app.state.token_key, &new, now(), &mut rand::rng())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    Registered { id: client.id, secret: secret.map(|s| s.0.expose_secret().to_string()), method: new.auth_method }
}

// ---- people ----

/// A verified account and a browser signed in to it with the password.
pub async fn signed_in<'a>(app: &'a TestApp, email: &str) -> Browser<'a> {
    verified_account(app, email).await;
    let (b, next) = password_sign_in(app, email).await;
    assert_eq!(next, "/account");
    b
}

// ---- the authorization endpoint ----

/// An authorization request's parameters, in order; `set` replaces or adds, `unset` drops.
#[derive(Clone, Debug)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    /// `response_type=code`, the client, `CB`, `scope=openid` and `state=st-1`.
    pub fn code(client_id: &str) -> Self {
        let pairs = [
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", CB),
            ("scope", "openid"),
            ("state", "st-1"),
        ];
        Self(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    pub fn set(mut self, key: &str, value: &str) -> Self {
        match self.0.iter_mut().find(|(k, _)| k == key) {
            Some(pair) => pair.1 = value.to_string(),
            None => self.0.push((key.to_string(), value.to_string())),
        }
        self
    }

    pub fn unset(mut self, key: &str) -> Self {
        self.0.retain(|(k, _)| k != key);
        self
    }

    pub fn pkce(self, pkce: &Pkce) -> Self {
        self.set("code_challenge", &pkce.challenge).set("code_challenge_method", "S256")
    }

    pub fn query(&self) -> String {
        serde_urlencoded::to_string(&self.0).unwrap()
    }
}

/// Where an authorization request ended.
#[derive(Debug)]
pub enum Outcome {
    /// Back at the app's redirect URI (with a code or an error).
    App(AppRedirect),
    /// Waiting on one of our pages (`/login`, `/oauth2/consent`, `/login/second-factor`).
    Ours(String),
    /// An error page (no redirect at all): status and body.
    Page(u16, String),
}

impl Outcome {
    pub fn app(self) -> AppRedirect {
        match self {
            Outcome::App(r) => r,
            other => panic!("expected a redirect to the app, got {other:?}"),
        }
    }

    pub fn code(self) -> String {
        let r = self.app();
        r.get("code").unwrap_or_else(|| panic!("no code in {}", r.url))
    }

    /// The `error` of a redirect back to the app.
    pub fn error(self) -> String {
        let r = self.app();
        r.get("error").unwrap_or_else(|| panic!("no error in {}", r.url))
    }

    pub fn ours(self) -> String {
        match self {
            Outcome::Ours(path) => path,
            other => panic!("expected one of our pages, got {other:?}"),
        }
    }
}

/// A redirect back to the app: the whole URL and its query.
#[derive(Debug)]
pub struct AppRedirect {
    pub url: url::Url,
}

impl AppRedirect {
    pub fn get(&self, name: &str) -> Option<String> {
        self.url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
    }

    /// The URL without its query: where the browser was sent.
    pub fn base(&self) -> String {
        let mut url = self.url.clone();
        url.set_query(None);
        url.to_string()
    }
}

/// `GET /oauth2/authorize` in `b`, following our redirects: `/oauth2/continue`, and `/login` by signing in
/// with `email`'s password when given (once). Stops at the app, at any other page of ours, or at an error.
pub async fn authorize(b: &mut Browser<'_>, email: Option<&str>, params: &Params) -> Outcome {
    let res = b.get(&format!("/oauth2/authorize?{}", params.query())).await;
    follow(b, email, res).await
}

/// Follows an answer of the authorization flow (see `authorize`).
pub async fn follow(b: &mut Browser<'_>, mut email: Option<&str>, mut res: Response<Body>) -> Outcome {
    for _ in 0..10 {
        if !res.status().is_redirection() {
            let status = res.status().as_u16();
            return Outcome::Page(status, body_text(res).await);
        }
        assert_eq!(res.status(), 303, "our redirects are 303 See Other");
        assert_eq!(header(&res, "cache-control"), "no-store");
        let location = header(&res, "location").to_string();
        if !location.starts_with('/') {
            return Outcome::App(AppRedirect { url: url::Url::parse(&location).unwrap() });
        }
        let location = match (location.as_str(), email.take()) {
            ("/login", Some(email)) => {
                let res = b.post("/api/auth/login", &[("email", email), ("password", PASSWORD)]).await;
                assert_eq!(res.status(), 200, "sign-in");
                header(&res, "location").to_string()
            }
            _ => location,
        };
        if location != "/oauth2/continue" {
            return Outcome::Ours(location);
        }
        res = b.get(&location).await;
    }
    panic!("more than ten redirects")
}

/// The code of a request that needs nothing more (signed in, first-party or consented).
pub async fn code_for(b: &mut Browser<'_>, params: &Params) -> String {
    authorize(b, None, params).await.code()
}

// ---- PKCE, by hand ----

pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

impl Pkce {
    /// A 43-character verifier (from 32 random bytes) and its S256 challenge (RFC 7636 section 4.2).
    pub fn generate() -> Self {
        let bytes: [u8; 32] = rand::random();
        let verifier = URL_SAFE_NO_PAD.encode(bytes);
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        Self { verifier, challenge }
    }
}

#[test]
fn the_hand_made_pkce_matches_rfc_7636() {
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    assert_eq!(URL_SAFE_NO_PAD.encode(Sha256::digest(verifier)), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

// ---- the endpoints apps' servers call ----

/// How a request authenticates its client.
#[derive(Clone, Copy, Debug)]
pub enum Auth<'a> {
    Basic(&'a str, &'a str),
    Post(&'a str, &'a str),
    /// A public client: `client_id` alone.
    Public(&'a str),
}

/// A form POST to `path` from an app's server (no cookies, no Origin), with the client's credentials.
pub async fn client_post(app: &TestApp, path: &str, auth: Auth<'_>, form: &[(&str, &str)]) -> Response<Body> {
    let mut pairs: Vec<(&str, &str)> = form.to_vec();
    let mut req = Request::post(path).header("content-type", "application/x-www-form-urlencoded");
    match auth {
        Auth::Basic(id, secret) => {
            // RFC 6749 section 2.3.1: both form-urlencoded, then Basic
            let encode = |v: &str| serde_urlencoded::to_string([("", v)]).unwrap()[1..].to_string();
            let credentials = STANDARD.encode(format!("{}:{}", encode(id), encode(secret)));
            req = req.header("authorization", format!("Basic {credentials}"));
        }
        Auth::Post(id, secret) => pairs.extend([("client_id", id), ("client_secret", secret)]),
        Auth::Public(id) => pairs.push(("client_id", id)),
    }
    let body = serde_urlencoded::to_string(&pairs).unwrap();
    app.send(req.body(Body::from(body)).unwrap()).await
}

/// Status and JSON body of an answer; JSON answers of token endpoints are never cached.
pub async fn json(res: Response<Body>) -> (u16, Value) {
    let status = res.status().as_u16();
    if status != 500 {
        assert_eq!(header(&res, "cache-control"), "no-store", "status {status}");
    }
    let body = body_text(res).await;
    (status, serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {status} {body}")))
}

pub async fn token(app: &TestApp, auth: Auth<'_>, form: &[(&str, &str)]) -> (u16, Value) {
    json(client_post(app, "/oauth2/token", auth, form).await).await
}

/// Exchanges `code` (issued for `CB`) at the token endpoint.
pub async fn exchange(app: &TestApp, client: &Registered, code: &str, verifier: Option<&str>) -> (u16, Value) {
    let mut form = vec![("grant_type", "authorization_code"), ("code", code), ("redirect_uri", CB)];
    form.extend(verifier.map(|v| ("code_verifier", v)));
    token(app, client.auth(), &form).await
}

/// Exchanges and insists on success; returns the token response.
pub async fn exchange_ok(app: &TestApp, client: &Registered, code: &str, verifier: Option<&str>) -> Value {
    let (status, body) = exchange(app, client, code, verifier).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    body
}

pub async fn refresh(app: &TestApp, client: &Registered, refresh_token: &str, scope: Option<&str>) -> (u16, Value) {
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", refresh_token)];
    form.extend(scope.map(|s| ("scope", s)));
    token(app, client.auth(), &form).await
}

/// Whether introspection (by `client`, which must be confidential) calls the token active.
pub async fn active(app: &TestApp, client: &Registered, token: &str) -> bool {
    let (status, body) = json(client_post(app, "/oauth2/introspect", client.auth(), &[("token", token)]).await).await;
    assert_eq!(status, 200, "{body}");
    body["active"].as_bool().unwrap_or_else(|| panic!("no active in {body}"))
}

pub async fn revoke(app: &TestApp, client: &Registered, token: &str) -> u16 {
    client_post(app, "/oauth2/revoke", client.auth(), &[("token", token)]).await.status().as_u16()
}

/// `GET /oauth2/userinfo` with a bearer token: status, `WWW-Authenticate`, and the JSON body (Null if none).
pub async fn userinfo(app: &TestApp, token: &str) -> (u16, String, Value) {
    let req = Request::get("/oauth2/userinfo").header("authorization", format!("Bearer {token}")).body(Body::empty());
    let res = app.send(req.unwrap()).await;
    let status = res.status().as_u16();
    let challenge = header(&res, "www-authenticate").to_string();
    let body = body_text(res).await;
    (status, challenge, serde_json::from_str(&body).unwrap_or(Value::Null))
}

// ---- tokens, checked independently ----

/// The header and claims of a compact JWS, decoded without checking anything.
pub fn jwt_parts(token: &str) -> (Value, Value) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWS: {token}");
    let decode = |p: &str| serde_json::from_slice::<Value>(&URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap();
    (decode(parts[0]), decode(parts[1]))
}

pub async fn jwks(app: &TestApp) -> Value {
    let res = app.get("/oauth2/jwks").await;
    assert_eq!(res.status(), 200);
    serde_json::from_str(&body_text(res).await).unwrap()
}

/// Checks the token's signature against the published JWKS with crates the server does not use (EdDSA:
/// ed25519-dalek, ES256: p256); returns its claims.
pub async fn verify_jwt(app: &TestApp, token: &str) -> Value {
    let (head, claims) = jwt_parts(token);
    let keys = jwks(app).await;
    let key = keys["keys"].as_array().unwrap().iter().find(|k| k["kid"] == head["kid"]);
    let key = key.unwrap_or_else(|| panic!("kid {} not in the JWKS", head["kid"]));
    assert_eq!(key["alg"], head["alg"], "the key's algorithm is the token's");
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    let member = |name: &str| URL_SAFE_NO_PAD.decode(key[name].as_str().unwrap()).unwrap();
    match head["alg"].as_str() {
        Some("EdDSA") => {
            assert_eq!((key["kty"].as_str(), key["crv"].as_str()), (Some("OKP"), Some("Ed25519")));
            let public = ed25519_dalek::VerifyingKey::from_bytes(&member("x").try_into().unwrap()).unwrap();
            let signature = ed25519_dalek::Signature::from_slice(&signature).unwrap();
            public.verify_strict(signed.as_bytes(), &signature).expect("EdDSA signature verifies");
        }
        Some("ES256") => {
            use p256::ecdsa::signature::Verifier;
            assert_eq!((key["kty"].as_str(), key["crv"].as_str()), (Some("EC"), Some("P-256")));
            let (x, y) = (member("x"), member("y"));
            let point = p256::EncodedPoint::from_affine_coordinates(x.as_slice().into(), y.as_slice().into(), false);
            let public = p256::ecdsa::VerifyingKey::from_encoded_point(&point).unwrap();
            let signature = p256::ecdsa::Signature::from_slice(&signature).unwrap();
            public.verify(signed.as_bytes(), &signature).expect("ES256 signature verifies");
        }
        other => panic!("no independent verifier for {other:?}"),
    }
    claims
}

/// Signs `email` in through `client` (first-party) and exchanges the code: the token response.
pub async fn tokens_for(b: &mut Browser<'_>, app: &TestApp, client: &Registered, scope: &str) -> Value {
    let code = code_for(b, &Params::code(&client.id).set("scope", scope)).await;
    exchange_ok(app, client, &code, None).await
}

pub fn str_of<'a>(body: &'a Value, name: &str) -> &'a str {
    body[name].as_str().unwrap_or_else(|| panic!("no {name} in {body}"))
}
