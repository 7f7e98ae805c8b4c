//! /account/sessions (security.md "Sessions": users list and revoke their sessions): each signed-in browser
//! with its browser, IP and times; ending one or all others needs a recent sign-in and reaches only the
//! owner's sessions; the confirm card returns only to allowlisted pages.

use crate::accounts::{verified_account, PASSWORD};
use crate::both;
use crate::mfa::{audit, password_sign_in, redirected_to, refusal};
use crate::support::{app_with, body_text, Backend, Browser, TestApp};
use vestibule::error::ErrorKind;
use vestibule::server::auth::{now, AUTH_TIME_KEY};
use vestibule::types::SessionsPageState;

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
const CHROME: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

async fn sessions(b: &mut Browser<'_>) -> Option<SessionsPageState> {
    let res = b.post("/api/account/sessions", &[]).await;
    assert_eq!(res.status(), 200);
    serde_json::from_str(&body_text(res).await).unwrap()
}

/// An app with a probe that makes the browser's sign-in an hour old (past the recent-sign-in window).
async fn app_with_ageing(backend: Backend) -> TestApp {
    let age = axum::routing::get(|session: tower_sessions::Session| async move {
        session.insert(AUTH_TIME_KEY, now() - 3600).await.unwrap();
        "aged"
    });
    app_with(backend, |_| {}, axum::Router::new().route("/probe/age-sign-in", age)).await
}

async fn signed_in<'a>(app: &'a TestApp, email: &str, ip: &str, user_agent: &str) -> Browser<'a> {
    let mut b = Browser::from_ip(app, ip).with_user_agent(user_agent);
    let res = b.post("/api/auth/login", &[("email", email), ("password", PASSWORD)]).await;
    assert_eq!(redirected_to(res).await, "/account");
    b
}

async fn the_owner_sees_each_browser_and_ends_one(backend: Backend) {
    let app = app_with_ageing(backend).await;
    let email = "sal@example.com";
    verified_account(&app, email).await;
    let mut laptop = signed_in(&app, email, "198.51.100.1", FIREFOX).await;
    let mut office = signed_in(&app, email, "203.0.113.7", CHROME).await;
    // someone else's session, which must never show or be reachable
    verified_account(&app, "tom@example.com").await;
    let (mut tom, _) = password_sign_in(&app, "tom@example.com").await;

    let page = sessions(&mut laptop).await.expect("signed in");
    // the two, and the browser that confirmed the address at sign-up (it was signed in by that)
    assert_eq!(page.sessions.len(), 3, "{page:?}");
    let mine = page.sessions.iter().find(|s| s.current).expect("this browser marked");
    assert_eq!(mine.device.as_deref(), Some("Firefox on Linux"));
    assert_eq!(mine.ip.as_deref(), Some("198.51.100.1"));
    assert!(mine.last_active.is_some());
    let other = page.sessions.iter().find(|s| s.ip.as_deref() == Some("203.0.113.7")).expect("the office").clone();
    assert_eq!((other.device.as_deref(), other.ip.as_deref()), (Some("Chrome on Windows 10"), Some("203.0.113.7")));
    assert!(page.recently_confirmed);

    // another account cannot end it, even knowing its id
    let res = tom.post("/api/account/end-session", &[("id", &other.id)]).await;
    assert_eq!(refusal(res).await, (404, ErrorKind::NotFound));
    assert_eq!(office.whoami().await.as_deref(), Some(email));
    // this browser's own session is ended by signing out, not here
    let res = laptop.post("/api/account/end-session", &[("id", &mine.id)]).await;
    assert_eq!(refusal(res).await.0, 400);

    let res = laptop.post("/api/account/end-session", &[("id", &other.id)]).await;
    assert_eq!(redirected_to(res).await, "/account/sessions?ended=1");
    assert_eq!(office.whoami().await, None, "the other browser is signed out");
    assert_eq!(laptop.whoami().await.as_deref(), Some(email));
    assert_eq!(tom.whoami().await.as_deref(), Some("tom@example.com"), "nobody else's session ended");
    assert_eq!(sessions(&mut laptop).await.unwrap().sessions.len(), 2);
    assert_eq!(audit(&app, "session_ended").await.len(), 1);
}
both!(list_and_end_one, the_owner_sees_each_browser_and_ends_one);

async fn signing_out_everywhere_else_needs_a_recent_sign_in(backend: Backend) {
    let app = app_with_ageing(backend).await;
    let email = "uma@example.com";
    verified_account(&app, email).await;
    let mut a = signed_in(&app, email, "198.51.100.2", FIREFOX).await;
    let mut b = signed_in(&app, email, "198.51.100.3", CHROME).await;
    let mut c = signed_in(&app, email, "198.51.100.4", CHROME).await;
    assert_eq!(body_text(a.get("/probe/age-sign-in").await).await, "aged");

    let page = sessions(&mut a).await.unwrap();
    assert!(!page.recently_confirmed);
    assert!(page.confirm.password && !page.confirm.totp, "{:?}", page.confirm);
    assert_eq!(refusal(a.post("/api/account/end-other-sessions", &[]).await).await, (403, ErrorKind::StepUpRequired));
    let other_id = page.sessions.iter().find(|s| s.ip.as_deref() == Some("198.51.100.3")).unwrap().id.clone();
    let res = a.post("/api/account/end-session", &[("id", &other_id)]).await;
    assert_eq!(refusal(res).await, (403, ErrorKind::StepUpRequired));
    assert_eq!(b.whoami().await.as_deref(), Some(email), "nothing ended");

    // confirming in place comes back to the sessions page; another return target is not followed
    let res =
        a.post("/api/account/confirm-password", &[("password", PASSWORD), ("return_to", "/account/sessions")]).await;
    assert_eq!(redirected_to(res).await, "/account/sessions");
    assert_eq!(body_text(a.get("/probe/age-sign-in").await).await, "aged");
    for evil in ["https://evil.example/", "//evil.example", "/account/sessions/../../logout", "javascript:alert(1)"] {
        let res = a.post("/api/account/confirm-password", &[("password", PASSWORD), ("return_to", evil)]).await;
        assert_eq!(redirected_to(res).await, "/account/security", "{evil}");
    }

    let res = a.post("/api/account/end-other-sessions", &[]).await;
    assert_eq!(redirected_to(res).await, "/account/sessions?ended=1");
    assert_eq!(b.whoami().await, None);
    assert_eq!(c.whoami().await, None);
    assert_eq!(a.whoami().await.as_deref(), Some(email), "this browser stays");
    let events = audit(&app, "other_sessions_ended").await;
    assert_eq!(events.len(), 1);
    // b, c and the browser that confirmed the address at sign-up
    assert!(events[0].detail.as_deref().unwrap_or("").contains("\"ended\":3"), "{:?}", events[0].detail);
}
both!(end_others, signing_out_everywhere_else_needs_a_recent_sign_in);

async fn the_page_works_without_javascript(backend: Backend) {
    let app = app_with_ageing(backend).await;
    let email = "vic@example.com";
    verified_account(&app, email).await;
    let mut a = signed_in(&app, email, "198.51.100.5", FIREFOX).await;
    let _b = signed_in(&app, email, "198.51.100.6", CHROME).await;
    let html = body_text(a.get("/account/sessions").await).await;
    assert!(html.contains("Firefox on Linux") && html.contains("Chrome on Windows 10"), "{html}");
    assert!(html.contains("This browser") && html.contains("Sign out everywhere else"));
    // signed out: to /login
    let mut stranger = Browser::new(&app);
    let html = body_text(stranger.get("/account/sessions").await).await;
    assert!(!html.contains("Firefox"), "{html}");
    assert!(sessions(&mut stranger).await.is_none());
    // a plain form post ends the others and comes back
    let res = a.post_html("/api/account/end-other-sessions", &[], "/account/sessions").await;
    assert_eq!(crate::support::header(&res, "location"), "/account/sessions?ended=1");
}
both!(no_javascript, the_page_works_without_javascript);
