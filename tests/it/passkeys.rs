//! Passkeys through the real router (security.md WebAuthn lines): sign-up, the three sign-in flows,
//! replay, origin, expiry, another account's credential, duplicate ids, cloned authenticators, managing
//! passkeys with step-up, and the pre-hijack defence; on SQLite and PostgreSQL. The browser's side is the
//! software authenticator in support/authenticator.rs.

use axum::body::Body;
use axum::Router;
use http::Response;
use serde::de::DeserializeOwned;
use webauthn_rs_proto::{
    CreationChallengeResponse, PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse,
};

use crate::accounts::{verified_account, PASSWORD};
use crate::both;
use crate::support::authenticator::Authenticator;
use crate::support::{app, app_with, body_text, header, last_mail, mails_to, Backend, Browser, TestApp};
use vestibule::core::audit::RequestMeta;
use vestibule::core::passkeys::{self as core, PasskeyError, SignInOutcome};
use vestibule::db;
use vestibule::error::{AppError, ErrorKind};
use vestibule::types::SecurityPageState;

pub(crate) const ORIGIN: &str = "http://localhost:3000";
const EVIL: &str = "http://evil.example:3000";
const ICLOUD: &str = "fbfc3007-154e-4ecc-8c0b-6e020557d7bd";

// ---- helpers ----

/// A ceremony's options: the server function returns them as a JSON string inside its JSON answer.
pub(crate) async fn options<T: DeserializeOwned>(res: Response<Body>) -> T {
    let status = res.status();
    let body = body_text(res).await;
    assert_eq!(status, 200, "{body}");
    let inner: String = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    serde_json::from_str(&inner).unwrap_or_else(|e| panic!("{e}: {inner}"))
}

/// The status and error kind of a refused call.
pub(crate) async fn refusal(res: Response<Body>) -> (u16, ErrorKind) {
    let status = res.status().as_u16();
    let body = body_text(res).await;
    let err: AppError = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {status} {body}"));
    (status, err.kind)
}

/// The JSON body of a successful call.
pub(crate) async fn ok_body(res: Response<Body>) -> String {
    let status = res.status();
    let body = body_text(res).await;
    assert_eq!(status, 200, "{body}");
    body
}

pub(crate) fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap()
}

async fn signup_start(b: &mut Browser<'_>, email: &str) -> CreationChallengeResponse {
    options(b.post("/api/passkeys/signup-start", &[("email", email), ("display_name", "")]).await).await
}

async fn signup_finish(b: &mut Browser<'_>, credential: &RegisterPublicKeyCredential) -> Response<Body> {
    b.post("/api/passkeys/signup-finish", &[("credential", &json(credential))]).await
}

async fn signin_start(b: &mut Browser<'_>, email: Option<&str>, conditional: bool) -> Response<Body> {
    let conditional = if conditional { "true" } else { "false" };
    match email {
        Some(email) => b.post("/api/passkeys/signin-start", &[("email", email), ("conditional", conditional)]).await,
        None => b.post("/api/passkeys/signin-start", &[("conditional", conditional)]).await,
    }
}

/// The sign-in button's options (discoverable: no address).
pub(crate) async fn button_options(b: &mut Browser<'_>) -> RequestChallengeResponse {
    options(signin_start(b, None, false).await).await
}

pub(crate) async fn signin_finish(
    b: &mut Browser<'_>,
    credential: &PublicKeyCredential,
    conditional: bool,
) -> Response<Body> {
    let conditional = if conditional { "true" } else { "false" };
    b.post("/api/passkeys/signin-finish", &[("credential", &json(credential)), ("conditional", conditional)]).await
}

/// Signs `b` in with the button and `auth`'s newest passkey.
pub(crate) async fn sign_in_with_button(b: &mut Browser<'_>, auth: &mut Authenticator) {
    let rcr = button_options(b).await;
    let res = signin_finish(b, &auth.assert(&rcr, ORIGIN), false).await;
    assert_eq!(ok_body(res).await, "\"/account\"");
}

pub(crate) async fn account_id(app: &TestApp, email: &str) -> String {
    db::accounts::find_by_email(&app.state.db.pool, email).await.unwrap().expect("the account").id
}

/// A verified account whose only way in is a new passkey in `auth`; returns its id (signed out).
pub(crate) async fn passkey_account(app: &TestApp, email: &str, auth: &mut Authenticator) -> String {
    let mut b = Browser::new(app);
    let ccr = signup_start(&mut b, email).await;
    assert_eq!(ok_body(signup_finish(&mut b, &auth.register(&ccr, ORIGIN)).await).await, "\"/verify-email\"");
    let code = last_mail(app, email).await.code();
    let res = b.post("/api/auth/verify-code", &[("email", email), ("code", &code)]).await;
    assert_eq!(res.status(), 200, "{}", body_text(res).await);
    account_id(app, email).await
}

/// A browser signed in with the password of a `verified_account`.
pub(crate) async fn password_browser<'a>(app: &'a TestApp, email: &str) -> Browser<'a> {
    let mut b = Browser::new(app);
    let res = b.post("/api/auth/login", &[("email", email), ("password", PASSWORD)]).await;
    assert_eq!(header(&res, "location"), "/account");
    b
}

pub(crate) async fn audit(app: &TestApp, kind: &str) -> Vec<db::audit::AuditRow> {
    db::audit::by_kind(&app.state.db.pool, kind, 10_000).await.unwrap()
}

/// The `reason` of each audited event of `kind`, newest first.
async fn reasons(app: &TestApp, kind: &str) -> Vec<String> {
    audit(app, kind)
        .await
        .iter()
        .map(|row| {
            let detail: serde_json::Value = serde_json::from_str(row.detail.as_deref().unwrap_or("{}")).unwrap();
            detail["reason"].as_str().unwrap_or_default().to_string()
        })
        .collect()
}

async fn passkey_rows(app: &TestApp, account_id: &str) -> Vec<db::passkeys::PasskeyRow> {
    db::passkeys::for_account(&app.state.db.pool, account_id).await.unwrap()
}

async fn security_page(b: &mut Browser<'_>) -> SecurityPageState {
    let body = ok_body(b.post("/api/account/security", &[]).await).await;
    let state: Option<SecurityPageState> = serde_json::from_str(&body).unwrap();
    state.expect("signed in")
}

/// Moves the account's sign-in times `secs` into the past, in the stored sessions (tests cannot wait).
async fn age_sign_in(app: &TestApp, account_id: &str, secs: i64) {
    let pool = &app.state.db.pool;
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT id_hash, data FROM sessions WHERE account_id = $1")
        .bind(account_id)
        .fetch_all(pool)
        .await
        .unwrap();
    assert!(!rows.is_empty());
    for (id_hash, data) in rows {
        let mut data: serde_json::Value = serde_json::from_str(&data).unwrap();
        let at = data["auth_time"].as_i64().expect("auth_time in the session");
        data["auth_time"] = serde_json::json!(at - secs);
        sqlx::query("UPDATE sessions SET data = $2 WHERE id_hash = $1")
            .bind(&id_hash)
            .bind(data.to_string())
            .execute(pool)
            .await
            .unwrap();
    }
}

// ---- tests ----

/// Sign-up with a passkey, then all three ways of signing in with it.
async fn sign_up_with_a_passkey_and_sign_in_three_ways(backend: Backend) {
    let app = app(backend).await;
    let mut auth = Authenticator::with_aaguid(ICLOUD);
    let mut b = Browser::new(&app);
    let ccr = signup_start(&mut b, "Pat@Example.com").await;
    assert_eq!(ccr.public_key.rp.id, "localhost");
    assert_eq!(ccr.public_key.user.name, "pat@example.com");
    assert_eq!(ccr.public_key.user.id.len(), 16, "a UUID user handle");
    let selection = ccr.public_key.authenticator_selection.clone().unwrap();
    assert!(selection.require_resident_key, "discoverable credential requested");
    let res = signup_finish(&mut b, &auth.register(&ccr, ORIGIN)).await;
    assert_eq!(ok_body(res).await, "\"/verify-email\"");
    assert_eq!(b.whoami().await, None, "not signed in before the address is verified");

    let mail = last_mail(&app, "pat@example.com").await;
    assert_eq!(mail.subject, "Confirm your email address");
    let res = b.post("/api/auth/verify-code", &[("email", "pat@example.com"), ("code", &mail.code())]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "location"), "/account");
    assert_eq!(b.whoami().await.as_deref(), Some("pat@example.com"));

    let account = db::accounts::find_by_email(&app.state.db.pool, "pat@example.com").await.unwrap().unwrap();
    assert!(account.password_hash.is_none(), "a passkey account has no password");
    assert!(account.email_verified_at.is_some());
    let handle = account.user_handle.clone().expect("a user handle");
    let uuid = uuid::Uuid::parse_str(&handle).expect("the user handle is a UUID");
    assert_ne!(handle, account.email);
    assert_eq!(uuid.as_bytes().as_slice(), ccr.public_key.user.id.as_slice());
    let rows = passkey_rows(&app, &account.id).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].name, "iCloud Keychain", "named after the authenticator's AAGUID");
    assert_eq!(rows[0].aaguid.as_deref(), Some(ICLOUD));
    assert_eq!(rows[0].credential_id, core::encode_credential_id(&auth.credentials[0].id));
    assert_eq!(rows[0].last_used_at, None);
    assert_eq!(reasons(&app, "sign_up").await.len(), 1);

    assert_eq!(b.post("/logout", &[]).await.status(), 200);
    assert_eq!(b.whoami().await, None);

    // the button: no address, the authenticator names the account
    let mut button = Browser::new(&app);
    let rcr = button_options(&mut button).await;
    assert!(rcr.public_key.allow_credentials.is_empty());
    assert!(rcr.mediation.is_none(), "a dialog, not autofill");
    assert_eq!(rcr.public_key.rp_id, "localhost");
    let res = signin_finish(&mut button, &auth.assert(&rcr, ORIGIN), false).await;
    assert_eq!(ok_body(res).await, "\"/account\"");
    assert_eq!(button.whoami().await.as_deref(), Some("pat@example.com"));
    let events = audit(&app, "sign_in_succeeded").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].account_id.as_deref(), Some(account.id.as_str()));
    assert!(events[0].detail.as_deref().unwrap_or_default().contains("\"method\":\"passkey\""));
    assert!(passkey_rows(&app, &account.id).await[0].last_used_at.is_some(), "use recorded");

    // autofill (conditional mediation), kept apart from the button's ceremony
    let mut autofill = Browser::new(&app);
    let rcr = options::<RequestChallengeResponse>(signin_start(&mut autofill, None, true).await).await;
    assert!(rcr.mediation.is_some(), "conditional mediation");
    let answer = auth.assert(&rcr, ORIGIN);
    let (status, kind) = refusal(signin_finish(&mut autofill, &answer, false).await).await;
    assert_eq!((status, kind), (400, ErrorKind::PasskeyExpired), "the button has no ceremony in this browser");
    assert_eq!(ok_body(signin_finish(&mut autofill, &answer, true).await).await, "\"/account\"");
    assert_eq!(autofill.whoami().await.as_deref(), Some("pat@example.com"));

    // identifier-first: the address is typed, only its passkeys are offered
    let mut typed = Browser::new(&app);
    let rcr =
        options::<RequestChallengeResponse>(signin_start(&mut typed, Some(" PAT@example.com"), false).await).await;
    let allowed: Vec<&[u8]> = rcr.public_key.allow_credentials.iter().map(|c| c.id.as_slice()).collect();
    assert_eq!(allowed, vec![auth.credentials[0].id.as_slice()]);
    let res = signin_finish(&mut typed, &auth.assert(&rcr, ORIGIN), false).await;
    assert_eq!(ok_body(res).await, "\"/account\"");
    assert_eq!(typed.whoami().await.as_deref(), Some("pat@example.com"));
    assert_eq!(audit(&app, "sign_in_succeeded").await.len(), 3);

    // addresses without passkeys get no offer: unknown, password-only, not an address
    verified_account(&app, "pw@example.com").await;
    for email in ["nobody@example.com", "pw@example.com", "not an address"] {
        let mut b = Browser::new(&app);
        assert_eq!(ok_body(signin_start(&mut b, Some(email), false).await).await, "null", "{email}");
    }
}
both!(sign_up_and_sign_in, sign_up_with_a_passkey_and_sign_in_three_ways);

/// An assertion works once: posted again it finds no ceremony, and one made for an earlier challenge is
/// refused and audited.
async fn replayed_assertions_are_refused(backend: Backend) {
    let app = app(backend).await;
    let mut auth = Authenticator::new();
    let id = passkey_account(&app, "rex@example.com", &mut auth).await;

    let mut b = Browser::new(&app);
    let rcr = button_options(&mut b).await;
    let answer = auth.assert(&rcr, ORIGIN);
    assert_eq!(ok_body(signin_finish(&mut b, &answer, false).await).await, "\"/account\"");
    let mut thief = Browser::from_ip(&app, "198.51.100.7");
    assert_eq!(refusal(signin_finish(&mut thief, &answer, false).await).await, (400, ErrorKind::PasskeyExpired));
    assert_eq!(refusal(signin_finish(&mut b, &answer, false).await).await, (400, ErrorKind::PasskeyExpired));

    // an answer to the first of two challenges: the second replaced it
    let mut c = Browser::new(&app);
    let first = button_options(&mut c).await;
    let old_answer = auth.assert(&first, ORIGIN);
    let second = button_options(&mut c).await;
    assert_ne!(first.public_key.challenge, second.public_key.challenge);
    let failures_before = audit(&app, "sign_in_failed").await.len();
    assert_eq!(refusal(signin_finish(&mut c, &old_answer, false).await).await, (401, ErrorKind::PasskeyRejected));
    assert_eq!(c.whoami().await, None);
    let failed = audit(&app, "sign_in_failed").await;
    assert_eq!(failed.len(), failures_before + 1);
    assert_eq!(failed[0].account_id.as_deref(), Some(id.as_str()));
    assert!(failed[0].detail.as_deref().unwrap_or_default().contains("\"method\":\"passkey\""));
    // the refused answer used up the ceremony: the right answer now comes too late
    let answer = auth.assert(&second, ORIGIN);
    assert_eq!(refusal(signin_finish(&mut c, &answer, false).await).await, (400, ErrorKind::PasskeyExpired));
}
both!(replay, replayed_assertions_are_refused);

/// Answers made for another origin are refused, at registration and at sign-in.
async fn answers_for_another_origin_are_refused(backend: Backend) {
    let app = app(backend).await;
    let mut auth = Authenticator::new();
    let mut b = Browser::new(&app);
    let ccr = signup_start(&mut b, "oz@example.com").await;
    let res = signup_finish(&mut b, &auth.register(&ccr, EVIL)).await;
    assert_eq!(refusal(res).await, (401, ErrorKind::PasskeyRejected));
    assert!(db::accounts::find_by_email(&app.state.db.pool, "oz@example.com").await.unwrap().is_none());
    assert_eq!(audit(&app, "passkey_registration_failed").await.len(), 1);
    assert!(mails_to(&app, "oz@example.com").await.is_empty());

    let mut auth = Authenticator::new();
    let id = passkey_account(&app, "oz@example.com", &mut auth).await;
    let mut b = Browser::new(&app);
    let rcr = button_options(&mut b).await;
    let res = signin_finish(&mut b, &auth.assert(&rcr, EVIL), false).await;
    assert_eq!(refusal(res).await, (401, ErrorKind::PasskeyRejected));
    assert_eq!(b.whoami().await, None);
    let failed = audit(&app, "sign_in_failed").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].account_id.as_deref(), Some(id.as_str()));
    // the same authenticator at the right origin works
    sign_in_with_button(&mut Browser::new(&app), &mut auth).await;
}
both!(wrong_origin, answers_for_another_origin_are_refused);

/// A ceremony is good for challenge_ttl_secs (300) after it started, not a second more.
async fn challenges_expire(backend: Backend) {
    let app = app(backend).await;
    let mut auth = Authenticator::new();
    let id = passkey_account(&app, "exp@example.com", &mut auth).await;
    let deps = app.state.deps();
    let meta = RequestMeta::default();
    let start = vestibule::server::auth::now();
    assert_eq!(deps.settings.challenge_ttl_secs, 300);

    let (rcr, pending) = core::start_discoverable(&deps, false, start).unwrap();
    let answer = auth.assert(&rcr, ORIGIN);
    let late = core::finish_sign_in(&deps, pending, &answer, &meta, start + 301, &mut rand::rng()).await;
    assert!(matches!(late, Err(PasskeyError::Expired)), "{late:?}");

    let (rcr, pending) = core::start_discoverable(&deps, false, start).unwrap();
    let answer = auth.assert(&rcr, ORIGIN);
    let in_time = core::finish_sign_in(&deps, pending, &answer, &meta, start + 300, &mut rand::rng()).await;
    assert!(matches!(&in_time, Ok(SignInOutcome::SignedIn(s)) if s.account_id == id), "{in_time:?}");

    // the same for a registration
    let (ccr, pending) = core::start_signup(&deps, "late@example.com", None, start).unwrap();
    let credential = Authenticator::new().register(&ccr, ORIGIN);
    let late = core::finish_registration(&deps, pending, &credential, None, &meta, start + 301, &mut rand::rng()).await;
    assert!(matches!(late, Err(PasskeyError::Expired)), "{late:?}");
    assert!(db::accounts::find_by_email(&app.state.db.pool, "late@example.com").await.unwrap().is_none());
}
both!(expiry, challenges_expire);

/// One account's passkey never signs in another: not when the other account's address was typed, and not
/// when the authenticator claims another account's user handle.
async fn another_accounts_credential_is_refused(backend: Backend) {
    let app = app(backend).await;
    let mut ann = Authenticator::new();
    let mut bob = Authenticator::new();
    let ann_id = passkey_account(&app, "ann@example.com", &mut ann).await;
    let bob_id = passkey_account(&app, "bob@example.com", &mut bob).await;

    // Ann's address typed, Bob's passkey answers
    let mut b = Browser::new(&app);
    let rcr = options::<RequestChallengeResponse>(signin_start(&mut b, Some("ann@example.com"), false).await).await;
    let res = signin_finish(&mut b, &bob.assert_with(0, &rcr, ORIGIN), false).await;
    assert_eq!(refusal(res).await, (401, ErrorKind::PasskeyRejected));
    assert_eq!(b.whoami().await, None);
    assert_eq!(reasons(&app, "sign_in_failed").await, ["credential_of_another_account"]);
    assert_eq!(audit(&app, "sign_in_failed").await[0].account_id.as_deref(), Some(ann_id.as_str()));

    // the button: Bob's passkey signs (validly) but claims to be Ann's
    let ann_handle = ann.credentials[0].user_handle.clone();
    assert_ne!(ann_handle, bob.credentials[0].user_handle);
    bob.credentials[0].user_handle = ann_handle;
    let mut b = Browser::new(&app);
    let rcr = button_options(&mut b).await;
    let res = signin_finish(&mut b, &bob.assert(&rcr, ORIGIN), false).await;
    assert_eq!(refusal(res).await, (401, ErrorKind::PasskeyRejected));
    assert_eq!(b.whoami().await, None);
    assert_eq!(reasons(&app, "sign_in_failed").await[0], "user_handle_mismatch");
    assert_eq!(audit(&app, "sign_in_failed").await[0].account_id.as_deref(), Some(bob_id.as_str()));
    assert!(audit(&app, "sign_in_succeeded").await.is_empty());
}
both!(other_accounts_credential, another_accounts_credential_is_refused);

/// A credential id is registered once, to one account: not again for another account nor for a new one.
async fn a_credential_id_is_registered_once(backend: Backend) {
    let app = app(backend).await;
    let mut auth = Authenticator::new();
    let ann_id = passkey_account(&app, "ann@example.com", &mut auth).await;

    // Bob adds "a new passkey" that carries Ann's credential id
    verified_account(&app, "bob@example.com").await;
    let bob_id = account_id(&app, "bob@example.com").await;
    let mut b = password_browser(&app, "bob@example.com").await;
    let ccr: CreationChallengeResponse = options(b.post("/api/passkeys/add-start", &[]).await).await;
    let replayed = auth.attest(0, &ccr, ORIGIN);
    let res = b.post("/api/passkeys/add-finish", &[("credential", &json(&replayed)), ("name", "")]).await;
    assert_eq!(refusal(res).await, (409, ErrorKind::PasskeyDuplicate));
    assert!(passkey_rows(&app, &bob_id).await.is_empty());
    assert_eq!(passkey_rows(&app, &ann_id).await.len(), 1);

    // a passkey sign-up with it leaves no account behind
    let mut c = Browser::new(&app);
    let ccr = signup_start(&mut c, "cy@example.com").await;
    let res = signup_finish(&mut c, &auth.attest(0, &ccr, ORIGIN)).await;
    assert_eq!(refusal(res).await, (409, ErrorKind::PasskeyDuplicate));
    assert!(db::accounts::find_by_email(&app.state.db.pool, "cy@example.com").await.unwrap().is_none());

    // the same at the core, for the record of the error
    let deps = app.state.deps();
    let now = vestibule::server::auth::now();
    let (ccr, pending) = core::start_add(&deps, &bob_id, now).await.unwrap();
    let result = core::finish_registration(
        &deps,
        pending,
        &auth.attest(0, &ccr, ORIGIN),
        None,
        &RequestMeta::default(),
        now,
        &mut rand::rng(),
    )
    .await;
    assert!(matches!(result, Err(PasskeyError::Duplicate)), "{result:?}");
    // Ann still signs in with it
    sign_in_with_button(&mut Browser::new(&app), &mut auth).await;
}
both!(duplicate_credential, a_credential_id_is_registered_once);

/// A signature counter that does not go up means a cloned authenticator: refused and flagged.
async fn counter_regression_is_refused_and_flagged(backend: Backend) {
    let app = app(backend).await;
    let mut auth = Authenticator::new();
    let id = passkey_account(&app, "cc@example.com", &mut auth).await;
    sign_in_with_button(&mut Browser::new(&app), &mut auth).await;
    sign_in_with_button(&mut Browser::new(&app), &mut auth).await;
    assert_eq!(auth.credentials[0].counter, 2);

    // a copy of the key that was last used at 1 sends 2 (not above the stored 2)
    auth.credentials[0].counter = 1;
    let mut clone = Browser::new(&app);
    let rcr = button_options(&mut clone).await;
    let res = signin_finish(&mut clone, &auth.assert(&rcr, ORIGIN), false).await;
    assert_eq!(refusal(res).await, (401, ErrorKind::PasskeyRejected));
    assert_eq!(clone.whoami().await, None);
    let flagged = audit(&app, "passkey_counter_regression").await;
    assert_eq!(flagged.len(), 1);
    assert_eq!(flagged[0].account_id.as_deref(), Some(id.as_str()));
    assert_eq!(reasons(&app, "sign_in_failed").await, ["counter_regression"]);

    // the stored counter did not move: 3 is accepted
    assert_eq!(auth.credentials[0].counter, 2);
    sign_in_with_button(&mut Browser::new(&app), &mut auth).await;
    assert_eq!(audit(&app, "passkey_counter_regression").await.len(), 1);

    // two parallel sign-ins that both passed verification: the one storing a counter not above the stored
    // one loses (the column update is conditional), so the counter never moves backwards
    let row = passkey_rows(&app, &id).await.remove(0);
    let pool = &app.state.db.pool;
    assert!(!db::passkeys::record_use(pool, &row.id, &row.credential, 3, 1).await.unwrap());
    assert!(!db::passkeys::record_use(pool, &row.id, &row.credential, 2, 1).await.unwrap());
    assert!(db::passkeys::record_use(pool, &row.id, &row.credential, 9, 1).await.unwrap());
    // authenticators without a counter always send 0
    assert!(db::passkeys::record_use(pool, &row.id, &row.credential, 0, 1).await.unwrap());

    // the same race through the sign-in's single write of counter and event (SQLite: both statements in
    // one request): the loser leaves no sign-in event either
    let db = &app.state.db;
    let signed_in = |mark: &str| {
        let detail = serde_json::json!({ "mark": mark });
        vestibule::core::audit::entry(
            vestibule::core::audit::Event::SignInSucceeded,
            Some(&id),
            &RequestMeta::default(),
            detail,
            1,
        )
    };
    let before = audit(&app, "sign_in_succeeded").await.len();
    for (counter, mark, stored) in [(7, "won", true), (6, "lost", false), (7, "lost too", false)] {
        let (event, backend, id, credential) = (signed_in(mark), db.backend, row.id.clone(), row.credential.clone());
        let write = db.writer.run(move |c| {
            Box::pin(async move {
                db::passkeys::record_use_and_event(c, backend, &id, &credential, counter, 1, &event).await
            })
        });
        assert_eq!(write.await.unwrap(), stored, "counter {counter}");
    }
    let events = audit(&app, "sign_in_succeeded").await;
    assert_eq!(events.len(), before + 1);
    assert!(events.iter().any(|e| e.detail.as_deref() == Some(r#"{"mark":"won"}"#)), "{events:?}");
}
both!(counter_regression, counter_regression_is_refused_and_flagged);

/// Adding, renaming and removing passkeys and removing the password, with notices to the address and
/// never leaving an account without a way in.
async fn passkeys_are_managed_from_the_account(backend: Backend) {
    let app = app(backend).await;
    verified_account(&app, "max@example.com").await;
    let id = account_id(&app, "max@example.com").await;
    let mut b = password_browser(&app, "max@example.com").await;
    let page = security_page(&mut b).await;
    assert!(page.has_password && page.passkeys.is_empty() && page.recently_confirmed);

    // add one, named
    let mut laptop = Authenticator::new();
    let ccr: CreationChallengeResponse = options(b.post("/api/passkeys/add-start", &[]).await).await;
    assert!(ccr.public_key.exclude_credentials.as_ref().is_none_or(Vec::is_empty));
    let credential = laptop.register(&ccr, ORIGIN);
    let res = b.post("/api/passkeys/add-finish", &[("credential", &json(&credential)), ("name", " Laptop ")]).await;
    ok_body(res).await;
    let mail = last_mail(&app, "max@example.com").await;
    assert_eq!(mail.subject, "A passkey was added to your account");
    assert!(mail.text.contains("Laptop"), "{}", mail.text);
    // a second one, unnamed: named after its authenticator; the first is excluded from the ceremony
    let mut phone = Authenticator::with_aaguid(ICLOUD);
    let ccr: CreationChallengeResponse = options(b.post("/api/passkeys/add-start", &[]).await).await;
    let excluded: Vec<Vec<u8>> =
        ccr.public_key.exclude_credentials.clone().unwrap().into_iter().map(|c| c.id).collect();
    assert_eq!(excluded, vec![laptop.credentials[0].id.clone()]);
    let res = b.post("/api/passkeys/add-finish", &[("credential", &json(&phone.register(&ccr, ORIGIN)))]).await;
    ok_body(res).await;
    let page = security_page(&mut b).await;
    // (two passkeys added in the same second list in either order)
    let mut names: Vec<&str> = page.passkeys.iter().map(|p| p.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["Laptop", "iCloud Keychain"]);
    assert_eq!(audit(&app, "passkey_added").await.len(), 2);
    // an added passkey signs in with the button (the account got a user handle)
    sign_in_with_button(&mut Browser::new(&app), &mut laptop).await;

    // rename
    let laptop_id = page.passkeys.iter().find(|p| p.name == "Laptop").unwrap().id.clone();
    let res = b.post("/api/passkeys/rename", &[("id", &laptop_id), ("name", "Work laptop")]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "location"), "/account/security");
    let name_of = |rows: Vec<db::passkeys::PasskeyRow>| rows.into_iter().find(|r| r.id == laptop_id).unwrap().name;
    assert_eq!(name_of(passkey_rows(&app, &id).await), "Work laptop");
    for bad in ["   ", &"x".repeat(65), "tab\there"] {
        let res = b.post("/api/passkeys/rename", &[("id", &laptop_id), ("name", bad)]).await;
        let status = res.status();
        let err: AppError = serde_json::from_str(&body_text(res).await).unwrap();
        assert_eq!((status.as_u16(), err.kind), (422, ErrorKind::Validation), "{bad:?}");
        assert!(err.problem("name").is_some());
    }
    assert_eq!(name_of(passkey_rows(&app, &id).await), "Work laptop");
    // someone else's passkey: not found, and untouched
    let mut other_auth = Authenticator::new();
    let other = passkey_account(&app, "other@example.com", &mut other_auth).await;
    let other_passkey = passkey_rows(&app, &other).await[0].id.clone();
    let res = b.post("/api/passkeys/rename", &[("id", &other_passkey), ("name", "mine now")]).await;
    assert_eq!(refusal(res).await, (404, ErrorKind::NotFound));
    let res = b.post("/api/passkeys/remove", &[("id", &other_passkey)]).await;
    assert_eq!(refusal(res).await, (404, ErrorKind::NotFound));
    assert_eq!(passkey_rows(&app, &other).await[0].name, "Passkey");

    // remove one: the address is told
    let res = b.post("/api/passkeys/remove", &[("id", &laptop_id)]).await;
    assert_eq!(res.status(), 200, "{}", body_text(res).await);
    let rows = passkey_rows(&app, &id).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].name, "iCloud Keychain");
    let mail = last_mail(&app, "max@example.com").await;
    assert_eq!(mail.subject, "A passkey was removed from your account");
    assert!(mail.text.contains("Work laptop"), "{}", mail.text);
    // the removed passkey no longer signs in
    let mut gone = Browser::new(&app);
    let rcr = button_options(&mut gone).await;
    assert_eq!(refusal(signin_finish(&mut gone, &laptop.assert(&rcr, ORIGIN), false).await).await.0, 401);
    assert_eq!(reasons(&app, "sign_in_failed").await[0], "unknown_credential");

    // remove the password: then only the passkey signs in
    let res = b.post("/api/account/remove-password", &[]).await;
    assert_eq!(res.status(), 200, "{}", body_text(res).await);
    assert!(db::accounts::find_by_id(&app.state.db.pool, &id).await.unwrap().unwrap().password_hash.is_none());
    assert_eq!(last_mail(&app, "max@example.com").await.subject, "Your account no longer has a password");
    let mut pw = Browser::from_ip(&app, "198.51.100.20");
    let res = pw.post("/api/auth/login", &[("email", "max@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(res.status(), 401);
    assert_eq!(pw.whoami().await, None);
    sign_in_with_button(&mut Browser::new(&app), &mut phone).await;
    assert!(!security_page(&mut b).await.has_password);

    // the last passkey of an account without a password stays
    let phone_id = passkey_rows(&app, &id).await[0].id.clone();
    let res = b.post("/api/passkeys/remove", &[("id", &phone_id)]).await;
    assert_eq!(refusal(res).await, (409, ErrorKind::LastSignInMethod));
    assert_eq!(passkey_rows(&app, &id).await.len(), 1);
    assert_eq!(audit(&app, "passkey_removed").await.len(), 1);

    // and a password is not removed from an account without passkeys
    verified_account(&app, "pw@example.com").await;
    let mut p = password_browser(&app, "pw@example.com").await;
    let res = p.post("/api/account/remove-password", &[]).await;
    assert_eq!(refusal(res).await, (409, ErrorKind::LastSignInMethod));
    let pw_account = db::accounts::find_by_email(&app.state.db.pool, "pw@example.com").await.unwrap().unwrap();
    assert!(pw_account.password_hash.is_some());
}
both!(management, passkeys_are_managed_from_the_account);

/// Adding or removing a way in needs a sign-in within accounts.recent_sign_in_secs; otherwise the user
/// confirms with the password or a passkey first. (Tests cannot wait: the session's stored sign-in time is
/// moved back instead.)
async fn sensitive_changes_need_a_recent_sign_in(backend: Backend) {
    let app = app_with(backend, |c| c.accounts.recent_sign_in_secs = 60, Router::new()).await;
    verified_account(&app, "sue@example.com").await;
    let id = account_id(&app, "sue@example.com").await;

    // nobody signed in
    let mut anon = Browser::new(&app);
    assert_eq!(refusal(anon.post("/api/passkeys/add-start", &[]).await).await, (401, ErrorKind::SignInRequired));
    assert_eq!(refusal(anon.post("/api/passkeys/confirm-start", &[]).await).await, (401, ErrorKind::SignInRequired));
    let res = anon.post("/api/account/confirm-password", &[("password", PASSWORD)]).await;
    assert_eq!(refusal(res).await, (401, ErrorKind::SignInRequired));

    let mut b = password_browser(&app, "sue@example.com").await;
    let mut auth = Authenticator::new();
    let ccr: CreationChallengeResponse = options(b.post("/api/passkeys/add-start", &[]).await).await;
    let res = b
        .post("/api/passkeys/add-finish", &[("credential", &json(&auth.register(&ccr, ORIGIN))), ("name", "Key")])
        .await;
    ok_body(res).await;
    let passkey = passkey_rows(&app, &id).await[0].id.clone();

    // 30 s after signing in: still recent; over 60 s: not
    age_sign_in(&app, &id, 30).await;
    assert!(security_page(&mut b).await.recently_confirmed);
    age_sign_in(&app, &id, 31).await;
    assert!(!security_page(&mut b).await.recently_confirmed);
    assert_eq!(refusal(b.post("/api/passkeys/add-start", &[]).await).await, (403, ErrorKind::StepUpRequired));
    let res = b.post("/api/passkeys/remove", &[("id", &passkey)]).await;
    assert_eq!(refusal(res).await, (403, ErrorKind::StepUpRequired));
    let res = b.post("/api/account/remove-password", &[]).await;
    assert_eq!(refusal(res).await, (403, ErrorKind::StepUpRequired));
    // a ceremony started while recent does not finish once it is not
    age_sign_in(&app, &id, -100).await;
    let ccr: CreationChallengeResponse = options(b.post("/api/passkeys/add-start", &[]).await).await;
    age_sign_in(&app, &id, 100).await;
    let res = b
        .post("/api/passkeys/add-finish", &[("credential", &json(&Authenticator::new().register(&ccr, ORIGIN)))])
        .await;
    assert_eq!(refusal(res).await, (403, ErrorKind::StepUpRequired));
    assert_eq!(passkey_rows(&app, &id).await.len(), 1);
    // renaming is not sensitive
    let res = b.post("/api/passkeys/rename", &[("id", &passkey), ("name", "Old key")]).await;
    assert_eq!(res.status(), 200);

    // confirm with the password: wrong, then right
    let res = b.post("/api/account/confirm-password", &[("password", "not the password at all")]).await;
    assert_eq!(refusal(res).await, (401, ErrorKind::InvalidCredentials));
    assert!(!security_page(&mut b).await.recently_confirmed);
    let before = b.cookie.clone();
    let res = b.post("/api/account/confirm-password", &[("password", PASSWORD)]).await;
    assert_eq!(res.status(), 200);
    assert_ne!(b.cookie, before, "the session id rotates at step-up");
    assert!(security_page(&mut b).await.recently_confirmed);
    assert_eq!(b.whoami().await.as_deref(), Some("sue@example.com"));
    options::<CreationChallengeResponse>(b.post("/api/passkeys/add-start", &[]).await).await;

    // confirm with a passkey
    age_sign_in(&app, &id, 100).await;
    assert!(!security_page(&mut b).await.recently_confirmed);
    let rcr: RequestChallengeResponse = options(b.post("/api/passkeys/confirm-start", &[]).await).await;
    assert_eq!(rcr.public_key.allow_credentials.len(), 1, "only this account's passkeys");
    let before = b.cookie.clone();
    let res = b.post("/api/passkeys/confirm-finish", &[("credential", &json(&auth.assert(&rcr, ORIGIN)))]).await;
    ok_body(res).await;
    assert_ne!(b.cookie, before, "the session id rotates at step-up");
    assert!(security_page(&mut b).await.recently_confirmed);
    let res = b.post("/api/passkeys/remove", &[("id", &passkey)]).await;
    assert_eq!(res.status(), 200, "{}", body_text(res).await);
    assert_eq!(audit(&app, "step_up").await.len(), 2);

    // another account's passkey does not confirm this one
    let mut other = Authenticator::new();
    passkey_account(&app, "other@example.com", &mut other).await;
    let ccr: CreationChallengeResponse = options(b.post("/api/passkeys/add-start", &[]).await).await;
    let res = b.post("/api/passkeys/add-finish", &[("credential", &json(&auth.register(&ccr, ORIGIN)))]).await;
    ok_body(res).await;
    age_sign_in(&app, &id, 100).await;
    let rcr: RequestChallengeResponse = options(b.post("/api/passkeys/confirm-start", &[]).await).await;
    let res =
        b.post("/api/passkeys/confirm-finish", &[("credential", &json(&other.assert_with(0, &rcr, ORIGIN)))]).await;
    assert_eq!(refusal(res).await, (401, ErrorKind::PasskeyRejected));
    assert!(!security_page(&mut b).await.recently_confirmed);
}
both!(step_up, sensitive_changes_need_a_recent_sign_in);

/// Someone sets up an unverified account with a passkey and another person's address; when the owner
/// signs up with a password and verifies, the squatter's passkeys are gone.
async fn verifying_the_address_removes_a_squatters_passkeys(backend: Backend) {
    let app = app(backend).await;
    let mut squatter = Authenticator::new();
    let mut s = Browser::from_ip(&app, "198.51.100.66");
    let ccr = signup_start(&mut s, "vic@example.com").await;
    assert_eq!(ok_body(signup_finish(&mut s, &squatter.register(&ccr, ORIGIN)).await).await, "\"/verify-email\"");
    let id = account_id(&app, "vic@example.com").await;
    assert_eq!(passkey_rows(&app, &id).await.len(), 1);
    // unverified: the passkey leads to verification, not into the account
    let mut s2 = Browser::from_ip(&app, "198.51.100.66");
    let rcr = button_options(&mut s2).await;
    assert_eq!(ok_body(signin_finish(&mut s2, &squatter.assert(&rcr, ORIGIN), false).await).await, "\"/verify-email\"");
    assert_eq!(s2.whoami().await, None);

    let mut owner = Browser::new(&app);
    let res = owner
        .post("/api/auth/signup", &[("email", "vic@example.com"), ("password", PASSWORD), ("display_name", "")])
        .await;
    assert_eq!(res.status(), 200);
    let code = last_mail(&app, "vic@example.com").await.code();
    let res = owner.post("/api/auth/verify-code", &[("email", "vic@example.com"), ("code", &code)]).await;
    assert_eq!(res.status(), 200, "{}", body_text(res).await);
    assert_eq!(owner.whoami().await.as_deref(), Some("vic@example.com"));
    assert_eq!(account_id(&app, "vic@example.com").await, id, "the same account, now the owner's");
    assert!(passkey_rows(&app, &id).await.is_empty(), "the squatter's passkeys are deleted");
    assert_eq!(audit(&app, "pre_hijack_defence").await.len(), 1);

    let mut s3 = Browser::from_ip(&app, "198.51.100.66");
    let rcr = button_options(&mut s3).await;
    let res = signin_finish(&mut s3, &squatter.assert(&rcr, ORIGIN), false).await;
    assert_eq!(refusal(res).await, (401, ErrorKind::PasskeyRejected));
    assert_eq!(s3.whoami().await, None);
}
both!(pre_hijack, verifying_the_address_removes_a_squatters_passkeys);

/// A locked account's passkey signs nobody in (and the refusal is audited).
async fn locked_accounts_cannot_sign_in_with_a_passkey(backend: Backend) {
    let app = app(backend).await;
    let mut auth = Authenticator::new();
    let id = passkey_account(&app, "lok@example.com", &mut auth).await;
    sqlx::query("UPDATE accounts SET status = 'locked' WHERE id = $1")
        .bind(&id)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let mut b = Browser::new(&app);
    let rcr = button_options(&mut b).await;
    assert_eq!(
        refusal(signin_finish(&mut b, &auth.assert(&rcr, ORIGIN), false).await).await,
        (401, ErrorKind::PasskeyRejected)
    );
    assert_eq!(b.whoami().await, None);
    assert_eq!(reasons(&app, "sign_in_failed").await, ["locked"]);
    // and it is not offered for the address
    assert_eq!(ok_body(signin_start(&mut b, Some("lok@example.com"), false).await).await, "null");
}
both!(locked_account, locked_accounts_cannot_sign_in_with_a_passkey);

/// Passkeys must verify the person (UV flag), at registration and at every sign-in.
async fn user_verification_is_required(backend: Backend) {
    let app = app(backend).await;
    let mut auth = Authenticator { user_verification: false, ..Authenticator::new() };
    let mut b = Browser::new(&app);
    let ccr = signup_start(&mut b, "uv@example.com").await;
    assert_eq!(
        refusal(signup_finish(&mut b, &auth.register(&ccr, ORIGIN)).await).await,
        (401, ErrorKind::PasskeyRejected)
    );
    assert!(db::accounts::find_by_email(&app.state.db.pool, "uv@example.com").await.unwrap().is_none());

    let mut auth = Authenticator::new();
    passkey_account(&app, "uv@example.com", &mut auth).await;
    auth.user_verification = false;
    let mut b = Browser::new(&app);
    let rcr = button_options(&mut b).await;
    assert_eq!(
        refusal(signin_finish(&mut b, &auth.assert(&rcr, ORIGIN), false).await).await,
        (401, ErrorKind::PasskeyRejected)
    );
    assert_eq!(b.whoami().await, None);
    auth.user_verification = true;
    sign_in_with_button(&mut Browser::new(&app), &mut auth).await;
}
both!(user_verification, user_verification_is_required);
