//! Changing the account's address on /account/email (security.md "MFA and passkeys": changing email needs
//! step-up and tells the old channel; "Recovery and verification": a new email stays unverified until
//! confirmed, no client sets `verified`, a token is bound to its account and flow, changing email voids
//! older codes and links; "Enumeration": a taken address answers like a free one); on SQLite and
//! PostgreSQL.

use axum::body::Body;
use http::Response;

use crate::accounts::{verified_account, PASSWORD};
use crate::both;
use crate::email_codes::{issue, open_messages};
use crate::mfa::{account_id, audit, password_sign_in, redirected_to, refusal};
use crate::support::{app, app_with, body_text, header, last_mail, mails_to, Backend, Browser, TestApp};
use vestibule::core::accounts::{self as flows, EmailChangeError, Notice};
use vestibule::core::audit::RequestMeta;
use vestibule::error::ErrorKind;
use vestibule::server::auth::{now, AUTH_TIME_KEY};
use vestibule::types::{EmailChangePageState, EmailFlow};

const CODE_SUBJECT: &str = "Confirm your new email address";
const TAKEN_SUBJECT: &str = "Request to move an account to your address";
const CHANGED_SUBJECT: &str = "Your email address was changed";

// ---- helpers ----

async fn ask(b: &mut Browser<'_>, new_email: &str) -> Response<Body> {
    b.post("/api/account/email-change-request", &[("email", new_email)]).await
}

async fn enter(b: &mut Browser<'_>, code: &str) -> Response<Body> {
    b.post("/api/account/email-change-verify", &[("code", code)]).await
}

async fn open_link(b: &mut Browser<'_>, token: &str, code: Option<&str>) -> Response<Body> {
    let mut form = vec![("token", token)];
    form.extend(code.map(|c| ("code", c)));
    b.post("/api/account/email-change-link", &form).await
}

async fn page(b: &mut Browser<'_>, token: Option<&str>) -> Option<EmailChangePageState> {
    let form: Vec<(&str, &str)> = token.map(|t| ("token", t)).into_iter().collect();
    let res = b.post("/api/account/email-state", &form).await;
    assert_eq!(res.status(), 200);
    let body = body_text(res).await;
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// The account's address and when it was confirmed, straight from the database.
async fn stored(app: &TestApp, id: &str) -> (String, Option<i64>) {
    let row = vestibule::db::accounts::find_by_id(&app.state.db.pool, id).await.unwrap().expect("the account");
    (row.email, row.email_verified_at)
}

async fn signs_in_with(app: &TestApp, email: &str) -> bool {
    let mut b = Browser::from_ip(app, "198.51.100.99");
    let res = b.post("/api/auth/login", &[("email", email), ("password", PASSWORD)]).await;
    res.status() == 200 && b.whoami().await.as_deref() == Some(email)
}

/// A verified account, signed in in a fresh browser.
async fn signed_in<'a>(app: &'a TestApp, email: &str) -> Browser<'a> {
    verified_account(app, email).await;
    let (b, next) = password_sign_in(app, email).await;
    assert_eq!(next, "/account");
    b
}

/// The code and the link token of the last change message to `to`.
async fn change_mail(app: &TestApp, to: &str) -> (String, String) {
    let mail = last_mail(app, to).await;
    assert_eq!(mail.subject, CODE_SUBJECT);
    assert!(mail.link().starts_with("http://localhost:3000/account/email?token="), "{}", mail.text);
    (mail.code(), mail.token())
}

/// An app with a probe that makes the browser's sign-in an hour old (past the recent-sign-in window).
async fn app_with_ageing(backend: Backend) -> TestApp {
    let age = axum::routing::get(|session: tower_sessions::Session| async move {
        session.insert(AUTH_TIME_KEY, now() - 3600).await.unwrap();
        "aged"
    });
    app_with(backend, |_| {}, axum::Router::new().route("/probe/age-sign-in", age)).await
}

/// Six digits that are not `right`.
fn wrong(right: &str) -> String {
    format!("{:06}", (right.parse::<u32>().unwrap() + 1) % 1_000_000)
}

// ---- the change itself ----

async fn the_code_from_the_new_address_changes_it_and_the_old_one_is_told(backend: Backend) {
    let app = app(backend).await;
    let (old, new) = ("ines@example.com", "ines.new@example.org");
    let mut b = signed_in(&app, old).await;
    let id = account_id(&app, old).await;
    // open messages sent to the old address, to see them voided by the change
    let sign_in = issue(&app, EmailFlow::SignIn, old, now()).await;
    // an hour on, past the address's mail cooldown
    let recover = issue(&app, EmailFlow::Recover, old, now() + 3600).await;
    let mails_to_old = mails_to(&app, old).await.len();

    assert_eq!(redirected_to(ask(&mut b, " Ines.New@Example.ORG ").await).await, "/account/email");
    let state = page(&mut b, None).await.expect("signed in");
    assert_eq!((state.email.as_str(), state.pending_email.as_deref()), (old, Some(new)));
    let (code, _) = change_mail(&app, new).await;
    // nothing changes before the code comes back
    assert_eq!(stored(&app, &id).await.0, old);
    assert_eq!(mails_to(&app, old).await.len(), mails_to_old, "the old address hears nothing yet");
    let requested = audit(&app, "email_change_requested").await;
    assert_eq!(requested.len(), 1);
    assert_eq!(requested[0].detail.as_deref(), Some(r#"{"to":"i***@e***.org"}"#));

    assert_eq!(refusal(enter(&mut b, &wrong(&code)).await).await, (400, ErrorKind::InvalidCode));
    assert_eq!(stored(&app, &id).await.0, old);
    let before = now();
    assert_eq!(redirected_to(enter(&mut b, &code).await).await, "/account/email?changed=1");

    let (email, verified_at) = stored(&app, &id).await;
    assert_eq!(email, new);
    assert!(verified_at.is_some_and(|at| at >= before), "confirmed when the code came back: {verified_at:?}");
    assert_eq!(b.whoami().await.as_deref(), Some(new), "this browser stays signed in");
    let state = page(&mut b, None).await.unwrap();
    assert_eq!((state.email.as_str(), state.pending_email), (new, None));

    // the old address is told, from where, with the new one masked; the notice carries no code or link
    let notice = last_mail(&app, old).await;
    assert_eq!(notice.subject, CHANGED_SUBJECT);
    assert!(notice.text.contains("i***@e***.org") && !notice.text.contains(new), "{}", notice.text);
    assert!(notice.text.contains("IP 192.0.2.10"), "{}", notice.text);
    assert!(notice.text.contains("support team"), "{}", notice.text);
    assert!(!notice.has_code_or_link(), "{}", notice.text);
    let changed = audit(&app, "email_changed").await;
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].account_id.as_deref(), Some(id.as_str()));
    let detail = changed[0].detail.clone().unwrap_or_default();
    assert!(!detail.contains(old) && !detail.contains(new) && detail.contains("i***@e***.org"), "{detail}");

    // every code and link sent to the old address stopped working
    assert_eq!(open_messages(&app, new).await, 0);
    let deps = app.state.deps();
    let meta = RequestMeta::default();
    let r = flows::redeem_code(&deps, EmailFlow::SignIn, &sign_in.row, &sign_in.code, &meta, now()).await;
    assert!(r.is_err(), "an old sign-in code");
    let r = flows::redeem_link(&deps, EmailFlow::Recover, &recover.token, Some(&recover.row), None, &meta, now()).await;
    assert!(r.is_err(), "an old recovery link");

    // the password now goes with the new address only
    assert!(signs_in_with(&app, new).await);
    assert!(!signs_in_with(&app, old).await);
    // and the code works once
    assert_eq!(refusal(enter(&mut b, &code).await).await, (400, ErrorKind::InvalidCode));
}
both!(change_by_code, the_code_from_the_new_address_changes_it_and_the_old_one_is_told);

async fn the_link_is_enough_in_the_browser_that_asked_and_needs_the_code_elsewhere(backend: Backend) {
    let app = app(backend).await;
    let old = "jon@example.com";
    let mut laptop = signed_in(&app, old).await;
    let (mut phone, _) = password_sign_in(&app, old).await;

    // asked on the laptop, opened on the phone (signed in to the same account): the code is needed too
    assert_eq!(redirected_to(ask(&mut laptop, "jon.two@example.com").await).await, "/account/email");
    let (code, token) = change_mail(&app, "jon.two@example.com").await;
    assert!(page(&mut phone, Some(&token)).await.unwrap().link_needs_code);
    assert!(!page(&mut laptop, Some(&token)).await.unwrap().link_needs_code);
    assert_eq!(refusal(open_link(&mut phone, &token, None).await).await, (400, ErrorKind::CodeNeeded));
    assert_eq!(refusal(open_link(&mut phone, &token, Some(&wrong(&code))).await).await, (400, ErrorKind::InvalidCode));
    // a signed-out browser gets nothing from the link and the code
    let mut stranger = Browser::new(&app);
    assert_eq!(refusal(open_link(&mut stranger, &token, Some(&code)).await).await, (401, ErrorKind::SignInRequired));
    assert_eq!(laptop.whoami().await.as_deref(), Some(old), "nothing changed yet");
    // the laptop's click alone completes it
    assert_eq!(redirected_to(open_link(&mut laptop, &token, None).await).await, "/account/email?changed=1");
    assert_eq!(laptop.whoami().await.as_deref(), Some("jon.two@example.com"));
    assert_eq!(phone.whoami().await.as_deref(), Some("jon.two@example.com"), "other sessions are not ended");
    assert!(audit(&app, "email_changed").await[0].detail.as_deref().unwrap_or("").contains(r#""by":"link""#));
    assert_eq!(refusal(open_link(&mut laptop, &token, None).await).await, (400, ErrorKind::InvalidLink), "used");

    // asked on the laptop again, completed on the phone with link and code
    assert_eq!(redirected_to(ask(&mut laptop, "jon.three@example.com").await).await, "/account/email");
    let (code, token) = change_mail(&app, "jon.three@example.com").await;
    assert_eq!(redirected_to(open_link(&mut phone, &token, Some(&code)).await).await, "/account/email?changed=1");
    assert_eq!(laptop.whoami().await.as_deref(), Some("jon.three@example.com"));
    // the notice went to the address the account had then
    assert_eq!(last_mail(&app, "jon.two@example.com").await.subject, CHANGED_SUBJECT);
}
both!(by_link, the_link_is_enough_in_the_browser_that_asked_and_needs_the_code_elsewhere);

// ---- who may ----

async fn nobody_else_can_use_or_complete_an_accounts_change(backend: Backend) {
    let app = app(backend).await;
    let mut ann = signed_in(&app, "ann@example.com").await;
    let mut bob = signed_in(&app, "bob@example.com").await;
    let ann_id = account_id(&app, "ann@example.com").await;
    let bob_id = account_id(&app, "bob@example.com").await;

    // signed out: every form refuses before anything else, and the page has nothing to show
    let mut stranger = Browser::new(&app);
    assert_eq!(refusal(ask(&mut stranger, "x@example.com").await).await, (401, ErrorKind::SignInRequired));
    assert_eq!(refusal(enter(&mut stranger, "123456").await).await, (401, ErrorKind::SignInRequired));
    let res = stranger.post("/api/account/email-change-cancel", &[]).await;
    assert_eq!(refusal(res).await, (401, ErrorKind::SignInRequired));
    assert!(page(&mut stranger, None).await.is_none());
    assert!(mails_to(&app, "x@example.com").await.is_empty());

    assert_eq!(redirected_to(ask(&mut ann, "ann.new@example.com").await).await, "/account/email");
    assert_eq!(redirected_to(ask(&mut bob, "bob.new@example.com").await).await, "/account/email");
    let (ann_code, ann_token) = change_mail(&app, "ann.new@example.com").await;
    let (bob_code, _) = change_mail(&app, "bob.new@example.com").await;

    // Bob cannot complete Ann's change: her link (even with her code) is nothing to his account
    assert!(!page(&mut bob, Some(&ann_token)).await.unwrap().link_needs_code);
    assert_eq!(refusal(open_link(&mut bob, &ann_token, Some(&ann_code)).await).await, (400, ErrorKind::InvalidLink));
    // Ann's code in Bob's browser is checked against Bob's message only
    assert_eq!(refusal(enter(&mut bob, &ann_code).await).await, (400, ErrorKind::InvalidCode));
    // and Bob's code does nothing for Ann
    assert_eq!(refusal(enter(&mut ann, &bob_code).await).await, (400, ErrorKind::InvalidCode));
    assert_eq!(stored(&app, &ann_id).await.0, "ann@example.com");
    assert_eq!(stored(&app, &bob_id).await.0, "bob@example.com");

    // cancelling voids Ann's message: her own code stops working
    let res = ann.post("/api/account/email-change-cancel", &[]).await;
    assert_eq!(redirected_to(res).await, "/account/email");
    assert_eq!(page(&mut ann, None).await.unwrap().pending_email, None);
    assert_eq!(refusal(open_link(&mut ann, &ann_token, Some(&ann_code)).await).await, (400, ErrorKind::InvalidLink));
    // Bob's own change is untouched by all this
    assert_eq!(redirected_to(enter(&mut bob, &bob_code).await).await, "/account/email?changed=1");
    assert_eq!(stored(&app, &ann_id).await.0, "ann@example.com");
    assert_eq!(stored(&app, &bob_id).await.0, "bob.new@example.com");
}
both!(authorisation, nobody_else_can_use_or_complete_an_accounts_change);

async fn asking_needs_a_recent_sign_in(backend: Backend) {
    let app = app_with_ageing(backend).await;
    let old = "kai@example.com";
    let mut b = signed_in(&app, old).await;
    assert_eq!(body_text(b.get("/probe/age-sign-in").await).await, "aged");

    let state = page(&mut b, None).await.unwrap();
    assert!(!state.recently_confirmed);
    assert!(state.confirm.password, "{:?}", state.confirm);
    assert_eq!(refusal(ask(&mut b, "kai.new@example.com").await).await, (403, ErrorKind::StepUpRequired));
    assert!(mails_to(&app, "kai.new@example.com").await.is_empty(), "nothing sent");
    assert!(audit(&app, "email_change_requested").await.is_empty());

    // confirming in place comes back here
    let form = [("password", PASSWORD), ("return_to", "/account/email")];
    assert_eq!(redirected_to(b.post("/api/account/confirm-password", &form).await).await, "/account/email");
    assert!(page(&mut b, None).await.unwrap().recently_confirmed);
    assert_eq!(redirected_to(ask(&mut b, "kai.new@example.com").await).await, "/account/email");
    let (code, _) = change_mail(&app, "kai.new@example.com").await;
    // the step-up guarded the asking; the code only proves the new mailbox, also a while later
    assert_eq!(body_text(b.get("/probe/age-sign-in").await).await, "aged");
    assert_eq!(redirected_to(enter(&mut b, &code).await).await, "/account/email?changed=1");
    assert_eq!(b.whoami().await.as_deref(), Some("kai.new@example.com"));
}
both!(step_up, asking_needs_a_recent_sign_in);

// ---- codes ----

async fn wrong_codes_are_counted_and_throttled(backend: Backend) {
    let app = app(backend).await;
    let old = "lea@example.com";
    let mut b = signed_in(&app, old).await;
    assert_eq!(redirected_to(ask(&mut b, "lea.new@example.com").await).await, "/account/email");
    let (code, _) = change_mail(&app, "lea.new@example.com").await;
    for _ in 0..5 {
        assert_eq!(refusal(enter(&mut b, &wrong(&code)).await).await, (400, ErrorKind::InvalidCode));
    }
    // five tries spend the message: even the right code fails now (and counts)
    assert_eq!(refusal(enter(&mut b, &code).await).await, (400, ErrorKind::InvalidCode));
    // past the address's free failures every guess waits
    let res = enter(&mut b, &code).await;
    assert!(header(&res, "retry-after").parse::<i64>().is_ok_and(|s| s > 0));
    assert_eq!(refusal(res).await, (429, ErrorKind::Throttled));
    assert_eq!(audit(&app, "email_change_failed").await.len(), 6);
    assert_eq!(b.whoami().await.as_deref(), Some(old), "nothing changed");
    // a second request to the same address waits for the mail cooldown
    assert_eq!(refusal(ask(&mut b, "lea.new@example.com").await).await, (429, ErrorKind::MailCooldown));
}
both!(throttled, wrong_codes_are_counted_and_throttled);

async fn codes_and_links_work_only_in_their_own_flow(backend: Backend) {
    let app = app(backend).await;
    let old = "max@example.com";
    let mut b = signed_in(&app, old).await;
    let id = account_id(&app, old).await;
    let deps = app.state.deps();
    let meta = RequestMeta::default();
    let sign_in = issue(&app, EmailFlow::SignIn, old, now()).await;
    // an hour on, past the address's mail cooldown
    let recover = issue(&app, EmailFlow::Recover, old, now() + 3600).await;
    let change =
        flows::request_change(&deps, &id, "max.new@example.com", &meta, now(), &mut rand::rng()).await.unwrap();
    let Notice::EmailChangeCode { code, link, .. } = change.notice else { panic!("no code was mailed") };
    let token = link.split("token=").nth(1).unwrap().to_string();

    // sign-in and recovery messages do not change the address
    for other in [&sign_in, &recover] {
        let r = flows::confirm_change_code(&deps, &id, old, &other.row, &other.code, &meta, now()).await;
        assert!(matches!(r, Err(EmailChangeError::Account(flows::AccountError::InvalidCode))), "{r:?}");
        assert_eq!(
            refusal(open_link(&mut b, &other.token, Some(&other.code)).await).await,
            (400, ErrorKind::InvalidLink)
        );
    }
    // the change message neither signs in nor recovers
    for flow in [EmailFlow::SignIn, EmailFlow::Recover] {
        assert!(flows::redeem_code(&deps, flow, &change.row_id, &code, &meta, now()).await.is_err());
        assert!(flows::redeem_link(&deps, flow, &token, Some(&change.row_id), None, &meta, now()).await.is_err());
        let mut elsewhere = Browser::new(&app);
        let form = [("flow", flow.as_str()), ("token", token.as_str()), ("code", code.as_str())];
        let res = elsewhere.post("/api/auth/email-code-link", &form).await;
        assert_eq!(refusal(res).await, (400, ErrorKind::InvalidLink));
        assert_eq!(elsewhere.whoami().await, None);
    }
    // the change message works in its own flow
    let done = flows::confirm_change_code(&deps, &id, "max.new@example.com", &change.row_id, &code, &meta, now());
    assert_eq!(done.await.unwrap().new_email, "max.new@example.com");

    // a code too old, a link too old: the unconfirmed address never becomes the account's
    let later = now() + 7200; // past the mail cooldowns
    let late = flows::request_change(&deps, &id, "max.late@example.com", &meta, later, &mut rand::rng()).await.unwrap();
    let Notice::EmailChangeCode { code, link, .. } = late.notice else { panic!("no code was mailed") };
    let token = link.split("token=").nth(1).unwrap().to_string();
    let r = flows::confirm_change_code(&deps, &id, "max.late@example.com", &late.row_id, &code, &meta, later + 16 * 60);
    assert!(matches!(r.await, Err(EmailChangeError::Account(flows::AccountError::InvalidCode))));
    let r = flows::confirm_change_link(&deps, &id, &token, Some(&late.row_id), None, &meta, later + 3601);
    assert!(matches!(r.await, Err(EmailChangeError::Account(flows::AccountError::InvalidLink))));
    assert_eq!(stored(&app, &id).await.0, "max.new@example.com");
}
both!(purposes, codes_and_links_work_only_in_their_own_flow);

// ---- enumeration, races, the verified flag ----

async fn a_taken_address_answers_the_same_and_its_owner_is_told(backend: Backend) {
    let app = app(backend).await;
    let mut ann = signed_in(&app, "nan@example.com").await;
    verified_account(&app, "owner@example.com").await;
    let owner_id = account_id(&app, "owner@example.com").await;
    let owner_mails = mails_to(&app, "owner@example.com").await.len();

    let mut seen = Vec::new();
    for address in ["free@example.com", "Owner@Example.com"] {
        let res = ask(&mut ann, address).await;
        let shape = (res.status(), header(&res, "location").to_string());
        let body = body_text(res).await;
        let state = page(&mut ann, None).await.unwrap();
        let pending = state.pending_email.map(|e| e.replace(&address.to_lowercase(), "<new>"));
        seen.push((shape, body, pending, state.flash));
    }
    assert_eq!(seen[0], seen[1], "the same answer for a free and a taken address");
    let details: Vec<_> = audit(&app, "email_change_requested").await.into_iter().map(|e| e.detail).collect();
    assert_eq!(details.len(), 2);
    assert_eq!(details.iter().filter(|d| d.as_deref() == Some(r#"{"to":"f***@e***.com"}"#)).count(), 1);
    assert_eq!(details.iter().filter(|d| d.as_deref() == Some(r#"{"to":"o***@e***.com"}"#)).count(), 1);

    // the owner hears of it, without any code or link; the free address got its code
    let mails = mails_to(&app, "owner@example.com").await;
    assert_eq!(mails.len(), owner_mails + 1);
    let told = mails.last().unwrap();
    assert_eq!(told.subject, TAKEN_SUBJECT);
    assert!(!told.has_code_or_link(), "{}", told.text);
    assert_eq!(last_mail(&app, "free@example.com").await.subject, CODE_SUBJECT);
    let events = audit(&app, "email_change_to_taken_address").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].account_id.as_deref(), Some(owner_id.as_str()));

    // nothing the requester can type completes it
    for guess in ["000000", "123456", "999999"] {
        assert_eq!(refusal(enter(&mut ann, guess).await).await, (400, ErrorKind::InvalidCode));
    }
    assert_eq!(ann.whoami().await.as_deref(), Some("nan@example.com"));
    assert_eq!(stored(&app, &owner_id).await.0, "owner@example.com");
}
both!(taken_address, a_taken_address_answers_the_same_and_its_owner_is_told);

async fn an_address_taken_before_the_code_comes_back_changes_nothing(backend: Backend) {
    let app = app(backend).await;
    let old = "ola@example.com";
    let mut b = signed_in(&app, old).await;
    let id = account_id(&app, old).await;
    assert_eq!(redirected_to(ask(&mut b, "race@example.com").await).await, "/account/email");
    let (code, token) = change_mail(&app, "race@example.com").await;
    let old_mails = mails_to(&app, old).await.len();

    // meanwhile someone signs up with the address
    let mut other = Browser::from_ip(&app, "203.0.113.9");
    let form = [("email", "race@example.com"), ("password", PASSWORD), ("display_name", "")];
    assert_eq!(redirected_to(other.post("/api/auth/signup", &form).await).await, "/verify-email");
    let taker = account_id(&app, "race@example.com").await;

    assert_eq!(refusal(enter(&mut b, &code).await).await, (409, ErrorKind::EmailTaken));
    assert_eq!(stored(&app, &id).await.0, old);
    assert_eq!(stored(&app, &taker).await.0, "race@example.com");
    assert!(stored(&app, &taker).await.1.is_none(), "the sign-up's address stays unconfirmed");
    assert!(audit(&app, "email_changed").await.is_empty());
    assert_eq!(mails_to(&app, old).await.len(), old_mails, "no notice: nothing changed");
    // the change is over: the page offers a new one, and its link is used up
    assert_eq!(page(&mut b, None).await.unwrap().pending_email, None);
    assert_eq!(refusal(open_link(&mut b, &token, Some(&code)).await).await, (400, ErrorKind::InvalidLink));
    assert!(signs_in_with(&app, old).await);
}
both!(race, an_address_taken_before_the_code_comes_back_changes_nothing);

async fn no_client_field_confirms_an_address(backend: Backend) {
    let app = app(backend).await;
    let old = "pia@example.com";
    let mut b = signed_in(&app, old).await;
    let id = account_id(&app, old).await;
    let forged = [("email_verified", "1"), ("email_verified_at", "1"), ("verified", "true")];

    let mut form = vec![("email", "pia.new@example.com")];
    form.extend(forged);
    assert_eq!(redirected_to(b.post("/api/account/email-change-request", &form).await).await, "/account/email");
    let mut form = vec![("code", "000000")];
    form.extend(forged);
    let res = b.post("/api/account/email-change-verify", &form).await;
    assert_eq!(refusal(res).await, (400, ErrorKind::InvalidCode));
    let res = b.post("/api/account/email-change-link", &[("token", "x"), ("email_verified", "1")]).await;
    assert_eq!(refusal(res).await, (400, ErrorKind::InvalidLink));
    assert_eq!(stored(&app, &id).await.0, old);
    let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM accounts WHERE email = $1")
        .bind("pia.new@example.com")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(count, 0, "the unconfirmed address is nobody's");

    // a sign-up cannot confirm its own address either
    let mut fresh = Browser::from_ip(&app, "203.0.113.10");
    let mut form = vec![("email", "quin@example.com"), ("password", PASSWORD), ("display_name", "")];
    form.extend(forged);
    assert_eq!(redirected_to(fresh.post("/api/auth/signup", &form).await).await, "/verify-email");
    let quin = account_id(&app, "quin@example.com").await;
    assert!(stored(&app, &quin).await.1.is_none());
    assert_eq!(fresh.whoami().await, None);

    // the same address as now is refused with the reason, at the field
    let res = ask(&mut b, "PIA@example.com").await;
    assert_eq!(res.status(), 422);
    let err: vestibule::error::AppError = serde_json::from_str(&body_text(res).await).unwrap();
    assert!(err.problem("email").is_some_and(|m| m.contains("already your email address")), "{err:?}");
    let res = ask(&mut b, "not an address").await;
    assert_eq!(res.status(), 422);
}
both!(verified_flag, no_client_field_confirms_an_address);

async fn the_page_works_without_javascript(backend: Backend) {
    let app = app(backend).await;
    let old = "rue@example.com";
    let mut b = signed_in(&app, old).await;
    let html = body_text(b.get("/account/email").await).await;
    assert!(html.contains(old) && html.contains("New email address"), "{html}");
    let mut stranger = Browser::new(&app);
    let html = body_text(stranger.get("/account/email").await).await;
    assert!(!html.contains("New email address"), "{html}");

    let res =
        b.post_html("/api/account/email-change-request", &[("email", "rue.new@example.com")], "/account/email").await;
    assert_eq!(header(&res, "location"), "/account/email");
    let html = body_text(b.get("/account/email").await).await;
    assert!(html.contains("We sent a 6-digit code and a link to rue.new@example.com"), "{html}");
    let (code, token) = change_mail(&app, "rue.new@example.com").await;

    let res = b.post_html("/api/account/email-change-verify", &[("code", &wrong(&code))], "/account/email").await;
    assert_eq!(res.status(), 302);
    assert!(header(&res, "location").starts_with("http://localhost:3000/account/email"), "back to the form");
    let html = body_text(b.get("/account/email").await).await;
    assert!(html.contains("That code is wrong or has expired"), "{html}");

    // the mail's link: one button, no code in the browser that asked
    let html = body_text(b.get(&format!("/account/email?token={token}")).await).await;
    assert!(html.contains("Change my address") && !html.contains("also enter the 6-digit code"), "{html}");
    let res = b.post_html("/api/account/email-change-link", &[("token", &token)], "/account/email").await;
    assert_eq!(header(&res, "location"), "/account/email?changed=1");
    let html = body_text(b.get("/account/email?changed=1").await).await;
    assert!(html.contains("Your email address is now rue.new@example.com"), "{html}");
}
both!(no_javascript, the_page_works_without_javascript);
