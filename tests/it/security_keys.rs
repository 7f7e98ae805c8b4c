//! Security keys as a second factor through the real router: adding one (with recovery codes), the
//! second-factor step with it, refusals (another account's key, a replayed answer, a key used as a
//! passkey), step-up with it, and removal; on SQLite and PostgreSQL.

use axum::body::Body;
use http::Response;
use webauthn_rs_proto::{CreationChallengeResponse, RequestChallengeResponse};

use crate::accounts::{verified_account, PASSWORD};
use crate::both;
use crate::passkeys::{
    audit, button_options, json, ok_body, options, passkey_account, password_browser, refusal, signin_finish, ORIGIN,
};
use crate::support::authenticator::Authenticator;
use crate::support::{app, header, mails_to, Backend, Browser, TestApp};
use vestibule::error::ErrorKind;
use vestibule::types::SecurityPageState;

async fn security_state(b: &mut Browser<'_>) -> Option<SecurityPageState> {
    serde_json::from_str(&ok_body(b.post("/api/account/security", &[]).await).await).unwrap()
}

/// Adds a key from `auth` to the signed-in account of `b`, named `name`.
async fn add_key(b: &mut Browser<'_>, auth: &mut Authenticator, name: &str) -> Response<Body> {
    let ccr: CreationChallengeResponse = options(b.post("/api/mfa/key-add-start", &[]).await).await;
    // Chromium refuses credProtect on a key that is not discoverable (NotSupportedError)
    assert!(ccr.public_key.extensions.as_ref().is_none_or(|e| e.cred_protect.is_none()), "credProtect asked for");
    let credential = auth.register(&ccr, ORIGIN);
    b.post("/api/mfa/key-add-finish", &[("credential", &json(&credential)), ("name", name)]).await
}

/// Password sign-in of an account with a second factor: lands on the second-factor step.
async fn first_factor<'a>(app: &'a TestApp, email: &str) -> Browser<'a> {
    let mut b = Browser::new(app);
    let res = b.post("/api/auth/login", &[("email", email), ("password", PASSWORD)]).await;
    assert_eq!(header(&res, "location"), "/login/second-factor");
    b
}

async fn key_step(b: &mut Browser<'_>, auth: &mut Authenticator) -> Response<Body> {
    let rcr: RequestChallengeResponse = options(b.post("/api/mfa/key-sign-in-start", &[]).await).await;
    b.post("/api/mfa/key-sign-in-finish", &[("credential", &json(&auth.assert(&rcr, ORIGIN)))]).await
}

async fn adding_a_key_makes_it_the_second_step(backend: Backend) {
    let app = app(backend).await;
    let email = "key@example.com";
    verified_account(&app, email).await;
    let mut b = password_browser(&app, email).await;
    let mut key = Authenticator::new();
    key.user_verification = false; // a plain security key: presence only
    assert_eq!(ok_body(add_key(&mut b, &mut key, "Blue key").await).await, "null");
    let state = security_state(&mut b).await.unwrap();
    assert_eq!(state.mfa.security_keys.iter().map(|k| k.name.as_str()).collect::<Vec<_>>(), ["Blue key"]);
    assert_eq!(state.mfa.new_recovery_codes.len(), 10, "the first second factor brings recovery codes");
    assert!(mails_to(&app, email).await.iter().any(|m| m.subject == "A security key was added"));
    assert_eq!(audit(&app, "security_key_added").await.len(), 1);

    // signing in with the password now stops at the second step, where the key completes it
    let mut fresh = first_factor(&app, email).await;
    assert_eq!(security_state(&mut fresh).await, None, "only half signed in");
    assert_eq!(ok_body(key_step(&mut fresh, &mut key).await).await, "\"/account\"");
    assert!(security_state(&mut fresh).await.is_some());
    assert_eq!(audit(&app, "second_factor_passed").await.len(), 1);
}
both!(adding_a_key_makes_it_the_second_step, adding_a_key_makes_it_the_second_step);

async fn foreign_replayed_and_passkey_uses_are_refused(backend: Backend) {
    let app = app(backend).await;
    for email in ["a@example.com", "b@example.com"] {
        verified_account(&app, email).await;
    }
    let (mut key_a, mut key_b) = (Authenticator::new(), Authenticator::new());
    for (email, key) in [("a@example.com", &mut key_a), ("b@example.com", &mut key_b)] {
        let mut b = password_browser(&app, email).await;
        assert_eq!(add_key(&mut b, key, "Key").await.status(), 200);
    }

    // B's key does not pass A's second step
    let mut b = first_factor(&app, "a@example.com").await;
    let rcr: RequestChallengeResponse = options(b.post("/api/mfa/key-sign-in-start", &[]).await).await;
    let foreign = key_b.assert_with(0, &rcr, ORIGIN);
    let res = b.post("/api/mfa/key-sign-in-finish", &[("credential", &json(&foreign))]).await;
    assert_eq!(refusal(res).await, (401, ErrorKind::SecurityKeyRejected));

    // an answer replayed against a new challenge fails; the ceremony is single use
    let rcr: RequestChallengeResponse = options(b.post("/api/mfa/key-sign-in-start", &[]).await).await;
    let answer = key_a.assert_with(0, &rcr, ORIGIN);
    assert_eq!(
        ok_body(b.post("/api/mfa/key-sign-in-finish", &[("credential", &json(&answer))]).await).await,
        "\"/account\""
    );
    let mut again = first_factor(&app, "a@example.com").await;
    let _: RequestChallengeResponse = options(again.post("/api/mfa/key-sign-in-start", &[]).await).await;
    let res = again.post("/api/mfa/key-sign-in-finish", &[("credential", &json(&answer))]).await;
    assert_eq!(refusal(res).await.1, ErrorKind::SecurityKeyRejected);
    let res = again.post("/api/mfa/key-sign-in-finish", &[("credential", &json(&answer))]).await;
    assert_eq!(refusal(res).await, (400, ErrorKind::SecurityKeyExpired), "taken out by the first try");

    // a second-factor key is not a passkey: it signs nobody in by itself
    let mut stranger = Browser::new(&app);
    let rcr = button_options(&mut stranger).await;
    let res = signin_finish(&mut stranger, &key_a.assert_with(0, &rcr, ORIGIN), false).await;
    assert_eq!(refusal(res).await.1, ErrorKind::PasskeyRejected);
    assert_eq!(security_state(&mut stranger).await, None);
}
both!(foreign_replayed_and_passkey_uses_are_refused, foreign_replayed_and_passkey_uses_are_refused);

async fn removing_the_last_key_ends_the_second_step(backend: Backend) {
    let app = app(backend).await;
    let email = "remove@example.com";
    verified_account(&app, email).await;
    let mut b = password_browser(&app, email).await;
    let mut key = Authenticator::new();
    assert_eq!(add_key(&mut b, &mut key, "Only key").await.status(), 200);
    let state = security_state(&mut b).await.unwrap();
    let id = state.mfa.security_keys[0].id.clone();

    // another account cannot remove it
    verified_account(&app, "other@example.com").await;
    let mut other = password_browser(&app, "other@example.com").await;
    let res = other.post("/api/mfa/key-remove", &[("id", &id)]).await;
    assert_eq!(refusal(res).await.1, ErrorKind::NotFound);

    let res = b.post("/api/mfa/key-remove", &[("id", &id)]).await;
    assert_eq!(res.status(), 200);
    let state = security_state(&mut b).await.unwrap();
    assert!(state.mfa.security_keys.is_empty());
    assert_eq!(state.mfa.recovery_codes_left, 0, "recovery codes go with the last second factor");
    assert!(mails_to(&app, email).await.iter().any(|m| m.subject == "A security key was removed"));
    let mut plain = Browser::new(&app);
    let res = plain.post("/api/auth/login", &[("email", email), ("password", PASSWORD)]).await;
    assert_eq!(header(&res, "location"), "/account", "no second step any more");
}
both!(removing_the_last_key_ends_the_second_step, removing_the_last_key_ends_the_second_step);

async fn a_key_confirms_it_is_you(backend: Backend) {
    let app = app(backend).await;
    let email = "stepup@example.com";
    verified_account(&app, email).await;
    let mut b = password_browser(&app, email).await;
    let mut key = Authenticator::new();
    assert_eq!(add_key(&mut b, &mut key, "Key").await.status(), 200);
    let rcr: RequestChallengeResponse = options(b.post("/api/mfa/key-confirm-start", &[]).await).await;
    let res = b.post("/api/mfa/key-confirm-finish", &[("credential", &json(&key.assert(&rcr, ORIGIN)))]).await;
    assert_eq!(ok_body(res).await, "null");
    assert_eq!(audit(&app, "step_up").await.len(), 1);
    // without a key ceremony started for this account, finishing is refused
    let res = b.post("/api/mfa/key-confirm-finish", &[("credential", &json(&key.assert(&rcr, ORIGIN)))]).await;
    assert_eq!(refusal(res).await.1, ErrorKind::SecurityKeyExpired);
}
both!(a_key_confirms_it_is_you, a_key_confirms_it_is_you);

async fn half_signing_in_as_another_account_signs_the_first_out(backend: Backend) {
    let app = app(backend).await;
    for email in ["first@example.com", "second@example.com"] {
        verified_account(&app, email).await;
    }
    let mut with_key = password_browser(&app, "second@example.com").await;
    assert_eq!(add_key(&mut with_key, &mut Authenticator::new(), "Key").await.status(), 200);

    // signed in as the first account, the same browser passes the second account's password step
    let mut b = password_browser(&app, "first@example.com").await;
    let res = b.post("/api/auth/login", &[("email", "second@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(header(&res, "location"), "/login/second-factor");
    assert_eq!(security_state(&mut b).await, None, "neither account is signed in now");
    assert_eq!(b.whoami().await, None);
}
both!(half_signing_in_as_another_account_signs_the_first_out, half_signing_in_as_another_account_signs_the_first_out);

async fn a_user_verified_passkey_needs_no_second_step(backend: Backend) {
    let app = app(backend).await;
    let mut phone = Authenticator::new(); // user verification on
    passkey_account(&app, "uv@example.com", &mut phone).await;
    let mut b = Browser::new(&app);
    let rcr = button_options(&mut b).await;
    assert_eq!(ok_body(signin_finish(&mut b, &phone.assert(&rcr, ORIGIN), false).await).await, "\"/account\"");
    assert_eq!(add_key(&mut b, &mut Authenticator::new(), "Key").await.status(), 200);

    // with a second factor set up, the same passkey still signs in at once: it is multi-factor by itself
    let mut again = Browser::new(&app);
    let rcr = button_options(&mut again).await;
    assert_eq!(ok_body(signin_finish(&mut again, &phone.assert(&rcr, ORIGIN), false).await).await, "\"/account\"");
    assert!(security_state(&mut again).await.is_some());
}
both!(a_user_verified_passkey_needs_no_second_step, a_user_verified_passkey_needs_no_second_step);

async fn an_expired_key_ceremony_is_refused(backend: Backend) {
    use vestibule::core::mfa::{security_keys, MfaError};
    let app = app(backend).await;
    let email = "late@example.com";
    verified_account(&app, email).await;
    let mut b = password_browser(&app, email).await;
    let mut key = Authenticator::new();
    assert_eq!(add_key(&mut b, &mut key, "Key").await.status(), 200);
    let id = vestibule::db::accounts::find_by_email(&app.state.db.pool, email).await.unwrap().unwrap().id;
    let deps = app.state.deps();
    let ttl = deps.settings.challenge_ttl_secs;
    let (rcr, pending) = security_keys::start_use(&deps, &id, 1_000).await.unwrap().unwrap();
    let answer = key.assert(&rcr, ORIGIN);
    let meta = vestibule::core::audit::RequestMeta::default();
    let late = security_keys::finish_use(&deps, pending, &answer, &meta, 1_000 + ttl + 1).await;
    assert!(matches!(late, Err(MfaError::CeremonyExpired)), "{late:?}");
    let (_, pending) = security_keys::start_use(&deps, &id, 1_000).await.unwrap().unwrap();
    let in_time = security_keys::finish_use(&deps, pending, &answer, &meta, 1_000 + ttl).await;
    assert!(!matches!(in_time, Err(MfaError::CeremonyExpired)), "{in_time:?}");
}
both!(an_expired_key_ceremony_is_refused, an_expired_key_ceremony_is_refused);
