//! Second factors through the real router (security.md "MFA and passkeys"): setting up an authenticator
//! app, the second-factor step of a sign-in, TOTP window edges and replay, recovery codes, the
//! half-signed-in session on every route, the `required` policy, and the second factor's own throttle
//! budget; on SQLite and PostgreSQL.
//!
//! TOTP codes are computed here from RFC 6238 by hand (HMAC-SHA-1, dynamic truncation), not with the
//! totp-rs crate the server uses, so a mistake shared by both cannot hide.

use std::collections::HashSet;

use axum::body::Body;
use hmac::{Hmac, Mac};
use http::{Method, Response};
use sha1::Sha1;

use crate::accounts::{verified_account, PASSWORD};
use crate::both;
use crate::support::{app, app_with, body_text, header, mails_to, Backend, Browser, TestApp};
use vestibule::core::audit::RequestMeta;
use vestibule::core::mfa::{totp, MfaError};
use vestibule::error::{AppError, ErrorKind};
use vestibule::server::auth::now;
use vestibule::server::config::MfaPolicy;
use vestibule::types::{SecurityPageState, TotpView};

// ---- RFC 6238 by hand ----

const STEP: i64 = 30;

/// RFC 4648 base32 (upper case, padding optional), as authenticator apps read the key.
fn base32_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut buffer, mut bits, mut out) = (0u32, 0u32, Vec::new());
    for c in text.trim_end_matches('=').chars() {
        let value = ALPHABET.find(c.to_ascii_uppercase()).unwrap_or_else(|| panic!("not base32: {c:?} in {text}"));
        buffer = (buffer << 5) | u32::try_from(value).unwrap();
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((buffer >> bits) & 0xff).unwrap());
            buffer &= (1 << bits) - 1;
        }
    }
    out
}

/// RFC 4226 HOTP: HMAC-SHA-1 of the counter, dynamic truncation, `digits` decimal digits.
fn hotp(key: &[u8], counter: u64, digits: u32) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(key).unwrap();
    mac.update(&counter.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = usize::from(hash[19] & 0x0f);
    let binary = u32::from_be_bytes([hash[offset] & 0x7f, hash[offset + 1], hash[offset + 2], hash[offset + 3]]);
    format!("{:0width$}", binary % 10u32.pow(digits), width = digits as usize)
}

/// The 6-digit code of 30-second `step` for a base32 key.
fn code_at(secret: &str, step: i64) -> String {
    hotp(&base32_decode(secret), u64::try_from(step).unwrap(), 6)
}

fn step_now() -> i64 {
    now().div_euclid(STEP)
}

/// A code valid for no step near now (a real wrong guess, not a lucky neighbour).
pub(crate) fn wrong_code(secret: &str) -> String {
    let current = step_now();
    let valid: HashSet<String> = (current - 3..=current + 3).map(|s| code_at(secret, s)).collect();
    (0..).map(|n: u32| format!("{:06}", (n * 7919) % 1_000_000)).find(|c| !valid.contains(c)).unwrap()
}

#[test]
fn the_hand_made_totp_matches_rfc_6238() {
    // RFC 6238 appendix B, SHA-1, key "12345678901234567890" (base32 below), 8 digits
    let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    assert_eq!(base32_decode(secret), b"12345678901234567890");
    assert_eq!(hotp(&base32_decode(secret), 59 / 30, 8), "94287082");
    assert_eq!(hotp(&base32_decode(secret), 1_111_111_109 / 30, 8), "07081804");
    assert_eq!(hotp(&base32_decode(secret), 1_234_567_890 / 30, 8), "89005924");
    assert_eq!(code_at(secret, 59 / 30), "287082", "the 6-digit code is the last six digits");
}

/// The user's authenticator app: the key, and the last step it showed a code for. The server accepts a code
/// once and only for a later step than the last, and uses the wall clock, so `next_code` picks the current
/// step, or the next one when the current was used (still inside the server's ±1 window).
pub(crate) struct AuthenticatorApp {
    pub(crate) secret: String,
    pub(crate) last: Option<i64>,
}

impl AuthenticatorApp {
    pub(crate) fn new(secret: String) -> Self {
        Self { secret, last: None }
    }

    /// A code the server accepts now (and then never again).
    pub(crate) fn next_code(&mut self) -> String {
        let current = step_now();
        let step = match self.last {
            Some(last) if last >= current => last + 1,
            _ => current,
        };
        // step + 1 is the furthest the server's window reaches; further would need waiting (no sleeps here)
        assert!(step <= current + 1, "more than two codes asked for within one 30 s step");
        self.last = Some(step);
        code_at(&self.secret, step)
    }

    /// The code a fresh step would give, without using it up (for requests that must refuse it anyway).
    pub(crate) fn peek_code(&self) -> String {
        code_at(&self.secret, self.last.map_or(step_now(), |l| (l + 1).max(step_now())))
    }
}

// ---- HTTP helpers ----

/// The status and error kind of a refused call.
pub(crate) async fn refusal(res: Response<Body>) -> (u16, ErrorKind) {
    let status = res.status().as_u16();
    let body = body_text(res).await;
    let err: AppError = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {status} {body}"));
    (status, err.kind)
}

/// A successful form post's redirect target.
pub(crate) async fn redirected_to(res: Response<Body>) -> String {
    let status = res.status();
    let location = header(&res, "location").to_string();
    assert_eq!(status, 200, "{}", body_text(res).await);
    location
}

/// The security page's state as the page loads it, and the raw JSON it came in.
pub(crate) async fn security_raw(b: &mut Browser<'_>) -> (Option<SecurityPageState>, String) {
    let res = b.post("/api/account/security", &[]).await;
    assert_eq!(res.status(), 200);
    let body = body_text(res).await;
    (serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}")), body)
}

pub(crate) async fn security(b: &mut Browser<'_>) -> SecurityPageState {
    security_raw(b).await.0.expect("signed in")
}

fn pending_secret(state: &SecurityPageState) -> String {
    match &state.mfa.totp {
        TotpView::Pending { secret, .. } => secret.clone(),
        other => panic!("no enrolment pending: {other:?}"),
    }
}

pub(crate) async fn account_id(app: &TestApp, email: &str) -> String {
    vestibule::db::accounts::find_by_email(&app.state.db.pool, email).await.unwrap().expect("the account").id
}

/// Posts the password; returns the browser and where the answer points.
pub(crate) async fn password_sign_in<'a>(app: &'a TestApp, email: &str) -> (Browser<'a>, String) {
    let mut b = Browser::new(app);
    let res = b.post("/api/auth/login", &[("email", email), ("password", PASSWORD)]).await;
    let next = redirected_to(res).await;
    (b, next)
}

/// A browser at the second-factor step of `email`'s sign-in.
pub(crate) async fn at_second_factor<'a>(app: &'a TestApp, email: &str) -> Browser<'a> {
    let (b, next) = password_sign_in(app, email).await;
    assert_eq!(next, "/login/second-factor");
    b
}

/// Sets up an authenticator app in the signed-in browser `b`; returns the app and the recovery codes.
pub(crate) async fn enrol(b: &mut Browser<'_>) -> (AuthenticatorApp, Vec<String>) {
    assert_eq!(redirected_to(b.post("/api/mfa/totp-start", &[]).await).await, "/account/security#totp");
    let mut app = AuthenticatorApp::new(pending_secret(&security(b).await));
    let code = app.next_code();
    assert_eq!(
        redirected_to(b.post("/api/mfa/totp-confirm", &[("code", &code)]).await).await,
        "/account/security#recovery"
    );
    let codes = security(b).await.mfa.new_recovery_codes;
    assert_eq!(codes.len(), 10);
    (app, codes)
}

/// A verified account with an authenticator app and recovery codes; signed out.
pub(crate) async fn enrolled_account(app: &TestApp, email: &str) -> (AuthenticatorApp, Vec<String>) {
    verified_account(app, email).await;
    let (mut b, next) = password_sign_in(app, email).await;
    assert_eq!(next, "/account");
    let enrolled = enrol(&mut b).await;
    assert_eq!(b.post("/logout", &[]).await.status(), 200);
    enrolled
}

pub(crate) async fn audit(app: &TestApp, kind: &str) -> Vec<vestibule::db::audit::AuditRow> {
    vestibule::db::audit::by_kind(&app.state.db.pool, kind, 10_000).await.unwrap()
}

// ---- 1. setting up an app ----

async fn an_app_is_set_up_with_its_first_code_and_brings_ten_recovery_codes_shown_once(backend: Backend) {
    let app = app(backend).await;
    let email = "ida@example.com";
    verified_account(&app, email).await;
    let (mut b, next) = password_sign_in(&app, email).await;
    assert_eq!(next, "/account", "no factor yet: a password signs in");
    assert_eq!(security(&mut b).await.mfa.totp, TotpView::Off);

    assert_eq!(redirected_to(b.post("/api/mfa/totp-start", &[]).await).await, "/account/security#totp");
    let pending = security(&mut b).await;
    let secret = pending_secret(&pending);
    assert_eq!(base32_decode(&secret).len(), 20, "a 160-bit key: {secret}");
    let TotpView::Pending { qr_svg_data_uri, .. } = &pending.mfa.totp else { unreachable!() };
    assert!(qr_svg_data_uri.starts_with("data:image/svg+xml;base64,"), "{qr_svg_data_uri}");
    assert!(pending.mfa.new_recovery_codes.is_empty());

    // a wrong code is refused and the enrolment waits on, with the same key
    let res = b.post("/api/mfa/totp-confirm", &[("code", &wrong_code(&secret))]).await;
    assert_eq!(refusal(res).await, (400, ErrorKind::InvalidSecondFactorCode));
    assert_eq!(pending_secret(&security(&mut b).await), secret);

    let mails_before = mails_to(&app, email).await.len();
    let mut authenticator = AuthenticatorApp::new(secret.clone());
    let res = b.post("/api/mfa/totp-confirm", &[("code", &authenticator.next_code())]).await;
    assert_eq!(redirected_to(res).await, "/account/security#recovery");
    assert_eq!(mails_to(&app, email).await.len(), mails_before + 1, "the owner is told");

    // shown once: ten distinct codes in the next state, none in the one after
    let (state, raw) = security_raw(&mut b).await;
    let state = state.unwrap();
    assert_eq!(state.mfa.totp, TotpView::On);
    assert_eq!(state.mfa.recovery_codes_left, 10);
    let codes = state.mfa.new_recovery_codes;
    assert_eq!(codes.len(), 10);
    assert_eq!(codes.iter().collect::<HashSet<_>>().len(), 10, "{codes:?}");
    for code in &codes {
        let groups: Vec<&str> = code.split('-').collect();
        assert!(groups.len() == 3 && groups.iter().all(|g| g.len() == 4), "{code}");
    }
    assert!(!raw.contains(&secret), "the key is never shown after confirmation");

    let (state, raw) = security_raw(&mut b).await;
    let state = state.unwrap();
    assert!(state.mfa.new_recovery_codes.is_empty());
    assert_eq!(state.mfa.recovery_codes_left, 10);
    assert_eq!(state.mfa.totp, TotpView::On);
    assert!(!raw.contains(&secret) && !raw.contains(&codes[0]));

    // a second app cannot replace the first behind its back
    assert_eq!(refusal(b.post("/api/mfa/totp-start", &[]).await).await, (409, ErrorKind::AlreadySetUp));
    assert_eq!(audit(&app, "totp_added").await.len(), 1);
}
both!(totp_enrolment, an_app_is_set_up_with_its_first_code_and_brings_ten_recovery_codes_shown_once);

/// Moves an account's set-up back in time by `secs`.
async fn age_enrolment(app: &TestApp, email: &str, secs: i64) {
    sqlx::query("UPDATE totp_factors SET created_at = created_at - $1 WHERE account_id = (SELECT id FROM accounts WHERE email = $2)")
        .bind(secs)
        .bind(email)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
}

async fn pending_setups(app: &TestApp) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM totp_factors WHERE confirmed_at IS NULL")
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap();
    n
}

async fn a_setup_waits_an_hour_for_its_first_code_then_is_refused_and_purged(backend: Backend) {
    let app = app(backend).await;
    let (late, recent) = ("late@example.com", "recent@example.com");
    verified_account(&app, late).await;
    verified_account(&app, recent).await;
    let (mut b, _) = password_sign_in(&app, late).await;
    let (mut r, _) = password_sign_in(&app, recent).await;
    assert_eq!(redirected_to(b.post("/api/mfa/totp-start", &[]).await).await, "/account/security#totp");
    assert_eq!(redirected_to(r.post("/api/mfa/totp-start", &[]).await).await, "/account/security#totp");
    let old_secret = pending_secret(&security(&mut b).await);

    // a minute short of the hour it still waits; at the hour the page offers a new start and the old key
    // is refused
    age_enrolment(&app, late, totp::ENROLMENT_TTL_SECS - 60).await;
    assert_eq!(pending_secret(&security(&mut b).await), old_secret);
    age_enrolment(&app, late, 60).await;
    assert_eq!(security(&mut b).await.mfa.totp, TotpView::Off);
    let code = AuthenticatorApp::new(old_secret.clone()).next_code();
    let res = b.post("/api/mfa/totp-confirm", &[("code", &code)]).await;
    assert_eq!(refusal(res).await, (400, ErrorKind::TotpSetupNotWaiting));
    assert!(audit(&app, "totp_added").await.is_empty());

    // the purge deletes the old set-up only: the other account's recent one and confirmed apps stay
    let mut done = AuthenticatorApp::new(pending_secret(&security(&mut r).await));
    let res = r.post("/api/mfa/totp-confirm", &[("code", &done.next_code())]).await;
    assert_eq!(redirected_to(res).await, "/account/security#recovery");
    let third = "third@example.com";
    verified_account(&app, third).await;
    let (mut t, _) = password_sign_in(&app, third).await;
    assert_eq!(redirected_to(t.post("/api/mfa/totp-start", &[]).await).await, "/account/security#totp");
    assert_eq!(pending_setups(&app).await, 2);
    assert_eq!(totp::drop_abandoned_enrolments(&app.state.db, now()).await.unwrap(), 1);
    assert_eq!(pending_setups(&app).await, 1, "the third account's set-up waits on");
    assert_eq!(security(&mut r).await.mfa.totp, TotpView::On);
    assert_eq!(totp::drop_abandoned_enrolments(&app.state.db, now()).await.unwrap(), 0);

    // starting again gives a new key, which works
    assert_eq!(redirected_to(b.post("/api/mfa/totp-start", &[]).await).await, "/account/security#totp");
    let new_secret = pending_secret(&security(&mut b).await);
    assert_ne!(new_secret, old_secret);
    let res = b.post("/api/mfa/totp-confirm", &[("code", &AuthenticatorApp::new(new_secret).next_code())]).await;
    assert_eq!(redirected_to(res).await, "/account/security#recovery");
}
both!(totp_setup_expires, a_setup_waits_an_hour_for_its_first_code_then_is_refused_and_purged);

// ---- 2. signing in with the app ----

async fn a_password_leads_to_the_second_factor_step_and_a_code_works_once(backend: Backend) {
    let app = app(backend).await;
    let email = "jo@example.com";
    let (mut authenticator, _) = enrolled_account(&app, email).await;

    let mut b = at_second_factor(&app, email).await;
    // half signed in: nothing of the account, protected calls refused
    assert_eq!(security_raw(&mut b).await.1, "null");
    assert_eq!(b.whoami().await, None);
    for path in ["/api/mfa/totp-start", "/api/mfa/recovery-regenerate", "/api/passkeys/add-start"] {
        assert_eq!(refusal(b.post(path, &[]).await).await, (401, ErrorKind::SignInRequired), "{path}");
    }
    let res = b.post("/api/account/confirm-password", &[("password", PASSWORD)]).await;
    assert_eq!(refusal(res).await, (401, ErrorKind::SignInRequired));
    let res = b.post("/api/mfa/second-factor-state", &[]).await;
    let step: serde_json::Value = serde_json::from_str(&body_text(res).await).unwrap();
    assert_eq!((step["totp"].as_bool(), step["recovery_codes"].as_bool()), (Some(true), Some(true)));

    let half_cookie = b.cookie.clone().unwrap();
    let code = authenticator.next_code();
    assert_eq!(redirected_to(b.post("/api/mfa/sign-in-totp", &[("code", &code)]).await).await, "/account");
    assert_ne!(b.cookie.clone().unwrap(), half_cookie, "the session id rotates when the sign-in completes");
    assert_eq!(b.whoami().await.as_deref(), Some(email));
    assert_eq!(security(&mut b).await.email, email);
    assert_eq!(audit(&app, "second_factor_passed").await.len(), 1);

    // the same code in a fresh sign-in: refused, still half signed in
    assert_eq!(b.post("/logout", &[]).await.status(), 200);
    let mut again = at_second_factor(&app, email).await;
    let res = again.post("/api/mfa/sign-in-totp", &[("code", &code)]).await;
    assert_eq!(refusal(res).await, (400, ErrorKind::InvalidSecondFactorCode));
    assert_eq!(again.whoami().await, None);
    // when the code's step is still inside the window, the refusal is the replay check, not the clock
    if step_now() <= authenticator.last.unwrap() + 1 {
        let failed = audit(&app, "second_factor_failed").await;
        assert_eq!(failed.len(), 1);
        assert!(failed[0].detail.as_deref().unwrap_or("").contains("replayed"), "{:?}", failed[0].detail);
    }
}
both!(totp_sign_in, a_password_leads_to_the_second_factor_step_and_a_code_works_once);

// ---- 3. window edges, through the time parameter ----

/// `totp::verify` at a chosen time (the core takes the clock as a parameter).
async fn verify_at(app: &TestApp, id: &str, email: &str, code: String, now: i64) -> Result<(), MfaError> {
    totp::verify(&app.state.deps(), id, email, &code, &RequestMeta::default(), now).await
}

async fn last_used_step(app: &TestApp, id: &str) -> Option<i64> {
    vestibule::db::mfa::totp_for_account(&app.state.db.pool, id).await.unwrap().expect("an app").last_used_step
}

async fn codes_are_accepted_one_step_either_side_once_and_only_in_increasing_order(backend: Backend) {
    let app = app(backend).await;
    let email = "kai@example.com";
    verified_account(&app, email).await;
    let id = account_id(&app, email).await;
    let deps = app.state.deps();
    let meta = RequestMeta::default();
    let s = 63_333_334; // a step in 2030
    let t = s * STEP + 15; // halfway through it

    // enrolled ten steps earlier, so every step around `s` is later than the last accepted one
    let t0 = t - 10 * STEP;
    totp::start_enrolment(&deps, &id, t0, &mut rand::rng()).await.unwrap();
    let secret = totp::pending_enrolment(&deps, &id, email, now()).await.unwrap().expect("pending").secret;
    let code = |step: i64| code_at(&secret, step);
    let confirmed = totp::confirm_enrolment(&deps, &id, email, &code(s - 10), &meta, t0, &mut rand::rng()).await;
    assert_eq!(confirmed.unwrap().1.map(|c| c.len()), Some(10));

    let verify = |code: String, now: i64| verify_at(&app, &id, email, code, now);
    let refused = |r: Result<(), MfaError>| matches!(r, Err(MfaError::InvalidCode));
    let last_used = || last_used_step(&app, &id);
    assert_eq!(last_used().await, Some(s - 10));

    // two steps away on either side: outside the window
    assert!(refused(verify(code(s - 2), t).await));
    assert!(refused(verify(code(s + 2), t).await));
    // the step before, then again (replay)
    verify(code(s - 1), t).await.unwrap();
    assert!(refused(verify(code(s - 1), t).await));
    // the current step; after it, the step before is refused although it is inside the window
    verify(code(s), t).await.unwrap();
    assert!(refused(verify(code(s - 1), t).await));
    assert!(refused(verify(code(s), t).await));
    // the step after; then nothing up to it works any more
    verify(code(s + 1), t).await.unwrap();
    assert_eq!(last_used().await, Some(s + 1));
    for step in [s - 1, s, s + 1] {
        assert!(refused(verify(code(step), t).await), "step {step}");
    }
    // the edges fall on step boundaries, whatever the second within the step
    let start = |step: i64| step * STEP;
    assert!(refused(verify(code(s + 2), start(s + 1) - 1).await), "last second of s: s+2 is two ahead");
    verify(code(s + 2), start(s + 1)).await.unwrap(); // first second of s+1: one ahead
    verify(code(s + 3), start(s + 5) - 1).await.unwrap(); // last second of s+4: one behind
    assert!(refused(verify(code(s + 4), start(s + 6)).await), "first second of s+6: s+4 is two behind");
    assert_eq!(last_used().await, Some(s + 3));
    let failed = audit(&app, "second_factor_failed").await;
    assert!(failed.iter().any(|e| e.detail.as_deref().unwrap_or("").contains("replayed")));
    assert!(failed.iter().any(|e| e.detail.as_deref().unwrap_or("").contains("wrong")));
}
both!(totp_window, codes_are_accepted_one_step_either_side_once_and_only_in_increasing_order);

// ---- 4. recovery codes ----

async fn a_recovery_code_signs_in_once_and_a_new_set_voids_the_old(backend: Backend) {
    let app = app(backend).await;
    let email = "lee@example.com";
    let (_, old_codes) = enrolled_account(&app, email).await;

    let mut b = at_second_factor(&app, email).await;
    let res = b.post("/api/mfa/sign-in-recovery", &[("code", &old_codes[0])]).await;
    assert_eq!(redirected_to(res).await, "/account/security?recovery_used=1");
    assert_eq!(b.whoami().await.as_deref(), Some(email));
    assert_eq!(security(&mut b).await.mfa.recovery_codes_left, 9);
    assert_eq!(b.post("/logout", &[]).await.status(), 200);

    // used: refused, still half signed in
    let mut b = at_second_factor(&app, email).await;
    let res = b.post("/api/mfa/sign-in-recovery", &[("code", &old_codes[0])]).await;
    assert_eq!(refusal(res).await, (400, ErrorKind::InvalidSecondFactorCode));
    assert_eq!(b.whoami().await, None);
    // another one, typed in lower case without dashes, works
    let typed = old_codes[1].replace('-', "").to_lowercase();
    assert_eq!(
        redirected_to(b.post("/api/mfa/sign-in-recovery", &[("code", &typed)]).await).await,
        "/account/security?recovery_used=1"
    );

    // just signed in: recent enough to replace the set without confirming again
    let res = b.post("/api/mfa/recovery-regenerate", &[]).await;
    assert_eq!(redirected_to(res).await, "/account/security#recovery");
    let state = security(&mut b).await;
    let new_codes = state.mfa.new_recovery_codes;
    assert_eq!(new_codes.len(), 10);
    assert_eq!(new_codes.iter().collect::<HashSet<_>>().len(), 10);
    assert!(new_codes.iter().all(|c| !old_codes.contains(c)), "{new_codes:?} vs {old_codes:?}");
    assert_eq!(state.mfa.recovery_codes_left, 10);
    assert!(mails_to(&app, email).await.iter().any(|m| m.subject == "New recovery codes"), "the owner is told");
    assert_eq!(audit(&app, "recovery_codes_created").await.len(), 2, "the first set and the new one");
    assert_eq!(b.post("/logout", &[]).await.status(), 200);

    // an old code that was never used no longer works; a new one does
    let mut b = at_second_factor(&app, email).await;
    let res = b.post("/api/mfa/sign-in-recovery", &[("code", &old_codes[2])]).await;
    assert_eq!(refusal(res).await, (400, ErrorKind::InvalidSecondFactorCode));
    assert_eq!(b.whoami().await, None);
    let res = b.post("/api/mfa/sign-in-recovery", &[("code", &new_codes[0])]).await;
    assert_eq!(redirected_to(res).await, "/account/security?recovery_used=1");
    assert_eq!(security(&mut b).await.mfa.recovery_codes_left, 9);
}
both!(recovery_codes, a_recovery_code_signs_in_once_and_a_new_set_voids_the_old);

async fn removing_the_app_ends_the_second_step(backend: Backend) {
    let app = app(backend).await;
    let email = "remy@example.com";
    verified_account(&app, email).await;
    let (mut b, _) = password_sign_in(&app, email).await;
    enrol(&mut b).await;
    assert_eq!(redirected_to(b.post("/api/mfa/totp-remove", &[]).await).await, "/account/security");
    let state = security(&mut b).await;
    assert_eq!((state.mfa.totp, state.mfa.recovery_codes_left), (TotpView::Off, 0));
    assert!(mails_to(&app, email).await.iter().any(|m| m.subject == "Two-step verification was turned off"));
    assert_eq!(audit(&app, "totp_removed").await.len(), 1);
    assert_eq!(b.post("/logout", &[]).await.status(), 200);
    assert_eq!(password_sign_in(&app, email).await.1, "/account", "no second step any more");
}
both!(removing_the_app, removing_the_app_ends_the_second_step);

// ---- 5. the half-signed-in session on every route ----

/// Server functions a session at the second-factor step may call, so the walk does not post them: the
/// sign-up, verification and sign-in flows themselves, the second-factor step included (posting them would
/// start another flow, use up the step, or, for logout, end the session under test).
const SIGN_IN_FLOW_FNS: &[&str] = &[
    "/api/auth/signup",
    "/api/auth/login",
    "/api/auth/verify-code",
    "/api/auth/verify-link",
    "/api/auth/resend",
    "/logout",
    "/api/passkeys/signup-start",
    "/api/passkeys/signup-finish",
    "/api/passkeys/signin-start",
    "/api/passkeys/signin-finish",
    "/api/mfa/sign-in-totp",
    "/api/mfa/sign-in-recovery",
    "/api/mfa/key-sign-in-start",
    "/api/mfa/key-sign-in-finish",
    "/api/auth/email-code-send",
    "/api/auth/email-code-verify",
    "/api/auth/email-code-link",
    "/api/auth/email-code-restart",
    "/api/auth/reset-password",
];
/// Public loaders of the signed-out pages: posted, they answer 200 but must show nothing of the account.
const PUBLIC_LOADERS: &[&str] = &[
    "/api/auth/flash",
    "/api/auth/verify-state",
    "/api/mfa/second-factor-state",
    "/api/auth/email-code-state",
    // `signed_out` for a session that is not (fully) signed in
    "/api/oauth/logout-state",
];
/// Loaders that answer `null` unless this browser is in their flow.
const NULL_OUTSIDE_THEIR_FLOW: &[&str] = &["/api/auth/reset-state", "/api/oauth/app-name"];
/// Loaders of the account pages: `null` while nobody is signed in (the page then offers signing in).
const NULL_WHEN_SIGNED_OUT: &[&str] = &[
    "/api/auth/me",
    "/api/account/security",
    "/api/account/activity",
    "/api/account/sessions",
    "/api/account/data",
    "/api/account/profile",
    "/api/account/complete-profile-state",
    "/api/account/email-state",
    "/api/account/apps",
    // also `null` with an app's request waiting: consent needs a complete sign-in
    "/api/oauth/consent-state",
];
// Everything else, /api/dev/outbox included (dev mode is off here, so it answers 404), must refuse.

async fn a_session_with_only_the_password_reaches_nothing_of_the_account(backend: Backend) {
    let app = app(backend).await;
    let email = "mo-7f3e@example.com"; // unusual enough that finding it in a page means the account leaked
    let (mut authenticator, _) = enrolled_account(&app, email).await;
    let mut b = at_second_factor(&app, email).await;

    let mut fns: Vec<(&'static str, Method)> = leptos::server_fn::axum::server_fn_paths().collect();
    fns.sort_by_key(|(path, _)| *path);
    fns.dedup();
    let paths: HashSet<&str> = fns.iter().map(|(p, _)| *p).collect();
    // the lists name real functions (a renamed one must not silently drop out of the check)
    for listed in
        SIGN_IN_FLOW_FNS.iter().chain(PUBLIC_LOADERS).chain(NULL_WHEN_SIGNED_OUT).chain(NULL_OUTSIDE_THEIR_FLOW)
    {
        assert!(paths.contains(listed), "{listed} is not a server function any more");
    }

    // every field any server function takes, with values that would succeed for a signed-in account: the
    // right password, a valid fresh TOTP code, the account's address; so a refusal is the session check
    // and not a malformed argument
    let code = authenticator.peek_code();
    let full_form = [
        ("code", code.as_str()),
        ("password", PASSWORD),
        ("email", email),
        ("display_name", ""),
        ("id", "x"),
        ("name", "x"),
        ("token", "x"),
        ("credential", "{}"),
        ("conditional", "false"),
        ("flow", "sign_in"),
    ];
    let mut refused = 0;
    for (path, method) in &fns {
        if SIGN_IN_FLOW_FNS.contains(path) {
            continue;
        }
        assert_eq!(*method, Method::POST, "{path}: the walk posts forms; teach it {method}");
        for form in [&[][..], &full_form[..]] {
            let res = b.post(path, form).await;
            let status = res.status().as_u16();
            let body = body_text(res).await;
            assert!(!body.contains(email), "{path} with {} fields showed the account: {body}", form.len());
            if PUBLIC_LOADERS.contains(path) {
                assert_eq!(status, 200, "{path}: {body}");
            } else if NULL_WHEN_SIGNED_OUT.contains(path) || NULL_OUTSIDE_THEIR_FLOW.contains(path) {
                assert_eq!((status, body.as_str()), (200, "null"), "{path}");
            } else {
                let kind =
                    serde_json::from_str::<AppError>(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}")).kind;
                assert!([400, 401, 403, 404, 422].contains(&status), "{path} answered {status}: {body}");
                if !form.is_empty() && *path != "/api/dev/outbox" {
                    // with well-formed arguments the only reason left is the missing sign-in
                    assert_eq!((status, kind), (401, ErrorKind::SignInRequired), "{path}");
                }
                refused += 1;
            }
        }
    }
    assert!(refused >= 2 * 15, "only {refused} refusals: did the registry come up empty?");

    // every page, the account pages included, renders without the account's data
    let pages = leptos_axum::generate_route_list(vestibule::app::App);
    let pages: Vec<String> =
        pages.iter().map(|r| if r.path().is_empty() { "/".into() } else { r.path().to_string() }).collect();
    for must in ["/account", "/account/security", "/login/second-factor"] {
        assert!(pages.iter().any(|p| p == must), "{must} missing from {pages:?}");
    }
    for page in &pages {
        let res = b.get(page).await;
        let status = res.status().as_u16();
        let html = body_text(res).await;
        assert!(status < 500, "{page} answered {status}");
        assert!(!html.contains(email), "{page} showed the account to a half-signed-in session");
    }

    // the walk ran against a live second-factor step: it still completes, and then /account does show the
    // address (so the checks above could have failed)
    let res = b.post("/api/mfa/sign-in-totp", &[("code", &authenticator.next_code())]).await;
    assert_eq!(redirected_to(res).await, "/account");
    assert!(body_text(b.get("/account").await).await.contains(email));
}
both!(half_signed_in, a_session_with_only_the_password_reaches_nothing_of_the_account);

// ---- 6. the `required` policy ----

async fn the_required_policy_allows_only_setting_up_a_factor_until_there_is_one(backend: Backend) {
    let app = app_with(backend, |c| c.mfa.policy = MfaPolicy::Required, axum::Router::new()).await;
    let email = "nia@example.com";
    verified_account(&app, email).await;
    let (mut b, next) = password_sign_in(&app, email).await;
    assert_eq!(next, "/account/security", "straight to setting up a factor");
    let me: serde_json::Value = serde_json::from_str(&body_text(b.post("/api/auth/me", &[]).await).await).unwrap();
    assert_eq!(me["mfa_setup_required"], true);
    assert!(security(&mut b).await.mfa.setup_required);

    // (confirming it is you stays allowed: setting a factor up may need it, see stale_setup_session)
    let protected: [(&str, &[(&str, &str)]); 5] = [
        ("/api/passkeys/add-start", &[]),
        ("/api/passkeys/rename", &[("id", "x"), ("name", "x")]),
        ("/api/account/remove-password", &[]),
        ("/api/mfa/recovery-regenerate", &[]),
        ("/api/mfa/totp-remove", &[]),
    ];
    for (path, form) in protected {
        assert_eq!(refusal(b.post(path, form).await).await, (403, ErrorKind::MfaSetupRequired), "{path}");
    }
    // the account-center pages send the visit to setting up a factor
    for page in ["/account/sessions", "/account/activity"] {
        assert_eq!(header(&b.get(page).await, "location"), "/account/security", "{page}");
    }

    // setting up the app is what is allowed
    let (mut authenticator, codes) = enrol(&mut b).await;
    assert_eq!(codes.len(), 10);
    let state = security(&mut b).await;
    assert_eq!((state.mfa.setup_required, state.mfa.totp), (false, TotpView::On));
    let me: serde_json::Value = serde_json::from_str(&body_text(b.post("/api/auth/me", &[]).await).await).unwrap();
    assert_eq!(me["mfa_setup_required"], false);
    // and then the account is fully usable
    assert_eq!(b.post("/api/passkeys/add-start", &[]).await.status(), 200);
    let res = b.post("/api/account/confirm-password", &[("password", PASSWORD)]).await;
    assert_eq!(redirected_to(res).await, "/account/security");
    // but its only factor stays
    assert_eq!(refusal(b.post("/api/mfa/totp-remove", &[]).await).await, (409, ErrorKind::MfaRequiredByPolicy));
    assert_eq!(security(&mut b).await.mfa.totp, TotpView::On);

    // the next sign-in asks for the code and then lands on the account, not on the setup
    assert_eq!(b.post("/logout", &[]).await.status(), 200);
    let mut b = at_second_factor(&app, email).await;
    let res = b.post("/api/mfa/sign-in-totp", &[("code", &authenticator.next_code())]).await;
    assert_eq!(redirected_to(res).await, "/account");
    assert!(!security(&mut b).await.mfa.setup_required);
}
both!(policy_required, the_required_policy_allows_only_setting_up_a_factor_until_there_is_one);

// ---- 7. the second factor's own throttle budget ----

async fn second_factor_guesses_are_throttled_apart_from_the_password(backend: Backend) {
    let app = app(backend).await;
    let email = "ola@example.com";
    let (authenticator, _) = enrolled_account(&app, email).await;
    let mut b = at_second_factor(&app, email).await;

    // five free failures, then each one sets a wait: the sixth wrong guess is still answered, the next
    // attempt is not, even with the right code
    let wrong = wrong_code(&authenticator.secret);
    for i in 0..6 {
        let res = b.post("/api/mfa/sign-in-totp", &[("code", &wrong)]).await;
        assert_eq!(refusal(res).await, (400, ErrorKind::InvalidSecondFactorCode), "guess {i}");
    }
    let right = authenticator.peek_code();
    let res = b.post("/api/mfa/sign-in-totp", &[("code", &right)]).await;
    let wait: i64 = header(&res, "retry-after").parse().unwrap_or(0);
    assert_eq!(refusal(res).await, (429, ErrorKind::Throttled));
    assert!((1..=30).contains(&wait), "{wait}");
    assert_eq!(b.whoami().await, None);

    // the password's own counter never moved: the password signs in at once (into the second-factor step)
    let counted = vestibule::db::throttle::get(&app.state.db.pool, &format!("email:{email}")).await.unwrap();
    assert_eq!(counted, None, "second-factor guesses counted against the password");
    let mut fresh = at_second_factor(&app, email).await;
    // the budget belongs to the account, not to the browser
    let res = fresh.post("/api/mfa/sign-in-totp", &[("code", &right)]).await;
    assert_eq!(refusal(res).await, (429, ErrorKind::Throttled));
    let budget_key = format!("mfa:{}", account_id(&app, email).await);
    let budget = vestibule::db::throttle::get(&app.state.db.pool, &budget_key).await.unwrap();
    assert_eq!(budget.map(|(failures, _)| failures), Some(6));
}
both!(second_factor_throttle, second_factor_guesses_are_throttled_apart_from_the_password);

// ---- regressions (found while writing these tests) ----

/// A session the `required` policy holds at "set up a factor first" that is older than the recent-sign-in
/// window must be able to confirm it is the user (step-up) and then set a factor up.
async fn a_stale_setup_session_can_still_finish_the_setup(backend: Backend) {
    use vestibule::server::auth::AUTH_TIME_KEY;
    let age = axum::routing::get(|session: tower_sessions::Session| async move {
        session.insert(AUTH_TIME_KEY, now() - 3600).await.unwrap();
        "aged"
    });
    let probes = axum::Router::new().route("/probe/age-sign-in", age);
    let app = app_with(backend, |c| c.mfa.policy = MfaPolicy::Required, probes).await;
    let email = "pia@example.com";
    verified_account(&app, email).await;
    let (mut b, next) = password_sign_in(&app, email).await;
    assert_eq!(next, "/account/security");
    assert_eq!(body_text(b.get("/probe/age-sign-in").await).await, "aged"); // an hour later
    let res = b.post("/api/mfa/totp-start", &[]).await;
    if res.status() != 200 {
        assert_eq!(refusal(res).await, (403, ErrorKind::StepUpRequired));
        let res = b.post("/api/account/confirm-password", &[("password", PASSWORD)]).await;
        assert_eq!(redirected_to(res).await, "/account/security", "confirming it is you must be possible");
        assert_eq!(redirected_to(b.post("/api/mfa/totp-start", &[]).await).await, "/account/security#totp");
    }
}
both!(stale_setup_session, a_stale_setup_session_can_still_finish_the_setup);

/// A server function called with arguments it cannot decode answers kind `bad_request` with HTTP 400.
async fn undecodable_arguments_answer_400(backend: Backend) {
    let app = app(backend).await;
    let mut b = Browser::new(&app);
    let res = b.post("/api/mfa/sign-in-totp", &[]).await; // `code` missing
    assert_eq!(refusal(res).await, (400, ErrorKind::BadRequest));
}
both!(undecodable_arguments, undecodable_arguments_answer_400);

/// New recovery codes wait in the session until the security page shows them; signing in as another account
/// in the same browser (no sign-out in between) must not show them to that account.
async fn recovery_codes_stay_with_the_account_that_made_them(backend: Backend) {
    let app = app(backend).await;
    verified_account(&app, "quin@example.com").await;
    verified_account(&app, "rae@example.com").await;
    let (mut b, _) = password_sign_in(&app, "quin@example.com").await;
    // set up, but the page that shows the codes never loads (tab closed, network gone)
    assert_eq!(redirected_to(b.post("/api/mfa/totp-start", &[]).await).await, "/account/security#totp");
    let code = AuthenticatorApp::new(pending_secret(&security(&mut b).await)).next_code();
    assert_eq!(
        redirected_to(b.post("/api/mfa/totp-confirm", &[("code", &code)]).await).await,
        "/account/security#recovery"
    );
    let res = b.post("/api/auth/login", &[("email", "rae@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(redirected_to(res).await, "/account");
    let state = security(&mut b).await;
    assert_eq!(state.email, "rae@example.com");
    assert_eq!(state.mfa.new_recovery_codes, Vec::<String>::new());
}
both!(new_codes_stay_with_their_account, recovery_codes_stay_with_the_account_that_made_them);
