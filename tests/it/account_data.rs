//! /account/data (issue 7, GDPR art. 15, 17 and 20): the export download, deleting the account with a
//! grace period that a sign-in cancels, and erasure by the purge (in-process with `now`, and through
//! `vestibule purge`); on SQLite and PostgreSQL. Authorisation: nothing here reaches another account, and
//! both the download and the deletion need a recent sign-in.

use axum::body::Body;
use http::{Request, Response};
use webauthn_rs_proto::CreationChallengeResponse;

use crate::accounts::{verified_account, PASSWORD};
use crate::both;
use crate::mfa::{audit, enrol, password_sign_in, redirected_to, refusal};
use crate::passkeys::{json, ok_body, options, passkey_account, sign_in_with_button, ORIGIN};
use crate::support::authenticator::Authenticator;
use crate::support::{app_with, body_text, header, last_mail, Backend, Browser, TestApp};
use vestibule::core::accounts::erase;
use vestibule::db;
use vestibule::error::{AppError, ErrorKind};
use vestibule::server::auth::{now, AUTH_TIME_KEY};
use vestibule::types::{AccountPageLoad, DataPageState};

const WEEK: i64 = 7 * 24 * 3600;

/// An app (grace period `grace` seconds) with a probe that makes the browser's sign-in an hour old.
async fn app_for(backend: Backend, grace: i64) -> TestApp {
    let age = axum::routing::get(|session: tower_sessions::Session| async move {
        session.insert(AUTH_TIME_KEY, now() - 3600).await.unwrap();
        "aged"
    });
    let probes = axum::Router::new().route("/probe/age-sign-in", age);
    app_with(backend, |c| c.accounts.deletion_grace_secs = grace, probes).await
}

async fn aged(b: &mut Browser<'_>) {
    assert_eq!(body_text(b.get("/probe/age-sign-in").await).await, "aged");
}

async fn account_id(app: &TestApp, email: &str) -> String {
    db::accounts::find_by_email(&app.state.db.pool, email).await.unwrap().expect("the account").id
}

/// A verified account and a browser signed in to it with the password.
async fn signed_in<'a>(app: &'a TestApp, email: &str) -> Browser<'a> {
    verified_account(app, email).await;
    let (b, next) = password_sign_in(app, email).await;
    assert_eq!(next, "/account");
    b
}

/// `GET /account/export` as a script asks (problem documents, not redirects, when refused).
async fn export_as_api(b: &mut Browser<'_>) -> Response<Body> {
    let mut req = Request::get("/account/export").header("accept", "application/json");
    if let Some(cookie) = &b.cookie {
        req = req.header("cookie", cookie.as_str());
    }
    let mut req = req.body(Body::empty()).unwrap();
    req.extensions_mut().insert(axum::extract::ConnectInfo(b.ip));
    b.app.send(req).await
}

/// The export as a browser downloads it; its text and parsed JSON.
async fn export(b: &mut Browser<'_>) -> (String, serde_json::Value) {
    let res = b.get("/account/export").await;
    assert_eq!(res.status(), 200, "{}", header(&res, "location"));
    assert_eq!(header(&res, "content-type"), "application/json");
    assert_eq!(header(&res, "cache-control"), "no-store");
    let disposition = header(&res, "content-disposition").to_string();
    let today = vestibule::core::accounts::export::rfc3339(now()).unwrap()[..10].to_string();
    assert_eq!(disposition, format!("attachment; filename=\"account-data-{today}.json\""));
    let text = body_text(res).await;
    let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (text, value)
}

async fn data_page(b: &mut Browser<'_>) -> Option<DataPageState> {
    let res = b.post("/api/account/data", &[]).await;
    assert_eq!(res.status(), 200);
    serde_json::from_str(&body_text(res).await).unwrap()
}

async fn count(app: &TestApp, sql: &str, bind: &str) -> i64 {
    sqlx::query_scalar(sql).bind(bind).fetch_one(&app.state.db.pool).await.unwrap()
}

/// Whether the account page's loader says (once) that a sign-in cancelled the deletion.
async fn take_cancelled(b: &mut Browser<'_>) -> bool {
    let body = body_text(b.post("/api/account/profile", &[]).await).await;
    match serde_json::from_str::<Option<AccountPageLoad>>(&body).unwrap_or_else(|e| panic!("{e}: {body}")) {
        Some(AccountPageLoad::Profile(state)) => state.deletion_cancelled,
        other => panic!("not the account page: {other:?}"),
    }
}

async fn delete(b: &mut Browser<'_>, typed: &str) -> Response<Body> {
    b.post("/api/account/delete", &[("email", typed)]).await
}

// ---- the export ----

async fn the_export_needs_a_signed_in_and_recent_session(backend: Backend) {
    let app = app_for(backend, WEEK).await;
    let mut stranger = Browser::new(&app);
    assert_eq!(header(&stranger.get("/account/export").await, "location"), "/login");
    assert_eq!(refusal(export_as_api(&mut stranger).await).await, (401, ErrorKind::SignInRequired));

    let email = "exa@example.com";
    let mut b = signed_in(&app, email).await;
    aged(&mut b).await;
    // too old a sign-in: to the page with the confirm card, nothing exported
    let res = b.get("/account/export").await;
    assert_eq!((res.status().as_u16(), header(&res, "location")), (303, "/account/data"));
    assert_eq!(refusal(export_as_api(&mut b).await).await, (403, ErrorKind::StepUpRequired));
    assert!(audit(&app, "data_exported").await.is_empty());
    let page = data_page(&mut b).await.expect("signed in");
    assert!(!page.recently_confirmed && page.confirm.password, "{page:?}");

    // confirming in place comes back to /account/data (allowlisted), and then the download works
    let res = b.post("/api/account/confirm-password", &[("password", PASSWORD), ("return_to", "/account/data")]).await;
    assert_eq!(redirected_to(res).await, "/account/data");
    let (_, json) = export(&mut b).await;
    assert_eq!((json["format"].as_str(), json["version"].as_i64()), (Some("vestibule.account-export"), Some(1)));
    assert_eq!(json["account"]["email"], email);
    let events = audit(&app, "data_exported").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].account_id.as_deref(), Some(account_id(&app, email).await.as_str()));
}
both!(export_authorisation, the_export_needs_a_signed_in_and_recent_session);

/// Adds a passkey and a security key to the signed-in account of `b`.
async fn add_credentials(b: &mut Browser<'_>) {
    let mut phone = Authenticator::new();
    let ccr: CreationChallengeResponse = options(b.post("/api/passkeys/add-start", &[]).await).await;
    let credential = phone.register(&ccr, ORIGIN);
    ok_body(b.post("/api/passkeys/add-finish", &[("credential", &json(&credential)), ("name", "Phone")]).await).await;
    let mut key = Authenticator::new();
    let ccr: CreationChallengeResponse = options(b.post("/api/mfa/key-add-start", &[]).await).await;
    let credential = key.register(&ccr, ORIGIN);
    let res = b.post("/api/mfa/key-add-finish", &[("credential", &json(&credential)), ("name", "Blue key")]).await;
    ok_body(res).await;
}

async fn the_export_holds_every_row_of_the_owner_and_nothing_else(backend: Backend) {
    let app = app_for(backend, WEEK).await;
    let (ann, bob) = ("ann-e1@example.com", "bob-e2@example.com");
    let mut laptop = signed_in(&app, ann).await;
    let (_office, _) = password_sign_in(&app, ann).await;
    // the app first: recovery codes come with the first second factor, and the test wants to see them
    let (authenticator, codes) = enrol(&mut laptop).await;
    add_credentials(&mut laptop).await;
    // an emailed sign-in code asked for from a third browser
    let mut kiosk = Browser::from_ip(&app, "198.51.100.9");
    assert_eq!(kiosk.post("/api/auth/email-code-send", &[("flow", "sign_in"), ("email", ann)]).await.status(), 200);
    // someone else, with rows in every table too
    let mut other = signed_in(&app, bob).await;
    enrol(&mut other).await;
    add_credentials(&mut other).await;
    let (ann_id, bob_id) = (account_id(&app, ann).await, account_id(&app, bob).await);

    let meta = vestibule::core::audit::RequestMeta::default();
    vestibule::core::roles::grant(&app.state.db, ann, vestibule::core::roles::Role::Admin, &meta, 1_700_000_000)
        .await
        .unwrap();
    let (text, json) = export(&mut laptop).await;
    // nothing of the other account
    for theirs in [bob, bob_id.as_str(), "bob-e2"] {
        assert!(!text.contains(theirs), "{theirs} in the export: {text}");
    }
    // every table's rows of the owner
    let a = &json["account"];
    assert_eq!(
        (a["id"].as_str(), a["email"].as_str(), a["has_password"].as_bool()),
        (Some(&*ann_id), Some(ann), Some(true))
    );
    assert!(a["email_verified_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{a}");
    assert_eq!(a["deletion_due_at"], serde_json::Value::Null);
    let rows = |sql: &'static str| count(&app, sql, &ann_id);
    let len = |key: &str| json[key].as_array().map_or(usize::MAX, Vec::len) as i64;
    assert_eq!(len("passkeys"), rows("SELECT COUNT(*) FROM webauthn_credentials WHERE account_id = $1").await);
    assert_eq!(json["passkeys"][0]["name"], "Phone");
    assert_eq!(len("security_keys"), rows("SELECT COUNT(*) FROM security_keys WHERE account_id = $1").await);
    assert_eq!(json["security_keys"][0]["name"], "Blue key");
    assert_eq!(len("passkeys") + len("security_keys"), 2);
    assert_eq!(json["totp"]["enabled"], true);
    let total = rows("SELECT COUNT(*) FROM recovery_codes WHERE account_id = $1").await;
    assert_eq!(
        (json["recovery_codes"]["total"].as_i64(), json["recovery_codes"]["left"].as_i64()),
        (Some(total), Some(10))
    );
    assert_eq!(len("sessions"), rows("SELECT COUNT(*) FROM sessions WHERE account_id = $1").await);
    assert_eq!(len("sessions"), 3, "the two, and the browser that confirmed the address");
    let current: Vec<&serde_json::Value> =
        json["sessions"].as_array().unwrap().iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(
        (current[0]["ip"].as_str(), current[0]["user_agent"].as_str()),
        (Some("192.0.2.10"), Some("it-browser"))
    );
    assert_eq!(len("email_messages"), rows("SELECT COUNT(*) FROM email_verifications WHERE account_id = $1").await);
    let purposes: Vec<&str> =
        json["email_messages"].as_array().unwrap().iter().filter_map(|m| m["purpose"].as_str()).collect();
    assert!(purposes.contains(&"verify_email") && purposes.contains(&"sign_in"), "{purposes:?}");
    // the export's own event is written after it was made
    assert_eq!(len("audit_events"), rows("SELECT COUNT(*) FROM audit_events WHERE account_id = $1").await - 1);
    let kinds: Vec<&str> = json["audit_events"].as_array().unwrap().iter().filter_map(|e| e["kind"].as_str()).collect();
    for kind in ["sign_up", "email_verified", "sign_in_succeeded", "passkey_added", "totp_added", "email_code_sent"] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    assert_eq!((len("consents"), len("oauth_grants")), (0, 0));
    assert_eq!(json["roles"], serde_json::json!([{"role": "admin", "granted_at": "2023-11-14T22:13:20Z"}]));

    // no secret of any kind
    let pool = &app.state.db.pool;
    let account = db::accounts::find_by_id(pool, &ann_id).await.unwrap().unwrap();
    let mut secrets = vec![account.password_hash.unwrap(), "$argon2".into(), authenticator.secret.clone()];
    secrets.push(db::mfa::totp_for_account(pool, &ann_id).await.unwrap().unwrap().sealed_secret);
    secrets.extend(codes);
    for sql in [
        "SELECT code_hash FROM recovery_codes WHERE account_id = $1",
        "SELECT code_hash FROM email_verifications WHERE account_id = $1",
        "SELECT link_hash FROM email_verifications WHERE account_id = $1",
        "SELECT id_hash FROM sessions WHERE account_id = $1",
        "SELECT credential_id FROM webauthn_credentials WHERE account_id = $1",
        "SELECT credential_id FROM security_keys WHERE account_id = $1",
    ] {
        secrets.extend(sqlx::query_scalar::<_, String>(sql).bind(&ann_id).fetch_all(pool).await.unwrap());
    }
    secrets.push(laptop.cookie.clone().unwrap().split('=').nth(1).unwrap().to_string());
    for secret in &secrets {
        assert!(!text.contains(secret.as_str()), "a secret in the export: {secret}");
    }
    assert!(secrets.len() > 30, "{}", secrets.len());
}
both!(export_contents, the_export_holds_every_row_of_the_owner_and_nothing_else);

// ---- deleting ----

async fn deleting_needs_a_recent_sign_in_and_the_typed_address(backend: Backend) {
    let app = app_for(backend, WEEK).await;
    let (cy, dee) = ("cy@example.com", "dee@example.com");
    let mut b = signed_in(&app, cy).await;
    let mut them = signed_in(&app, dee).await;
    let cy_id = account_id(&app, cy).await;

    assert_eq!(refusal(delete(&mut Browser::new(&app), cy).await).await, (401, ErrorKind::SignInRequired));
    // another account's address deletes neither account
    let res = delete(&mut b, dee).await;
    let status = res.status().as_u16();
    let err: AppError = serde_json::from_str(&body_text(res).await).unwrap();
    assert_eq!((status, err.kind), (422, ErrorKind::Validation));
    assert!(err.problem("email").is_some(), "{err:?}");
    aged(&mut b).await;
    assert_eq!(refusal(delete(&mut b, cy).await).await, (403, ErrorKind::StepUpRequired));
    for id in [cy_id.as_str(), &account_id(&app, dee).await] {
        assert_eq!(db::accounts::deletion_due_at(&app.state.db.pool, id).await.unwrap(), Some(None), "{id}");
    }
    assert_eq!(b.whoami().await.as_deref(), Some(cy));
    assert_eq!(them.whoami().await.as_deref(), Some(dee));
    assert!(audit(&app, "deletion_requested").await.is_empty());
}
both!(deletion_authorisation, deleting_needs_a_recent_sign_in_and_the_typed_address);

async fn deleting_ends_every_session_and_voids_every_code(backend: Backend) {
    let app = app_for(backend, WEEK).await;
    let (eve, fay) = ("eve@example.com", "fay@example.com");
    let mut laptop = signed_in(&app, eve).await;
    let (mut phone, _) = password_sign_in(&app, eve).await;
    let mut them = signed_in(&app, fay).await;
    // a sign-in code waiting in a third browser
    let mut kiosk = Browser::from_ip(&app, "198.51.100.9");
    assert_eq!(kiosk.post("/api/auth/email-code-send", &[("flow", "sign_in"), ("email", eve)]).await.status(), 200);
    let code = last_mail(&app, eve).await.code();
    let id = account_id(&app, eve).await;

    let before = now();
    let res = delete(&mut laptop, " Eve@Example.com ").await;
    assert!(header(&res, "set-cookie").contains("Max-Age=0"), "the cookie is cleared");
    assert_eq!(redirected_to(res).await, "/account/data?deletion=scheduled");
    assert_eq!(laptop.whoami().await, None);
    assert_eq!(phone.whoami().await, None, "the other browser is signed out too");
    assert_eq!(them.whoami().await.as_deref(), Some(fay), "nobody else");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM sessions WHERE account_id = $1", &id).await, 0);
    let due = db::accounts::deletion_due_at(&app.state.db.pool, &id).await.unwrap().flatten().expect("scheduled");
    assert!((before + WEEK..=now() + WEEK).contains(&due), "{due}");
    let open = "SELECT COUNT(*) FROM email_verifications WHERE account_id = $1 AND consumed_at IS NULL";
    assert_eq!(count(&app, open, &id).await, 0);
    let res = kiosk.post("/api/auth/email-code-verify", &[("flow", "sign_in"), ("code", &code)]).await;
    assert_eq!(refusal(res).await.1, ErrorKind::InvalidCode, "the code mailed before is void");
    assert_eq!(kiosk.whoami().await, None);

    let events = audit(&app, "deletion_requested").await;
    assert_eq!(events.len(), 1);
    let detail: serde_json::Value = serde_json::from_str(events[0].detail.as_deref().unwrap()).unwrap();
    assert_eq!((detail["due_at"].as_i64(), detail["sessions_ended"].as_i64()), (Some(due), Some(3)));
    let mail = last_mail(&app, eve).await;
    assert_eq!(mail.subject, "Your account will be deleted");
    assert!(mail.text.contains("Sign in before then") && mail.text.contains("UTC"), "{}", mail.text);
    assert!(!mail.has_code_or_link());
    // the page after the deletion, signed out
    let html = body_text(laptop.get("/account/data?deletion=scheduled").await).await;
    assert!(html.contains("Your account will be deleted") && html.contains("Sign in to cancel the deletion"), "{html}");
}
both!(deletion_ends_sessions, deleting_ends_every_session_and_voids_every_code);

async fn signing_in_during_the_grace_period_cancels_the_deletion(backend: Backend) {
    let app = app_for(backend, WEEK).await;
    let email = "gil@example.com";
    let mut b = signed_in(&app, email).await;
    let id = account_id(&app, email).await;
    assert_eq!(redirected_to(delete(&mut b, email).await).await, "/account/data?deletion=scheduled");
    let due = db::accounts::deletion_due_at(&app.state.db.pool, &id).await.unwrap().flatten().unwrap();

    let (mut back, next) = password_sign_in(&app, email).await;
    assert_eq!(next, "/account");
    let html = body_text(back.get("/account").await).await;
    assert!(html.contains("Signing in cancelled the deletion"), "the account page says so: {html}");
    assert_eq!(db::accounts::deletion_due_at(&app.state.db.pool, &id).await.unwrap(), Some(None));
    let row = db::accounts::find_by_id(&app.state.db.pool, &id).await.unwrap().unwrap();
    assert_eq!(row.deletion_requested_at, None);
    assert_eq!(audit(&app, "deletion_cancelled").await.len(), 1);
    assert_eq!(last_mail(&app, email).await.subject, "The deletion of your account was cancelled");
    // the account page's notice, once; the data page says so for good
    assert!(!take_cancelled(&mut back).await, "said once");
    assert!(!body_text(back.get("/account").await).await.contains("Signing in cancelled the deletion"));
    let page = data_page(&mut back).await.expect("signed in");
    assert!(page.deletion_cancelled_on.is_some() && page.recently_confirmed, "{page:?}");
    // the account works as before, and no purge touches it
    assert_eq!(back.whoami().await.as_deref(), Some(email));
    assert_eq!(erase::erase_due(&app.state.db, &app.state.token_key, due + WEEK).await.unwrap(), 0);
    assert!(db::accounts::find_by_id(&app.state.db.pool, &id).await.unwrap().is_some());
    // another sign-in with nothing to cancel changes nothing
    let (mut again, _) = password_sign_in(&app, email).await;
    assert!(!take_cancelled(&mut again).await);
    assert_eq!(audit(&app, "deletion_cancelled").await.len(), 1);
}
both!(sign_in_cancels, signing_in_during_the_grace_period_cancels_the_deletion);

/// The passkey path takes the deletion time from the credential's lookup instead of reading it again: a
/// scheduled deletion must still be seen and cancelled, and a sign-in with none must change nothing.
async fn a_passkey_sign_in_cancels_the_deletion_too(backend: Backend) {
    let app = app_for(backend, WEEK).await;
    let (email, mut auth) = ("hal@example.com", Authenticator::new());
    let id = passkey_account(&app, email, &mut auth).await;
    let mut b = Browser::new(&app);
    sign_in_with_button(&mut b, &mut auth).await;
    assert_eq!(redirected_to(delete(&mut b, email).await).await, "/account/data?deletion=scheduled");
    assert!(db::accounts::deletion_due_at(&app.state.db.pool, &id).await.unwrap().flatten().is_some());

    let mut back = Browser::new(&app);
    sign_in_with_button(&mut back, &mut auth).await;
    assert_eq!(db::accounts::deletion_due_at(&app.state.db.pool, &id).await.unwrap(), Some(None));
    assert_eq!(audit(&app, "deletion_cancelled").await.len(), 1);
    assert!(take_cancelled(&mut back).await, "the account page says so");
    assert_eq!(last_mail(&app, email).await.subject, "The deletion of your account was cancelled");

    let mut again = Browser::new(&app);
    sign_in_with_button(&mut again, &mut auth).await;
    assert_eq!(again.whoami().await.as_deref(), Some(email));
    assert!(!take_cancelled(&mut again).await);
    assert_eq!(audit(&app, "deletion_cancelled").await.len(), 1);
}
both!(passkey_sign_in_cancels, a_passkey_sign_in_cancels_the_deletion_too);

// ---- erasure ----

/// Every table of the schema, each searched for the id and the address (the list must name every table:
/// a new one fails here until it is looked at).
async fn traces(app: &TestApp, id: &str, email: &str) -> Vec<String> {
    let pool = &app.state.db.pool;
    let tables: Vec<String> = match app.state.db.backend {
        db::Backend::Sqlite => {
            sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
                .fetch_all(pool)
                .await
        }
        db::Backend::Postgres => {
            sqlx::query_scalar("SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'")
                .fetch_all(pool)
                .await
        }
    }
    .unwrap();
    let checks: &[(&str, &str)] = &[
        ("accounts", "SELECT COUNT(*) FROM accounts WHERE id = $1 OR email = $2 OR user_handle = $1"),
        ("email_verifications", "SELECT COUNT(*) FROM email_verifications WHERE account_id = $1 OR email = $2"),
        ("webauthn_credentials", "SELECT COUNT(*) FROM webauthn_credentials WHERE account_id = $1"),
        ("security_keys", "SELECT COUNT(*) FROM security_keys WHERE account_id = $1"),
        ("totp_factors", "SELECT COUNT(*) FROM totp_factors WHERE account_id = $1"),
        ("recovery_codes", "SELECT COUNT(*) FROM recovery_codes WHERE account_id = $1"),
        (
            "sessions",
            "SELECT COUNT(*) FROM sessions WHERE account_id = $1 OR data LIKE '%' || $1 || '%' \
             OR data LIKE '%' || $2 || '%'",
        ),
        ("throttle", "SELECT COUNT(*) FROM throttle WHERE key LIKE '%' || $1 || '%' OR key LIKE '%' || $2 || '%'"),
        (
            "audit_events",
            "SELECT COUNT(*) FROM audit_events WHERE account_id = $1 OR ip IS NOT NULL AND account_id LIKE 'erased:%' \
             OR detail LIKE '%' || $1 || '%' OR detail LIKE '%' || $2 || '%' OR user_agent LIKE '%' || $2 || '%'",
        ),
        ("oauth_consents", "SELECT COUNT(*) FROM oauth_consents WHERE account_id = $1"),
        ("oauth_grants", "SELECT COUNT(*) FROM oauth_grants WHERE account_id = $1"),
        ("oauth_codes", "SELECT COUNT(*) FROM oauth_codes WHERE account_id = $1"),
        ("account_roles", "SELECT COUNT(*) FROM account_roles WHERE account_id = $1"),
        // a refresh token names only its grant: none may outlive it (`oauth_rows` puts the id in the grant's)
        (
            "oauth_refresh_tokens",
            "SELECT COUNT(*) FROM oauth_refresh_tokens WHERE grant_id LIKE '%' || $1 || '%' \
             OR grant_id NOT IN (SELECT id FROM oauth_grants)",
        ),
        // the apps, their signing keys and revoked access tokens' ids: nothing of any account
        ("oauth_clients", ""),
        ("oauth_signing_keys", ""),
        ("oauth_revoked_tokens", ""),
        // the id, on purpose (nothing personal: it is random and names nobody); checked by the caller
        ("erased_accounts", ""),
        ("_sqlx_migrations", ""),
    ];
    let mut found = Vec::new();
    for table in &tables {
        let Some((_, sql)) = checks.iter().find(|(name, _)| name == table) else {
            found.push(format!("{table}: not checked (a new table? teach this test about it)"));
            continue;
        };
        if sql.is_empty() {
            continue;
        }
        // (PostgreSQL refuses a parameter the statement does not use)
        let query = if sql.contains("$1") { sqlx::query_scalar(sql).bind(id) } else { sqlx::query_scalar(sql) };
        let query = if sql.contains("$2") { query.bind(email) } else { query };
        let n: i64 = query.fetch_one(pool).await.unwrap();
        if n > 0 {
            found.push(format!("{table}: {n} row(s)"));
        }
    }
    assert!(tables.len() >= checks.len(), "{tables:?}");
    found
}

/// What an app's sign-in leaves of the account: a consent, a code, a grant and its refresh token (the grant's
/// id holds the account's id so `traces` can find the token).
async fn oauth_rows(app: &TestApp, account_id: &str) {
    use vestibule::core::oidc::clients::{self, AuthMethod, NewClient};
    use vestibule::db::oauth::{self as repo, CodeRow, GrantRow};
    let new = NewClient {
        name: "Shop".into(),
        auth_method: AuthMethod::ClientSecretBasic,
        redirect_uris: vec!["https://shop.example/cb".into()],
        post_logout_redirect_uris: Vec::new(),
        scopes: vec!["openid".into(), "offline_access".into()],
        grant_types: vec![vestibule::core::oidc::GrantType::AuthorizationCode],
        first_party: false,
        backchannel_logout_uri: None,
        signing_alg: vestibule::core::oidc::keys::SigningAlg::EdDSA,
    };
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::from_os_rng();
    let (client, _) = clients::create(&app.state.db, &app.state.token_key, &new, now(), &mut rng).await.unwrap();
    let pool = &app.state.db.pool;
    repo::put_consent(pool, account_id, &client.id, "openid offline_access", now()).await.unwrap();
    let code = CodeRow {
        code_hash: format!("code-of-{account_id}"),
        client_id: client.id.clone(),
        account_id: account_id.into(),
        redirect_uri: "https://shop.example/cb".into(),
        scopes: "openid offline_access".into(),
        nonce: None,
        code_challenge: None,
        auth_time: now(),
        amr: "[\"pwd\"]".into(),
        sid: "sid".into(),
        created_at: now(),
        expires_at: now() + 60,
        used_at: None,
        grant_id: None,
    };
    repo::insert_code(pool, &code).await.unwrap();
    let grant = GrantRow {
        id: format!("grant-of-{account_id}"),
        account_id: account_id.into(),
        client_id: client.id,
        scopes: "openid offline_access".into(),
        auth_time: now(),
        amr: "[\"pwd\"]".into(),
        sid: "sid".into(),
        created_at: now(),
        expires_at: now() + WEEK,
        last_used_at: now(),
        revoked_at: None,
    };
    repo::insert_grant(pool, &grant).await.unwrap();
    repo::insert_refresh_token(pool, &format!("token-of-{account_id}"), &grant.id, now()).await.unwrap();
}

async fn the_purge_erases_due_accounts_only_and_leaves_nothing_personal(backend: Backend) {
    let app = app_for(backend, WEEK).await;
    let (hal, ivy) = ("hal_x@example.com", "ivy@example.com");
    let mut b = signed_in(&app, hal).await;
    enrol(&mut b).await;
    add_credentials(&mut b).await;
    // what a sign-in by email leaves in a browser that is not signed in, and a throttle on the address
    let mut kiosk = Browser::from_ip(&app, "198.51.100.9");
    assert_eq!(kiosk.post("/api/auth/email-code-send", &[("flow", "sign_in"), ("email", hal)]).await.status(), 200);
    let mut wrong = Browser::from_ip(&app, "198.51.100.10");
    let res = wrong.post("/api/auth/login", &[("email", hal), ("password", "not the password at all, no")]).await;
    assert_eq!(res.status(), 401);
    // a change of address asked for and never confirmed: the new address is the owner's too
    let new_address = "hal.new@example.org";
    let res = b.post("/api/account/email-change-request", &[("email", new_address)]).await;
    assert_eq!(res.status(), 200, "{}", body_text(res).await);
    let mut them = signed_in(&app, ivy).await;
    let (id, ivy_id) = (account_id(&app, hal).await, account_id(&app, ivy).await);
    let meta = vestibule::core::audit::RequestMeta::default();
    vestibule::core::roles::grant(&app.state.db, hal, vestibule::core::roles::Role::Admin, &meta, now()).await.unwrap();
    assert!(!traces(&app, &id, new_address).await.is_empty(), "the check finds the new address while it waits");
    let events_before = count(&app, "SELECT COUNT(*) FROM audit_events WHERE account_id = $1", &id).await;
    let ivy_events = count(&app, "SELECT COUNT(*) FROM audit_events WHERE account_id = $1", &ivy_id).await;
    oauth_rows(&app, &id).await;
    let before = traces(&app, &id, hal).await;
    for table in ["oauth_consents", "oauth_grants", "oauth_codes", "oauth_refresh_tokens", "account_roles"] {
        assert!(before.iter().any(|t| t.starts_with(&format!("{table}:"))), "{table} missing from {before:?}");
    }

    assert_eq!(redirected_to(delete(&mut b, hal).await).await, "/account/data?deletion=scheduled");
    let due = db::accounts::deletion_due_at(&app.state.db.pool, &id).await.unwrap().flatten().unwrap();
    let (db_, key) = (&app.state.db, &app.state.token_key);
    assert_eq!(erase::erase_due(db_, key, now()).await.unwrap(), 0, "not due yet");
    assert_eq!(erase::erase_due(db_, key, due - 1).await.unwrap(), 0, "not due yet");
    assert!(db::accounts::find_by_id(&db_.pool, &id).await.unwrap().is_some());
    assert_eq!(erase::erase_due(db_, key, due).await.unwrap(), 1);
    assert_eq!(erase::erase_due(db_, key, due).await.unwrap(), 0, "once");

    // nothing personal left anywhere: only pseudonymous stubs in the audit log
    assert_eq!(traces(&app, &id, hal).await, Vec::<String>::new());
    assert_eq!(traces(&app, &id, new_address).await, Vec::<String>::new());
    let pseudonym = erase::pseudonym(key, &id);
    let stubs = db::audit::all_for_account(&db_.pool, &pseudonym).await.unwrap();
    assert_eq!(stubs.len() as i64, events_before + 2, "every event, the deletion request and the erasure");
    assert!(stubs.iter().all(|e| e.ip.is_none() && e.user_agent.is_none() && e.detail.is_none()), "{stubs:?}");
    let kinds: Vec<&str> = stubs.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!((kinds.first(), kinds.last()), (Some(&"sign_up"), Some(&"account_erased")));
    for kind in ["deletion_requested", "sign_in_failed", "email_change_requested"] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    // the id stays taken
    assert!(db::accounts::is_erased(&db_.pool, &id).await.unwrap());
    let reuse = db::accounts::NewAccount {
        id: &id,
        email: "someone-new@example.com",
        display_name: None,
        password_hash: None,
        user_handle: None,
        now: now(),
    };
    assert!(db::accounts::insert(&db_.pool, &reuse).await.is_err(), "an erased id is never given out again");
    assert!(db::accounts::find_by_email(&db_.pool, "someone-new@example.com").await.unwrap().is_none());
    // nobody else was touched
    assert_eq!(them.whoami().await.as_deref(), Some(ivy));
    assert_eq!(count(&app, "SELECT COUNT(*) FROM audit_events WHERE account_id = $1", &ivy_id).await, ivy_events);
    assert!(db::audit::all_for_account(&db_.pool, &ivy_id).await.unwrap().iter().all(|e| e.ip.is_some()));
    // the old password signs nobody in; the address makes a new account, with a new id
    let res = Browser::new(&app).post("/api/auth/login", &[("email", hal), ("password", PASSWORD)]).await;
    assert_eq!(refusal(res).await, (401, ErrorKind::InvalidCredentials));
    verified_account(&app, hal).await;
    let new_id = account_id(&app, hal).await;
    assert_ne!(new_id, id);
    let (mut fresh, next) = password_sign_in(&app, hal).await;
    assert_eq!(next, "/account", "a new account: no second factor of the old one");
    assert_eq!(fresh.whoami().await.as_deref(), Some(hal));
}
both!(purge, the_purge_erases_due_accounts_only_and_leaves_nothing_personal);

const BIN: &str = env!("CARGO_BIN_EXE_vestibule");

async fn vestibule_purge_erases_what_is_due(backend: Backend) {
    let app = app_for(backend, 0).await;
    let (jo, kai) = ("jo@example.com", "kai@example.com");
    let mut b = signed_in(&app, jo).await;
    let _them = signed_in(&app, kai).await;
    let id = account_id(&app, jo).await;
    assert_eq!(redirected_to(delete(&mut b, jo).await).await, "/account/data?deletion=scheduled");
    let page = body_text(b.get("/account/data?deletion=scheduled").await).await;
    assert!(page.contains("Your account will be deleted"), "{page}");

    let config = &app.state.config;
    let mut cmd = std::process::Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("VESTIBULE_DATA_DIR", &config.data_dir)
        .env("VESTIBULE_SITE_ROOT", &config.site_root)
        .env("VESTIBULE_DATABASE_URL", &config.database_url)
        .env("VESTIBULE_LOG_FILTER", "warn")
        .arg("purge")
        .current_dir(app.dir.path());
    let out = tokio::task::spawn_blocking(move || cmd.output()).await.unwrap().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // (the log, on stdout too, warns that mail goes to the outbox)
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.lines().last(), Some("1 account(s) erased"), "{stdout}");

    assert_eq!(traces(&app, &id, jo).await, Vec::<String>::new());
    // the binary used the server's key: the stubs carry the same pseudonym the server computes
    let stubs = db::audit::all_for_account(&app.state.db.pool, &erase::pseudonym(&app.state.token_key, &id)).await;
    assert!(stubs.unwrap().iter().any(|e| e.kind == "account_erased"));
    assert!(db::accounts::find_by_email(&app.state.db.pool, kai).await.unwrap().is_some());
}
both!(purge_command, vestibule_purge_erases_what_is_due);

// ---- the page, JavaScript off ----

async fn the_page_works_without_javascript(backend: Backend) {
    let app = app_for(backend, WEEK).await;
    let email = "lu@example.com";
    let mut visitor = Browser::new(&app);
    assert_eq!(header(&visitor.get("/account/data").await, "location"), "/login");
    assert!(data_page(&mut visitor).await.is_none());

    let mut b = signed_in(&app, email).await;
    let html = body_text(b.get("/account/data").await).await;
    for text in ["Download your data (JSON)", "href=\"/account/export\"", "Delete my account", "7 days", email] {
        assert!(html.contains(text), "{text} missing: {html}");
    }
    aged(&mut b).await;
    let html = body_text(b.get("/account/data").await).await;
    assert!(!html.contains("href=\"/account/export\"") && !html.contains("Delete my account"), "{html}");
    assert!(html.contains("first confirm it is you") && html.contains("value=\"/account/data\""), "{html}");
    let res = b
        .post_html(
            "/api/account/confirm-password",
            &[("password", PASSWORD), ("return_to", "/account/data")],
            "/account/data",
        )
        .await;
    assert_eq!(header(&res, "location"), "/account/data");

    // a wrong address comes back with the error
    let res = b.post_html("/api/account/delete", &[("email", "nope@example.com")], "/account/data").await;
    assert!(header(&res, "location").starts_with("http://localhost:3000/account/data"), "back to the form");
    let html = body_text(b.get("/account/data").await).await;
    assert!(html.contains("That is not your account"), "{html}");
    // the right one: signed out, on the page saying what happens next
    let res = b.post_html("/api/account/delete", &[("email", email)], "/account/data").await;
    assert_eq!(header(&res, "location"), "/account/data?deletion=scheduled");
    let html = body_text(b.get("/account/data?deletion=scheduled").await).await;
    assert!(html.contains("Your account will be deleted") && !html.contains(email), "{html}");
}
both!(no_javascript, the_page_works_without_javascript);
