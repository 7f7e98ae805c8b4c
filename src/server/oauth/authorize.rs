//! `/oauth2/authorize` (GET and POST), `/oauth2/continue` (where every sign-in comes back to) and the
//! consent decision (`POST /oauth2/consent`, a plain form on the hosted consent page).

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::request::Parts;
use http::{header, HeaderValue};
use tower_sessions::Session;

use crate::core::audit::{record, record_in, Event};
use crate::core::oidc::authorize::{self, AuthorizationRequest, AuthorizeError, AuthorizeParams, Next};
use crate::core::oidc::{ErrorCode, OAuthError};
use crate::error::{AppError, ErrorKind, Problem};
use crate::server::auth::{now, request_meta};
use crate::server::oauth::flow;
use crate::server::router::error_response;
use crate::server::state::AppState;

pub async fn authorize_get(State(state): State<AppState>, req: Request) -> Response {
    let query = req.uri().query().unwrap_or("").to_string();
    read_params(&state, req, query.as_bytes()).await
}

/// OpenID Connect Core 3.1.2.1: the authorization endpoint accepts POST (form) as well as GET.
pub async fn authorize_post(State(state): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, 64 * 1024).await {
        Ok(bytes) => bytes,
        Err(_) => return error_response(&AppError::new(ErrorKind::PayloadTooLarge), &parts.headers),
    };
    read_params(&state, Request::from_parts(parts, axum::body::Body::empty()), &bytes).await
}

/// A parameter sent twice, or a form that does not parse, is refused here: the redirect URI cannot be
/// trusted yet (RFC 6749 section 3.1).
async fn read_params(state: &AppState, req: Request, encoded: &[u8]) -> Response {
    let params = crate::server::oauth::client_auth::form_pairs(encoded).map_err(|e| e.description).and_then(|_| {
        serde_urlencoded::from_bytes::<AuthorizeParams>(encoded).map_err(|_| "the request could not be read".into())
    });
    match params {
        Ok(params) => start(state, req, params).await,
        Err(why) => {
            let (parts, _) = req.into_parts();
            invalid_request_page(&parts, &why)
        }
    }
}

async fn start(state: &AppState, req: Request, params: AuthorizeParams) -> Response {
    let (parts, _) = req.into_parts();
    let Some(session) = parts.extensions.get::<Session>().cloned() else {
        return error_response(&AppError::internal("no session"), &parts.headers);
    };
    match authorize::check(&state.db, &params, now()).await {
        Ok(request) => {
            if let Err(e) = flow::keep(&session, &request).await {
                return error_response(&e, &parts.headers);
            }
            proceed(state, &session, &parts, request).await
        }
        Err(AuthorizeError::Fatal(error)) => {
            if error.code == ErrorCode::ServerError {
                return error_response(&AppError::internal(error.internal.unwrap_or_default()), &parts.headers);
            }
            tracing::info!(error = error.code.as_str(), description = %error.description, "authorization request refused");
            invalid_request_page(&parts, &error.description)
        }
        Err(AuthorizeError::Redirect { redirect_uri, state: app_state, error }) => {
            redirect_to_app(&state.oauth.issuer, &redirect_uri, app_state.as_deref(), Err(&error))
        }
    }
}

/// `GET /oauth2/continue`: the request under way in this browser, after a sign-in, step-up or consent.
pub async fn continue_get(State(state): State<AppState>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let Some(session) = parts.extensions.get::<Session>().cloned() else {
        return error_response(&AppError::internal("no session"), &parts.headers);
    };
    match flow::pending(&session).await {
        Some(request) => proceed(&state, &session, &parts, request).await,
        None => error_response(&AppError::new(ErrorKind::OAuthRequestExpired), &parts.headers),
    }
}

#[derive(serde::Deserialize)]
pub struct ConsentForm {
    decision: String,
}

/// `POST /oauth2/consent`: allow (remember the scopes, go on) or deny (tell the app `access_denied`).
pub async fn consent_post(State(state): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let form = match axum::body::to_bytes(body, 4096)
        .await
        .ok()
        .and_then(|b| serde_urlencoded::from_bytes::<ConsentForm>(&b).ok())
    {
        Some(form) => form,
        None => return error_response(&AppError::new(ErrorKind::BadRequest), &parts.headers),
    };
    let Some(session) = parts.extensions.get::<Session>().cloned() else {
        return error_response(&AppError::internal("no session"), &parts.headers);
    };
    let (Some(mut request), Some(signed_in)) = (flow::pending(&session).await, flow::signed_in(&session).await) else {
        return error_response(&AppError::new(ErrorKind::OAuthRequestExpired), &parts.headers);
    };
    let meta = request_meta(&parts, &state.config.trusted_proxies);
    let detail = serde_json::json!({ "client_id": request.client_id, "scopes": request.scopes.join(" ") });
    if form.decision != "allow" {
        flow::forget(&session).await;
        let _ = record(&state.db, Event::OAuthConsentDenied, Some(&signed_in.account_id), &meta, detail, now()).await;
        let error = OAuthError::new(ErrorCode::AccessDenied, "the person did not allow this app");
        return redirect_to_app(&state.oauth.issuer, &request.redirect_uri, request.state.as_deref(), Err(&error));
    }
    let result = async {
        // the consent and its audit event are stored together or not at all
        let mut tx = state.db.pool.begin().await?;
        let before = crate::db::oauth::consent(&mut *tx, &signed_in.account_id, &request.client_id).await?;
        let mut scopes: Vec<String> = before.as_deref().map(crate::core::oidc::parse_scopes).unwrap_or_default();
        scopes.extend(request.scopes.iter().filter(|s| !scopes.contains(s)).cloned().collect::<Vec<_>>());
        crate::db::oauth::put_consent(&mut *tx, &signed_in.account_id, &request.client_id, &scopes.join(" "), now())
            .await?;
        record_in(&mut *tx, Event::OAuthConsentGranted, Some(&signed_in.account_id), &meta, detail, now()).await?;
        tx.commit().await
    }
    .await;
    if let Err(e) = result {
        return error_response(&AppError::from(e), &parts.headers);
    }
    request.consented = true;
    if let Err(e) = flow::keep(&session, &request).await {
        return error_response(&e, &parts.headers);
    }
    proceed(&state, &session, &parts, request).await
}

/// The next step of a checked request: a page of ours, or back to the app with a code or an error.
async fn proceed(state: &AppState, session: &Session, parts: &Parts, request: AuthorizationRequest) -> Response {
    match step(state, session, &request).await {
        Ok(response) => response,
        Err(Outcome::App(error)) => {
            flow::forget(session).await;
            if error.code == ErrorCode::ServerError {
                tracing::error!(error = error.internal.as_deref().unwrap_or("-"), "authorization failed");
            }
            redirect_to_app(&state.oauth.issuer, &request.redirect_uri, request.state.as_deref(), Err(&error))
        }
        Err(Outcome::Page(error)) => error_response(&error, &parts.headers),
    }
}

enum Outcome {
    /// Tell the app.
    App(OAuthError),
    /// A failure of ours: show it here.
    Page(AppError),
}

impl From<OAuthError> for Outcome {
    fn from(e: OAuthError) -> Self {
        Outcome::App(e)
    }
}

async fn step(state: &AppState, session: &Session, request: &AuthorizationRequest) -> Result<Response, Outcome> {
    let signed_in = flow::signed_in(session).await;
    let consented = match &signed_in {
        Some(s) => crate::db::oauth::consent(&state.db.pool, &s.account_id, &request.client_id)
            .await
            .map_err(|e| Outcome::Page(AppError::from(e)))?
            .map(|scopes| crate::core::oidc::parse_scopes(&scopes)),
        None => None,
    };
    let now = now();
    match authorize::next_step(request, signed_in.as_ref(), consented.as_deref(), now)? {
        Next::SignIn if crate::server::auth::mfa_setup_pending(session).await => {
            // signed in, but the MFA policy wants a second factor set up first; the security page then
            // offers the way back into this request
            Ok(see_other("/account/security"))
        }
        Next::SignIn => {
            // the request waits in the session; the sign-in there now (if any) no longer counts for it, and
            // stays valid for everything else (a person who gives up is still signed in)
            let mut waiting = request.clone();
            waiting.stale_sign_in = Some(signed_in.map(|s| s.auth_event).unwrap_or_default());
            flow::keep(session, &waiting).await.map_err(Outcome::Page)?;
            Ok(see_other("/login"))
        }
        Next::SecondFactor => {
            let Some(signed_in) = signed_in else { return Ok(see_other("/login")) };
            let factors = crate::core::mfa::factors(&state.db, &signed_in.account_id)
                .await
                .map_err(|e| Outcome::Page(AppError::from(e)))?;
            if !factors.required_at_sign_in() {
                return Err(Outcome::App(OAuthError::new(
                    ErrorCode::AccessDenied,
                    "the app asked for a second factor (acr_values=aal2) and this account has none",
                )));
            }
            let next =
                crate::server::auth::step_up_second_factor(state, session, &signed_in.account_id, &signed_in.amr)
                    .await
                    .map_err(Outcome::Page)?;
            Ok(see_other(&next))
        }
        Next::Consent => Ok(see_other("/oauth2/consent")),
        Next::Issue => {
            let Some(signed_in) = signed_in else { return Ok(see_other("/login")) };
            let mut rng = crate::server_fns::auth::os_seeded_rng();
            let code =
                authorize::issue_code(&state.db, &state.token_key, &state.oauth, request, &signed_in, now, &mut rng)
                    .await?;
            flow::forget(session).await;
            Ok(redirect_to_app(&state.oauth.issuer, &request.redirect_uri, request.state.as_deref(), Ok(&code)))
        }
    }
}

/// A 303 no cache keeps (these answers depend on the session).
pub fn see_other(path: &str) -> Response {
    let mut response = Redirect::to(path).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Back to the app's (checked) redirect URI with `code` or `error`, `state` and `iss` (RFC 9207).
pub fn redirect_to_app(
    issuer: &str,
    redirect_uri: &str,
    state: Option<&str>,
    outcome: Result<&str, &OAuthError>,
) -> Response {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return error_response(
            &AppError::internal("a registered redirect URI does not parse"),
            &http::HeaderMap::new(),
        );
    };
    {
        let mut query = url.query_pairs_mut();
        match outcome {
            Ok(code) => {
                query.append_pair("code", code);
            }
            Err(error) => {
                query.append_pair("error", error.code.as_str());
                query.append_pair("error_description", &error.description);
            }
        }
        if let Some(state) = state {
            query.append_pair("state", state);
        }
        query.append_pair("iss", issuer);
    }
    see_other(url.as_str())
}

fn invalid_request_page(parts: &Parts, description: &str) -> Response {
    let mut err = AppError::new(ErrorKind::OAuthRequestInvalid);
    err.problems = vec![Problem { field: "request".into(), message: description.to_string() }];
    error_response(&err, &parts.headers)
}
