//! The `vestibule` command: serve the portal, apply migrations, check the configuration, test mail.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use rand::SeedableRng;

use vestibule::server::admin_cli::AdminAction;
use vestibule::server::config::{Config, ConfigErrors};
use vestibule::server::oauth::cli::{ClientAction, KeysAction};
use vestibule::server::{logging, serve};

#[derive(Parser)]
#[command(name = "vestibule", version, about = "Self-hosted customer identity portal")]
struct Cli {
    /// Configuration file (TOML). Defaults to ./vestibule.toml when that file exists.
    /// VESTIBULE_* environment variables override it (docs/configuration.md).
    #[arg(long, short, env = "VESTIBULE_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Apply migrations and serve the portal (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Validate the configuration, print a summary without secrets, and exit.
    CheckConfig,
    /// Send a test message with the configured mail settings.
    MailTest {
        /// Recipient address.
        #[arg(long)]
        to: String,
        /// A line of text to include, e.g. a ticket number.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Erase every account whose deletion is due (its grace period is over) and delete authenticator-app
    /// set-ups that waited over an hour for their first code; print how many, and exit. `serve` also does
    /// this every `accounts.purge_interval_secs`.
    Purge,
    /// Second factors: `reseal` moves every TOTP seed (and token signing key) to the current `mfa.seal_key`.
    Mfa {
        #[command(subcommand)]
        action: MfaAction,
    },
    /// OAuth / OpenID Connect apps: create, list, rotate-secret, delete (docs/oauth.md).
    Client {
        #[command(subcommand)]
        action: ClientAction,
    },
    /// Token signing keys: `rotate` adds new keys; the JWKS keeps serving the previous ones.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// Administrators: grant, revoke or list the admin role (docs/configuration.md, `mfa.policy`).
    Admin {
        #[command(subcommand)]
        action: AdminAction,
    },
}

#[derive(Subcommand)]
enum MfaAction {
    /// Re-seal every TOTP seed and token signing key sealed under a previous key with the current one;
    /// afterwards the previous keys can be removed from the configuration.
    Reseal,
}

fn config_path(cli: &Cli) -> Option<PathBuf> {
    cli.config.clone().or_else(|| {
        let default = PathBuf::from("vestibule.toml");
        default.exists().then_some(default)
    })
}

fn load(cli: &Cli) -> Result<Config, ExitCode> {
    Config::load(config_path(cli).as_deref()).map_err(|e: ConfigErrors| {
        eprintln!("vestibule: {e}");
        ExitCode::from(2)
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match load(&cli) {
        Ok(config) => config,
        Err(code) => return code,
    };
    logging::init(config.log_format, &config.log_filter);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("vestibule: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve::run(config).await.map_err(|e| e.to_string()),
            Command::Migrate => migrate(config).await,
            Command::CheckConfig => {
                print_summary(&config);
                Ok(())
            }
            Command::MailTest { to, note } => mail_test(config, &to, &note).await,
            Command::Mfa { action: MfaAction::Reseal } => reseal(config).await,
            Command::Purge => purge(config).await,
            Command::Client { action } => {
                let (state, _) = serve::prepare(config).await.map_err(|e| e.to_string())?;
                vestibule::server::oauth::cli::run_client(&state, action).await
            }
            Command::Keys { action } => {
                let (state, _) = serve::prepare(config).await.map_err(|e| e.to_string())?;
                vestibule::server::oauth::cli::run_keys(&state, action).await
            }
            Command::Admin { action } => {
                let (state, _) = serve::prepare(config).await.map_err(|e| e.to_string())?;
                vestibule::server::admin_cli::run(&state, action).await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!(error = %message, "vestibule stopped with an error");
            eprintln!("vestibule: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn reseal(config: Config) -> Result<(), String> {
    let (state, _) = serve::prepare(config).await.map_err(|e| e.to_string())?;
    let mut rng = rand::rngs::StdRng::from_os_rng();
    let moved = vestibule::core::mfa::totp::reseal_all(&state.deps(), &mut rng).await.map_err(|e| e.to_string())?;
    println!("{moved} TOTP seed(s) re-sealed under key {}", state.sealer.current_key_id());
    let keys =
        vestibule::core::oidc::keys::reseal_all(&state.db, &state.sealer, &mut rng).await.map_err(|e| e.to_string())?;
    println!("{keys} token signing key(s) re-sealed");
    Ok(())
}

async fn purge(config: Config) -> Result<(), String> {
    // the server's state: the same database and token key (the erased accounts' pseudonyms depend on it)
    let (state, _) = serve::prepare(config).await.map_err(|e| e.to_string())?;
    let now = vestibule::server::auth::now();
    let dropped =
        vestibule::core::mfa::totp::drop_abandoned_enrolments(&state.db, now).await.map_err(|e| e.to_string())?;
    println!("{dropped} abandoned authenticator-app set-up(s) deleted");
    let erased = vestibule::core::accounts::erase::erase_due(&state.db, &state.token_key, now)
        .await
        .map_err(|e| e.to_string())?;
    println!("{erased} account(s) erased");
    Ok(())
}

async fn migrate(config: Config) -> Result<(), String> {
    let db = vestibule::db::Db::connect_lazy(&config.database_url).map_err(|e| e.to_string())?;
    db.migrate().await.map_err(|e| e.to_string())?;
    println!("migrations applied ({:?})", db.backend);
    Ok(())
}

async fn mail_test(config: Config, to: &str, note: &str) -> Result<(), String> {
    use vestibule::server::mail::{templates, Mailer};
    let to = to.parse().map_err(|e| format!("--to {to:?} is not an email address: {e}"))?;
    let mailer = Mailer::from_config(&config).map_err(|e| e.to_string())?;
    let message = templates::test_message(to, note, config.public_url.as_str()).map_err(|e| e.to_string())?;
    mailer.send(message).await.map_err(|e| e.to_string())?;
    match mailer.outbox() {
        Some(outbox) => println!("no [smtp] configured: message written to {}", outbox.dir().display()),
        None => println!("message accepted by the SMTP server"),
    }
    Ok(())
}

/// What the server would run with; the database URL and SMTP password are never printed.
fn print_summary(config: &Config) {
    println!("configuration is valid");
    println!("  public_url   {}", config.public_url);
    println!("  bind         {}", config.bind);
    println!("  database     {}", if config.is_sqlite() { "SQLite" } else { "PostgreSQL" });
    println!("  data_dir     {}", config.data_dir.display());
    println!("  site_root    {}", config.site_root.display());
    println!("  dev_mode     {}", config.dev_mode);
    println!(
        "  mail         {}",
        config
            .smtp
            .as_ref()
            .map_or("outbox (no [smtp])".to_string(), |s| format!("SMTP {}:{:?} ({:?})", s.host, s.port, s.security))
    );
    println!(
        "  sessions     idle {} s, absolute {} s",
        config.session.idle_timeout_secs, config.session.absolute_timeout_secs
    );
    println!(
        "  argon2id     m={} KiB t={} p={}",
        config.argon2.memory_kib, config.argon2.iterations, config.argon2.parallelism
    );
    println!(
        "  mfa          policy {:?}, seal key {}, {} previous key(s)",
        config.mfa.policy,
        if config.mfa.seal_key.is_some() { "configured" } else { "<data_dir>/mfa-seal.key" },
        config.mfa.previous_seal_keys.len()
    );
}
