//! The authorization endpoint's rules: checking a request, deciding what the person must do first (sign
//! in, sign in again, add a second factor, consent), and issuing the authorization code.

use rand::CryptoRng;

use crate::core::oidc::clients::{self, Client};
use crate::core::oidc::SUPPORTED_SCOPES;
use crate::core::oidc::{
    acr_for, parse_scopes, pkce, ErrorCode, GrantType, OAuthError, OAuthSettings, ACR_MULTI_FACTOR,
};
use crate::core::tokens::{new_link_token, TokenKey};
use crate::db::oauth::{self as repo, CodeRow};
use crate::db::Db;

/// The query (GET) or form (POST) of an authorization request, as sent.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    pub acr_values: Option<String>,
    pub response_mode: Option<String>,
    pub request: Option<String>,
    pub request_uri: Option<String>,
}

/// A checked authorization request, kept in the browser's session while the person signs in and
/// consents. Holds nothing secret (the PKCE challenge is a hash).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuthorizationRequest {
    pub client_id: String,
    /// Shown on the sign-in and consent pages (and later: which app's theme to use).
    pub client_name: String,
    pub first_party: bool,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt_none: bool,
    /// `prompt=login` (or `select_account`): the browser's sign-in does not count; the person signs in again.
    pub prompt_login: bool,
    pub prompt_consent: bool,
    pub max_age: Option<i64>,
    /// `acr_values` asked for `aal2`.
    pub require_mfa: bool,
    pub started_at: i64,
    /// The person approved this request on the consent screen.
    #[serde(default)]
    pub consented: bool,
    /// Set when the person was sent to sign in for this request: the authentication (`SignedIn::auth_event`,
    /// "" for none) that did not count. Any other one does, however old `max_age` would call it by then.
    #[serde(default)]
    pub stale_sign_in: Option<String>,
}

/// Why a request cannot go on.
#[derive(Debug)]
pub enum AuthorizeError {
    /// The client or redirect URI cannot be trusted: show an error page, never redirect (security.md).
    Fatal(OAuthError),
    /// Tell the app, at its checked redirect URI.
    Redirect { redirect_uri: String, state: Option<String>, error: OAuthError },
}

/// Longest `state` and `nonce` accepted: they travel in the session and in redirects.
const MAX_PARAM_CHARS: usize = 1024;

/// Checks a request in the order RFC 6749 section 4.1.2.1 demands: client and redirect URI first (an
/// error about them is shown here), then everything else (an error about it goes back to the app).
pub async fn check(db: &Db, params: &AuthorizeParams, now: i64) -> Result<AuthorizationRequest, AuthorizeError> {
    let fatal = |e: OAuthError| AuthorizeError::Fatal(e);
    let client_id = params.client_id.as_deref().filter(|v| !v.is_empty());
    let client_id = client_id.ok_or_else(|| fatal(OAuthError::invalid_request("client_id is missing")))?;
    let client = clients::find(db, client_id)
        .await
        .map_err(|e| fatal(OAuthError::from_client(e)))?
        .ok_or_else(|| fatal(OAuthError::invalid_request("unknown client_id")))?;
    let redirect_uri = params.redirect_uri.as_deref().filter(|v| !v.is_empty());
    let redirect_uri = redirect_uri.ok_or_else(|| fatal(OAuthError::invalid_request("redirect_uri is missing")))?;
    if !client.has_redirect_uri(redirect_uri) {
        return Err(fatal(OAuthError::invalid_request("redirect_uri is not registered for this client")));
    }
    let state = params.state.clone().filter(|s| !s.is_empty());
    let back = |error: OAuthError| AuthorizeError::Redirect {
        redirect_uri: redirect_uri.to_string(),
        state: state.clone().filter(|s| s.len() <= MAX_PARAM_CHARS),
        error,
    };
    check_rest(&client, params, now).map_err(back).map(|mut request| {
        request.redirect_uri = redirect_uri.to_string();
        request.state = state.clone();
        request
    })
}

fn check_rest(client: &Client, p: &AuthorizeParams, now: i64) -> Result<AuthorizationRequest, OAuthError> {
    let too_long = |v: &Option<String>| v.as_ref().is_some_and(|v| v.len() > MAX_PARAM_CHARS);
    if too_long(&p.state) || too_long(&p.nonce) {
        return Err(OAuthError::invalid_request("state and nonce may be at most 1024 characters"));
    }
    if p.request.is_some() {
        return Err(OAuthError::new(ErrorCode::RequestNotSupported, "request objects are not supported"));
    }
    if p.request_uri.is_some() {
        return Err(OAuthError::new(ErrorCode::RequestUriNotSupported, "request_uri is not supported"));
    }
    match p.response_type.as_deref() {
        Some("code") => {}
        None | Some("") => return Err(OAuthError::invalid_request("response_type is missing")),
        Some(_) => {
            return Err(OAuthError::new(
                ErrorCode::UnsupportedResponseType,
                "only response_type=code is supported (no implicit or hybrid flow)",
            ))
        }
    }
    if !client.allows_grant(GrantType::AuthorizationCode) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client may not use the authorization code flow",
        ));
    }
    if p.response_mode.as_deref().is_some_and(|m| m != "query") {
        return Err(OAuthError::invalid_request("only response_mode=query is supported"));
    }
    let scopes = parse_scopes(p.scope.as_deref().unwrap_or(""));
    if scopes.is_empty() {
        return Err(OAuthError::new(ErrorCode::InvalidScope, "scope is missing"));
    }
    if let Some(scope) = scopes.iter().find(|s| !client.allows_scope(s)) {
        return Err(OAuthError::new(ErrorCode::InvalidScope, format!("scope {scope} is not allowed for this client")));
    }
    let code_challenge = check_pkce(client, p)?;
    let prompts = parse_scopes(p.prompt.as_deref().unwrap_or(""));
    if let Some(unknown) =
        prompts.iter().find(|v| !["none", "login", "consent", "select_account"].contains(&v.as_str()))
    {
        return Err(OAuthError::invalid_request(format!("prompt={unknown} is not supported")));
    }
    let prompt_none = prompts.iter().any(|v| v == "none");
    if prompt_none && prompts.len() > 1 {
        return Err(OAuthError::invalid_request("prompt=none cannot be combined with other values"));
    }
    let max_age = match p.max_age.as_deref().filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => Some(
            v.parse::<i64>()
                .ok()
                .filter(|v| *v >= 0)
                .ok_or_else(|| OAuthError::invalid_request("max_age must be a non-negative integer"))?,
        ),
    };
    let require_mfa = parse_scopes(p.acr_values.as_deref().unwrap_or("")).iter().any(|v| v == ACR_MULTI_FACTOR);
    Ok(AuthorizationRequest {
        client_id: client.id.clone(),
        client_name: client.registered.name.clone(),
        first_party: client.registered.first_party,
        redirect_uri: String::new(),
        scopes,
        state: None,
        nonce: p.nonce.clone().filter(|n| !n.is_empty()),
        code_challenge,
        prompt_none,
        // select_account: one account per browser, so signing in again is how to pick another
        prompt_login: prompts.iter().any(|v| v == "login" || v == "select_account"),
        prompt_consent: prompts.iter().any(|v| v == "consent"),
        max_age,
        require_mfa,
        started_at: now,
        consented: false,
        stale_sign_in: None,
    })
}

/// PKCE: S256 only (security.md); required for public clients, accepted from all.
fn check_pkce(client: &Client, p: &AuthorizeParams) -> Result<Option<String>, OAuthError> {
    let challenge = p.code_challenge.as_deref().filter(|c| !c.is_empty());
    match (challenge, p.code_challenge_method.as_deref()) {
        (None, None) if client.is_public() => {
            Err(OAuthError::invalid_request("a public client must send code_challenge with code_challenge_method=S256"))
        }
        (None, None) => Ok(None),
        (None, Some(_)) => Err(OAuthError::invalid_request("code_challenge_method without code_challenge")),
        (Some(_), Some(method)) if method != "S256" => {
            Err(OAuthError::invalid_request("code_challenge_method must be S256 (plain is refused)"))
        }
        (Some(_), None) => {
            Err(OAuthError::invalid_request("code_challenge_method=S256 is required (plain is refused)"))
        }
        (Some(challenge), Some(_)) if !pkce::is_well_formed(challenge) => {
            Err(OAuthError::invalid_request("code_challenge must be 43 to 128 base64url characters"))
        }
        (Some(challenge), Some(_)) => Ok(Some(challenge.to_string())),
    }
}

/// The browser's sign-in, as the authorization endpoint sees it.
#[derive(Clone, Debug)]
pub struct SignedIn {
    pub account_id: String,
    pub auth_time: i64,
    pub amr: Vec<String>,
    /// Stable id of this browser's sign-in (the `sid` claim).
    pub sid: String,
    /// Id of the latest authentication (changes with every sign-in, also the same person's again).
    pub auth_event: String,
}

/// What has to happen before a code can be issued.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// Sign in (or again, for prompt=login or max_age).
    SignIn,
    /// The app asked for `aal2`: a second factor on top of this sign-in.
    SecondFactor,
    Consent,
    Issue,
}

/// Decides the next step. `consented_scopes`: what the person allowed this client before, if anything.
pub fn next_step(
    request: &AuthorizationRequest,
    signed_in: Option<&SignedIn>,
    consented_scopes: Option<&[String]>,
    now: i64,
) -> Result<Next, OAuthError> {
    let ask = |next: Next, error: ErrorCode, why: &str| {
        if request.prompt_none {
            Err(OAuthError::new(error, why))
        } else {
            Ok(next)
        }
    };
    let Some(signed_in) = signed_in else {
        return ask(Next::SignIn, ErrorCode::LoginRequired, "the person is not signed in");
    };
    match &request.stale_sign_in {
        // sent to sign in for this request: only another authentication than the one it saw counts (seconds
        // are too coarse to tell "before" from "after", and max_age=0 is older than that by the time it is back)
        Some(stale) if *stale == signed_in.auth_event => return Ok(Next::SignIn),
        Some(_) => {}
        None if request.prompt_login => return Ok(Next::SignIn),
        None if request.max_age.is_some_and(|max_age| now - signed_in.auth_time > max_age) => {
            return ask(Next::SignIn, ErrorCode::LoginRequired, "the sign-in is older than max_age");
        }
        None => {}
    }
    if request.require_mfa && acr_for(&signed_in.amr) != ACR_MULTI_FACTOR {
        return ask(Next::SecondFactor, ErrorCode::InteractionRequired, "a second factor is needed");
    }
    let covered = consented_scopes.is_some_and(|given| request.scopes.iter().all(|s| given.contains(s)));
    let needs_consent = !request.first_party && (!covered || request.prompt_consent);
    if needs_consent && !request.consented {
        return ask(Next::Consent, ErrorCode::InteractionRequired, "the person has not allowed this app");
    }
    Ok(Next::Issue)
}

/// Issues a single-use code bound to the client, redirect URI, PKCE challenge and this sign-in.
pub async fn issue_code(
    db: &Db,
    key: &TokenKey,
    settings: &OAuthSettings,
    request: &AuthorizationRequest,
    signed_in: &SignedIn,
    now: i64,
    rng: &mut impl CryptoRng,
) -> Result<String, OAuthError> {
    let code = new_link_token(rng);
    let row = CodeRow {
        code_hash: key.link_hash(&code),
        client_id: request.client_id.clone(),
        account_id: signed_in.account_id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        scopes: request.scopes.join(" "),
        nonce: request.nonce.clone(),
        code_challenge: request.code_challenge.clone(),
        auth_time: signed_in.auth_time,
        amr: serde_json::to_string(&signed_in.amr).map_err(OAuthError::server)?,
        sid: signed_in.sid.clone(),
        created_at: now,
        expires_at: now + settings.code_ttl_secs,
        used_at: None,
        grant_id: None,
    };
    repo::insert_code(&db.pool, &row).await?;
    Ok(code)
}

/// The scopes a consent screen describes: the ones Vestibule knows, in a fixed order, then API scopes.
pub fn scopes_for_consent(scopes: &[String]) -> Vec<String> {
    let mut known: Vec<String> =
        SUPPORTED_SCOPES.iter().filter(|s| scopes.iter().any(|r| r == *s)).map(|s| s.to_string()).collect();
    known.extend(scopes.iter().filter(|s| !SUPPORTED_SCOPES.contains(&s.as_str())).cloned());
    known
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> AuthorizationRequest {
        AuthorizationRequest {
            client_id: "c".into(),
            client_name: "Shop".into(),
            first_party: false,
            redirect_uri: "https://shop.example/cb".into(),
            scopes: vec!["openid".into(), "email".into()],
            state: Some("s".into()),
            nonce: None,
            code_challenge: None,
            prompt_none: false,
            prompt_login: false,
            prompt_consent: false,
            max_age: None,
            require_mfa: false,
            started_at: 1000,
            consented: false,
            stale_sign_in: None,
        }
    }

    fn signed_in(auth_time: i64, amr: &[&str]) -> SignedIn {
        SignedIn {
            account_id: "a".into(),
            auth_time,
            amr: amr.iter().map(|m| m.to_string()).collect(),
            sid: "sid".into(),
            auth_event: format!("event-{auth_time}"),
        }
    }

    #[test]
    fn the_next_step_follows_sign_in_prompt_max_age_acr_and_consent() {
        let given = ["openid".to_string(), "email".to_string()];
        let pwd = signed_in(900, &["pwd"]);
        let r = request();
        assert_eq!(next_step(&r, None, None, 1000).ok(), Some(Next::SignIn));
        assert_eq!(next_step(&r, Some(&pwd), None, 1000).ok(), Some(Next::Consent));
        assert_eq!(next_step(&r, Some(&pwd), Some(&given), 1000).ok(), Some(Next::Issue));
        assert_eq!(next_step(&r, Some(&pwd), Some(&given[..1]), 1000).ok(), Some(Next::Consent), "a new scope");

        let first_party = AuthorizationRequest { first_party: true, ..request() };
        assert_eq!(next_step(&first_party, Some(&pwd), None, 1000).ok(), Some(Next::Issue));

        // prompt=login: whatever the sign-in's age, until the edge marks the one it saw as stale
        let login = AuthorizationRequest { prompt_login: true, ..first_party.clone() };
        assert_eq!(next_step(&login, Some(&signed_in(1000, &["pwd"])), None, 1000).ok(), Some(Next::SignIn));
        let sent = AuthorizationRequest { stale_sign_in: Some("event-900".into()), ..login.clone() };
        assert_eq!(next_step(&sent, Some(&pwd), None, 1000).ok(), Some(Next::SignIn), "the same sign-in again");
        assert_eq!(next_step(&sent, Some(&signed_in(1000, &["pwd"])), None, 1000).ok(), Some(Next::Issue));

        let max_age = AuthorizationRequest { max_age: Some(60), ..first_party.clone() };
        assert_eq!(next_step(&max_age, Some(&pwd), None, 1000).ok(), Some(Next::SignIn), "100 s old");
        assert_eq!(next_step(&max_age, Some(&pwd), None, 950).ok(), Some(Next::Issue));
        let zero = AuthorizationRequest { max_age: Some(0), stale_sign_in: Some(String::new()), ..first_party.clone() };
        assert_eq!(next_step(&zero, Some(&pwd), None, 1005).ok(), Some(Next::Issue), "a new sign-in, seconds later");

        let mfa = AuthorizationRequest { require_mfa: true, ..first_party.clone() };
        assert_eq!(next_step(&mfa, Some(&pwd), None, 1000).ok(), Some(Next::SecondFactor));
        assert_eq!(next_step(&mfa, Some(&signed_in(900, &["pwd", "otp", "mfa"])), None, 1000).ok(), Some(Next::Issue));

        let consent_again = AuthorizationRequest { prompt_consent: true, ..request() };
        assert_eq!(next_step(&consent_again, Some(&pwd), Some(&given), 1000).ok(), Some(Next::Consent));
        let approved = AuthorizationRequest { consented: true, ..consent_again };
        assert_eq!(next_step(&approved, Some(&pwd), Some(&given), 1000).ok(), Some(Next::Issue));
    }

    #[test]
    fn prompt_none_answers_instead_of_asking() {
        let none = AuthorizationRequest { prompt_none: true, ..request() };
        let code = |r: Result<Next, OAuthError>| r.err().map(|e| e.code);
        assert_eq!(code(next_step(&none, None, None, 1000)), Some(ErrorCode::LoginRequired));
        assert_eq!(
            code(next_step(&none, Some(&signed_in(900, &["pwd"])), None, 1000)),
            Some(ErrorCode::InteractionRequired)
        );
        let old = AuthorizationRequest { max_age: Some(10), ..none.clone() };
        assert_eq!(code(next_step(&old, Some(&signed_in(900, &["pwd"])), None, 1000)), Some(ErrorCode::LoginRequired));
        let mfa = AuthorizationRequest { require_mfa: true, first_party: true, ..none };
        assert_eq!(
            code(next_step(&mfa, Some(&signed_in(900, &["pwd"])), None, 1000)),
            Some(ErrorCode::InteractionRequired)
        );
    }

    #[test]
    fn consent_lists_known_scopes_first() {
        let scopes = ["api:read".to_string(), "email".to_string(), "openid".to_string()];
        assert_eq!(scopes_for_consent(&scopes), ["openid", "email", "api:read"]);
    }
}
