//! `vestibule admin grant|revoke|list`: who holds the admin role, from the command line (the back-office
//! adds views later). Each change is audited on the account, as coming from the command line.

use clap::Subcommand;
use serde_json::json;

use crate::core::accounts::Notice;
use crate::core::audit::RequestMeta;
use crate::core::roles::{self, Role, RoleChange};
use crate::server::auth::{now, policy_requires_second_factor};
use crate::server::state::AppState;

#[derive(Subcommand)]
pub enum AdminAction {
    /// Give the account with this address the admin role. Under `mfa.policy = "admins"` it signs in with a
    /// second factor from its next sign-in (and is led to set one up if it has none).
    Grant { email: String },
    /// Take the admin role from the account with this address.
    Revoke { email: String },
    /// List the accounts holding the admin role.
    List {
        /// Print JSON (for scripts).
        #[arg(long)]
        json: bool,
    },
}

/// What the audit log records as the origin of a command-line change (no IP, no browser).
fn command_line(action: &str) -> RequestMeta {
    RequestMeta {
        ip: None,
        user_agent: Some(format!("vestibule admin {action} (command line)")),
        operation_id: Some(uuid::Uuid::now_v7().to_string()),
    }
}

pub async fn run(state: &AppState, action: AdminAction) -> Result<(), String> {
    match action {
        AdminAction::Grant { email } => {
            let change = roles::grant(&state.db, &email, Role::Admin, &command_line("grant"), now())
                .await
                .map_err(|e| e.to_string())?;
            report(&change, "is now an admin", "was already an admin");
            if change.changed {
                tell_owner(state, Notice::RoleGranted { to: change.email.clone(), role: Role::Admin }).await;
            }
            if policy_requires_second_factor(state, &change.account_id).await.map_err(|e| e.to_string())? {
                let factors =
                    crate::core::mfa::factors(&state.db, &change.account_id).await.map_err(|e| e.to_string())?;
                if !factors.required_at_sign_in() {
                    println!(
                        "mfa.policy = \"admins\": {} has no second factor yet and will be led to set one up at \
                         the next sign-in (a passkey sign-in with user verification also counts)",
                        change.email
                    );
                }
            }
        }
        AdminAction::Revoke { email } => {
            let change = roles::revoke(&state.db, &email, Role::Admin, &command_line("revoke"), now())
                .await
                .map_err(|e| e.to_string())?;
            report(&change, "is no longer an admin", "was not an admin");
            if change.changed {
                tell_owner(state, Notice::RoleRevoked { to: change.email.clone(), role: Role::Admin }).await;
            }
        }
        AdminAction::List { json } => {
            let holders =
                crate::db::roles::holders(&state.db.pool, Role::Admin.as_str()).await.map_err(|e| e.to_string())?;
            if json {
                let rows = holders.iter().map(|h| {
                    json!({
                        "account_id": h.account_id,
                        "email": h.email,
                        "granted_at": crate::core::accounts::export::rfc3339(h.granted_at),
                    })
                });
                println!("{}", serde_json::Value::Array(rows.collect()));
            } else if holders.is_empty() {
                println!("no admins (vestibule admin grant <email> makes one)");
            } else {
                for h in &holders {
                    let since = crate::core::accounts::export::rfc3339(h.granted_at).unwrap_or_default();
                    println!("{}  {}  (since {since})", h.email, h.account_id);
                }
            }
        }
    }
    Ok(())
}

/// Mails the account's owner about the change. The change stands either way: a failure is said on stderr
/// (and logged with its cause), not turned into a failed command.
async fn tell_owner(state: &AppState, notice: Notice) {
    if crate::server::auth::send_notice(state, notice).await.is_err() {
        eprintln!("the account's owner was not told by mail (mail not sent; see the log)");
    }
}

fn report(change: &RoleChange, done: &str, unchanged: &str) {
    println!("{} {}", change.email, if change.changed { done } else { unchanged });
}
