//! `vestibule client ...` and `vestibule keys rotate`: managing apps and signing keys from the command line
//! (the back-office adds views later). Secrets are printed once, here, and never again.

use clap::{Subcommand, ValueEnum};
use secrecy::ExposeSecret;
use serde_json::json;

use crate::core::oidc::clients::{self, AuthMethod, Client, NewClient};
use crate::core::oidc::keys::SigningAlg;
use crate::core::oidc::GrantType;
use crate::server::auth::now;
use crate::server::state::AppState;

#[derive(Subcommand)]
pub enum ClientAction {
    /// Register an app; prints its client id and (confidential clients) its secret, once.
    Create {
        /// The name people see on the consent screen and at /account/apps.
        #[arg(long)]
        name: String,
        /// An exact redirect URI (repeat for several).
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// An exact URI to return to after logout (repeat for several).
        #[arg(long = "post-logout-uri")]
        post_logout_uris: Vec<String>,
        /// A public client (single-page or native app): no secret, PKCE required.
        #[arg(long)]
        public: bool,
        /// How a confidential client sends its secret.
        #[arg(long, value_enum, default_value = "basic")]
        auth_method: SecretMethod,
        /// A scope the app may ask for (repeat); default openid, profile, email, offline_access.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// A grant the app may use (repeat); default authorization_code and refresh_token.
        #[arg(long = "grant", value_enum)]
        grants: Vec<Grant>,
        /// A first-party app: no consent screen.
        #[arg(long)]
        first_party: bool,
        /// Where to POST back-channel logout tokens.
        #[arg(long)]
        backchannel_logout_uri: Option<String>,
        /// How this app's tokens are signed.
        #[arg(long, value_enum, default_value = "eddsa")]
        alg: Alg,
        /// Print JSON (for scripts).
        #[arg(long)]
        json: bool,
    },
    /// List registered apps (no secrets).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Give a confidential app a new secret; the old one stops working at once.
    RotateSecret {
        client_id: String,
        #[arg(long)]
        json: bool,
    },
    /// Remove an app with its consents, codes and tokens.
    Delete { client_id: String },
}

#[derive(Subcommand)]
pub enum KeysAction {
    /// Add a new signing key per algorithm; the previous one stays in the JWKS (verifying what it signed),
    /// older ones are retired. A running server picks the new keys up within a minute.
    Rotate,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum SecretMethod {
    /// client_secret_basic (HTTP Basic)
    Basic,
    /// client_secret_post (form fields)
    Post,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Grant {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Alg {
    #[value(name = "eddsa", alias = "EdDSA")]
    EdDSA,
    #[value(name = "es256", alias = "ES256")]
    ES256,
    #[value(name = "rs256", alias = "RS256")]
    RS256,
}

pub async fn run_client(state: &AppState, action: ClientAction) -> Result<(), String> {
    let mut rng = crate::server_fns::auth::os_seeded_rng();
    match action {
        ClientAction::Create {
            name,
            redirect_uris,
            post_logout_uris,
            public,
            auth_method,
            scopes,
            grants,
            first_party,
            backchannel_logout_uri,
            alg,
            json,
        } => {
            let new = NewClient {
                name,
                auth_method: match (public, auth_method) {
                    (true, _) => AuthMethod::None,
                    (false, SecretMethod::Basic) => AuthMethod::ClientSecretBasic,
                    (false, SecretMethod::Post) => AuthMethod::ClientSecretPost,
                },
                redirect_uris,
                post_logout_redirect_uris: post_logout_uris,
                scopes: if scopes.is_empty() { clients::default_scopes() } else { scopes },
                grant_types: if grants.is_empty() {
                    vec![GrantType::AuthorizationCode, GrantType::RefreshToken]
                } else {
                    grants.into_iter().map(grant_type).collect()
                },
                first_party,
                backchannel_logout_uri,
                signing_alg: match alg {
                    Alg::EdDSA => SigningAlg::EdDSA,
                    Alg::ES256 => SigningAlg::ES256,
                    Alg::RS256 => SigningAlg::RS256,
                },
            };
            let (client, secret) =
                clients::create(&state.db, &state.token_key, &new, now(), &mut rng).await.map_err(|e| e.to_string())?;
            let secret = secret.map(|s| s.0.expose_secret().to_string());
            if json {
                println!("{}", json!({ "client_id": client.id, "client_secret": secret }));
            } else {
                println!("client_id:     {}", client.id);
                if let Some(secret) = secret {
                    println!("client_secret: {secret}");
                    println!("(shown once: store it now; `vestibule client rotate-secret` makes a new one)");
                }
            }
        }
        ClientAction::List { json } => {
            let all = clients::list(&state.db).await.map_err(|e| e.to_string())?;
            if json {
                println!("{}", serde_json::Value::Array(all.iter().map(describe).collect()));
            } else if all.is_empty() {
                println!("no clients registered");
            } else {
                for c in &all {
                    let kind = if c.is_public() { "public" } else { "confidential" };
                    let party = if c.registered.first_party { "first-party" } else { "third-party" };
                    println!(
                        "{}  {}  ({kind}, {party}, {})",
                        c.id,
                        c.registered.name,
                        c.registered.signing_alg.as_str()
                    );
                    for uri in &c.registered.redirect_uris {
                        println!("    redirect    {uri}");
                    }
                }
            }
        }
        ClientAction::RotateSecret { client_id, json } => {
            let secret = clients::rotate_secret(&state.db, &state.token_key, &client_id, now(), &mut rng)
                .await
                .map_err(|e| e.to_string())?;
            if json {
                println!("{}", json!({ "client_id": client_id, "client_secret": secret.0.expose_secret() }));
            } else {
                println!("client_secret: {}", secret.0.expose_secret());
                println!("(shown once; the previous secret no longer works)");
            }
        }
        ClientAction::Delete { client_id } => {
            clients::delete(&state.db, &client_id).await.map_err(|e| e.to_string())?;
            println!("client {client_id} deleted, with its consents and tokens");
        }
    }
    Ok(())
}

pub async fn run_keys(state: &AppState, action: KeysAction) -> Result<(), String> {
    match action {
        KeysAction::Rotate => {
            let kids = state.oidc_keys.rotate_now(&state.db, &state.sealer).await.map_err(|e| e.to_string())?;
            println!("new signing keys: {}", kids.join(", "));
            println!("the previous keys stay published until the next rotation");
        }
    }
    Ok(())
}

fn grant_type(grant: Grant) -> GrantType {
    match grant {
        Grant::AuthorizationCode => GrantType::AuthorizationCode,
        Grant::RefreshToken => GrantType::RefreshToken,
        Grant::ClientCredentials => GrantType::ClientCredentials,
    }
}

fn describe(c: &Client) -> serde_json::Value {
    json!({
        "client_id": c.id,
        "name": c.registered.name,
        "token_endpoint_auth_method": c.registered.auth_method.as_str(),
        "redirect_uris": c.registered.redirect_uris,
        "post_logout_redirect_uris": c.registered.post_logout_redirect_uris,
        "scope": c.registered.scopes.join(" "),
        "grant_types": c.registered.grant_types.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "first_party": c.registered.first_party,
        "backchannel_logout_uri": c.registered.backchannel_logout_uri,
        "id_token_signed_response_alg": c.registered.signing_alg.as_str(),
        "created_at": c.created_at,
    })
}
