//! Registered clients (apps): registration rules, secrets, and client authentication at the token,
//! revocation and introspection endpoints.

use rand::CryptoRng;
use secrecy::{ExposeSecret, SecretString};

use crate::core::oidc::keys::SigningAlg;
use crate::core::oidc::{GrantType, OAuthError, SUPPORTED_SCOPES};
use crate::core::tokens::{hashes_equal, new_link_token, TokenKey};
use crate::db::oauth::{self as repo, ClientRow};
use crate::db::Db;

/// How a client proves itself at the token endpoint (RFC 7591 names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    /// A public client (browser or native app): no secret, PKCE required.
    None,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::None => "none",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [AuthMethod::ClientSecretBasic, AuthMethod::ClientSecretPost, AuthMethod::None]
            .into_iter()
            .find(|m| m.as_str() == value)
    }
}

/// A registered client, as the flows use it.
#[derive(Clone, Debug)]
pub struct Client {
    pub id: String,
    pub created_at: i64,
    /// What the operator registered (`vestibule client create`).
    pub registered: NewClient,
    secret_hash: Option<String>,
}

impl Client {
    pub fn is_public(&self) -> bool {
        self.registered.auth_method == AuthMethod::None
    }

    /// Exact comparison (security.md: no prefix match, no normalisation).
    pub fn has_redirect_uri(&self, uri: &str) -> bool {
        self.registered.redirect_uris.iter().any(|registered| registered == uri)
    }

    pub fn has_post_logout_uri(&self, uri: &str) -> bool {
        self.registered.post_logout_redirect_uris.iter().any(|registered| registered == uri)
    }

    pub fn allows_grant(&self, grant: GrantType) -> bool {
        self.registered.grant_types.contains(&grant)
    }

    pub fn allows_scope(&self, scope: &str) -> bool {
        self.registered.scopes.iter().any(|s| s == scope)
    }

    fn from_row(row: ClientRow) -> Result<Self, ClientError> {
        let list = |json: &str| serde_json::from_str::<Vec<String>>(json).map_err(|_| ClientError::Damaged);
        Ok(Self {
            registered: NewClient {
                name: row.name,
                auth_method: AuthMethod::parse(&row.auth_method).ok_or(ClientError::Damaged)?,
                redirect_uris: list(&row.redirect_uris)?,
                post_logout_redirect_uris: list(&row.post_logout_redirect_uris)?,
                scopes: row.scopes.split_whitespace().map(str::to_owned).collect(),
                grant_types: row.grant_types.split_whitespace().filter_map(GrantType::parse).collect(),
                first_party: row.first_party != 0,
                backchannel_logout_uri: row.backchannel_logout_uri,
                signing_alg: row.signing_alg.parse().map_err(|_| ClientError::Damaged)?,
            },
            id: row.id,
            created_at: row.created_at,
            secret_hash: row.secret_hash,
        })
    }
}

/// A client secret, shown once when created or rotated. Never serialised, never logged.
pub struct ClientSecret(pub SecretString);

/// What an operator registers (`vestibule client create`).
#[derive(Clone, Debug)]
pub struct NewClient {
    pub name: String,
    pub auth_method: AuthMethod,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    pub grant_types: Vec<GrantType>,
    pub first_party: bool,
    pub backchannel_logout_uri: Option<String>,
    pub signing_alg: SigningAlg,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Every problem with a registration, one message each.
    #[error("{}", .0.join("; "))]
    Invalid(Vec<String>),
    #[error("no client with that id")]
    NotFound,
    #[error("a public client has no secret to rotate")]
    PublicClient,
    #[error("stored client row is damaged")]
    Damaged,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Checks a registration; every problem is reported at once.
pub fn validate(new: &NewClient) -> Result<(), ClientError> {
    let mut problems = Vec::new();
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        problems.push("the name must be 1 to 100 characters without control characters".to_string());
    }
    let wants_code = new.grant_types.contains(&GrantType::AuthorizationCode);
    if wants_code && new.redirect_uris.is_empty() {
        problems.push("a client using authorization_code needs at least one --redirect-uri".to_string());
    }
    for uri in &new.redirect_uris {
        if let Err(why) = check_redirect_uri(uri) {
            problems.push(format!("redirect URI {uri:?}: {why}"));
        }
    }
    for uri in &new.post_logout_redirect_uris {
        if let Err(why) = check_redirect_uri(uri) {
            problems.push(format!("post-logout redirect URI {uri:?}: {why}"));
        }
    }
    if let Some(uri) = &new.backchannel_logout_uri {
        match url::Url::parse(uri) {
            Ok(url) if matches!(url.scheme(), "https" | "http") && url.fragment().is_none() => {}
            _ => problems.push(format!("back-channel logout URI {uri:?} must be an http(s) URL without fragment")),
        }
    }
    for scope in &new.scopes {
        if !is_scope_token(scope) {
            problems
                .push(format!("scope {scope:?} may hold only printable ASCII without spaces, quotes or backslashes"));
        }
    }
    if new.grant_types.is_empty() {
        problems.push("at least one grant type is needed".to_string());
    }
    if new.grant_types.contains(&GrantType::RefreshToken) && !wants_code {
        problems.push("refresh_token needs authorization_code too".to_string());
    }
    if new.auth_method == AuthMethod::None && new.grant_types.contains(&GrantType::ClientCredentials) {
        problems.push("a public client cannot use client_credentials (it has no secret)".to_string());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ClientError::Invalid(problems))
    }
}

/// A redirect URI may be https, http on a loopback host (development, native apps: RFC 8252), or a native
/// app's private-use scheme in reverse-domain form; never with a fragment, never `javascript:` or `data:`.
pub fn check_redirect_uri(uri: &str) -> Result<(), &'static str> {
    let url = url::Url::parse(uri).map_err(|_| "not an absolute URI")?;
    if url.fragment().is_some() {
        return Err("must not have a fragment");
    }
    if url.as_str() != uri && url.as_str() != format!("{uri}/") {
        // what is stored is compared byte for byte later: register the form browsers will send
        return Err("must be written in its normal form (lower-case scheme and host, no default port)");
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback_host(&url) => Ok(()),
        "http" => Err("http is allowed only for 127.0.0.1, [::1] and localhost"),
        "javascript" | "data" | "file" | "vbscript" | "blob" | "about" => Err("this scheme is not allowed"),
        scheme if scheme.contains('.') => Ok(()),
        _ => Err("use https, loopback http, or a reverse-domain private scheme (com.example.app:/callback)"),
    }
}

fn is_loopback_host(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// RFC 6749 section 3.3 scope-token characters.
pub fn is_scope_token(scope: &str) -> bool {
    !scope.is_empty() && scope.bytes().all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

/// Registers a client; returns it with its secret (confidential clients only), shown once.
pub async fn create(
    db: &Db,
    key: &TokenKey,
    new: &NewClient,
    now: i64,
    rng: &mut impl CryptoRng,
) -> Result<(Client, Option<ClientSecret>), ClientError> {
    validate(new)?;
    let mut id_bytes = [0u8; 16];
    rng.fill_bytes(&mut id_bytes);
    let id = hex::encode(id_bytes);
    let secret = (new.auth_method != AuthMethod::None).then(|| new_link_token(rng));
    let row = ClientRow {
        id,
        name: new.name.trim().to_string(),
        secret_hash: secret.as_deref().map(|s| key.link_hash(s)),
        auth_method: new.auth_method.as_str().to_string(),
        redirect_uris: serde_json::to_string(&new.redirect_uris).map_err(|_| ClientError::Damaged)?,
        post_logout_redirect_uris: serde_json::to_string(&new.post_logout_redirect_uris)
            .map_err(|_| ClientError::Damaged)?,
        scopes: new.scopes.join(" "),
        grant_types: new.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>().join(" "),
        first_party: i64::from(new.first_party),
        backchannel_logout_uri: new.backchannel_logout_uri.clone(),
        signing_alg: new.signing_alg.as_str().to_string(),
        created_at: now,
        secret_rotated_at: None,
    };
    repo::insert_client(&db.pool, &row).await?;
    let client = Client::from_row(row)?;
    Ok((client, secret.map(|s| ClientSecret(SecretString::from(s)))))
}

pub async fn find(db: &Db, id: &str) -> Result<Option<Client>, ClientError> {
    repo::find_client(&db.pool, id).await?.map(Client::from_row).transpose()
}

pub async fn list(db: &Db) -> Result<Vec<Client>, ClientError> {
    repo::all_clients(&db.pool).await?.into_iter().map(Client::from_row).collect()
}

/// A new secret for a confidential client; the old one stops working at once.
pub async fn rotate_secret(
    db: &Db,
    key: &TokenKey,
    id: &str,
    now: i64,
    rng: &mut impl CryptoRng,
) -> Result<ClientSecret, ClientError> {
    let client = find(db, id).await?.ok_or(ClientError::NotFound)?;
    if client.is_public() {
        return Err(ClientError::PublicClient);
    }
    let secret = new_link_token(rng);
    if !repo::set_client_secret(&db.pool, id, &key.link_hash(&secret), now).await? {
        return Err(ClientError::NotFound);
    }
    Ok(ClientSecret(SecretString::from(secret)))
}

pub async fn delete(db: &Db, id: &str) -> Result<(), ClientError> {
    if repo::delete_client(&db.pool, id).await? {
        Ok(())
    } else {
        Err(ClientError::NotFound)
    }
}

/// The credentials a request to the token, revocation or introspection endpoint carried.
pub struct PresentedClient {
    pub client_id: String,
    pub secret: Option<SecretString>,
    /// How they came: `ClientSecretBasic` (Authorization header), `ClientSecretPost` (form fields) or `None`
    /// (a `client_id` alone).
    pub method: AuthMethod,
}

/// Authenticates a client by its registered method only (a secret sent another way is refused), comparing
/// the secret's HMAC in constant time. Every failure is the same `invalid_client`.
pub async fn authenticate(db: &Db, key: &TokenKey, presented: &PresentedClient) -> Result<Client, OAuthError> {
    let client = find(db, &presented.client_id)
        .await
        .map_err(OAuthError::from_client)?
        .ok_or_else(|| OAuthError::invalid_client("unknown client or wrong credentials"))?;
    if presented.method != client.registered.auth_method {
        return Err(OAuthError::invalid_client("unknown client or wrong credentials"));
    }
    if client.is_public() {
        return Ok(client);
    }
    let (Some(secret), Some(stored)) = (&presented.secret, &client.secret_hash) else {
        return Err(OAuthError::invalid_client("unknown client or wrong credentials"));
    };
    if !hashes_equal(&key.link_hash(secret.expose_secret()), stored) {
        return Err(OAuthError::invalid_client("unknown client or wrong credentials"));
    }
    Ok(client)
}

/// The scopes every client gets unless registered otherwise.
pub fn default_scopes() -> Vec<String> {
    SUPPORTED_SCOPES.iter().map(|s| s.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_are_checked_at_registration() {
        for good in ["https://app.example/cb", "http://127.0.0.1:8080/cb", "http://localhost/cb", "com.example.app:/cb"]
        {
            assert_eq!(check_redirect_uri(good), Ok(()), "{good}");
        }
        for bad in [
            "/relative",
            "https://app.example/cb#frag",
            "http://app.example/cb",
            "javascript:alert(1)",
            "data:text/html,x",
            "HTTPS://App.Example/cb",
            "https://app.example:443/cb",
            "myapp:/cb",
        ] {
            assert!(check_redirect_uri(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn scope_tokens_follow_rfc_6749() {
        assert!(is_scope_token("openid") && is_scope_token("api:read"));
        assert!(!is_scope_token("") && !is_scope_token("a b") && !is_scope_token("a\"b") && !is_scope_token("a\\b"));
    }

    fn sample() -> NewClient {
        NewClient {
            name: "Shop".into(),
            auth_method: AuthMethod::ClientSecretBasic,
            redirect_uris: vec!["https://shop.example/cb".into()],
            post_logout_redirect_uris: vec![],
            scopes: default_scopes(),
            grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            first_party: false,
            backchannel_logout_uri: None,
            signing_alg: SigningAlg::EdDSA,
        }
    }

    #[test]
    fn registrations_report_every_problem() {
        assert!(validate(&sample()).is_ok());
        let bad = NewClient {
            name: " ".into(),
            auth_method: AuthMethod::None,
            redirect_uris: vec![],
            grant_types: vec![GrantType::RefreshToken, GrantType::ClientCredentials],
            ..sample()
        };
        let Err(ClientError::Invalid(problems)) = validate(&bad) else { panic!("must be refused") };
        assert_eq!(problems.len(), 3, "{problems:?}");
    }

    #[tokio::test]
    async fn secrets_are_stored_hashed_shown_once_and_compared_by_registered_method() {
        let (_dir, db) = crate::db::test_db().await;
        let key = TokenKey::from_bytes([9; 32]);
        let mut rng = rand::rng();
        let (client, secret) = create(&db, &key, &sample(), 1, &mut rng).await.unwrap_or_else(|e| panic!("{e}"));
        let secret = secret.unwrap_or_else(|| panic!("a confidential client gets a secret"));
        let row = repo::find_client(&db.pool, &client.id).await.ok().flatten().unwrap_or_else(|| panic!("stored"));
        assert_ne!(row.secret_hash.as_deref(), Some(secret.0.expose_secret()));
        let presented = |secret: &str, method| PresentedClient {
            client_id: client.id.clone(),
            secret: Some(SecretString::from(secret.to_string())),
            method,
        };
        let good = presented(secret.0.expose_secret(), AuthMethod::ClientSecretBasic);
        assert!(authenticate(&db, &key, &good).await.is_ok());
        let wrong_method = presented(secret.0.expose_secret(), AuthMethod::ClientSecretPost);
        assert!(authenticate(&db, &key, &wrong_method).await.is_err());
        assert!(authenticate(&db, &key, &presented("nope", AuthMethod::ClientSecretBasic)).await.is_err());

        let rotated = rotate_secret(&db, &key, &client.id, 2, &mut rng).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(authenticate(&db, &key, &good).await.is_err(), "the old secret stops working");
        let new = presented(rotated.0.expose_secret(), AuthMethod::ClientSecretBasic);
        assert!(authenticate(&db, &key, &new).await.is_ok());
    }
}
