//! Password recovery (security.md "Recovery and verification", "MFA and passkeys"): the emailed code, then
//! the second factor when the account has one, then the new password; what the reset ends and voids, whom
//! a code or link can reach, links from the configured URL only, and the reset's time limit; on SQLite and
//! PostgreSQL.

use axum::extract::Path;
use tower_sessions::Session;

use crate::accounts::{verified_account, PASSWORD};
use crate::both;
use crate::email_codes::{enter, issue, open_link, open_messages, page_state, send};
use crate::mfa::{at_second_factor, audit, enrolled_account, redirected_to, refusal, security};
use crate::support::{app, app_with, body_text, last_mail, mails_to, Backend, Browser, TestApp};
use vestibule::core::accounts::{self as flows, AccountError};
use vestibule::core::audit::RequestMeta;
use vestibule::error::{AppError, ErrorKind};
use vestibule::server::auth::{now, ResetGrant, RESET_GRANT_KEY};
use vestibule::types::{EmailFlow, ResetPageState, TotpView};

const NEW_PASSWORD: &str = "otter lantern gravel sunrise 77";

/// What /recover/password shows this browser (`None`: no recovery waits for its password here).
async fn reset_state(b: &mut Browser<'_>) -> Option<ResetPageState> {
    let res = b.post("/api/auth/reset-state", &[]).await;
    assert_eq!(res.status(), 200);
    let body = body_text(res).await;
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

async fn reset(b: &mut Browser<'_>, password: &str) -> http::Response<axum::body::Body> {
    b.post("/api/auth/reset-password", &[("password", password)]).await
}

/// Signs in with a password in a fresh browser from `ip`; the status and, on success, where it leads.
async fn try_password(app: &TestApp, email: &str, password: &str, ip: &str) -> (u16, String) {
    let mut b = Browser::from_ip(app, ip);
    let res = b.post("/api/auth/login", &[("email", email), ("password", password)]).await;
    let status = res.status().as_u16();
    (status, crate::support::header(&res, "location").to_string())
}

/// Asks for a recovery code in `b` and types it; returns where that leads.
async fn recover_by_code(app: &TestApp, b: &mut Browser<'_>, email: &str) -> String {
    assert_eq!(redirected_to(send(b, "recover", email).await).await, "/recover");
    let mail = last_mail(app, email).await;
    assert_eq!(mail.subject, "Reset your password");
    redirected_to(enter(b, "recover", &mail.code()).await).await
}

/// Sessions of the account: signed in, or holding its second-factor step or reset grant.
async fn sessions_of(app: &TestApp, email: &str) -> i64 {
    let (count,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE a.email = $1")
            .bind(email)
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap();
    count
}

async fn second_factor_state(b: &mut Browser<'_>) -> serde_json::Value {
    serde_json::from_str(&body_text(b.post("/api/mfa/second-factor-state", &[]).await).await).unwrap()
}

// ---- 1. the reset and what it ends ----

async fn a_reset_sets_the_password_ends_every_session_and_voids_every_code(backend: Backend) {
    let app = app(backend).await;
    let email = "rita@example.com";
    verified_account(&app, email).await;
    // a browser signed in with the old password
    let mut other = Browser::from_ip(&app, "198.51.100.100");
    let res = other.post("/api/auth/login", &[("email", email), ("password", PASSWORD)]).await;
    assert_eq!(redirected_to(res).await, "/account");

    let mut b = Browser::new(&app);
    assert_eq!(redirected_to(send(&mut b, "recover", email).await).await, "/recover");
    let mail = last_mail(&app, email).await;
    assert_eq!(mail.subject, "Reset your password");
    assert!(mail.link().starts_with("http://localhost:3000/recover?token="), "{}", mail.link());
    assert_eq!(reset_state(&mut b).await, None, "no grant before the code");
    assert_eq!(redirected_to(enter(&mut b, "recover", &mail.code()).await).await, "/recover/password");
    assert_eq!(b.whoami().await, None, "a recovery code signs nobody in by itself");
    assert_eq!(reset_state(&mut b).await.map(|s| s.email).as_deref(), Some(email));

    // meanwhile open messages of both flows (the used code ended the address's wait; the third message is
    // issued through the core a minute later, past the wait the second one started)
    let mut phone = Browser::from_ip(&app, "198.51.100.101");
    assert_eq!(redirected_to(send(&mut phone, "sign_in", email).await).await, "/login/email");
    let sign_in_mail = last_mail(&app, email).await;
    let pending_recovery = issue(&app, EmailFlow::Recover, email, now() + 61).await;
    assert_eq!(open_messages(&app, email).await, 2);

    // a refused password: the problem at the field, and the grant stays for another try
    let res = reset(&mut b, "short one").await;
    assert_eq!(res.status(), 422);
    let err: AppError = serde_json::from_str(&body_text(res).await).unwrap();
    assert_eq!(err.kind, ErrorKind::Validation);
    let problem = err.problem("password").expect("a password problem");
    assert!(problem.contains("at least 15 characters"), "{problem}");
    assert_eq!(reset_state(&mut b).await.map(|s| s.email).as_deref(), Some(email));
    assert_eq!(try_password(&app, email, PASSWORD, "198.51.100.102").await.0, 200, "nothing changed yet");
    assert_eq!(other.whoami().await.as_deref(), Some(email));

    // the account's sessions: signed in are the sign-up's browser, `other` and the check just above; this
    // browser counts too while it holds the reset grant
    assert_eq!(sessions_of(&app, email).await, 4);
    let mails_before = mails_to(&app, email).await.len();
    assert_eq!(redirected_to(reset(&mut b, NEW_PASSWORD).await).await, "/account?password_reset=1");
    assert_eq!(sessions_of(&app, email).await, 1, "only this browser's new session");
    assert_eq!(b.whoami().await.as_deref(), Some(email), "this browser is signed in");
    assert_eq!(other.whoami().await, None, "every other session ended");
    assert_eq!(open_messages(&app, email).await, 0, "every open code and link voided");
    let res = enter(&mut phone, "sign_in", &sign_in_mail.code()).await;
    assert_eq!(refusal(res).await, (400, ErrorKind::InvalidCode));
    let meta = RequestMeta::default();
    let voided = flows::redeem_code(
        &app.state.deps(),
        EmailFlow::Recover,
        &pending_recovery.row,
        &pending_recovery.code,
        &meta,
        now() + 62,
    )
    .await;
    assert!(matches!(voided, Err(AccountError::InvalidCode)), "{voided:?}");

    assert_eq!(try_password(&app, email, PASSWORD, "198.51.100.103").await.0, 401, "the old password");
    assert_eq!(try_password(&app, email, NEW_PASSWORD, "198.51.100.104").await, (200, "/account".to_string()));
    let mails = mails_to(&app, email).await;
    assert_eq!(mails.len(), mails_before + 1);
    let notice = mails.last().unwrap();
    assert_eq!(notice.subject, "Your password was reset");
    assert!(notice.text.contains("IP 192.0.2.10"), "says from where: {}", notice.text);
    let events = audit(&app, "password_reset").await;
    assert_eq!(events.len(), 1);
    // the three signed in, and this browser's grant session (it continues under a new id)
    assert!(events[0].detail.as_deref().unwrap_or("").contains("\"sessions_ended\":4"), "{:?}", events[0].detail);

    // the grant was used up with the reset
    assert_eq!(refusal(reset(&mut b, "yet another fine passphrase 3").await).await, (400, ErrorKind::RecoveryExpired));
    assert_eq!(reset_state(&mut b).await, None);
}
both!(reset, a_reset_sets_the_password_ends_every_session_and_voids_every_code);

/// Probe: makes this browser's reset grant `secs` seconds older (the web layer reads the wall clock).
fn grant_ageing_probe() -> axum::Router<vestibule::server::state::AppState> {
    let age = axum::routing::get(|session: Session, Path(secs): Path<i64>| async move {
        let mut grant: ResetGrant = session.get(RESET_GRANT_KEY).await.unwrap().expect("a reset grant");
        grant.granted_at -= secs;
        session.insert(RESET_GRANT_KEY, grant).await.unwrap();
        "aged"
    });
    axum::Router::new().route("/probe/age-grant/{secs}", age)
}

async fn a_new_password_needs_a_recovery_younger_than_15_minutes(backend: Backend) {
    let app = app_with(backend, |_| {}, grant_ageing_probe()).await;
    let email = "sam@example.com";
    verified_account(&app, email).await;

    // no recovery at all
    let mut stranger = Browser::new(&app);
    assert_eq!(refusal(reset(&mut stranger, NEW_PASSWORD).await).await, (400, ErrorKind::RecoveryExpired));
    assert_eq!(reset_state(&mut stranger).await, None);

    // a recovery that waited 14 min 50 s is alive; 15 min 1 s is over
    let mut b = Browser::new(&app);
    assert_eq!(recover_by_code(&app, &mut b, email).await, "/recover/password");
    assert_eq!(body_text(b.get("/probe/age-grant/890").await).await, "aged");
    assert!(reset_state(&mut b).await.is_some());
    assert_eq!(body_text(b.get("/probe/age-grant/11").await).await, "aged");
    assert_eq!(reset_state(&mut b).await, None);
    assert_eq!(refusal(reset(&mut b, NEW_PASSWORD).await).await, (400, ErrorKind::RecoveryExpired));
    assert_eq!(try_password(&app, email, PASSWORD, "198.51.100.110").await.0, 200, "password unchanged");

    // another recovery (its used code ended the address's wait), 14 min 40 s old: the reset works
    let mut b = Browser::new(&app);
    assert_eq!(recover_by_code(&app, &mut b, email).await, "/recover/password");
    assert_eq!(body_text(b.get("/probe/age-grant/880").await).await, "aged");
    assert_eq!(redirected_to(reset(&mut b, NEW_PASSWORD).await).await, "/account?password_reset=1");
    assert_eq!(try_password(&app, email, NEW_PASSWORD, "198.51.100.111").await.0, 200);
}
both!(grant_expiry, a_new_password_needs_a_recovery_younger_than_15_minutes);

// ---- 2. whom a code or link can reach ----

/// A message works only in its own flow: sign-in codes and links do not recover, recovery ones do not sign
/// in, and neither verifies an address (nor does a verification link sign in).
async fn codes_and_links_are_bound_to_their_flow(backend: Backend) {
    let app = app(backend).await;
    let email = "tam@example.com";
    verified_account(&app, email).await;
    let deps = app.state.deps();
    let meta = RequestMeta::default();
    let t = now();
    let s = issue(&app, EmailFlow::SignIn, email, t).await;
    let r = issue(&app, EmailFlow::Recover, email, t + 61).await;

    for (flow, m) in [(EmailFlow::Recover, &s), (EmailFlow::SignIn, &r)] {
        let by_code = flows::redeem_code(&deps, flow, &m.row, &m.code, &meta, t + 62).await;
        assert!(matches!(by_code, Err(AccountError::InvalidCode)), "{flow:?}: {by_code:?}");
        let by_link = flows::redeem_link(&deps, flow, &m.token, Some(&m.row), Some(&m.code), &meta, t + 62).await;
        assert!(matches!(by_link, Err(AccountError::InvalidLink)), "{flow:?}: {by_link:?}");
    }
    let mut b = Browser::from_ip(&app, "198.51.100.120");
    let res = open_link(&mut b, "recover", &s.token, Some(&s.code)).await;
    assert_eq!(refusal(res).await, (400, ErrorKind::InvalidLink));
    let res = open_link(&mut b, "sign_in", &r.token, Some(&r.code)).await;
    assert_eq!(refusal(res).await, (400, ErrorKind::InvalidLink));
    for token in [&s.token, &r.token] {
        assert_eq!(
            refusal(b.post("/api/auth/verify-link", &[("token", token)]).await).await,
            (400, ErrorKind::InvalidLink)
        );
    }
    assert_eq!((b.whoami().await, reset_state(&mut b).await), (None, None));

    // a verification link does not sign in
    let mut u = Browser::new(&app);
    let form = [("email", "uli@example.com"), ("password", PASSWORD), ("display_name", "")];
    assert_eq!(u.post("/api/auth/signup", &form).await.status(), 200);
    let verify = last_mail(&app, "uli@example.com").await;
    let res = open_link(&mut b, "sign_in", &verify.token(), Some(&verify.code())).await;
    assert_eq!(refusal(res).await, (400, ErrorKind::InvalidLink));

    // each in its own flow: both work (in another browser, with the code)
    let res = open_link(&mut b, "sign_in", &s.token, Some(&s.code)).await;
    assert_eq!(redirected_to(res).await, "/account");
    assert_eq!(b.whoami().await.as_deref(), Some(email));
    let mut c = Browser::from_ip(&app, "198.51.100.121");
    let res = open_link(&mut c, "recover", &r.token, Some(&r.code)).await;
    assert_eq!(redirected_to(res).await, "/recover/password");
    assert_eq!(reset_state(&mut c).await.map(|s| s.email).as_deref(), Some(email));
}
both!(flow_binding, codes_and_links_are_bound_to_their_flow);

/// Browser B waits for its own recovery code and opens A's link: it needs A's code, B's own does not unlock
/// it, and with A's code the reset reaches A only.
async fn a_link_reaches_only_its_own_account(backend: Backend) {
    let app = app(backend).await;
    let (ann, bob) = ("ann@example.com", "bob@example.com");
    verified_account(&app, ann).await;
    verified_account(&app, bob).await;
    let mut a = Browser::new(&app);
    assert_eq!(redirected_to(send(&mut a, "recover", ann).await).await, "/recover");
    let ann_mail = last_mail(&app, ann).await;
    let mut b = Browser::from_ip(&app, "198.51.100.130");
    assert_eq!(redirected_to(send(&mut b, "recover", bob).await).await, "/recover");
    let bob_mail = last_mail(&app, bob).await;
    assert_eq!(page_state(&mut b, "recover", None).await.pending_email.as_deref(), Some(bob));

    assert!(page_state(&mut b, "recover", Some(&ann_mail.token())).await.link_needs_code);
    let res = open_link(&mut b, "recover", &ann_mail.token(), None).await;
    assert_eq!(refusal(res).await, (400, ErrorKind::CodeNeeded));
    let res = open_link(&mut b, "recover", &ann_mail.token(), Some(&bob_mail.code())).await;
    assert_eq!(refusal(res).await, (400, ErrorKind::InvalidCode), "B's own code does not open A's link");
    // with A's code (A forwarded the whole mail), the recovery goes on, for A
    let res = open_link(&mut b, "recover", &ann_mail.token(), Some(&ann_mail.code())).await;
    assert_eq!(redirected_to(res).await, "/recover/password");
    assert_eq!(reset_state(&mut b).await.map(|s| s.email).as_deref(), Some(ann));
    assert_eq!(redirected_to(reset(&mut b, NEW_PASSWORD).await).await, "/account?password_reset=1");
    assert_eq!(b.whoami().await.as_deref(), Some(ann));

    assert_eq!(try_password(&app, ann, NEW_PASSWORD, "198.51.100.131").await.0, 200);
    assert_eq!(try_password(&app, bob, PASSWORD, "198.51.100.132").await.0, 200, "B's password unchanged");
    assert_eq!(try_password(&app, bob, NEW_PASSWORD, "198.51.100.133").await.0, 401);
    assert_eq!(mails_to(&app, bob).await.iter().filter(|m| m.subject == "Your password was reset").count(), 0);
    // A's own browser: its message was used (and voided by the reset)
    assert_eq!(refusal(enter(&mut a, "recover", &ann_mail.code()).await).await, (400, ErrorKind::InvalidCode));
}
both!(bound_to_account, a_link_reaches_only_its_own_account);

/// Links and notices come from the configured public URL, whatever Host or X-Forwarded-Host say.
async fn links_ignore_the_host_header(backend: Backend) {
    let app = app(backend).await;
    let evil = [("host", "evil.example"), ("x-forwarded-host", "evil.example"), ("x-forwarded-proto", "https")];
    for (flow, email, path) in
        [("sign_in", "hs@example.com", "/login/email"), ("recover", "hr@example.com", "/recover")]
    {
        verified_account(&app, email).await;
        let mut b = Browser::new(&app);
        let res = b.post_with_headers("/api/auth/email-code-send", &[("flow", flow), ("email", email)], &evil).await;
        assert_eq!(redirected_to(res).await, path);
        let mail = last_mail(&app, email).await;
        assert!(mail.link().starts_with(&format!("http://localhost:3000{path}?token=")), "{}", mail.link());
        assert!(!mail.text.contains("evil.example"), "{}", mail.text);
        if flow == "recover" {
            let res = b
                .post_with_headers("/api/auth/email-code-verify", &[("flow", flow), ("code", &mail.code())], &evil)
                .await;
            assert_eq!(redirected_to(res).await, "/recover/password");
            let res = b.post_with_headers("/api/auth/reset-password", &[("password", NEW_PASSWORD)], &evil).await;
            assert_eq!(redirected_to(res).await, "/account?password_reset=1");
            let notice = last_mail(&app, email).await;
            assert_eq!(notice.subject, "Your password was reset");
            assert!(notice.text.contains("http://localhost:3000"), "{}", notice.text);
            assert!(!notice.text.contains("evil.example"), "{}", notice.text);
        }
    }
}
both!(host_header, links_ignore_the_host_header);

// ---- 3. the second factor is never bypassed ----

async fn a_reset_of_an_account_with_an_app_goes_through_the_app(backend: Backend) {
    let app = app(backend).await;
    let email = "una@example.com";
    let (mut authenticator, _) = enrolled_account(&app, email).await;
    let mut b = Browser::new(&app);
    assert_eq!(recover_by_code(&app, &mut b, email).await, "/login/second-factor");
    assert_eq!(b.whoami().await, None);
    assert_eq!(reset_state(&mut b).await, None);
    let step = second_factor_state(&mut b).await;
    assert_eq!((step["totp"].as_bool(), step["for_reset"].as_bool()), (Some(true), Some(true)));
    // the new password before the second factor: refused, nothing changed
    assert_eq!(refusal(reset(&mut b, NEW_PASSWORD).await).await, (400, ErrorKind::RecoveryExpired));
    assert_eq!(try_password(&app, email, NEW_PASSWORD, "198.51.100.140").await.0, 401);

    let res = b.post("/api/mfa/sign-in-totp", &[("code", &authenticator.next_code())]).await;
    assert_eq!(redirected_to(res).await, "/recover/password");
    assert_eq!(b.whoami().await, None, "the second factor of a reset signs nobody in");
    assert_eq!(reset_state(&mut b).await.map(|s| s.email).as_deref(), Some(email));
    assert_eq!(redirected_to(reset(&mut b, NEW_PASSWORD).await).await, "/account?password_reset=1");
    assert_eq!(b.whoami().await.as_deref(), Some(email));
    assert_eq!(security(&mut b).await.mfa.totp, TotpView::On, "the app stays");

    // the new password still leads to the second factor
    assert_eq!(try_password(&app, email, NEW_PASSWORD, "198.51.100.141").await, (200, "/login/second-factor".into()));
    assert_eq!(try_password(&app, email, PASSWORD, "198.51.100.142").await.0, 401);
}
both!(reset_through_totp, a_reset_of_an_account_with_an_app_goes_through_the_app);

async fn a_recovery_code_can_be_the_second_factor_of_a_reset(backend: Backend) {
    let app = app(backend).await;
    let email = "val@example.com";
    let (_, codes) = enrolled_account(&app, email).await;
    let mut b = Browser::new(&app);
    assert_eq!(recover_by_code(&app, &mut b, email).await, "/login/second-factor");
    assert_eq!(refusal(reset(&mut b, NEW_PASSWORD).await).await, (400, ErrorKind::RecoveryExpired));
    let res = b.post("/api/mfa/sign-in-recovery", &[("code", "0000-0000-0000")]).await;
    assert_eq!(refusal(res).await, (400, ErrorKind::InvalidSecondFactorCode));
    assert_eq!(reset_state(&mut b).await, None);

    let res = b.post("/api/mfa/sign-in-recovery", &[("code", &codes[0])]).await;
    assert_eq!(redirected_to(res).await, "/recover/password");
    assert_eq!(b.whoami().await, None);
    assert_eq!(redirected_to(reset(&mut b, NEW_PASSWORD).await).await, "/account?password_reset=1");
    assert_eq!(b.whoami().await.as_deref(), Some(email));
    let state = security(&mut b).await;
    assert_eq!((state.mfa.totp, state.mfa.recovery_codes_left), (TotpView::On, 9));

    let mut again = Browser::from_ip(&app, "198.51.100.150");
    let res = again.post("/api/auth/login", &[("email", email), ("password", NEW_PASSWORD)]).await;
    assert_eq!(redirected_to(res).await, "/login/second-factor");
    assert_eq!(again.whoami().await, None);
    let res = again.post("/api/mfa/sign-in-recovery", &[("code", &codes[0])]).await;
    assert_eq!(refusal(res).await, (400, ErrorKind::InvalidSecondFactorCode), "used in the reset");
}
both!(reset_through_recovery_code, a_recovery_code_can_be_the_second_factor_of_a_reset);

// ---- 4. a lost authenticator app ----

/// Without the app, a recovery code completes the sign-in (after the password or a mailed code) and leads to
/// the security page, which counts what is left.
async fn a_recovery_code_stands_in_for_a_lost_app(backend: Backend) {
    let app = app(backend).await;
    let email = "wes@example.com";
    let (_, codes) = enrolled_account(&app, email).await;

    let mut b = at_second_factor(&app, email).await;
    let res = b.post("/api/mfa/sign-in-recovery", &[("code", &codes[0])]).await;
    assert_eq!(redirected_to(res).await, "/account/security?recovery_used=1");
    assert_eq!(b.whoami().await.as_deref(), Some(email));
    let state = security(&mut b).await;
    assert_eq!((state.mfa.totp, state.mfa.recovery_codes_left), (TotpView::On, 9));

    // after a mailed sign-in code as the first factor, the same
    let mut c = Browser::from_ip(&app, "198.51.100.160");
    assert_eq!(redirected_to(send(&mut c, "sign_in", email).await).await, "/login/email");
    let code = last_mail(&app, email).await.code();
    assert_eq!(redirected_to(enter(&mut c, "sign_in", &code).await).await, "/login/second-factor");
    assert_eq!(c.whoami().await, None);
    let res = c.post("/api/mfa/sign-in-recovery", &[("code", &codes[1])]).await;
    assert_eq!(redirected_to(res).await, "/account/security?recovery_used=1");
    assert_eq!(security(&mut c).await.mfa.recovery_codes_left, 8);
}
both!(lost_factor, a_recovery_code_stands_in_for_a_lost_app);

// ---- 5. what a reset or password change ends besides signed-in sessions (regressions) ----

/// A reset granted in one browser does not outlive a later reset in another: the later one ended it.
async fn a_new_password_ends_resets_granted_before(backend: Backend) {
    let app = app(backend).await;
    let email = "gina@example.com";
    verified_account(&app, email).await;
    let mut early = Browser::from_ip(&app, "198.51.100.21");
    assert_eq!(recover_by_code(&app, &mut early, email).await, "/recover/password");
    assert!(reset_state(&mut early).await.is_some(), "the early browser holds a grant");

    let mut later = Browser::from_ip(&app, "198.51.100.22");
    assert_eq!(recover_by_code(&app, &mut later, email).await, "/recover/password");
    assert_eq!(redirected_to(reset(&mut later, NEW_PASSWORD).await).await, "/account?password_reset=1");

    assert_eq!(reset_state(&mut early).await, None, "the earlier grant ended with the reset");
    let res = reset(&mut early, "a different passphrase entirely 42").await;
    assert_eq!(refusal(res).await, (400, ErrorKind::RecoveryExpired));
    assert_eq!(try_password(&app, email, NEW_PASSWORD, "198.51.100.23").await.0, 200);
}
both!(reset_ends_older_grants, a_new_password_ends_resets_granted_before);

/// Someone who knew the old password and waits at the second-factor step cannot finish after a reset.
async fn a_new_password_ends_a_waiting_second_factor_step(backend: Backend) {
    let app = app(backend).await;
    let email = "hana@example.com";
    let (mut authenticator, codes) = enrolled_account(&app, email).await;
    let mut intruder = at_second_factor(&app, email).await;
    assert!(second_factor_state(&mut intruder).await.is_object(), "waiting for the second factor");

    let mut owner = Browser::from_ip(&app, "198.51.100.31");
    assert_eq!(recover_by_code(&app, &mut owner, email).await, "/login/second-factor");
    let res = owner.post("/api/mfa/sign-in-totp", &[("code", &authenticator.next_code())]).await;
    assert_eq!(redirected_to(res).await, "/recover/password");
    assert_eq!(redirected_to(reset(&mut owner, NEW_PASSWORD).await).await, "/account?password_reset=1");

    assert!(second_factor_state(&mut intruder).await.is_null(), "the waiting step ended");
    let res = intruder.post("/api/mfa/sign-in-recovery", &[("code", &codes[0])]).await;
    assert_eq!(refusal(res).await.1, ErrorKind::SignInRequired);
    assert_eq!(intruder.whoami().await, None);
}
both!(reset_ends_waiting_second_factor, a_new_password_ends_a_waiting_second_factor_step);
