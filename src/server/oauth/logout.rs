//! Signing out: `/oauth2/logout` (OpenID Connect RP-Initiated Logout 1.0), the confirmation it may ask
//! for, and back-channel logout notifications (OpenID Connect Back-Channel Logout 1.0) to the apps the
//! ending sign-in was used for. `POST /logout` (the portal's own sign-out) ends sessions the same way.

use std::net::IpAddr;
use std::time::Duration;

use axum::extract::{Query, Request, State};
use axum::response::Response;
use serde_json::{Map, Value};
use tower_sessions::Session;

use crate::core::audit::{record, Event, RequestMeta};
use crate::core::oidc::clients;
use crate::core::oidc::grants;
use crate::core::oidc::keys::KeySet;
use crate::error::{AppError, ErrorKind, Problem};
use crate::server::auth::{now, request_meta, signed_in_account, SIGN_IN_ID_KEY};
use crate::server::oauth::authorize::see_other;
use crate::server::router::error_response;
use crate::server::state::AppState;

/// Session key of a logout an app asked for, waiting for the person to confirm it (`PendingLogout`).
pub const LOGOUT_KEY: &str = "oauth_logout";
pub const CONFIRM_PATH: &str = "/oauth2/logout/confirm";
/// Where a sign-out without an app to return to ends.
pub const SIGNED_OUT_PATH: &str = "/?signed_out=1";

#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct LogoutParams {
    pub id_token_hint: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub client_id: Option<String>,
}

/// An app's logout request, checked, waiting for confirmation.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct PendingLogout {
    pub client_name: Option<String>,
    /// Checked against the client's registered post-logout URIs, with `state` already appended.
    pub return_to: Option<String>,
    /// When the app asked: a request the person walked away from ("Stay signed in") does not come back
    /// later (`pending_logout`).
    #[serde(default)]
    pub asked_at: i64,
}

/// How long a logout request waits for the person's confirmation.
pub const LOGOUT_TTL_SECS: i64 = 10 * 60;

/// The app's logout request waiting in this browser, if it is recent.
pub async fn pending_logout(session: &Session) -> Option<PendingLogout> {
    let pending = session.get::<PendingLogout>(LOGOUT_KEY).await.ok().flatten()?;
    if now() - pending.asked_at <= LOGOUT_TTL_SECS {
        Some(pending)
    } else {
        crate::server::sessions::forget(session, LOGOUT_KEY).await;
        None
    }
}

pub async fn logout_get(State(state): State<AppState>, Query(params): Query<LogoutParams>, req: Request) -> Response {
    logout(&state, req, params).await
}

pub async fn logout_post(State(state): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let params = axum::body::to_bytes(body, 16 * 1024)
        .await
        .ok()
        .and_then(|bytes| serde_urlencoded::from_bytes::<LogoutParams>(&bytes).ok());
    match params {
        Some(params) => logout(&state, Request::from_parts(parts, axum::body::Body::empty()), params).await,
        None => error_response(&AppError::new(ErrorKind::BadRequest), &parts.headers),
    }
}

async fn logout(state: &AppState, req: Request, params: LogoutParams) -> Response {
    let (parts, _) = req.into_parts();
    let Some(session) = parts.extensions.get::<Session>().cloned() else {
        return error_response(&AppError::internal("no session"), &parts.headers);
    };
    let checked = match check(state, &params).await {
        Ok(checked) => checked,
        Err(message) => {
            let mut err = AppError::new(ErrorKind::OAuthRequestInvalid);
            err.problems = vec![Problem { field: "request".into(), message }];
            return error_response(&err, &parts.headers);
        }
    };
    let current_sid = session.get::<String>(SIGN_IN_ID_KEY).await.ok().flatten();
    let signed_in = signed_in_account(&session).await.is_some();
    // Without a hint naming this very sign-in, a page elsewhere could sign people out at will: ask first.
    let hinted_here = checked.hint_sid.is_some() && checked.hint_sid == current_sid;
    if signed_in && !hinted_here {
        let pending = PendingLogout { client_name: checked.client_name, return_to: checked.return_to, asked_at: now() };
        if let Err(e) = session.insert(LOGOUT_KEY, pending).await {
            return error_response(&AppError::internal(e), &parts.headers);
        }
        return see_other(CONFIRM_PATH);
    }
    if signed_in {
        let meta = request_meta(&parts, &state.config.trusted_proxies);
        if let Err(e) = end_session(state, &session, &meta).await {
            return error_response(&e, &parts.headers);
        }
    }
    see_other(checked.return_to.as_deref().unwrap_or(SIGNED_OUT_PATH))
}

/// `POST /oauth2/logout/confirm`: the person confirmed the app's logout (a same-origin form).
pub async fn confirm_post(State(state): State<AppState>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let Some(session) = parts.extensions.get::<Session>().cloned() else {
        return error_response(&AppError::internal("no session"), &parts.headers);
    };
    let pending = pending_logout(&session).await;
    let meta = request_meta(&parts, &state.config.trusted_proxies);
    if let Err(e) = end_session(&state, &session, &meta).await {
        return error_response(&e, &parts.headers);
    }
    see_other(pending.and_then(|p| p.return_to).as_deref().unwrap_or(SIGNED_OUT_PATH))
}

struct Checked {
    client_name: Option<String>,
    return_to: Option<String>,
    hint_sid: Option<String>,
}

/// The hint must be an ID token of ours (expired is fine: it only names a sign-in); the post-logout URI
/// must be registered, exactly, for the client the hint or `client_id` names. A bad URI is shown, never
/// followed.
async fn check(state: &AppState, params: &LogoutParams) -> Result<Checked, String> {
    let mut client_id = params.client_id.clone().filter(|c| !c.is_empty());
    let mut hint_sid = None;
    if let Some(hint) = params.id_token_hint.as_deref().filter(|h| !h.is_empty()) {
        let keys = state
            .oidc_keys
            .get(&state.db, &state.sealer)
            .await
            .map_err(|_| "the server failed; try again".to_string())?;
        let claims = id_token_claims(&keys, &state.oauth.issuer, hint)
            .ok_or("id_token_hint is not an ID token of this provider")?;
        let aud = claims.get("aud").and_then(Value::as_str).map(str::to_owned);
        if client_id.is_some() && client_id != aud {
            return Err("client_id does not match the ID token's audience".into());
        }
        client_id = aud;
        hint_sid = claims.get("sid").and_then(Value::as_str).map(str::to_owned);
    }
    let client = match &client_id {
        Some(id) => clients::find(&state.db, id).await.map_err(|_| "the server failed; try again".to_string())?,
        None => None,
    };
    if client_id.is_some() && client.is_none() {
        return Err("unknown client_id".into());
    }
    let return_to = match params.post_logout_redirect_uri.as_deref().filter(|u| !u.is_empty()) {
        None => None,
        Some(uri) => {
            let client = client.as_ref().ok_or("post_logout_redirect_uri needs id_token_hint or client_id")?;
            if !client.has_post_logout_uri(uri) {
                return Err("post_logout_redirect_uri is not registered for this client".into());
            }
            let mut url = url::Url::parse(uri).map_err(|_| "post_logout_redirect_uri does not parse".to_string())?;
            if let Some(state) = params.state.as_deref().filter(|s| !s.is_empty()) {
                url.query_pairs_mut().append_pair("state", state);
            }
            Some(url.to_string())
        }
    };
    Ok(Checked { client_name: client.map(|c| c.registered.name), return_to, hint_sid })
}

fn id_token_claims(keys: &KeySet, issuer: &str, token: &str) -> Option<Map<String, Value>> {
    let (typ, claims) = keys.verify(token).ok()?;
    let ours = claims.get("iss").and_then(Value::as_str) == Some(issuer);
    (ours && (typ.is_empty() || typ.eq_ignore_ascii_case("JWT"))).then_some(claims)
}

/// Ends this browser's sign-in: the audit event, the apps' grants of this sign-in (except those allowed
/// offline access), back-channel notifications to those apps, and the session itself.
pub async fn end_session(state: &AppState, session: &Session, meta: &RequestMeta) -> Result<(), AppError> {
    let now = now();
    if let Some(account_id) = signed_in_account(session).await {
        record(&state.db, Event::SignOut, Some(&account_id), meta, Value::Null, now).await?;
    }
    if let Some(sid) = session.get::<String>(SIGN_IN_ID_KEY).await.ok().flatten() {
        end_sign_in_id(state, &sid).await?;
    }
    session.flush().await.map_err(AppError::internal)
}

/// A browser's sign-in (`sid`) ended: its apps' grants end (except offline access), codes not yet
/// exchanged stop working, and the apps are told by back-channel.
pub async fn end_sign_in_id(state: &AppState, sid: &str) -> Result<(), AppError> {
    let grants = grants::end_sign_in(&state.db, sid, now()).await?;
    notify_apps(state, grants);
    Ok(())
}

/// Sessions ended from the sessions page (their stored data): their sign-ins end for the apps too, as if
/// each browser had signed out.
pub async fn end_sign_ins(state: &AppState, session_data: &[String]) -> Result<(), AppError> {
    for data in session_data {
        let sid = serde_json::from_str::<Map<String, Value>>(data)
            .ok()
            .and_then(|map| map.get(SIGN_IN_ID_KEY).and_then(Value::as_str).map(str::to_owned));
        if let Some(sid) = sid {
            end_sign_in_id(state, &sid).await?;
        }
    }
    Ok(())
}

/// Sends each app with a back-channel logout URI one logout token per ended sign-in, in the background
/// (the person's sign-out does not wait for apps).
fn notify_apps(state: &AppState, grants: Vec<crate::db::oauth::GrantRow>) {
    let mut seen = std::collections::HashSet::new();
    for grant in grants {
        if !seen.insert((grant.client_id.clone(), grant.sid.clone())) {
            continue;
        }
        let state = state.clone();
        tokio::spawn(async move {
            if let Err(why) = send_logout_token(&state, &grant).await {
                tracing::warn!(client_id = %grant.client_id, error = %why, "back-channel logout not delivered");
            }
        });
    }
}

async fn send_logout_token(state: &AppState, grant: &crate::db::oauth::GrantRow) -> Result<(), String> {
    let Some(client) = clients::find(&state.db, &grant.client_id).await.map_err(|e| e.to_string())? else {
        return Ok(());
    };
    let Some(uri) = client.registered.backchannel_logout_uri.clone() else { return Ok(()) };
    let keys = state.oidc_keys.get(&state.db, &state.sealer).await.map_err(|e| e.to_string())?;
    let now = now();
    let mut claims = Map::new();
    claims.insert("iss".into(), state.oauth.issuer.as_str().into());
    claims.insert("aud".into(), client.id.as_str().into());
    claims.insert("iat".into(), now.into());
    claims.insert("exp".into(), (now + 120).into());
    claims.insert("jti".into(), crate::core::oidc::new_id(&mut crate::server_fns::auth::os_seeded_rng()).into());
    claims.insert("sub".into(), grant.account_id.as_str().into());
    claims.insert("sid".into(), grant.sid.as_str().into());
    claims.insert("events".into(), serde_json::json!({ "http://schemas.openid.net/event/backchannel-logout": {} }));
    let token = keys.sign(client.registered.signing_alg, "logout+jwt", &claims).map_err(|e| e.to_string())?;
    post_form(&uri, &[("logout_token", token.as_str())], state.config.oauth.allow_private_network).await
}

/// POSTs a form to `uri` after checking where it resolves: loopback, private, link-local and other
/// non-public addresses are refused unless allowed (security.md: server-side fetches). The connection goes
/// to the checked address, so a second DNS answer cannot swap in another.
pub async fn post_form(uri: &str, form: &[(&str, &str)], allow_private: bool) -> Result<(), String> {
    let url = url::Url::parse(uri).map_err(|e| e.to_string())?;
    let host = url.host_str().ok_or("no host")?.to_string();
    let port = url.port_or_known_default().ok_or("no port")?;
    let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.trim_matches(['[', ']']), port))
        .await
        .map_err(|e| format!("cannot resolve {host}: {e}"))?
        .collect();
    let addr = addrs.first().copied().ok_or("no address")?;
    if !allow_private && addrs.iter().any(|a| !is_public(a.ip())) {
        return Err(format!("{host} resolves to a non-public address; refused"));
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .resolve(&host, addr)
        .build()
        .map_err(|e| e.to_string())?;
    let response = client.post(url).form(form).send().await.map_err(|e| e.to_string())?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("answered {}", response.status()))
    }
}

/// Whether an address is on the public internet (not loopback, private, link-local, shared, documentation,
/// multicast or unspecified).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public(IpAddr::V4(v4)),
            None => {
                let first = v6.segments()[0];
                !(v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_multicast()
                    || (first & 0xfe00) == 0xfc00
                    || (first & 0xffc0) == 0xfe80)
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            let ip: IpAddr = private.parse().unwrap_or_else(|e| panic!("{e}"));
            assert!(!is_public(ip), "{private}");
        }
        for public in ["93.184.216.34", "2606:2800:220:1::1"] {
            let ip: IpAddr = public.parse().unwrap_or_else(|e| panic!("{e}"));
            assert!(is_public(ip), "{public}");
        }
    }

    #[tokio::test]
    async fn back_channel_calls_refuse_private_addresses() {
        let refused = post_form("http://127.0.0.1:9/logout", &[("logout_token", "x")], false).await;
        assert!(refused.is_err_and(|e| e.contains("non-public")));
    }
}
