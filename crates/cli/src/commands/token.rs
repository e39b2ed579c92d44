//! `concord token`: API tokens for organisations.

use clap::Subcommand;
use concord_domain::OrgCode;

use crate::commands::{Context, operator, users};

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create an API token for an organisation; the secret is shown once.
    Create {
        #[arg(long)]
        org: String,
        #[arg(long, default_value = "api")]
        label: String,
        /// What the token may do (repeat, or separate with commas); by
        /// default every role but administrator.
        #[arg(long = "role", value_delimiter = ',')]
        roles: Vec<String>,
    },
    /// Revoke a token by its number.
    Revoke { id: i64 },
}

pub async fn run(ctx: &Context, cmd: TokenCommand) -> anyhow::Result<()> {
    token(&ctx.db, cmd).await
}

async fn token(db: &str, cmd: TokenCommand) -> anyhow::Result<()> {
    let services = crate::commands::open(db).await?;
    let auth = services.as_principal(operator());
    match cmd {
        TokenCommand::Create { org, label, roles } => {
            let org = OrgCode::parse(&org).map_err(|e| anyhow::anyhow!("--org: {e}"))?;
            let t = if roles.is_empty() {
                auth.create_token(&org, &label).await?
            } else {
                auth.create_token_with_roles(&org, &label, users::role_set(&roles)?)
                    .await?
            };
            eprintln!(
                "token {} for {} ({}) created, working until {}; copy it now, it is not shown again:",
                t.record.id,
                t.record.org,
                t.record.roles,
                t.record
                    .expires_at
                    .map(|at| at.date_naive().to_string())
                    .unwrap_or_else(|| "revoked".into())
            );
            println!("{}", t.secret);
        }
        TokenCommand::Revoke { id } => {
            auth.revoke_token(id).await?;
            println!("token {id} revoked");
        }
    }
    Ok(())
}
