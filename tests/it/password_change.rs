//! Changing the password on /account/security (security.md "Passwords": a change needs a recent sign-in;
//! "Recovery and verification": a password change voids open codes and links), and adding a first password
//! to an account without one; on SQLite and PostgreSQL.

use crate::accounts::{verified_account, PASSWORD};
use crate::both;
use crate::mfa::{account_id, audit, password_sign_in, redirected_to, refusal};
use crate::support::{app, app_with, body_text, last_mail, Backend, Browser};
use vestibule::core::audit::RequestMeta;
use vestibule::error::{AppError, ErrorKind};
use vestibule::server::auth::{now, AUTH_TIME_KEY};
use vestibule::types::EmailFlow;

const NEW_PASSWORD: &str = "a brand new passphrase for testing";

async fn change(b: &mut Browser<'_>, password: &str) -> http::Response<axum::body::Body> {
    b.post("/api/account/change-password", &[("password", password)]).await
}

async fn signs_in_with(app: &crate::support::TestApp, email: &str, password: &str) -> bool {
    let mut b = Browser::new(app);
    let res = b.post("/api/auth/login", &[("email", email), ("password", password)]).await;
    res.status() == 200 && b.whoami().await.as_deref() == Some(email)
}

async fn a_recent_sign_in_changes_the_password_and_ends_the_other_sessions(backend: Backend) {
    let app = app(backend).await;
    let email = "cora@example.com";
    verified_account(&app, email).await;
    let (mut other, _) = password_sign_in(&app, email).await;
    assert_eq!(other.whoami().await.as_deref(), Some(email));
    let (mut b, _) = password_sign_in(&app, email).await;
    // an open recovery message, to see it voided
    let deps = app.state.deps();
    let meta = RequestMeta::default();
    let mut rng = rand::rng();
    let requested =
        vestibule::core::accounts::request(&deps, EmailFlow::Recover, email, &meta, now(), &mut rng).await.unwrap();
    let recovery_code = last_mail(&app, email).await.code();
    let before = b.cookie.clone();

    let res = change(&mut b, NEW_PASSWORD).await;
    assert_eq!(redirected_to(res).await, "/account/security?password_changed=1#password");
    assert_eq!(b.whoami().await.as_deref(), Some(email), "this browser stays signed in");
    assert_ne!(b.cookie, before, "under a new session id");
    assert_eq!(other.whoami().await, None, "the other session ended");
    assert!(!signs_in_with(&app, email, PASSWORD).await, "the old password stopped working");
    assert!(signs_in_with(&app, email, NEW_PASSWORD).await);

    let mail = last_mail(&app, email).await;
    assert_eq!(mail.subject, "Your password was changed");
    assert!(mail.text.contains("IP 192.0.2.10"), "{}", mail.text);
    let events = audit(&app, "password_changed").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].account_id.as_deref(), Some(account_id(&app, email).await.as_str()));
    let redeemed = vestibule::core::accounts::redeem_code(
        &deps,
        EmailFlow::Recover,
        &requested.row_id,
        &recovery_code,
        &meta,
        now(),
    )
    .await;
    assert!(redeemed.is_err(), "a password change voids open recovery codes");
}
both!(change_with_recent_sign_in, a_recent_sign_in_changes_the_password_and_ends_the_other_sessions);

async fn an_old_sign_in_must_confirm_it_is_you_first(backend: Backend) {
    let age = axum::routing::get(|session: tower_sessions::Session| async move {
        session.insert(AUTH_TIME_KEY, now() - 3600).await.unwrap();
        "aged"
    });
    let app = app_with(backend, |_| {}, axum::Router::new().route("/probe/age-sign-in", age)).await;
    let email = "dora@example.com";
    verified_account(&app, email).await;
    let (mut b, _) = password_sign_in(&app, email).await;
    assert_eq!(body_text(b.get("/probe/age-sign-in").await).await, "aged");

    assert_eq!(refusal(change(&mut b, NEW_PASSWORD).await).await, (403, ErrorKind::StepUpRequired));
    assert!(signs_in_with(&app, email, PASSWORD).await, "nothing changed");
    let res = b.post("/api/account/confirm-password", &[("password", PASSWORD)]).await;
    assert_eq!(redirected_to(res).await, "/account/security");
    let res = change(&mut b, NEW_PASSWORD).await;
    assert_eq!(redirected_to(res).await, "/account/security?password_changed=1#password");
    assert!(signs_in_with(&app, email, NEW_PASSWORD).await);
}
both!(change_needs_step_up, an_old_sign_in_must_confirm_it_is_you_first);

async fn a_weak_password_is_refused_with_the_reason(backend: Backend) {
    let app = app(backend).await;
    let email = "edda@example.com";
    verified_account(&app, email).await;
    let (mut b, _) = password_sign_in(&app, email).await;
    let res = change(&mut b, "short").await;
    assert_eq!(res.status(), 422);
    let err: AppError = serde_json::from_str(&body_text(res).await).unwrap();
    assert!(err.problem("password").is_some(), "{err:?}");
    // the address's local part is refused like at sign-up
    let res = change(&mut b, "edda edda edda edda edda").await;
    assert_eq!(res.status(), 422);
    assert!(signs_in_with(&app, email, PASSWORD).await, "nothing changed");
    assert!(audit(&app, "password_changed").await.is_empty());
    // signed out: refused before anything else
    let mut stranger = Browser::new(&app);
    assert_eq!(refusal(change(&mut stranger, NEW_PASSWORD).await).await, (401, ErrorKind::SignInRequired));
}
both!(weak_password, a_weak_password_is_refused_with_the_reason);

async fn an_account_without_a_password_can_add_one(backend: Backend) {
    let app = app(backend).await;
    let email = "fern@example.com";
    verified_account(&app, email).await;
    let id = account_id(&app, email).await;
    sqlx::query("UPDATE accounts SET password_hash = NULL WHERE id = $1")
        .bind(&id)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    // signed in by an emailed code, the way in of an account without a password
    let mut b = Browser::new(&app);
    let res = b.post("/api/auth/email-code-send", &[("flow", "sign_in"), ("email", email)]).await;
    assert_eq!(redirected_to(res).await, "/login/email");
    let code = last_mail(&app, email).await.code();
    let res = b.post("/api/auth/email-code-verify", &[("flow", "sign_in"), ("code", &code)]).await;
    assert_eq!(redirected_to(res).await, "/account");

    let res = change(&mut b, NEW_PASSWORD).await;
    assert_eq!(redirected_to(res).await, "/account/security?password_changed=1#password");
    assert_eq!(last_mail(&app, email).await.subject, "Your account now has a password");
    assert!(signs_in_with(&app, email, NEW_PASSWORD).await);
}
both!(first_password, an_account_without_a_password_can_add_one);
