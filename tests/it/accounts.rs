//! Sign-up, verification, sign-in and sign-out through the real router (security.md: passwords,
//! enumeration, throttling, sessions, cookies, tokens), on SQLite and PostgreSQL.

use crate::both;
use crate::support::{app, app_with, body_text, header, last_mail, mails_to, Backend, Browser, TestApp};
use vestibule::core::accounts::{self as flows};
use vestibule::core::audit::RequestMeta;

pub const PASSWORD: &str = "plum tractor velvet harbor 42";

async fn sign_up(b: &mut Browser<'_>, email: &str, password: &str) -> http::Response<axum::body::Body> {
    b.post("/api/auth/signup", &[("email", email), ("password", password), ("display_name", "")]).await
}

/// A verified, signed-out account.
pub async fn verified_account(app: &TestApp, email: &str) {
    let mut b = Browser::new(app);
    assert_eq!(sign_up(&mut b, email, PASSWORD).await.status(), 200);
    let code = last_mail(app, email).await.code();
    let res = b.post("/api/auth/verify-code", &[("email", email), ("code", &code)]).await;
    assert_eq!(res.status(), 200, "{}", body_text(res).await);
}

async fn audit_kinds(app: &TestApp, kind: &str) -> usize {
    vestibule::db::audit::by_kind(&app.state.db.pool, kind, 10_000).await.unwrap().len()
}

async fn sign_up_verify_by_code_and_sign_in(backend: Backend) {
    let app = app(backend).await;
    let mut b = Browser::new(&app);
    let res = sign_up(&mut b, "Ann@Example.com", PASSWORD).await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "location"), "/verify-email");
    let pre_verification_cookie = b.cookie.clone().unwrap();

    let mail = last_mail(&app, "ann@example.com").await;
    assert_eq!(mail.subject, "Confirm your email address");
    assert!(mail.link().starts_with("http://localhost:3000/verify-email?token="), "links from public_url");

    // wrong code first: refused, counted
    let res = b.post("/api/auth/verify-code", &[("email", "ann@example.com"), ("code", "000000")]).await;
    assert_eq!(res.status(), 400);
    let res = b.post("/api/auth/verify-code", &[("email", "ann@example.com"), ("code", &mail.code())]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "location"), "/account");
    assert_ne!(b.cookie.clone().unwrap(), pre_verification_cookie, "session id rotated at sign-in");
    assert_eq!(b.whoami().await.as_deref(), Some("ann@example.com"));

    // the pre-sign-in id stopped working
    let mut old = Browser::new(&app);
    old.cookie = Some(pre_verification_cookie);
    assert_eq!(old.whoami().await, None);

    // single use
    let res = b.post("/api/auth/verify-code", &[("email", "ann@example.com"), ("code", &mail.code())]).await;
    assert_eq!(res.status(), 400);

    // sign out ends the session on the server
    let cookie = b.cookie.clone().unwrap();
    let res = b.post("/logout", &[]).await;
    assert_eq!(res.status(), 200);
    let mut replay = Browser::new(&app);
    replay.cookie = Some(cookie);
    assert_eq!(replay.whoami().await, None);
    assert_eq!(audit_kinds(&app, "sign_out").await, 1);
    assert_eq!(app.get("/logout").await.status(), 405, "logout is POST only");

    // and back in with the password
    let mut b = Browser::new(&app);
    let res = b.post("/api/auth/login", &[("email", "ANN@example.com "), ("password", PASSWORD)]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "location"), "/account");
    assert_eq!(b.whoami().await.as_deref(), Some("ann@example.com"));
    let events = vestibule::db::audit::by_kind(&app.state.db.pool, "sign_in_succeeded", 10).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].ip.as_deref(), Some("192.0.2.10"));
    assert_eq!(events[0].user_agent.as_deref(), Some("it-browser"));
    assert!(events[0].operation_id.is_some());
}
both!(sign_up_and_sign_in, sign_up_verify_by_code_and_sign_in);

async fn a_link_opened_in_another_browser_verifies_without_signing_it_in(backend: Backend) {
    let app = app(backend).await;
    let mut b = Browser::new(&app);
    sign_up(&mut b, "bo@example.com", PASSWORD).await;
    let token = last_mail(&app, "bo@example.com").await.token();
    // opening the link changes nothing: the page asks for a click
    let page = app.get(&format!("/verify-email?token={token}")).await;
    assert_eq!(page.status(), 200);
    assert!(body_text(page).await.contains("Confirm my email address"));
    let mut phone = Browser::new(&app);
    let res = phone.post("/api/auth/verify-link", &[("token", &token)]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "location"), "/login?verified=1");
    assert_eq!(phone.whoami().await, None);
    let res = phone.post("/api/auth/verify-link", &[("token", &token)]).await;
    assert_eq!(res.status(), 400, "single use");
    let res = phone.post("/api/auth/login", &[("email", "bo@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(header(&res, "location"), "/account");
}
both!(link_in_other_browser, a_link_opened_in_another_browser_verifies_without_signing_it_in);

/// Sign-up with an address that has an account looks exactly like a new sign-up; the owner is told.
async fn sign_up_with_a_taken_address_looks_like_a_new_one(backend: Backend) {
    let app = app(backend).await;
    verified_account(&app, "cy@example.com").await;
    let mut fresh = Browser::new(&app);
    let new = sign_up(&mut fresh, "new@example.com", PASSWORD).await;
    let mut again = Browser::new(&app);
    let taken = sign_up(&mut again, "cy@example.com", PASSWORD).await;
    assert_eq!(new.status(), taken.status());
    assert_eq!(header(&new, "location"), header(&taken, "location"));
    assert_eq!(header(&new, "set-cookie").split('=').next(), header(&taken, "set-cookie").split('=').next());
    assert_eq!(body_text(new).await, body_text(taken).await);
    let last = last_mail(&app, "cy@example.com").await;
    assert_eq!(last.subject, "Someone tried to create an account with your address");
    let count: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM accounts WHERE email = 'cy@example.com'")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(count.0, 1);
}
both!(taken_address, sign_up_with_a_taken_address_looks_like_a_new_one);

/// Unknown address, wrong password, unverified and locked accounts: same status, body shape and cookies.
async fn sign_in_failures_are_indistinguishable(backend: Backend) {
    let app = app(backend).await;
    verified_account(&app, "dee@example.com").await;
    verified_account(&app, "locked@example.com").await;
    sqlx::query("UPDATE accounts SET status = 'locked' WHERE email = 'locked@example.com'")
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let mut b = Browser::new(&app);
    sign_up(&mut b, "unverified@example.com", PASSWORD).await;

    let cases = [
        ("nobody@example.com", PASSWORD),
        ("dee@example.com", "wrong password, long enough"),
        ("locked@example.com", PASSWORD),
        ("unverified@example.com", "wrong password, long enough"),
        ("not an email", PASSWORD),
    ];
    let mut seen = Vec::new();
    for (i, (email, password)) in cases.iter().enumerate() {
        let mut b = Browser::from_ip(&app, &format!("198.51.100.{i}"));
        let res = b.post("/api/auth/login", &[("email", email), ("password", password)]).await;
        let status = res.status();
        let cookie = header(&res, "set-cookie").split('=').next().unwrap_or("").to_string();
        let body: serde_json::Value = serde_json::from_str(&body_text(res).await).unwrap();
        seen.push((
            status,
            cookie,
            body["kind"].clone(),
            body.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()),
        ));
    }
    assert!(seen.iter().all(|s| s == &seen[0]), "{seen:#?}");
    assert_eq!(seen[0].0, 401);
    assert_eq!(audit_kinds(&app, "sign_in_failed").await, 5);
}
both!(indistinguishable_failures, sign_in_failures_are_indistinguishable);

/// Growing delays per address: after the free failures the next attempt is refused with a wait, even
/// with the right password; an unknown address is throttled the same way.
async fn repeated_failures_are_throttled_with_a_clear_wait(backend: Backend) {
    let app = app(backend).await;
    verified_account(&app, "eve@example.com").await;
    for email in ["eve@example.com", "ghost@example.com"] {
        // six failures through HTTP: the first five are free, so none of these is throttled
        for i in 0..6 {
            let mut b = Browser::from_ip(&app, &format!("203.0.113.{i}"));
            let res = b.post("/api/auth/login", &[("email", email), ("password", "wrong password, long enough")]).await;
            assert_eq!(res.status(), 401, "{email} attempt {i}");
        }
        // two more counted at this instant make the wait 8 s: long enough that the attempt below falls inside
        // it however slow the machine is (whole-second clocks make a 2 s wait too tight to assert)
        let keys = [vestibule::core::throttle::Key::email(email)];
        for _ in 0..2 {
            vestibule::core::throttle::record_failure(&app.state.db, &keys, vestibule::server::auth::now())
                .await
                .unwrap();
        }
        let mut b = Browser::from_ip(&app, "203.0.113.99");
        let res = b.post("/api/auth/login", &[("email", email), ("password", PASSWORD)]).await;
        assert_eq!(res.status(), 429, "{email}");
        let wait: i64 = header(&res, "retry-after").parse().unwrap();
        assert!((1..=8).contains(&wait), "{wait}");
        let err: vestibule::error::AppError = serde_json::from_str(&body_text(res).await).unwrap();
        assert_eq!(err.message(), format!("Too many attempts. Try again in {wait} seconds."));
    }
    // the wait passes (time is a parameter in the core): the right password works again
    let deps = app.state.deps();
    let later = vestibule::server::auth::now() + 9;
    let input = flows::LoginInput { email: "eve@example.com", password: PASSWORD };
    let outcome = flows::login(&deps, &input, &RequestMeta::default(), later, &mut rand::rng()).await;
    assert!(matches!(outcome, Ok(flows::LoginOutcome::SignedIn { .. })), "{outcome:?}");
}
both!(throttling, repeated_failures_are_throttled_with_a_clear_wait);

/// 50 wrong guesses at once: every one is counted or refused, none slips through uncounted.
async fn parallel_wrong_guesses_all_count(backend: Backend) {
    // enough hashing slots that no guess is turned away as "busy" before it is evaluated
    let app = app_with(backend, |c| c.argon2.max_concurrent = 64, axum::Router::new()).await;
    verified_account(&app, "par@example.com").await;
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let router = app.router.clone();
            tokio::spawn(async move {
                let body = "email=par%40example.com&password=wrong+password%2C+long+enough";
                let mut req = http::Request::post("/api/auth/login")
                    .header("origin", "http://localhost:3000")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(axum::body::Body::from(body))
                    .unwrap();
                let ip: std::net::SocketAddr = format!("10.1.{}.{}:1", i / 250, i % 250).parse().unwrap();
                req.extensions_mut().insert(axum::extract::ConnectInfo(ip));
                tower::ServiceExt::oneshot(router, req).await.unwrap().status().as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    let failed = statuses.iter().filter(|s| **s == 401).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(failed + throttled, 50, "{statuses:?}");
    let counted = vestibule::db::throttle::get(&app.state.db.pool, "email:par@example.com").await.unwrap().unwrap().0;
    assert_eq!(counted as usize, failed, "every wrong password counted");
    assert_eq!(audit_kinds(&app, "sign_in_failed").await, failed);
    assert_eq!(audit_kinds(&app, "sign_in_throttled").await, throttled);
}
both!(parallel_guesses, parallel_wrong_guesses_all_count);

/// Someone signs up with your address first and never verifies; you sign up and verify in your browser:
/// their password and sessions are gone.
async fn verifying_your_own_sign_up_removes_a_squatters_password_and_sessions(backend: Backend) {
    let app = app_with(backend, |c| c.accounts.require_verified_email = false, axum::Router::new()).await;
    let mut attacker = Browser::from_ip(&app, "198.51.100.66");
    sign_up(&mut attacker, "vic@example.com", "attacker chosen password 99").await;
    let res = attacker
        .post("/api/auth/login", &[("email", "vic@example.com"), ("password", "attacker chosen password 99")])
        .await;
    assert_eq!(header(&res, "location"), "/account");
    assert_eq!(attacker.whoami().await.as_deref(), Some("vic@example.com"));

    let mut victim = Browser::new(&app);
    sign_up(&mut victim, "vic@example.com", PASSWORD).await;
    let code = last_mail(&app, "vic@example.com").await.code();
    let res = victim.post("/api/auth/verify-code", &[("email", "vic@example.com"), ("code", &code)]).await;
    assert_eq!(header(&res, "location"), "/account");
    assert_eq!(victim.whoami().await.as_deref(), Some("vic@example.com"));

    assert_eq!(attacker.whoami().await, None, "squatter's session ended");
    let mut again = Browser::from_ip(&app, "198.51.100.67");
    let res = again
        .post("/api/auth/login", &[("email", "vic@example.com"), ("password", "attacker chosen password 99")])
        .await;
    assert_eq!(res.status(), 401, "squatter's password removed");
    assert_eq!(audit_kinds(&app, "pre_hijack_defence").await, 1);
}
both!(pre_hijack, verifying_your_own_sign_up_removes_a_squatters_password_and_sessions);

/// The reverse: a second sign-up's message (which would set its password) does nothing when opened
/// outside the browser that asked for it.
async fn a_password_setting_message_works_only_in_the_browser_that_asked(backend: Backend) {
    let app = app(backend).await;
    let mut owner = Browser::new(&app);
    sign_up(&mut owner, "fay@example.com", PASSWORD).await;
    let mut attacker = Browser::from_ip(&app, "198.51.100.70");
    sign_up(&mut attacker, "fay@example.com", "attacker chosen password 77").await;
    let mails = mails_to(&app, "fay@example.com").await;
    assert_eq!(mails.len(), 2);
    // the owner clicks the newest message (triggered by the attacker) in their own browser
    let res = owner.post("/api/auth/verify-link", &[("token", &mails[1].token())]).await;
    assert_eq!(res.status(), 400);
    assert!(body_text(res).await.contains("wrong_browser"));
    // and the first message was voided by the second
    let res = owner.post("/api/auth/verify-link", &[("token", &mails[0].token())]).await;
    assert_eq!(res.status(), 400);
    let row: (Option<i64>,) = sqlx::query_as("SELECT email_verified_at FROM accounts WHERE email = 'fay@example.com'")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(row.0, None, "nothing verified, no password set");
}
both!(wrong_browser, a_password_setting_message_works_only_in_the_browser_that_asked);

/// Codes: at most 5 tries per message, 15 minutes (time is a parameter), voided by a newer message.
async fn codes_expire_run_out_of_attempts_and_are_voided_by_newer_ones(backend: Backend) {
    let app = app(backend).await;
    let deps = app.state.deps();
    let meta = RequestMeta::default();
    let mut b = Browser::new(&app);

    sign_up(&mut b, "gus@example.com", PASSWORD).await;
    let code = last_mail(&app, "gus@example.com").await.code();
    let late = vestibule::server::auth::now() + 15 * 60 + 5;
    let r = flows::verify_code(&deps, "gus@example.com", &code, None, &meta, late).await;
    assert!(matches!(r, Err(flows::AccountError::InvalidCode)), "expired after 15 minutes");

    sign_up(&mut b, "hal@example.com", PASSWORD).await;
    let code = last_mail(&app, "hal@example.com").await.code();
    for _ in 0..5 {
        let wrong = if code == "111111" { "222222" } else { "111111" };
        let res = b.post("/api/auth/verify-code", &[("email", "hal@example.com"), ("code", wrong)]).await;
        assert_eq!(res.status(), 400);
    }
    let res = b.post("/api/auth/verify-code", &[("email", "hal@example.com"), ("code", &code)]).await;
    assert_eq!(res.status(), 400, "the right code after 5 wrong ones is refused");

    sign_up(&mut b, "ida@example.com", PASSWORD).await;
    let first = last_mail(&app, "ida@example.com").await.code();
    let res = b.post("/api/auth/resend", &[("email", "ida@example.com")]).await;
    assert_eq!(res.status(), 200);
    let second = last_mail(&app, "ida@example.com").await.code();
    if first != second {
        let res = b.post("/api/auth/verify-code", &[("email", "ida@example.com"), ("code", &first)]).await;
        assert_eq!(res.status(), 400, "older code voided");
    }
    let res = b.post("/api/auth/resend", &[("email", "ida@example.com")]).await;
    assert_eq!(res.status(), 429, "resend cooldown");
    let res = b.post("/api/auth/verify-code", &[("email", "ida@example.com"), ("code", &second)]).await;
    assert_eq!(res.status(), 200);
}
both!(code_rules, codes_expire_run_out_of_attempts_and_are_voided_by_newer_ones);

/// Password rules with reasons; absurd input refused before hashing.
async fn weak_passwords_are_refused_with_reasons(backend: Backend) {
    let app = app(backend).await;
    let mut b = Browser::new(&app);
    let long = "x".repeat(2000);
    for (password, reason) in [
        ("short one", "at least 15 characters"),
        ("1qaz2wsx3edc4rfv", "common passwords"),
        ("jo.smith likes long walks", "before the @"),
        ("my vestibule account key", "Vestibule"),
        (long.as_str(), "too long"),
    ] {
        let res = sign_up(&mut b, "jo.smith@example.com", password).await;
        assert_eq!(res.status(), 422, "{password}");
        let body = body_text(res).await;
        assert!(body.contains(reason), "{password}: {body}");
    }
    assert!(mails_to(&app, "jo.smith@example.com").await.is_empty());
    let accounts: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM accounts").fetch_one(&app.state.db.pool).await.unwrap();
    assert_eq!(accounts.0, 0);
}
both!(password_rules, weak_passwords_are_refused_with_reasons);

/// Without JavaScript: errors come back to the form through the flash, success redirects with 302.
async fn plain_form_posts_redirect_and_carry_errors_back(backend: Backend) {
    let app = app(backend).await;
    let mut b = Browser::new(&app);
    let res = b
        .post_html("/api/auth/login", &[("email", "kim@example.com"), ("password", "nope nope nope nope")], "/login")
        .await;
    assert_eq!(res.status(), 302);
    assert!(header(&res, "location").starts_with("http://localhost:3000/login"), "back to the form");
    let page = b.get("/login").await;
    let html = body_text(page).await;
    assert!(html.contains("do not match an account"), "error shown on the form");
    assert!(html.contains("value=\"kim@example.com\""), "email kept");
    let again = body_text(b.get("/login").await).await;
    assert!(!again.contains("do not match an account"), "flash shown once");

    let res = b
        .post_html(
            "/api/auth/signup",
            &[("email", "kim@example.com"), ("password", PASSWORD), ("display_name", "Kim")],
            "/signup",
        )
        .await;
    assert_eq!(res.status(), 302);
    assert_eq!(header(&res, "location"), "/verify-email");
    let html = body_text(b.get("/verify-email").await).await;
    assert!(html.contains("kim@example.com"));
}
both!(no_js_forms, plain_form_posts_redirect_and_carry_errors_back);

/// /account needs a signed-in session.
async fn account_page_requires_sign_in(backend: Backend) {
    let app = app(backend).await;
    let res = app.get("/account").await;
    assert_eq!(res.status(), 302);
    assert_eq!(header(&res, "location"), "/login");
}
both!(account_requires_sign_in, account_page_requires_sign_in);

/// Links in mail come from the configured public URL, whatever Host or X-Forwarded-Host say.
async fn mail_links_ignore_the_host_header(backend: Backend) {
    let app = app(backend).await;
    let body = format!("email=host%40example.com&password={}&display_name=", PASSWORD.replace(' ', "+"));
    let req = http::Request::post("/api/auth/signup")
        .header("origin", "http://localhost:3000")
        .header("host", "evil.example")
        .header("x-forwarded-host", "evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(body))
        .unwrap();
    assert_eq!(app.send(req).await.status(), 200);
    let mail = last_mail(&app, "host@example.com").await;
    assert!(mail.link().starts_with("http://localhost:3000/verify-email?token="), "{}", mail.link());
    assert!(!mail.text.contains("evil.example"));
}
both!(host_header, mail_links_ignore_the_host_header);

/// A sign-in after the argon2 parameters were raised stores a new hash with the new parameters.
async fn passwords_are_rehashed_when_parameters_change(backend: Backend) {
    let first = app(backend).await;
    verified_account(&first, "rex@example.com").await;
    let url = first.state.config.database_url.clone();
    let stronger = app_with(
        backend,
        move |c| {
            c.database_url = Some(url);
            c.argon2.iterations = 3;
        },
        axum::Router::new(),
    )
    .await;
    let mut b = Browser::new(&stronger);
    let res = b.post("/api/auth/login", &[("email", "rex@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(header(&res, "location"), "/account");
    let hash: (String,) = sqlx::query_as("SELECT password_hash FROM accounts WHERE email = 'rex@example.com'")
        .fetch_one(&stronger.state.db.pool)
        .await
        .unwrap();
    assert!(hash.0.starts_with("$argon2id$v=19$m=19456,t=3,p=1$"), "{}", hash.0);
    assert_eq!(audit_kinds(&stronger, "password_rehashed").await, 1);
}
both!(rehash, passwords_are_rehashed_when_parameters_change);

/// The right password on an unconfirmed address continues into verification (by default) with a fresh
/// code, and the code then signs this browser in.
async fn sign_in_to_an_unverified_account_continues_into_verification(backend: Backend) {
    let app = app(backend).await;
    let mut first = Browser::new(&app);
    sign_up(&mut first, "uma@example.com", PASSWORD).await;
    let mut b = Browser::new(&app);
    let res = b.post("/api/auth/login", &[("email", "uma@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "location"), "/verify-email");
    assert_eq!(b.whoami().await, None, "not signed in yet");
    let mails = mails_to(&app, "uma@example.com").await;
    assert_eq!(mails.len(), 2, "a fresh message was sent");
    let res = b.post("/api/auth/verify-code", &[("email", "uma@example.com"), ("code", &mails[1].code())]).await;
    assert_eq!(header(&res, "location"), "/account");
    assert_eq!(b.whoami().await.as_deref(), Some("uma@example.com"));

    // with require_verified_email = false the same sign-in completes at once
    let relaxed = app_with(backend, |c| c.accounts.require_verified_email = false, axum::Router::new()).await;
    let mut s = Browser::new(&relaxed);
    sign_up(&mut s, "val@example.com", PASSWORD).await;
    let res = s.post("/api/auth/login", &[("email", "val@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(header(&res, "location"), "/account");
}
both!(unverified_sign_in, sign_in_to_an_unverified_account_continues_into_verification);

/// Behind a trusted proxy (one address, or any in a CIDR range) the client IP comes from X-Forwarded-For;
/// from anyone else the header is ignored. IPv4 peers of a dual-stack listener count as IPv4.
async fn client_ip_is_taken_from_trusted_proxies_only(backend: Backend) {
    let proxies = vec!["192.0.2.10".into(), "10.0.0.0/8".into()];
    let app = app_with(backend, |c| c.trusted_proxies = proxies, axum::Router::new()).await;
    let cases = [
        ("192.0.2.10", "198.51.100.77"),
        ("192.0.2.11", "192.0.2.11"),
        ("10.20.30.40", "198.51.100.77"),
        ("[::ffff:10.20.30.40]", "198.51.100.77"),
        ("[::ffff:192.0.2.11]", "192.0.2.11"),
        ("11.0.0.1", "11.0.0.1"),
    ];
    for (i, (peer, expected)) in cases.into_iter().enumerate() {
        // a new address each time: the per-account throttle must not answer instead
        let form = format!("email=ip{i}%40example.com&password=wrong+password+long+enough");
        let mut req = http::Request::post("/api/auth/login")
            .header("origin", "http://localhost:3000")
            .header("x-forwarded-for", "6.6.6.6, 198.51.100.77")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(axum::body::Body::from(form))
            .unwrap();
        let addr: std::net::SocketAddr = format!("{peer}:1").parse().unwrap();
        req.extensions_mut().insert(axum::extract::ConnectInfo(addr));
        assert_eq!(app.send(req).await.status(), 401);
        let events = vestibule::db::audit::by_kind(&app.state.db.pool, "sign_in_failed", 1).await.unwrap();
        assert_eq!(events[0].ip.as_deref(), Some(expected), "peer {peer}");
    }
}
both!(trusted_proxies, client_ip_is_taken_from_trusted_proxies_only);
