//! security.md: "Refresh tokens rotate; reuse of an old one revokes the whole grant; absolute lifetime;
//! users can revoke grants", and "a reset ends other sessions and refresh tokens".

use super::{active, client, oauth_app, refresh, register, signed_in, str_of, tokens_for, userinfo, Registered};
use crate::both;
use crate::email_codes::{enter, send};
use crate::mfa::{account_id, audit, redirected_to};
use crate::support::{last_mail, Backend, Browser, TestApp};
use vestibule::core::audit::RequestMeta;
use vestibule::core::oidc::grants;
use vestibule::server::auth::now;

const OFFLINE: &str = "openid email offline_access";

fn refused(answer: &(u16, serde_json::Value)) -> bool {
    answer.0 == 400 && answer.1["error"] == "invalid_grant"
}

/// A refresh that must work; returns the new token response.
async fn refresh_ok(app: &TestApp, client: &Registered, token: &str) -> serde_json::Value {
    let (status, body) = refresh(app, client, token, None).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn refresh_tokens_rotate_and_a_reused_one_ends_the_grant(backend: Backend) {
    let app = oauth_app(backend).await;
    let shop = register(&app, client()).await;
    let mut b = signed_in(&app, "ann@example.com").await;
    let first = tokens_for(&mut b, &app, &shop, OFFLINE).await;
    let r1 = str_of(&first, "refresh_token").to_string();

    let second = refresh_ok(&app, &shop, &r1).await;
    let r2 = str_of(&second, "refresh_token").to_string();
    assert_ne!(r1, r2, "a new refresh token each time");
    assert_ne!(str_of(&first, "access_token"), str_of(&second, "access_token"));
    let third = refresh_ok(&app, &shop, &r2).await;
    let r3 = str_of(&third, "refresh_token").to_string();
    assert!(!active(&app, &shop, &r1).await && !active(&app, &shop, &r2).await, "rotated tokens are spent");
    assert!(active(&app, &shop, &r3).await);
    assert!(audit(&app, "oauth_refresh_reused").await.is_empty());

    // the first token again: refused, and the whole grant ends, the newest token and access tokens too
    assert!(refused(&refresh(&app, &shop, &r1, None).await));
    assert!(refused(&refresh(&app, &shop, &r3, None).await), "the newest token stopped working too");
    assert!(!active(&app, &shop, &r3).await);
    assert!(!active(&app, &shop, str_of(&third, "access_token")).await);
    assert_eq!(userinfo(&app, str_of(&third, "access_token")).await.0, 401);
    let events = audit(&app, "oauth_refresh_reused").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].account_id.as_deref(), Some(account_id(&app, "ann@example.com").await.as_str()));

    // another grant of the same person and app is not touched
    let other = tokens_for(&mut b, &app, &shop, OFFLINE).await;
    refresh_ok(&app, &shop, str_of(&other, "refresh_token")).await;
    // a refresh token is bound to its client
    let rival = register(&app, client()).await;
    let fresh = tokens_for(&mut b, &app, &shop, OFFLINE).await;
    assert!(refused(&refresh(&app, &rival, str_of(&fresh, "refresh_token"), None).await));
    refresh_ok(&app, &shop, str_of(&fresh, "refresh_token")).await;
    // no refresh token without offline_access
    let online = tokens_for(&mut b, &app, &shop, "openid").await;
    assert!(online.get("refresh_token").is_none(), "{online}");
}
both!(rotation_and_reuse, refresh_tokens_rotate_and_a_reused_one_ends_the_grant);

async fn scopes_can_shrink_not_grow_and_the_lifetime_is_absolute(backend: Backend) {
    let app = oauth_app(backend).await;
    let shop = register(&app, client()).await;
    let mut b = signed_in(&app, "bea@example.com").await;
    let first = tokens_for(&mut b, &app, &shop, OFFLINE).await;
    let r1 = str_of(&first, "refresh_token");

    let (status, body) = refresh(&app, &shop, r1, Some("openid profile")).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_scope")), "upscoping");
    let (status, narrower) = refresh(&app, &shop, r1, Some("openid")).await;
    assert_eq!(status, 200, "{narrower}");
    assert_eq!(narrower["scope"], "openid");
    let claims = userinfo(&app, str_of(&narrower, "access_token")).await.2;
    assert!(claims.get("email").is_none(), "the narrower token reaches less: {claims}");
    // the grant itself keeps its scopes: the next refresh may ask for all of them again
    let (status, wider) = refresh(&app, &shop, str_of(&narrower, "refresh_token"), None).await;
    assert_eq!(status, 200);
    assert_eq!(wider["scope"], OFFLINE);

    // refreshing never extends the grant's absolute lifetime; past it, refused
    let (created, expires): (i64, i64) =
        sqlx::query_as("SELECT created_at, expires_at FROM oauth_grants").fetch_one(&app.state.db.pool).await.unwrap();
    assert_eq!(expires - created, 30 * 24 * 3600, "the default absolute lifetime");
    sqlx::query("UPDATE oauth_grants SET expires_at = $1").bind(now() - 1).execute(&app.state.db.pool).await.unwrap();
    assert!(refused(&refresh(&app, &shop, str_of(&wider, "refresh_token"), None).await));
}
both!(scope_and_lifetime, scopes_can_shrink_not_grow_and_the_lifetime_is_absolute);

async fn the_person_can_end_an_apps_access(backend: Backend) {
    let app = oauth_app(backend).await;
    let shop = register(&app, client()).await;
    let other_app = register(&app, client()).await;
    let mut b = signed_in(&app, "cy@example.com").await;
    let tokens = tokens_for(&mut b, &app, &shop, OFFLINE).await;
    let kept = tokens_for(&mut b, &app, &other_app, OFFLINE).await;
    let id = account_id(&app, "cy@example.com").await;

    assert!(grants::revoke_app(&app.state.db, &id, &shop.id, &RequestMeta::default(), now()).await.unwrap());
    assert!(refused(&refresh(&app, &shop, str_of(&tokens, "refresh_token"), None).await));
    assert_eq!(userinfo(&app, str_of(&tokens, "access_token")).await.0, 401, "its access tokens end too");
    assert_eq!(audit(&app, "oauth_app_revoked").await.len(), 1);
    refresh_ok(&app, &other_app, str_of(&kept, "refresh_token")).await;
    // nothing left to revoke
    assert!(!grants::revoke_app(&app.state.db, &id, &shop.id, &RequestMeta::default(), now()).await.unwrap());
}
both!(user_revokes, the_person_can_end_an_apps_access);

async fn a_password_reset_and_a_deletion_request_end_refresh_tokens(backend: Backend) {
    let app = oauth_app(backend).await;
    let shop = register(&app, client()).await;
    let email = "dee@example.com";
    let mut b = signed_in(&app, email).await;
    let tokens = tokens_for(&mut b, &app, &shop, OFFLINE).await;
    let bystander = {
        let mut them = signed_in(&app, "eve@example.com").await;
        tokens_for(&mut them, &app, &shop, OFFLINE).await
    };

    // a password reset in another browser
    let mut other = Browser::from_ip(&app, "198.51.100.7");
    assert_eq!(redirected_to(send(&mut other, "recover", email).await).await, "/recover");
    let code = last_mail(&app, email).await.code();
    assert_eq!(redirected_to(enter(&mut other, "recover", &code).await).await, "/recover/password");
    let res = other.post("/api/auth/reset-password", &[("password", "otter lantern gravel sunrise 77")]).await;
    assert_eq!(res.status(), 200);
    assert!(refused(&refresh(&app, &shop, str_of(&tokens, "refresh_token"), None).await), "the reset ended it");
    assert_eq!(userinfo(&app, str_of(&tokens, "access_token")).await.0, 401);
    let bystander = refresh_ok(&app, &shop, str_of(&bystander, "refresh_token")).await;

    // a deletion request of the other account ends its app's tokens at once
    let mut them = Browser::from_ip(&app, "198.51.100.8");
    let res =
        them.post("/api/auth/login", &[("email", "eve@example.com"), ("password", crate::accounts::PASSWORD)]).await;
    assert_eq!(redirected_to(res).await, "/account");
    let res = them.post("/api/account/delete", &[("email", "eve@example.com")]).await;
    assert_eq!(redirected_to(res).await, "/account/data?deletion=scheduled");
    assert!(refused(&refresh(&app, &shop, str_of(&bystander, "refresh_token"), None).await), "deletion ended it");
    assert_eq!(userinfo(&app, str_of(&bystander, "access_token")).await.0, 401);
}
both!(reset_and_deletion, a_password_reset_and_a_deletion_request_end_refresh_tokens);
