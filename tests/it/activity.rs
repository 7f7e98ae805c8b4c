//! /account/activity: the signed-in owner's own security events, newest first, paged; nobody else's. And the
//! header, which follows the sign-in.

use crate::accounts::verified_account;
use crate::both;
use crate::mfa::{account_id, password_sign_in};
use crate::support::{app, body_text, Backend, Browser};
use vestibule::core::audit::{record, Event, RequestMeta};
use vestibule::types::ActivityPageState;

async fn activity(b: &mut Browser<'_>, before: Option<&str>) -> Option<ActivityPageState> {
    let form: Vec<(&str, &str)> = before.map(|b| ("before", b)).into_iter().collect();
    let res = b.post("/api/account/activity", &form).await;
    assert_eq!(res.status(), 200);
    serde_json::from_str(&body_text(res).await).unwrap()
}

async fn the_owner_sees_their_events_newest_first_and_nobody_elses(backend: Backend) {
    let app = app(backend).await;
    let (ann, bob) = ("ann-activity@example.com", "bob-activity@example.com");
    verified_account(&app, ann).await;
    verified_account(&app, bob).await;
    // a failed attempt on Ann's account, from another browser
    let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
    let mut stranger = Browser::from_ip(&app, "203.0.113.9").with_user_agent(firefox);
    let res = stranger.post("/api/auth/login", &[("email", ann), ("password", "not the password at all!")]).await;
    assert_eq!(res.status(), 401);
    let (mut b, _) = password_sign_in(&app, ann).await;
    let (mut other, _) = password_sign_in(&app, bob).await;
    assert_eq!(other.post("/logout", &[]).await.status(), 200);

    let page = activity(&mut b, None).await.expect("signed in");
    let what: Vec<&str> = page.entries.iter().map(|e| e.what.as_str()).collect();
    assert_eq!(what.first(), Some(&"Signed in"), "{what:?}");
    let failed = page.entries.iter().find(|e| e.what == "Failed sign-in attempt").expect("the failed attempt");
    assert_eq!(failed.from, "Firefox on Linux, IP 203.0.113.9");
    assert!(what.contains(&"Account created") && what.contains(&"Email address confirmed"), "{what:?}");
    assert!(!what.contains(&"Signed out"), "Bob's sign-out is not Ann's: {what:?}");
    assert!(page.older.is_none());

    // signed out: nothing
    assert!(activity(&mut Browser::new(&app), None).await.is_none());
}
both!(own_events, the_owner_sees_their_events_newest_first_and_nobody_elses);

async fn events_come_in_pages_of_25(backend: Backend) {
    let app = app(backend).await;
    let email = "cy-activity@example.com";
    verified_account(&app, email).await;
    let id = account_id(&app, email).await;
    let meta = RequestMeta::default();
    for i in 0..60 {
        record(&app.state.db, Event::StepUp, Some(&id), &meta, serde_json::Value::Null, 1_000 + i).await.unwrap();
    }
    let (mut b, _) = password_sign_in(&app, email).await;
    let first = activity(&mut b, None).await.unwrap();
    assert_eq!(first.entries.len(), 25);
    assert_eq!(first.entries[0].what, "Signed in");
    let older = first.older.clone().expect("more pages");
    let second = activity(&mut b, Some(&older)).await.unwrap();
    assert_eq!(second.entries.len(), 25);
    let third = activity(&mut b, second.older.as_deref()).await.unwrap();
    // 60 step-ups + sign-up, verification sent, verified, sign-in = 64 events: 25 + 25 + 14
    assert_eq!(third.entries.len(), 14);
    assert!(third.older.is_none());
    assert_eq!(third.entries.last().map(|e| e.what.as_str()), Some("Account created"));
    // the page renders without JavaScript, with the link to the next page
    let html = body_text(b.get(&format!("/account/activity?before={older}")).await).await;
    assert!(html.contains("Confirmed it was you") && html.contains("rel=\"next\""), "{html}");
}
both!(paging, events_come_in_pages_of_25);

/// The header offers signing in and up to visitors, and the account to whoever is signed in.
async fn the_header_follows_the_sign_in(backend: Backend) {
    let app = app(backend).await;
    let email = "hal-activity@example.com";
    verified_account(&app, email).await;
    let mut visitor = Browser::new(&app);
    let html = body_text(visitor.get("/").await).await;
    assert!(html.contains(">Create account</a>") && !html.contains(">Your account</a>"), "{html}");
    let (mut b, _) = password_sign_in(&app, email).await;
    let html = body_text(b.get("/").await).await;
    assert!(html.contains(">Your account</a>") && !html.contains(">Create account</a>"), "{html}");
}
both!(header_nav, the_header_follows_the_sign_in);
