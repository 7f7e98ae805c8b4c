//! Signing in by an emailed code or link (security.md "Enumeration, throttling, lockout" and "Recovery and
//! verification"): the code and the link over HTTP, expiry and attempts through the core's time parameter,
//! single use under concurrency, newer messages voiding older ones, answers that never reveal whether an
//! address has an account, the `accounts.email_sign_in` modes, the second factor, the new-browser notice
//! and the mail limits; on SQLite and PostgreSQL.

use axum::body::Body;
use http::Response;

use crate::accounts::{verified_account, PASSWORD};
use crate::both;
use crate::mfa::{audit, enrolled_account, redirected_to, refusal};
use crate::support::{app, app_with, body_text, header, last_mail, mails_to, Backend, Browser, TestApp};
use vestibule::core::accounts::{self as flows, AccountError, EmailSignIn, Notice};
use vestibule::core::audit::RequestMeta;
use vestibule::error::ErrorKind;
use vestibule::server::auth::now;
use vestibule::types::{EmailCodePageState, EmailFlow};

// ---- helpers (recovery.rs uses them too) ----

/// "Email me a code" for `flow` ("sign_in" or "recover"), as the hydrated page posts it.
pub(crate) async fn send(b: &mut Browser<'_>, flow: &str, email: &str) -> Response<Body> {
    b.post("/api/auth/email-code-send", &[("flow", flow), ("email", email)]).await
}

/// The code typed in the browser that asked for it.
pub(crate) async fn enter(b: &mut Browser<'_>, flow: &str, code: &str) -> Response<Body> {
    b.post("/api/auth/email-code-verify", &[("flow", flow), ("code", code)]).await
}

/// The mail's link, confirmed on its page; `code` when the page asked for it.
pub(crate) async fn open_link(b: &mut Browser<'_>, flow: &str, token: &str, code: Option<&str>) -> Response<Body> {
    let mut form = vec![("flow", flow), ("token", token)];
    form.extend(code.map(|c| ("code", c)));
    b.post("/api/auth/email-code-link", &form).await
}

/// What the flow's page shows this browser (with `token`: opened from the mail's link).
pub(crate) async fn page_state(b: &mut Browser<'_>, flow: &str, token: Option<&str>) -> EmailCodePageState {
    let mut form = vec![("flow", flow)];
    form.extend(token.map(|t| ("token", t)));
    let res = b.post("/api/auth/email-code-state", &form).await;
    assert_eq!(res.status(), 200);
    let body = body_text(res).await;
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// A message issued through the core at `now`: the row id a session would hold, the code and the link token.
pub(crate) struct Issued {
    pub row: String,
    pub code: String,
    pub token: String,
}

pub(crate) async fn issue(app: &TestApp, flow: EmailFlow, email: &str, now: i64) -> Issued {
    let deps = app.state.deps();
    let requested = flows::request(&deps, flow, email, &RequestMeta::default(), now, &mut rand::rng()).await.unwrap();
    match requested.notice {
        Notice::EmailCode { code, link, flow: mailed, .. } => {
            assert_eq!(mailed, flow);
            assert!(link.starts_with(&format!("http://localhost:3000{}?token=", flow.path())), "{link}");
            let token = link.split("token=").nth(1).unwrap().to_string();
            Issued { row: requested.row_id, code, token }
        }
        other => panic!("no code issued to {email}: {other:?}"),
    }
}

/// The account's messages that can still be used (any flow).
pub(crate) async fn open_messages(app: &TestApp, email: &str) -> i64 {
    let (count,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM email_verifications v JOIN accounts a ON a.id = v.account_id \
         WHERE a.email = $1 AND v.consumed_at IS NULL",
    )
    .bind(email)
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap();
    count
}

/// Messages of `flow` ever issued to the account.
async fn messages_of(app: &TestApp, email: &str, flow: EmailFlow) -> i64 {
    let (count,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM email_verifications v JOIN accounts a ON a.id = v.account_id \
         WHERE a.email = $1 AND v.purpose = $2",
    )
    .bind(email)
    .bind(flow.as_str())
    .fetch_one(&app.state.db.pool)
    .await
    .unwrap();
    count
}

/// A verified account without a password (as after removing it in favour of passkeys).
pub(crate) async fn passwordless_account(app: &TestApp, email: &str) {
    verified_account(app, email).await;
    sqlx::query("UPDATE accounts SET password_hash = NULL WHERE email = $1")
        .bind(email)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
}

/// A fresh browser signed in by an emailed code; returns it.
async fn email_sign_in<'a>(app: &'a TestApp, email: &str, b: Browser<'a>) -> Browser<'a> {
    let mut b = b;
    assert_eq!(redirected_to(send(&mut b, "sign_in", email).await).await, "/login/email");
    let code = last_mail(app, email).await.code();
    assert_eq!(redirected_to(enter(&mut b, "sign_in", &code).await).await, "/account");
    assert_eq!(b.whoami().await.as_deref(), Some(email));
    b
}

/// The session cookie's name and attribute names (values, ids and dates differ by nature).
fn cookie_shape(res: &Response<Body>) -> (String, Vec<String>) {
    let set = header(res, "set-cookie");
    let mut parts = set.split(';').map(str::trim);
    let name = parts.next().unwrap_or("").split('=').next().unwrap_or("").to_string();
    let attributes = parts.map(|p| p.split('=').next().unwrap_or("").to_ascii_lowercase()).collect();
    (name, attributes)
}

fn retry_after(res: &Response<Body>) -> i64 {
    header(res, "retry-after").parse().unwrap_or_else(|_| panic!("no Retry-After: {:?}", res.headers()))
}

/// The wrong guess for a code: any other 6 digits.
fn other_code(code: &str) -> String {
    if code == "111111" { "222222" } else { "111111" }.to_string()
}

// ---- 1. the code and the link over HTTP ----

async fn a_mailed_code_signs_in_once(backend: Backend) {
    let app = app(backend).await;
    let email = "abe@example.com";
    verified_account(&app, email).await;
    let mut b = Browser::new(&app);
    assert_eq!(redirected_to(send(&mut b, "sign_in", email).await).await, "/login/email");
    assert_eq!(page_state(&mut b, "sign_in", None).await.pending_email.as_deref(), Some(email));
    let mail = last_mail(&app, email).await;
    assert_eq!(mail.subject, "Your sign-in code");
    assert!(mail.link().starts_with("http://localhost:3000/login/email?token="), "{}", mail.link());

    // a wrong code first: refused, nobody signed in
    assert_eq!(refusal(enter(&mut b, "sign_in", &other_code(&mail.code())).await).await, (400, ErrorKind::InvalidCode));
    assert_eq!(b.whoami().await, None);
    let before = b.cookie.clone().unwrap();
    assert_eq!(redirected_to(enter(&mut b, "sign_in", &mail.code()).await).await, "/account");
    assert_eq!(b.whoami().await.as_deref(), Some(email));
    assert_ne!(b.cookie.clone().unwrap(), before, "the session id rotates at sign-in");
    let events = audit(&app, "sign_in_succeeded").await;
    assert_eq!(events.len(), 1);
    assert!(events[0].detail.as_deref().unwrap_or("").contains("\"method\":\"email_code\""), "{:?}", events[0].detail);
    assert_eq!(events[0].user_agent.as_deref(), Some("it-browser"));
    assert_eq!(audit(&app, "email_code_failed").await.len(), 1);

    // single use: the message's row (as the session held it) with its code, and its link with the code
    let (row,): (String,) = sqlx::query_as("SELECT id FROM email_verifications WHERE purpose = 'sign_in'")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    let meta = RequestMeta::default();
    let reused = flows::redeem_code(&app.state.deps(), EmailFlow::SignIn, &row, &mail.code(), &meta, now()).await;
    assert!(matches!(reused, Err(AccountError::InvalidCode)), "{reused:?}");
    let mut other = Browser::from_ip(&app, "198.51.100.2");
    let res = open_link(&mut other, "sign_in", &mail.token(), Some(&mail.code())).await;
    assert_eq!(refusal(res).await, (400, ErrorKind::InvalidLink));
    assert_eq!(other.whoami().await, None);
}
both!(code_sign_in, a_mailed_code_signs_in_once);

async fn the_link_signs_in_its_own_browser_and_needs_the_code_elsewhere(backend: Backend) {
    let app = app(backend).await;
    let email = "bea@example.com";
    verified_account(&app, email).await;

    // the browser that asked: the link alone is enough
    let mut b = Browser::new(&app);
    assert_eq!(redirected_to(send(&mut b, "sign_in", email).await).await, "/login/email");
    let mail = last_mail(&app, email).await;
    assert!(!page_state(&mut b, "sign_in", Some(&mail.token())).await.link_needs_code);
    assert_eq!(redirected_to(open_link(&mut b, "sign_in", &mail.token(), None).await).await, "/account");
    assert_eq!(b.whoami().await.as_deref(), Some(email));
    let events = audit(&app, "sign_in_succeeded").await;
    assert!(events[0].detail.as_deref().unwrap_or("").contains("\"method\":\"email_link\""), "{:?}", events[0].detail);
    assert_eq!(b.post("/logout", &[]).await.status(), 200);

    // another browser (a phone opening the mail): the link alone is refused, the code with it works
    let mut laptop = Browser::new(&app);
    assert_eq!(redirected_to(send(&mut laptop, "sign_in", email).await).await, "/login/email");
    let mail = last_mail(&app, email).await;
    let mut phone = Browser::from_ip(&app, "198.51.100.20");
    assert!(page_state(&mut phone, "sign_in", Some(&mail.token())).await.link_needs_code);
    assert!(!page_state(&mut laptop, "sign_in", Some(&mail.token())).await.link_needs_code);
    let res = open_link(&mut phone, "sign_in", &mail.token(), None).await;
    assert_eq!(refusal(res).await, (400, ErrorKind::CodeNeeded));
    let res = open_link(&mut phone, "sign_in", &mail.token(), Some("  ")).await;
    assert_eq!(refusal(res).await, (400, ErrorKind::CodeNeeded), "a blank code is no code");
    let res = open_link(&mut phone, "sign_in", &mail.token(), Some(&other_code(&mail.code()))).await;
    assert_eq!(refusal(res).await, (400, ErrorKind::InvalidCode));
    assert_eq!(phone.whoami().await, None);
    let res = open_link(&mut phone, "sign_in", &mail.token(), Some(&mail.code())).await;
    assert_eq!(redirected_to(res).await, "/account");
    assert_eq!(phone.whoami().await.as_deref(), Some(email));
    assert_eq!(laptop.whoami().await, None, "the browser that asked is not signed in by the phone's click");
    // used: neither the link nor the code works again, even in the browser that asked
    assert_eq!(
        refusal(open_link(&mut laptop, "sign_in", &mail.token(), None).await).await,
        (400, ErrorKind::InvalidLink)
    );
    assert_eq!(refusal(enter(&mut laptop, "sign_in", &mail.code()).await).await, (400, ErrorKind::InvalidCode));
    assert_eq!(laptop.whoami().await, None);
}
both!(link_sign_in, the_link_signs_in_its_own_browser_and_needs_the_code_elsewhere);

/// Five wrong codes spend the message: the right one is refused afterwards (and so is its link). With four
/// wrong ones the right code still works, so the refusal is the attempt budget and nothing else.
async fn five_wrong_codes_spend_the_message(backend: Backend) {
    let app = app(backend).await;
    for (email, wrong, works) in [("cal@example.com", 4, true), ("cat@example.com", 5, false)] {
        verified_account(&app, email).await;
        let mut b = Browser::from_ip(&app, if works { "198.51.100.30" } else { "198.51.100.31" });
        assert_eq!(redirected_to(send(&mut b, "sign_in", email).await).await, "/login/email");
        let mail = last_mail(&app, email).await;
        for i in 0..wrong {
            let res = enter(&mut b, "sign_in", &other_code(&mail.code())).await;
            assert_eq!(refusal(res).await, (400, ErrorKind::InvalidCode), "{email} guess {i}");
        }
        let res = enter(&mut b, "sign_in", &mail.code()).await;
        if works {
            assert_eq!(redirected_to(res).await, "/account");
            assert_eq!(b.whoami().await.as_deref(), Some(email));
        } else {
            assert_eq!(refusal(res).await, (400, ErrorKind::InvalidCode), "the right code after 5 wrong ones");
            assert_eq!(b.whoami().await, None);
            let mut phone = Browser::from_ip(&app, "198.51.100.32");
            let res = open_link(&mut phone, "sign_in", &mail.token(), Some(&mail.code())).await;
            assert_eq!(refusal(res).await, (400, ErrorKind::InvalidLink), "the spent message's link");
            assert_eq!(open_messages(&app, email).await, 0);
        }
    }
    assert_eq!(audit(&app, "email_code_failed").await.len(), 9);
}
both!(code_attempts, five_wrong_codes_spend_the_message);

// ---- 2. time, single use and newer messages, through the core ----

async fn codes_last_15_minutes_and_links_an_hour(backend: Backend) {
    let app = app(backend).await;
    let email = "dax@example.com";
    verified_account(&app, email).await;
    let deps = app.state.deps();
    let meta = RequestMeta::default();
    let flow = EmailFlow::SignIn;
    let t = now();

    // the code: accepted at 15 minutes exactly, refused one second later (a later message: a refused
    // guess counts as a failure at its time, which would make an earlier `now` wait)
    let m = issue(&app, flow, email, t).await;
    let on_time = flows::redeem_code(&deps, flow, &m.row, &m.code, &meta, t + 15 * 60).await.unwrap();
    assert_eq!(on_time.email, email);
    let t = t + 15 * 60; // the used code cleared the address's mail cooldown
    let m = issue(&app, flow, email, t).await;
    let late = flows::redeem_code(&deps, flow, &m.row, &m.code, &meta, t + 15 * 60 + 1).await;
    assert!(matches!(late, Err(AccountError::InvalidCode)), "{late:?}");

    // the link (in the browser that asked): refused after an hour and a second, accepted at 59 minutes
    let t = t + 15 * 60 + 61; // past the wait the second message started
    let m = issue(&app, flow, email, t).await;
    let late = flows::redeem_link(&deps, flow, &m.token, Some(&m.row), None, &meta, t + 3601).await;
    assert!(matches!(late, Err(AccountError::InvalidLink)), "{late:?}");
    let from_elsewhere = flows::link_needs_code(&deps, flow, &m.token, None, t + 3601).await.unwrap();
    assert!(!from_elsewhere, "an expired link asks for nothing: its click reports the problem");
    assert!(flows::link_needs_code(&deps, flow, &m.token, None, t + 59 * 60).await.unwrap());
    // in another browser at 20 minutes the link is alive but the code it needs has expired
    let other = flows::redeem_link(&deps, flow, &m.token, None, Some(&m.code), &meta, t + 20 * 60).await;
    assert!(matches!(other, Err(AccountError::InvalidCode)), "{other:?}");
    let in_time = flows::redeem_link(&deps, flow, &m.token, Some(&m.row), None, &meta, t + 59 * 60).await.unwrap();
    assert_eq!(in_time.email, email);
}
both!(expiry, codes_last_15_minutes_and_links_an_hour);

/// Two requests redeeming the same message at once (code and code, link and link, code and link): exactly
/// one signs in.
async fn concurrent_redeems_succeed_once(backend: Backend) {
    let app = app(backend).await;
    let email = "eli@example.com";
    verified_account(&app, email).await;
    let flow = EmailFlow::SignIn;
    let t = now();
    for round in 0..3 {
        let m = issue(&app, flow, email, t + round).await; // each success clears the address's cooldown
        let attempt = |by_link: bool| {
            let state = app.state.clone();
            let (row, code, token) = (m.row.clone(), m.code.clone(), m.token.clone());
            tokio::spawn(async move {
                let deps = state.deps();
                let meta = RequestMeta::default();
                let at = t + round + 1;
                if by_link {
                    flows::redeem_link(&deps, flow, &token, Some(&row), None, &meta, at).await.is_ok()
                } else {
                    flows::redeem_code(&deps, flow, &row, &code, &meta, at).await.is_ok()
                }
            })
        };
        let (a, b) = match round {
            0 => (attempt(false), attempt(false)),
            1 => (attempt(true), attempt(true)),
            _ => (attempt(false), attempt(true)),
        };
        let (a, b) = (a.await.unwrap(), b.await.unwrap());
        assert!(a ^ b, "round {round}: exactly one succeeds, got {a} and {b}");
    }
    let used = audit(&app, "email_code_used").await;
    assert_eq!(used.len(), 3);
    assert_eq!(audit(&app, "sign_in_succeeded").await.len(), 3);
}
both!(concurrent_redeem, concurrent_redeems_succeed_once);

/// A newer message of a flow voids the older one's code and link; a message of the other flow does not.
async fn a_newer_message_voids_the_older_one(backend: Backend) {
    let app = app(backend).await;
    let email = "fox@example.com";
    verified_account(&app, email).await;
    let deps = app.state.deps();
    let meta = RequestMeta::default();
    let t = now();
    // each message makes the next wait (60 s, then 120 s)
    let first = issue(&app, EmailFlow::SignIn, email, t).await;
    let recover = issue(&app, EmailFlow::Recover, email, t + 61).await;
    let second = issue(&app, EmailFlow::SignIn, email, t + 61 + 121).await;
    let at = t + 61 + 122;
    let old_code = flows::redeem_code(&deps, EmailFlow::SignIn, &first.row, &first.code, &meta, at).await;
    assert!(matches!(old_code, Err(AccountError::InvalidCode)), "{old_code:?}");
    let old_link = flows::redeem_link(&deps, EmailFlow::SignIn, &first.token, Some(&first.row), None, &meta, at).await;
    assert!(matches!(old_link, Err(AccountError::InvalidLink)), "{old_link:?}");
    flows::redeem_code(&deps, EmailFlow::SignIn, &second.row, &second.code, &meta, at).await.unwrap();
    // the recovery message issued between the two sign-in messages still works
    flows::redeem_code(&deps, EmailFlow::Recover, &recover.row, &recover.code, &meta, at).await.unwrap();
}
both!(newer_voids_older, a_newer_message_voids_the_older_one);

// ---- 3. enumeration ----

/// Known, unknown, refused (a password account while only passwordless accounts may sign in by email) and
/// unverified addresses: the same status, redirect, body, cookie shape and page; the mail differs.
async fn the_answer_never_says_whether_the_address_has_an_account(backend: Backend) {
    let app = app_with(backend, |c| c.accounts.email_sign_in = EmailSignIn::Passwordless, axum::Router::new()).await;
    passwordless_account(&app, "known@example.com").await;
    verified_account(&app, "withpw@example.com").await;
    let mut s = Browser::new(&app);
    let res = s
        .post("/api/auth/signup", &[("email", "unverified@example.com"), ("password", PASSWORD), ("display_name", "")])
        .await;
    assert_eq!(res.status(), 200);
    let verify_code = last_mail(&app, "unverified@example.com").await.code();

    // sign-in, hydrated (JSON)
    let addresses = ["known@example.com", "nobody@example.com", "withpw@example.com", "unverified@example.com"];
    let mut browsers = Vec::new();
    let mut seen = Vec::new();
    for (i, email) in addresses.iter().enumerate() {
        let mut b = Browser::from_ip(&app, &format!("198.51.100.{}", 40 + i));
        let res = send(&mut b, "sign_in", email).await;
        let (status, location, shape) = (res.status(), header(&res, "location").to_string(), cookie_shape(&res));
        let body = body_text(res).await;
        let page = page_state(&mut b, "sign_in", None).await;
        seen.push((status, location, shape, body, page.pending_email.map(|e| e.replace(email, "<email>"))));
        browsers.push(b);
    }
    assert!(seen.iter().all(|s| s == &seen[0]), "{seen:#?}");
    assert_eq!((seen[0].0.as_u16(), seen[0].1.as_str()), (200, "/login/email"));
    assert!(!seen[0].2 .0.is_empty(), "a session cookie is set");

    // the mail tells each owner the truth
    let known = last_mail(&app, "known@example.com").await;
    assert_eq!(known.subject, "Your sign-in code");
    let nobody = last_mail(&app, "nobody@example.com").await;
    assert_eq!(nobody.subject, "Sign-in request for your address");
    assert!(!nobody.has_code_or_link(), "{}", nobody.text);
    for refused in ["withpw@example.com", "unverified@example.com"] {
        let mail = last_mail(&app, refused).await;
        assert_eq!(mail.subject, "Sign-in request for your account", "{refused}");
        assert!(!mail.has_code_or_link(), "{refused}: {}", mail.text);
        assert_eq!(messages_of(&app, refused, EmailFlow::SignIn).await, 0, "{refused}: no sign-in message exists");
    }
    assert_eq!(audit(&app, "email_code_refused").await.len(), 2);
    // no code works for the refused ones, not even the unverified account's own verification code
    let res = enter(&mut browsers[3], "sign_in", &verify_code).await;
    assert_eq!(refusal(res).await, (400, ErrorKind::InvalidCode));
    let res = enter(&mut browsers[2], "sign_in", &known.code()).await;
    assert_eq!(refusal(res).await, (400, ErrorKind::InvalidCode), "another browser's code");
    assert_eq!((browsers[2].whoami().await, browsers[3].whoami().await), (None, None));
    // while the eligible account's code works in its browser
    assert_eq!(redirected_to(enter(&mut browsers[0], "sign_in", &known.code()).await).await, "/account");
    assert_eq!(browsers[0].whoami().await.as_deref(), Some("known@example.com"));

    // recovery, as a plain form (JavaScript off): known, unknown, unverified and locked look the same
    verified_account(&app, "rk@example.com").await;
    verified_account(&app, "rlocked@example.com").await;
    sqlx::query("UPDATE accounts SET status = 'locked' WHERE email = 'rlocked@example.com'")
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let mut u = Browser::new(&app);
    let res = u
        .post("/api/auth/signup", &[("email", "runv@example.com"), ("password", PASSWORD), ("display_name", "")])
        .await;
    assert_eq!(res.status(), 200);
    let mut seen = Vec::new();
    let addresses = ["rk@example.com", "rnobody@example.com", "runv@example.com", "rlocked@example.com"];
    for (i, email) in addresses.iter().enumerate() {
        let mut b = Browser::from_ip(&app, &format!("198.51.100.{}", 50 + i));
        let form = [("flow", "recover"), ("email", *email)];
        let res = b.post_html("/api/auth/email-code-send", &form, "/recover").await;
        let (status, location, shape) = (res.status(), header(&res, "location").to_string(), cookie_shape(&res));
        let body = body_text(res).await;
        let page = page_state(&mut b, "recover", None).await;
        let flash = page.flash.map(|f| (f.form, f.notice, f.error));
        seen.push((status, location, shape, body, page.pending_email.map(|e| e.replace(email, "<email>")), flash));
    }
    assert!(seen.iter().all(|s| s == &seen[0]), "{seen:#?}");
    assert_eq!((seen[0].0.as_u16(), seen[0].1.as_str()), (302, "/recover"));
    assert_eq!(last_mail(&app, "rk@example.com").await.subject, "Reset your password");
    assert_eq!(last_mail(&app, "rnobody@example.com").await.subject, "Password reset request for your address");
    for refused in ["runv@example.com", "rlocked@example.com"] {
        let mail = last_mail(&app, refused).await;
        assert_eq!(mail.subject, "Password reset request for your account", "{refused}");
        assert!(!mail.has_code_or_link(), "{refused}: {}", mail.text);
        assert_eq!(messages_of(&app, refused, EmailFlow::Recover).await, 0, "{refused}");
    }
}
both!(enumeration, the_answer_never_says_whether_the_address_has_an_account);

// ---- 4. modes ----

async fn turned_off_sign_in_by_email_answers_404_but_recovery_works(backend: Backend) {
    let app = app_with(backend, |c| c.accounts.email_sign_in = EmailSignIn::Off, axum::Router::new()).await;
    let email = "gil@example.com";
    verified_account(&app, email).await;
    let mut b = Browser::new(&app);
    let mails_before = mails_to(&app, email).await.len();
    assert_eq!(refusal(send(&mut b, "sign_in", email).await).await, (404, ErrorKind::NotFound));
    assert_eq!(refusal(send(&mut b, "sign_in", "nobody@example.com").await).await, (404, ErrorKind::NotFound));
    assert_eq!(mails_to(&app, email).await.len(), mails_before, "nothing mailed");
    assert!(!page_state(&mut b, "sign_in", None).await.enabled);
    assert!(page_state(&mut b, "recover", None).await.enabled);
    let core =
        flows::request(&app.state.deps(), EmailFlow::SignIn, email, &RequestMeta::default(), now(), &mut rand::rng())
            .await;
    assert!(matches!(core, Err(AccountError::EmailSignInOff)), "{core:?}");

    assert_eq!(redirected_to(send(&mut b, "recover", email).await).await, "/recover");
    let mail = last_mail(&app, email).await;
    assert_eq!(mail.subject, "Reset your password");
    assert_eq!(redirected_to(enter(&mut b, "recover", &mail.code()).await).await, "/recover/password");
}
both!(mode_off, turned_off_sign_in_by_email_answers_404_but_recovery_works);

async fn passwordless_mode_lets_only_accounts_without_a_password_sign_in_by_email(backend: Backend) {
    let app = app_with(backend, |c| c.accounts.email_sign_in = EmailSignIn::Passwordless, axum::Router::new()).await;
    passwordless_account(&app, "hal@example.com").await;
    verified_account(&app, "hop@example.com").await;
    assert!(page_state(&mut Browser::new(&app), "sign_in", None).await.enabled);

    // without a password: signs in by code
    email_sign_in(&app, "hal@example.com", Browser::new(&app)).await;

    // with a password: a notice and no code; recovery stays open to it
    let mut b = Browser::from_ip(&app, "198.51.100.60");
    assert_eq!(redirected_to(send(&mut b, "sign_in", "hop@example.com").await).await, "/login/email");
    let mail = last_mail(&app, "hop@example.com").await;
    assert_eq!(mail.subject, "Sign-in request for your account");
    assert!(mail.text.contains("http://localhost:3000/recover"), "points to recovery: {}", mail.text);
    assert_eq!(messages_of(&app, "hop@example.com", EmailFlow::SignIn).await, 0);
    let later = now() + 61; // past the address's mail cooldown
    let recover = issue(&app, EmailFlow::Recover, "hop@example.com", later).await;
    let redeemed = flows::redeem_code(
        &app.state.deps(),
        EmailFlow::Recover,
        &recover.row,
        &recover.code,
        &RequestMeta::default(),
        later,
    )
    .await
    .unwrap();
    assert_eq!(redeemed.email, "hop@example.com");
}
both!(mode_passwordless, passwordless_mode_lets_only_accounts_without_a_password_sign_in_by_email);

// ---- 5. the second factor ----

async fn an_account_with_an_authenticator_app_still_needs_it_after_the_mailed_code(backend: Backend) {
    let app = app(backend).await;
    let email = "ike@example.com";
    let (mut authenticator, _) = enrolled_account(&app, email).await;
    let mut b = Browser::new(&app);
    assert_eq!(redirected_to(send(&mut b, "sign_in", email).await).await, "/login/email");
    let code = last_mail(&app, email).await.code();
    assert_eq!(redirected_to(enter(&mut b, "sign_in", &code).await).await, "/login/second-factor");
    assert_eq!(b.whoami().await, None, "half signed in is signed out");
    assert_eq!(body_text(b.post("/api/account/security", &[]).await).await, "null");
    let step: serde_json::Value =
        serde_json::from_str(&body_text(b.post("/api/mfa/second-factor-state", &[]).await).await).unwrap();
    assert_eq!((step["totp"].as_bool(), step["for_reset"].as_bool()), (Some(true), Some(false)));
    // a sign-in waiting for its second factor is no licence to set a password
    let res = b.post("/api/auth/reset-password", &[("password", "a completely new passphrase 2")]).await;
    assert_eq!(refusal(res).await, (400, ErrorKind::RecoveryExpired));

    let res = b.post("/api/mfa/sign-in-totp", &[("code", &authenticator.next_code())]).await;
    assert_eq!(redirected_to(res).await, "/account");
    assert_eq!(b.whoami().await.as_deref(), Some(email));
    assert_eq!(audit(&app, "second_factor_passed").await.len(), 1);
}
both!(email_sign_in_with_totp, an_account_with_an_authenticator_app_still_needs_it_after_the_mailed_code);

// ---- 6. the new-browser notice ----

const FIREFOX: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
const CHROME: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const SAFARI: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) \
                      Version/17.5 Safari/605.1.15";

async fn new_browser_notices(app: &TestApp, email: &str) -> Vec<String> {
    mails_to(app, email)
        .await
        .into_iter()
        .filter(|m| m.subject == "New sign-in to your account")
        .map(|m| m.text)
        .collect()
}

async fn a_sign_in_by_email_from_a_new_browser_is_reported(backend: Backend) {
    let app = app(backend).await;
    let email = "jan@example.com";
    verified_account(&app, email).await;

    email_sign_in(&app, email, Browser::new(&app).with_user_agent(FIREFOX)).await;
    let notices = new_browser_notices(&app, email).await;
    assert_eq!(notices.len(), 1);
    assert!(notices[0].contains("Firefox on Windows 10, IP 192.0.2.10"), "{}", notices[0]);

    // the same browser program again (a new session): known by now
    email_sign_in(&app, email, Browser::new(&app).with_user_agent(FIREFOX)).await;
    assert_eq!(new_browser_notices(&app, email).await.len(), 1);

    // another one: reported
    email_sign_in(&app, email, Browser::from_ip(&app, "198.51.100.70").with_user_agent(CHROME)).await;
    let notices = new_browser_notices(&app, email).await;
    assert_eq!(notices.len(), 2);
    assert!(notices[1].contains("Chrome on Linux, IP 198.51.100.70"), "{}", notices[1]);

    // a browser that signed in with the password before is not new either
    let mut s = Browser::new(&app).with_user_agent(SAFARI);
    let res = s.post("/api/auth/login", &[("email", email), ("password", PASSWORD)]).await;
    assert_eq!(redirected_to(res).await, "/account");
    email_sign_in(&app, email, Browser::new(&app).with_user_agent(SAFARI)).await;
    assert_eq!(new_browser_notices(&app, email).await.len(), 2);
}
both!(new_browser, a_sign_in_by_email_from_a_new_browser_is_reported);

// ---- 7. mail limits ----

/// At most one message per address at a time, counted whether or not it has an account; the wait shows in
/// Retry-After and ends (time is the core's parameter).
async fn a_second_message_to_the_same_address_waits(backend: Backend) {
    let app = app(backend).await;
    verified_account(&app, "kit@example.com").await;
    let mut refusals = Vec::new();
    for (i, email) in ["kit@example.com", "nobody@example.com"].into_iter().enumerate() {
        let mut b = Browser::from_ip(&app, &format!("198.51.100.{}", 80 + i));
        assert_eq!(redirected_to(send(&mut b, "sign_in", email).await).await, "/login/email", "{email}");
        let sent = mails_to(&app, email).await.len();
        // at once again, from another browser and IP, and in the other flow: the address waits
        for flow in ["sign_in", "recover"] {
            let mut other = Browser::from_ip(&app, &format!("198.51.100.{}", 90 + i));
            let res = send(&mut other, flow, email).await;
            let wait = retry_after(&res);
            assert!((50..=60).contains(&wait), "{email} {flow}: {wait}");
            let body = body_text(res).await;
            let err: vestibule::error::AppError = serde_json::from_str(&body).unwrap();
            refusals.push((err.kind, err.problems.len(), body.replace(err.operation_id.as_deref().unwrap_or("-"), "")));
        }
        assert_eq!(mails_to(&app, email).await.len(), sent, "{email}: nothing more mailed");
    }
    // known and unknown refused alike (the wait's seconds may differ by the clock's tick)
    let normalise = |s: &str| s.chars().filter(|c| !c.is_ascii_digit()).collect::<String>();
    assert!(
        refusals.iter().all(|r| r.0 == ErrorKind::MailCooldown && normalise(&r.2) == normalise(&refusals[0].2)),
        "{refusals:#?}"
    );

    // a minute later it works again, for both
    let later = now() + 61;
    issue(&app, EmailFlow::SignIn, "kit@example.com", later).await;
    let unknown = flows::request(
        &app.state.deps(),
        EmailFlow::SignIn,
        "nobody@example.com",
        &RequestMeta::default(),
        later,
        &mut rand::rng(),
    )
    .await
    .unwrap();
    assert!(matches!(unknown.notice, Notice::NoAccount { .. }), "{:?}", unknown.notice);
}
both!(mail_cooldown, a_second_message_to_the_same_address_waits);

/// `limits.mail_per_ip_per_day` messages from one IP, to any addresses, then the IP waits; other IPs do not.
async fn one_ip_may_have_only_so_many_messages_mailed(backend: Backend) {
    let app = app_with(backend, |c| c.limits.mail_per_ip_per_day = 2, axum::Router::new()).await;
    verified_account(&app, "lou@example.com").await;
    verified_account(&app, "lyn@example.com").await;
    let ip = "203.0.113.7";
    assert_eq!(
        redirected_to(send(&mut Browser::from_ip(&app, ip), "sign_in", "lou@example.com").await).await,
        "/login/email"
    );
    assert_eq!(
        redirected_to(send(&mut Browser::from_ip(&app, ip), "recover", "ghost@example.com").await).await,
        "/recover"
    );
    let res = send(&mut Browser::from_ip(&app, ip), "sign_in", "lyn@example.com").await;
    let wait = retry_after(&res);
    assert!((50..=60).contains(&wait), "{wait}");
    assert_eq!(refusal(res).await, (429, ErrorKind::MailCooldown));
    assert!(mails_to(&app, "lyn@example.com").await.iter().all(|m| m.subject != "Your sign-in code"));
    // the address itself was free: from another IP it is mailed
    let res = send(&mut Browser::from_ip(&app, "203.0.113.8"), "sign_in", "lyn@example.com").await;
    assert_eq!(redirected_to(res).await, "/login/email");
    assert_eq!(last_mail(&app, "lyn@example.com").await.subject, "Your sign-in code");
}
both!(mail_per_ip, one_ip_may_have_only_so_many_messages_mailed);

/// Using a code ends the address's wait: the next message can be asked for at once.
async fn a_used_code_ends_the_address_wait(backend: Backend) {
    let app = app(backend).await;
    let email = "max@example.com";
    verified_account(&app, email).await;
    let mut b = Browser::new(&app);
    assert_eq!(redirected_to(send(&mut b, "sign_in", email).await).await, "/login/email");
    let code = last_mail(&app, email).await.code();
    assert_eq!(refusal(send(&mut Browser::new(&app), "sign_in", email).await).await, (429, ErrorKind::MailCooldown));
    assert_eq!(redirected_to(enter(&mut b, "sign_in", &code).await).await, "/account");
    let mut next = Browser::new(&app);
    assert_eq!(redirected_to(send(&mut next, "sign_in", email).await).await, "/login/email");
    assert_ne!(last_mail(&app, email).await.code(), "", "a new message");
    assert_eq!(mails_to(&app, email).await.iter().filter(|m| m.subject == "Your sign-in code").count(), 2);
}
both!(used_code_clears_cooldown, a_used_code_ends_the_address_wait);

/// A message that could not be sent is the user's "try again" (503), and trying again at once is not made
/// to wait; the IP's count keeps counting.
async fn a_failed_send_answers_try_again_without_a_wait(backend: Backend) {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    }; // dropped: nothing listens there any more
    let app = app_with(
        backend,
        |c| {
            c.smtp = Some(vestibule::server::config::SmtpConfig {
                host: "127.0.0.1".into(),
                port: Some(closed),
                security: vestibule::server::config::SmtpSecurity::Plain,
                username: None,
                password: None,
                from: "Vestibule <no-reply@example.com>".into(),
            })
        },
        axum::Router::new(),
    )
    .await;
    assert!(app.state.mailer.outbox().is_none(), "mail goes to SMTP");
    let email = "ned@example.com";
    // an account made directly (mail cannot be sent here)
    let id = uuid::Uuid::new_v4().to_string();
    let hash = app.state.deps().hasher.hash(PASSWORD).await.unwrap();
    let account = vestibule::db::accounts::NewAccount {
        id: &id,
        email,
        display_name: None,
        password_hash: Some(&hash),
        user_handle: None,
        now: now(),
    };
    assert!(vestibule::db::accounts::insert(&app.state.db.pool, &account).await.unwrap());
    vestibule::db::accounts::mark_email_verified(&app.state.db.pool, &id, now()).await.unwrap();
    for email in [email, "nobody@example.com"] {
        let mut b = Browser::new(&app);
        for attempt in 0..2 {
            let res = send(&mut b, "sign_in", email).await;
            assert_eq!(refusal(res).await, (503, ErrorKind::Unavailable), "{email} attempt {attempt}");
        }
        let key = format!("mail:{email}");
        assert_eq!(vestibule::db::throttle::get(&app.state.db.pool, &key).await.unwrap(), None, "{email}");
        assert_eq!(page_state(&mut b, "sign_in", None).await.pending_email, None, "no code awaited");
    }
    let ip = vestibule::db::throttle::get(&app.state.db.pool, "mail-ip:192.0.2.10").await.unwrap();
    assert_eq!(ip.map(|(count, _)| count), Some(4));
}
both!(mail_failure, a_failed_send_answers_try_again_without_a_wait);
