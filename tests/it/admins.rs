//! The admin role and the MFA policy `admins`: accounts holding the role must use a second factor (set one
//! up right after signing in, keep their last one, pass the second step), the others choose; a
//! user-verified passkey counts; the role applies from the next sign-in. On SQLite and PostgreSQL.

use crate::accounts::verified_account;
use crate::both;
use crate::mfa::{at_second_factor, audit, enrol, password_sign_in, redirected_to, refusal, security};
use crate::passkeys::{button_options, ok_body, passkey_account, signin_finish, ORIGIN};
use crate::support::authenticator::Authenticator;
use crate::support::{app_with, header, Backend, Browser, TestApp};
use vestibule::core::audit::RequestMeta;
use vestibule::core::roles::{self, Role};
use vestibule::error::ErrorKind;
use vestibule::server::auth::now;
use vestibule::server::config::MfaPolicy;

async fn admins_app(backend: Backend) -> TestApp {
    app_with(backend, |c| c.mfa.policy = MfaPolicy::Admins, axum::Router::new()).await
}

async fn set_admin(app: &TestApp, email: &str, admin: bool) {
    let meta = RequestMeta::default();
    let change = if admin {
        roles::grant(&app.state.db, email, Role::Admin, &meta, now()).await
    } else {
        roles::revoke(&app.state.db, email, Role::Admin, &meta, now()).await
    };
    assert!(change.unwrap().changed);
}

async fn only_admins_must_set_up_and_keep_a_second_factor(backend: Backend) {
    let app = admins_app(backend).await;
    let (admin, customer) = ("ada@example.com", "cus@example.com");
    verified_account(&app, admin).await;
    verified_account(&app, customer).await;
    set_admin(&app, admin, true).await;
    assert_eq!(audit(&app, "role_granted").await.len(), 1);

    // a customer signs in as before, and may set up and remove an app at will
    let (mut c, next) = password_sign_in(&app, customer).await;
    assert_eq!(next, "/account");
    assert!(!security(&mut c).await.mfa.setup_required);
    enrol(&mut c).await;
    assert_eq!(redirected_to(c.post("/api/mfa/totp-remove", &[]).await).await, "/account/security");

    // the admin goes straight to setting up a factor, and reaches nothing else until then
    let (mut a, next) = password_sign_in(&app, admin).await;
    assert_eq!(next, "/account/security");
    assert!(security(&mut a).await.mfa.setup_required);
    assert_eq!(refusal(a.post("/api/passkeys/add-start", &[]).await).await, (403, ErrorKind::MfaSetupRequired));
    assert_eq!(header(&a.get("/account/sessions").await, "location"), "/account/security");
    let (mut authenticator, _) = enrol(&mut a).await;
    assert!(!security(&mut a).await.mfa.setup_required);
    assert_eq!(a.post("/api/passkeys/add-start", &[]).await.status(), 200);
    // its last factor stays
    assert_eq!(refusal(a.post("/api/mfa/totp-remove", &[]).await).await, (409, ErrorKind::MfaRequiredByPolicy));

    // the next sign-in passes the second step and lands on the account
    assert_eq!(a.post("/logout", &[]).await.status(), 200);
    let mut a = at_second_factor(&app, admin).await;
    let res = a.post("/api/mfa/sign-in-totp", &[("code", &authenticator.next_code())]).await;
    assert_eq!(redirected_to(res).await, "/account");

    // once the role is taken away, the factor is the account's own choice again
    set_admin(&app, admin, false).await;
    assert_eq!(redirected_to(a.post("/api/mfa/totp-remove", &[]).await).await, "/account/security");
    assert_eq!(audit(&app, "role_revoked").await.len(), 1);
}
both!(only_admins_must_use_a_second_factor, only_admins_must_set_up_and_keep_a_second_factor);

async fn a_role_granted_to_a_signed_in_account_applies_from_its_next_sign_in(backend: Backend) {
    let app = admins_app(backend).await;
    let email = "newadmin@example.com";
    verified_account(&app, email).await;
    let (mut before, next) = password_sign_in(&app, email).await;
    assert_eq!(next, "/account");
    set_admin(&app, email, true).await;
    // the session that signed in before the grant goes on as it was (documented: the policy is applied
    // at sign-in; the back-office will ask an admin session for a second factor itself)
    assert!(!security(&mut before).await.mfa.setup_required);
    let (mut after, next) = password_sign_in(&app, email).await;
    assert_eq!(next, "/account/security");
    assert!(security(&mut after).await.mfa.setup_required);
}
both!(granted_later, a_role_granted_to_a_signed_in_account_applies_from_its_next_sign_in);

async fn a_user_verified_passkey_is_enough_for_an_admin(backend: Backend) {
    let app = admins_app(backend).await;
    let email = "keyadmin@example.com";
    let mut phone = Authenticator::new(); // user verification on
    passkey_account(&app, email, &mut phone).await;
    set_admin(&app, email, true).await;
    let mut b = Browser::new(&app);
    let rcr = button_options(&mut b).await;
    assert_eq!(ok_body(signin_finish(&mut b, &phone.assert(&rcr, ORIGIN), false).await).await, "\"/account\"");
    assert!(!security(&mut b).await.mfa.setup_required, "multi-factor by itself");
}
both!(passkey_admin, a_user_verified_passkey_is_enough_for_an_admin);
