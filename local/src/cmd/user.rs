//! `rag user add|list|deactivate|activate`: account management on the configured store.

use rag_core::accounts;
use rag_core::audit;
use rag_core::store::Role;

use crate::cmd::serve::config;
use crate::context::Context;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Create an account.
    Add {
        username: String,
        #[arg(long, env = "RAG_USER_PASSWORD", hide_env_values = true)]
        password: String,
        /// Give the administrator role.
        #[arg(long)]
        admin: bool,
    },
    /// List accounts.
    List,
    /// Deactivate an account (its tokens stop working at once).
    Deactivate { username: String },
    /// Reactivate an account.
    Activate { username: String },
}

pub async fn run(ctx: &Context, command: Command) -> anyhow::Result<()> {
    let store = config(ctx)?.store().await?;
    match command {
        Command::Add {
            username,
            password,
            admin,
        } => {
            let role = if admin { Role::Admin } else { Role::User };
            let user =
                accounts::create_user(store.as_ref(), audit::CLI, &username, &password, role)
                    .await?;
            println!("created {} ({})", user.username, user.role.as_str());
        }
        Command::List => {
            for u in store.users().await? {
                println!(
                    "{:<24} {:<6} {}",
                    u.username,
                    u.role.as_str(),
                    if u.active { "active" } else { "deactivated" }
                );
            }
        }
        Command::Deactivate { username } => {
            accounts::update_user(store.as_ref(), audit::CLI, &username, Some(false), None).await?;
            println!("deactivated {username}");
        }
        Command::Activate { username } => {
            accounts::update_user(store.as_ref(), audit::CLI, &username, Some(true), None).await?;
            println!("activated {username}");
        }
    }
    Ok(())
}
