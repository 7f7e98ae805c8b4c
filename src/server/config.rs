//! Configuration: one TOML file plus `VESTIBULE_`-prefixed environment variables (nested keys joined by a
//! double underscore: `VESTIBULE_SMTP__HOST`). Validated once at start; each problem is reported with the
//! key to change. docs/configuration.md documents every key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Toml};
use figment::Figment;
use secrecy::SecretString;
use serde::Deserialize;
use url::Url;

/// Settings as read; `validate` turns them into a `Config`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawConfig {
    pub public_url: String,
    pub bind: String,
    pub database_url: Option<String>,
    pub data_dir: PathBuf,
    pub site_root: PathBuf,
    pub dev_mode: bool,
    pub log_format: LogFormat,
    pub log_filter: String,
    /// Reverse proxies whose `X-Forwarded-For` is believed (exact IP addresses). Empty: the TCP peer is the
    /// client.
    pub trusted_proxies: Vec<String>,
    pub session: SessionConfig,
    pub argon2: Argon2Config,
    pub limits: LimitsConfig,
    pub accounts: AccountsConfig,
    pub webauthn: WebauthnConfig,
    pub mfa: MfaConfig,
    pub profile: ProfileConfig,
    pub oauth: crate::server::oauth::config::OAuthConfig,
    /// 32 random bytes, base64: the key one-time codes and link tokens are hashed under. When unset, a key
    /// is generated once into `<data_dir>/secret.key` (fine for one node; set it when running several).
    pub secret_key: Option<SecretString>,
    pub smtp: Option<SmtpConfig>,
}

impl Default for RawConfig {
    fn default() -> Self {
        Self {
            public_url: "http://localhost:3000".into(),
            bind: "127.0.0.1:3000".into(),
            database_url: None,
            data_dir: PathBuf::from("data"),
            site_root: PathBuf::from("target/site"),
            dev_mode: false,
            log_format: LogFormat::Text,
            log_filter: "info".into(),
            trusted_proxies: Vec::new(),
            session: SessionConfig::default(),
            argon2: Argon2Config::default(),
            limits: LimitsConfig::default(),
            accounts: AccountsConfig::default(),
            webauthn: WebauthnConfig::default(),
            mfa: MfaConfig::default(),
            profile: ProfileConfig::default(),
            oauth: Default::default(),
            secret_key: None,
            smtp: None,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccountsConfig {
    /// Sign-in completes only once the address is verified; until then it continues into verification.
    pub require_verified_email: bool,
    /// Sensitive changes (adding or removing a way to sign in) need a sign-in at most this old; otherwise
    /// the user confirms it is them first (step-up).
    pub recent_sign_in_secs: i64,
    /// Who may sign in with an emailed code or link: `all`, `passwordless` (accounts without a password)
    /// or `off`. Recovery by email works regardless.
    pub email_sign_in: crate::core::accounts::EmailSignIn,
    /// How long an account waits, after its owner asked to delete it, before it is erased; a sign-in in
    /// that time cancels the deletion. 0: erased by the next purge.
    pub deletion_grace_secs: i64,
    /// How often `serve` erases the accounts whose deletion is due (`vestibule purge` does it at once).
    pub purge_interval_secs: u64,
}

/// The longest grace period a deletion may be given (`accounts.deletion_grace_secs`).
pub const MAX_DELETION_GRACE_SECS: i64 = 90 * 24 * 3600;

impl Default for AccountsConfig {
    fn default() -> Self {
        Self {
            require_verified_email: true,
            recent_sign_in_secs: 10 * 60,
            email_sign_in: crate::core::accounts::EmailSignIn::All,
            deletion_grace_secs: 7 * 24 * 3600,
            purge_interval_secs: 3600,
        }
    }
}

/// Passkeys (WebAuthn). The relying party is the site passkeys are bound to: changing `rp_id` later makes
/// every registered passkey unusable.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebauthnConfig {
    /// The domain passkeys belong to: the public URL's host or a parent domain of it. Default: the host.
    pub rp_id: Option<String>,
    /// The name browsers show when creating a passkey.
    pub rp_name: String,
    /// Further origins allowed to use the passkeys (e.g. another subdomain under `rp_id`).
    pub extra_origins: Vec<String>,
    /// A passkey ceremony must complete within this many seconds of its start.
    pub challenge_ttl_secs: i64,
}

impl Default for WebauthnConfig {
    fn default() -> Self {
        Self { rp_id: None, rp_name: "Vestibule".into(), extra_origins: Vec::new(), challenge_ttl_secs: 300 }
    }
}

/// Second factors.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MfaConfig {
    /// `optional`: users choose; `required`: everyone signs in with a second factor (or a user-verified
    /// passkey), and users without one set one up right after signing in; `admins`: the same, for accounts
    /// holding the admin role (`vestibule admin grant`) only.
    pub policy: MfaPolicy,
    /// The name authenticator apps show beside the account. Default: `webauthn.rp_name`.
    pub issuer: Option<String>,
    /// 32 random bytes, base64: the key TOTP seeds are sealed under. When unset, a key is generated once
    /// into `<data_dir>/mfa-seal.key`. To rotate: move the old key into `previous_seal_keys`, set a new
    /// one, run `vestibule mfa reseal`, then drop the old key.
    pub seal_key: Option<SecretString>,
    /// Older seal keys, still used to open seeds sealed under them.
    pub previous_seal_keys: Vec<SecretString>,
}

impl Default for MfaConfig {
    fn default() -> Self {
        Self { policy: MfaPolicy::Optional, issuer: None, seal_key: None, previous_seal_keys: Vec::new() }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MfaPolicy {
    Optional,
    Required,
    Admins,
}

impl Config {
    /// The WebAuthn relying party id: configured, or the public URL's host.
    pub fn rp_id(&self) -> String {
        self.webauthn.rp_id.clone().unwrap_or_else(|| self.public_url.host_str().unwrap_or("localhost").to_string())
    }
}

/// `[profile]`: what the profile holds beyond the standard fields.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProfileConfig {
    /// `[[profile.attributes]]`: attributes the operator defines (docs/configuration.md).
    pub attributes: Vec<crate::core::profile::RawAttribute>,
}

/// The checked `[profile]`.
#[derive(Clone, Debug, Default)]
pub struct ProfileSettings {
    pub attributes: Vec<crate::core::profile::AttributeDef>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionConfig {
    /// A session not used for this long ends.
    pub idle_timeout_secs: u64,
    /// A session ends this long after sign-in, however active.
    pub absolute_timeout_secs: u64,
    /// How often expired session rows are deleted.
    pub cleanup_interval_secs: u64,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self { idle_timeout_secs: 24 * 3600, absolute_timeout_secs: 7 * 24 * 3600, cleanup_interval_secs: 600 }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Argon2Config {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    /// Hashes computed at once; 0 means one per CPU core.
    pub max_concurrent: usize,
}

impl Default for Argon2Config {
    fn default() -> Self {
        Self { memory_kib: 19_456, iterations: 2, parallelism: 1, max_concurrent: 0 }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Largest request body accepted, in bytes.
    pub body_bytes: usize,
    /// A request still running after this long is answered with 408.
    pub request_timeout_secs: u64,
    /// Sign-in and recovery messages one client IP may have mailed per day before each further one waits
    /// (a minute, doubling up to an hour).
    pub mail_per_ip_per_day: i64,
    /// Wrong passwords and codes one client IP may send per day before each further try waits (2 s,
    /// doubling up to 15 minutes). Addresses shared by many users (offices, carrier NAT) may need more.
    pub failures_per_ip_per_day: i64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self { body_bytes: 64 * 1024, request_timeout_secs: 30, mail_per_ip_per_day: 20, failures_per_ip_per_day: 30 }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// TLS from the first byte (usually port 465).
    Tls,
    /// Plain connection upgraded with STARTTLS, which must succeed (usually port 587).
    Starttls,
    /// No encryption: only for a local sink or relay on loopback.
    Plain,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    pub port: Option<u16>,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    /// Never logged, never serialised.
    pub password: Option<SecretString>,
    /// The From address, e.g. `Vestibule <no-reply@example.com>`.
    pub from: String,
}

/// Validated configuration the server runs with.
#[derive(Clone, Debug)]
pub struct Config {
    pub public_url: Url,
    pub bind: SocketAddr,
    pub database_url: String,
    pub data_dir: PathBuf,
    pub site_root: PathBuf,
    pub dev_mode: bool,
    pub log_format: LogFormat,
    pub log_filter: String,
    pub trusted_proxies: crate::server::proxies::TrustedProxies,
    pub session: SessionConfig,
    pub argon2: Argon2Config,
    pub limits: LimitsConfig,
    pub accounts: AccountsConfig,
    pub webauthn: WebauthnConfig,
    pub mfa: MfaConfig,
    pub profile: ProfileSettings,
    pub oauth: crate::server::oauth::config::OAuthConfig,
    pub secret_key: Option<SecretString>,
    pub smtp: Option<SmtpConfig>,
}

impl Config {
    /// `https` public URL: cookies get `Secure` and the `__Host-` prefix, and HSTS is sent.
    pub fn is_https(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// The public origin (`scheme://host[:port]`) that browsers send in `Origin`.
    pub fn public_origin(&self) -> String {
        self.public_url.origin().ascii_serialization()
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }

    /// Reads the file (if any) and the environment, then validates.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigErrors> {
        raw_from(file)?.validate()
    }
}

/// Every problem found, so a person can fix them in one go.
#[derive(Debug)]
pub struct ConfigErrors(pub Vec<String>);

impl std::fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "the configuration has {} problem(s):", self.0.len())?;
        for problem in &self.0 {
            writeln!(f, "  - {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// Defaults, then the file, then `VESTIBULE_*` variables (the environment wins).
pub fn raw_from(file: Option<&Path>) -> Result<RawConfig, ConfigErrors> {
    let mut figment = Figment::new();
    if let Some(path) = file {
        if !path.exists() {
            return Err(ConfigErrors(vec![format!("config file {} does not exist", path.display())]));
        }
        figment = figment.merge(Toml::file(path));
    }
    // VESTIBULE_CONFIG names the file itself; VESTIBULE_TEST_* belong to the test harness.
    let env = Env::prefixed("VESTIBULE_")
        .split("__")
        .filter(|key| key != "config" && !key.as_str().to_ascii_lowercase().starts_with("test_"));
    figment = figment.merge(env);
    figment.extract().map_err(|e| ConfigErrors(e.into_iter().map(|e| e.to_string()).collect()))
}

impl RawConfig {
    pub fn validate(self) -> Result<Config, ConfigErrors> {
        let mut problems = Vec::new();
        let public_url = match check_public_url(&self.public_url) {
            Ok(url) => Some(url),
            Err(p) => {
                problems.push(p);
                None
            }
        };
        let bind = self
            .bind
            .parse::<SocketAddr>()
            .map_err(|_| {
                problems.push(format!("bind = {:?} is not an address and port like 127.0.0.1:3000", self.bind))
            })
            .ok();
        let database_url = self
            .database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("vestibule.db").display()));
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            problems.push(
                "database_url must start with sqlite:// or postgres:// (value not shown: it may hold a password)"
                    .into(),
            );
        }
        let trusted_proxies =
            crate::server::proxies::TrustedProxies::parse(&self.trusted_proxies).unwrap_or_else(|wrong| {
                problems.extend(wrong);
                Default::default()
            });
        check_session(&self.session, &mut problems);
        check_argon2(&self.argon2, &mut problems);
        if self.limits.body_bytes < 1024 || self.limits.body_bytes > 16 * 1024 * 1024 {
            problems.push(format!("limits.body_bytes = {} must be between 1024 and 16777216", self.limits.body_bytes));
        }
        if !(1..=600).contains(&self.limits.request_timeout_secs) {
            problems.push(format!(
                "limits.request_timeout_secs = {} must be between 1 and 600",
                self.limits.request_timeout_secs
            ));
        }
        if !(1..=1_000_000).contains(&self.limits.mail_per_ip_per_day) {
            problems.push(format!(
                "limits.mail_per_ip_per_day = {} must be between 1 and 1000000",
                self.limits.mail_per_ip_per_day
            ));
        }
        if !(1..=1_000_000).contains(&self.limits.failures_per_ip_per_day) {
            problems.push(format!(
                "limits.failures_per_ip_per_day = {} must be between 1 and 1000000",
                self.limits.failures_per_ip_per_day
            ));
        }
        if let Some(smtp) = &self.smtp {
            check_smtp(smtp, &mut problems);
        }
        if !(60..=24 * 3600).contains(&self.accounts.recent_sign_in_secs) {
            problems.push(format!(
                "accounts.recent_sign_in_secs = {} must be between 60 and 86400",
                self.accounts.recent_sign_in_secs
            ));
        }
        check_deletion(&self.accounts, &mut problems);
        self.oauth.check(&mut problems);
        if let Some(url) = &public_url {
            check_webauthn(&self.webauthn, url, &mut problems);
        }
        let mfa_keys = self.mfa.seal_key.iter().chain(&self.mfa.previous_seal_keys);
        if mfa_keys.into_iter().any(|k| crate::server::keys::decode_key(k).is_none()) {
            problems.push(
                "mfa.seal_key and mfa.previous_seal_keys must be 32 random bytes in base64 each; values not shown"
                    .into(),
            );
        }
        if let Some(key) = &self.secret_key {
            if crate::server::keys::decode_key(key).is_none() {
                problems.push(
                    "secret_key must be 32 random bytes in base64 (e.g. `openssl rand -base64 32`); value not shown"
                        .into(),
                );
            }
        }
        let profile = check_profile(&self.profile, &mut problems);
        if tracing_subscriber::EnvFilter::try_new(&self.log_filter).is_err() {
            problems.push(format!(
                "log_filter = {:?} is not a valid filter such as \"info\" or \"vestibule=debug\"",
                self.log_filter
            ));
        }
        match (public_url, bind) {
            (Some(public_url), Some(bind)) if problems.is_empty() => Ok(Config {
                public_url,
                bind,
                database_url,
                data_dir: self.data_dir,
                site_root: self.site_root,
                dev_mode: self.dev_mode,
                log_format: self.log_format,
                log_filter: self.log_filter,
                trusted_proxies,
                session: self.session,
                argon2: self.argon2,
                limits: self.limits,
                accounts: self.accounts,
                webauthn: self.webauthn,
                mfa: self.mfa,
                profile,
                oauth: self.oauth,
                secret_key: self.secret_key,
                smtp: self.smtp,
            }),
            _ => Err(ConfigErrors(problems)),
        }
    }
}

/// Deletion: a grace period from none to 90 days, and a purge at least every day but not more than once
/// a minute.
fn check_deletion(a: &AccountsConfig, problems: &mut Vec<String>) {
    if !(0..=MAX_DELETION_GRACE_SECS).contains(&a.deletion_grace_secs) {
        problems.push(format!(
            "accounts.deletion_grace_secs = {} must be between 0 and {MAX_DELETION_GRACE_SECS} (90 days)",
            a.deletion_grace_secs
        ));
    }
    if !(60..=24 * 3600).contains(&a.purge_interval_secs) {
        problems.push(format!("accounts.purge_interval_secs = {} must be between 60 and 86400", a.purge_interval_secs));
    }
}

/// The RP id must be the public host or a parent domain of it (WebAuthn refuses anything else), and each
/// extra origin must sit under it.
fn check_webauthn(w: &WebauthnConfig, public_url: &Url, problems: &mut Vec<String>) {
    let host = public_url.host_str().unwrap_or_default();
    if let Some(rp_id) = &w.rp_id {
        let suffix_ok = host == rp_id || host.ends_with(&format!(".{rp_id}"));
        if rp_id.is_empty() || rp_id.contains(['/', ':']) || !suffix_ok {
            problems.push(format!(
                "webauthn.rp_id = {rp_id:?} must be the public_url's host ({host:?}) or a parent domain of it"
            ));
        }
    }
    let rp_id = w.rp_id.clone().unwrap_or_else(|| host.to_string());
    for origin in &w.extra_origins {
        match Url::parse(origin) {
            Ok(url) if url.host_str().is_some_and(|h| h == rp_id || h.ends_with(&format!(".{rp_id}"))) => {}
            _ => problems.push(format!("webauthn.extra_origins entry {origin:?} is not an origin under {rp_id:?}")),
        }
    }
    if w.rp_name.trim().is_empty() || w.rp_name.len() > 64 {
        problems.push("webauthn.rp_name must be 1 to 64 characters".into());
    }
    if !(30..=3600).contains(&w.challenge_ttl_secs) {
        problems.push(format!("webauthn.challenge_ttl_secs = {} must be between 30 and 3600", w.challenge_ttl_secs));
    }
}

fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost" || d.ends_with(".localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn check_public_url(value: &str) -> Result<Url, String> {
    let url = Url::parse(value).map_err(|e| format!("public_url = {value:?} is not a URL ({e})"))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback_host(&url) => {}
        "http" => {
            return Err(format!(
                "public_url = {value:?} uses http on a non-loopback host; use https (cookies and passkeys need it)"
            ))
        }
        other => return Err(format!("public_url = {value:?} has scheme {other:?}; use https (or http for localhost)")),
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return Err(format!(
            "public_url = {value:?} must be an origin only, like https://id.example.com (no path, query or user)"
        ));
    }
    if matches!(url.host(), Some(url::Host::Ipv4(_)) | Some(url::Host::Ipv6(_))) {
        return Err(format!(
            "public_url = {value:?} uses an IP address; passkeys need a host name (use http://localhost:3000 locally)"
        ));
    }
    Ok(url)
}

fn check_session(s: &SessionConfig, problems: &mut Vec<String>) {
    if s.idle_timeout_secs < 60 {
        problems.push(format!("session.idle_timeout_secs = {} is under a minute", s.idle_timeout_secs));
    }
    if s.absolute_timeout_secs < s.idle_timeout_secs {
        problems.push(format!(
            "session.absolute_timeout_secs = {} is shorter than session.idle_timeout_secs = {}",
            s.absolute_timeout_secs, s.idle_timeout_secs
        ));
    }
    if s.cleanup_interval_secs == 0 {
        problems.push("session.cleanup_interval_secs must be at least 1".into());
    }
}

/// OWASP's argon2id minimums trade memory for passes (m=47104/t=1 ... m=7168/t=5, all ~ 37 MiB-passes);
/// anything weaker is refused rather than silently accepted.
fn check_argon2(a: &Argon2Config, problems: &mut Vec<String>) {
    let cost = u64::from(a.memory_kib) * u64::from(a.iterations);
    if a.memory_kib < 7_168 || cost < 19_456 * 2 {
        problems.push(format!(
            "argon2.memory_kib = {} with argon2.iterations = {} is weaker than OWASP's minimum (19456 KiB with 2 iterations); raise one of them",
            a.memory_kib, a.iterations
        ));
    }
    if a.memory_kib > 4 * 1024 * 1024 {
        problems.push(format!("argon2.memory_kib = {} is over 4 GiB per hash", a.memory_kib));
    }
    if a.parallelism == 0 || a.parallelism > 16 {
        problems.push(format!("argon2.parallelism = {} must be between 1 and 16", a.parallelism));
    }
    if a.iterations > 100 {
        problems.push(format!("argon2.iterations = {} is over 100", a.iterations));
    }
}

/// Each attribute definition (key, label, type and the type's own rules): core::profile::attributes.
fn check_profile(p: &ProfileConfig, problems: &mut Vec<String>) -> ProfileSettings {
    ProfileSettings { attributes: crate::core::profile::attributes::compile(&p.attributes, problems) }
}

fn check_smtp(smtp: &SmtpConfig, problems: &mut Vec<String>) {
    if smtp.host.trim().is_empty() {
        problems.push("smtp.host is empty".into());
    }
    if smtp.from.parse::<lettre::message::Mailbox>().is_err() {
        problems
            .push(format!("smtp.from = {:?} is not a mailbox like \"Vestibule <no-reply@example.com>\"", smtp.from));
    }
    if smtp.password.is_some() && smtp.username.is_none() {
        problems.push("smtp.password is set without smtp.username".into());
    }
    if smtp.security == SmtpSecurity::Plain && smtp.password.is_some() {
        problems
            .push("smtp.security = \"plain\" would send smtp.password unencrypted; use \"starttls\" or \"tls\"".into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `raw_from` reads the process's environment, which the `figment::Jail` tests change while the test
    /// threads run: every test that reads or changes it takes this lock first.
    static ENVIRONMENT: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn environment() -> std::sync::MutexGuard<'static, ()> {
        ENVIRONMENT.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn valid() -> RawConfig {
        RawConfig::default()
    }

    fn problems(raw: RawConfig) -> Vec<String> {
        raw.validate().err().map(|e| e.0).unwrap_or_default()
    }

    #[test]
    fn defaults_are_valid_and_use_an_embedded_sqlite_file() {
        let config = valid().validate().map_err(|e| e.to_string()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.database_url, "sqlite://data/vestibule.db");
        assert_eq!(config.public_origin(), "http://localhost:3000");
        assert!(!config.is_https());
    }

    #[test]
    fn public_url_must_be_https_or_loopback_and_an_origin() {
        for bad in
            ["http://id.example.com", "ftp://localhost", "https://id.example.com/path", "http://127.0.0.1:3000", "nope"]
        {
            let raw = RawConfig { public_url: bad.into(), ..valid() };
            let p = problems(raw);
            assert_eq!(p.len(), 1, "{bad}: {p:?}");
            assert!(p[0].contains("public_url"), "{p:?}");
        }
        let raw = RawConfig { public_url: "https://id.example.com".into(), ..valid() };
        assert!(raw.validate().is_ok());
    }

    #[test]
    fn weak_argon2_and_inverted_session_lifetimes_are_refused_together() {
        let raw = RawConfig {
            argon2: Argon2Config { memory_kib: 4096, iterations: 1, ..Argon2Config::default() },
            session: SessionConfig { idle_timeout_secs: 3600, absolute_timeout_secs: 60, ..SessionConfig::default() },
            ..valid()
        };
        let p = problems(raw);
        assert!(p.iter().any(|m| m.contains("argon2.memory_kib")), "{p:?}");
        assert!(p.iter().any(|m| m.contains("absolute_timeout_secs")), "{p:?}");
    }

    #[test]
    fn owasp_equivalent_argon2_trade_offs_are_accepted() {
        for (m, t) in [(47_104, 1), (19_456, 2), (12_288, 4), (7_168, 6)] {
            let raw = RawConfig {
                argon2: Argon2Config { memory_kib: m, iterations: t, ..Argon2Config::default() },
                ..valid()
            };
            assert!(raw.validate().is_ok(), "m={m} t={t}");
        }
    }

    #[test]
    fn database_url_problem_never_echoes_the_url() {
        let raw = RawConfig { database_url: Some("mysql://user:hunter2@db/x".into()), ..valid() };
        let p = problems(raw);
        assert_eq!(p.len(), 1);
        assert!(!p[0].contains("hunter2"));
    }

    #[test]
    fn rp_id_must_be_the_public_host_or_a_parent_domain() {
        let at = |rp_id: &str, extra: &[&str]| RawConfig {
            public_url: "https://id.example.com".into(),
            webauthn: WebauthnConfig {
                rp_id: Some(rp_id.into()),
                extra_origins: extra.iter().map(|o| o.to_string()).collect(),
                ..WebauthnConfig::default()
            },
            ..valid()
        };
        assert!(at("id.example.com", &[]).validate().is_ok());
        assert!(at("example.com", &["https://shop.example.com"]).validate().is_ok());
        for bad in ["evil.com", "ample.com", "other.example.com", "https://example.com"] {
            let p = problems(at(bad, &[]));
            assert!(p.len() == 1 && p[0].contains("webauthn.rp_id"), "{bad}: {p:?}");
        }
        let p = problems(at("example.com", &["https://example.org"]));
        assert!(p.len() == 1 && p[0].contains("extra_origins"), "{p:?}");
        let default = valid().validate().map_err(|e| e.to_string()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(default.rp_id(), "localhost");
    }

    #[test]
    fn deletion_grace_and_purge_interval_have_bounds() {
        let with = |grace: i64, interval: u64| RawConfig {
            accounts: AccountsConfig {
                deletion_grace_secs: grace,
                purge_interval_secs: interval,
                ..AccountsConfig::default()
            },
            ..valid()
        };
        let defaults = valid().validate().map_err(|e| e.to_string()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((defaults.accounts.deletion_grace_secs, defaults.accounts.purge_interval_secs), (604_800, 3600));
        for (grace, interval) in [(0, 60), (MAX_DELETION_GRACE_SECS, 86_400), (3600, 600)] {
            assert!(with(grace, interval).validate().is_ok(), "{grace} {interval}");
        }
        for grace in [-1, MAX_DELETION_GRACE_SECS + 1] {
            let p = problems(with(grace, 3600));
            assert!(p.len() == 1 && p[0].contains("accounts.deletion_grace_secs"), "{grace}: {p:?}");
        }
        for interval in [0, 59, 86_401] {
            let p = problems(with(3600, interval));
            assert!(p.len() == 1 && p[0].contains("accounts.purge_interval_secs"), "{interval}: {p:?}");
        }
    }

    #[test]
    fn trusted_proxies_must_be_ip_addresses_or_ranges() {
        let raw = RawConfig {
            trusted_proxies: vec!["10.0.0.1".into(), "10.0.0.0/8".into(), "proxy.internal".into()],
            ..valid()
        };
        let p = problems(raw);
        assert_eq!(p.len(), 1);
        assert!(p[0].contains("proxy.internal"), "{p:?}");
    }

    #[test]
    fn smtp_plain_with_password_is_refused() {
        let raw = RawConfig {
            smtp: Some(SmtpConfig {
                host: "mail.example.com".into(),
                port: None,
                security: SmtpSecurity::Plain,
                username: Some("u".into()),
                password: Some(SecretString::from("p")),
                from: "Vestibule <no-reply@example.com>".into(),
            }),
            ..valid()
        };
        assert!(problems(raw).iter().any(|p| p.contains("unencrypted")));
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment::Jail's closure must return figment's (large) error type
    fn file_and_environment_are_merged_with_the_environment_winning() {
        let _environment = environment();
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("vestibule.toml");
        std::fs::write(&path, "bind = \"127.0.0.1:4000\"\ndev_mode = true\n[session]\nidle_timeout_secs = 120\n")
            .unwrap_or_else(|e| panic!("{e}"));
        figment::Jail::expect_with(|jail| {
            jail.set_env("VESTIBULE_BIND", "127.0.0.1:5000");
            jail.set_env("VESTIBULE_SESSION__ABSOLUTE_TIMEOUT_SECS", "240");
            let raw = raw_from(Some(&path)).map_err(|e| figment::Error::from(e.to_string()))?;
            assert_eq!(raw.bind, "127.0.0.1:5000");
            assert!(raw.dev_mode);
            assert_eq!(raw.session.idle_timeout_secs, 120);
            assert_eq!(raw.session.absolute_timeout_secs, 240);
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)] // figment::Jail's closure must return figment's (large) error type
    fn every_mfa_policy_is_read_by_name_and_a_wrong_one_is_refused() {
        let _environment = environment();
        for (name, policy) in
            [("optional", MfaPolicy::Optional), ("required", MfaPolicy::Required), ("admins", MfaPolicy::Admins)]
        {
            figment::Jail::expect_with(|jail| {
                jail.set_env("VESTIBULE_MFA__POLICY", name);
                let raw = raw_from(None).map_err(|e| figment::Error::from(e.to_string()))?;
                assert_eq!(raw.mfa.policy, policy);
                Ok(())
            });
        }
        figment::Jail::expect_with(|jail| {
            jail.set_env("VESTIBULE_MFA__POLICY", "admin");
            let err = raw_from(None).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains("admins"), "the message names the accepted values: {err}");
            Ok(())
        });
    }

    #[test]
    fn profile_attributes_are_read_from_the_file_and_checked_with_one_message_per_problem() {
        let _environment = environment();
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("vestibule.toml");
        let toml = r#"
            [[profile.attributes]]
            key = "company"
            label = "Company"
            type = "text"
            required = true
            pattern = "[A-Za-z ]+"

            [[profile.attributes]]
            key = "size"
            label = "T-shirt size"
            type = "choice"
            choices = [{ value = "s", label = "Small" }, { value = "m", label = "Medium" }]

            [[profile.attributes]]
            key = "age"
            label = "Age"
            type = "number"
            min = 0
            max = 150.5
            integer = true

            [[profile.attributes]]
            key = "birthday"
            label = "Birthday"
            type = "date"
            min = "1900-01-01"
            hint = "For a card on the day."
        "#;
        std::fs::write(&path, toml).unwrap_or_else(|e| panic!("{e}"));
        let config = raw_from(Some(&path))
            .and_then(RawConfig::validate)
            .map_err(|e| e.to_string())
            .unwrap_or_else(|e| panic!("{e}"));
        let keys: Vec<&str> = config.profile.attributes.iter().map(|a| a.key.as_str()).collect();
        assert_eq!(keys, ["company", "size", "age", "birthday"]);

        let bad = r#"
            [[profile.attributes]]
            key = "tier"
            label = "Tier"
            type = "text"
            required = true
            editable = false

            [[profile.attributes]]
            key = "tier"
            label = "Again"
            type = "text"
            pattern = "(unclosed"
        "#;
        std::fs::write(&path, bad).unwrap_or_else(|e| panic!("{e}"));
        let p = raw_from(Some(&path)).map(problems).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.len(), 3, "{p:#?}");
        assert!(
            p[0].starts_with("profile.attributes[0] (key = \"tier\"): required = true with editable = false"),
            "{p:?}"
        );
        assert!(p[1].starts_with("profile.attributes[1] (key = \"tier\"): key is used"), "{p:?}");
        assert!(p[2].contains("pattern \"(unclosed\" is not a valid regular expression"), "{p:?}");

        std::fs::write(&path, "[[profile.attributes]]\nkey = \"x\"\nlabel = \"X\"\ntype = \"colour\"\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let err = raw_from(Some(&path)).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("colour"), "{err}");
    }

    #[test]
    fn unknown_keys_are_reported() {
        let _environment = environment();
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("vestibule.toml");
        std::fs::write(&path, "publik_url = \"https://x.example\"\n").unwrap_or_else(|e| panic!("{e}"));
        let err = raw_from(Some(&path)).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("publik_url"), "{err}");
    }
}
