//! `concord user ...`: the people who may sign in, and their roles in each
//! organisation. The first administrator of an organisation is made here.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::Context;
use clap::Subcommand;
use concord_app::{NewUser, Principal, Services};
use concord_domain::OrgCode;
use concord_domain::account::{Membership, Role, RoleSet};

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a user with roles in one organisation. The password is read from
    /// standard input with --password-stdin, otherwise asked for (not shown).
    Add {
        email: String,
        /// Full name, shown beside their changes.
        #[arg(long)]
        name: String,
        #[arg(long)]
        org: String,
        /// author, approver, respondent, assessor, oversight or administrator
        /// (repeat, or separate with commas).
        #[arg(long = "role", required = true, value_delimiter = ',')]
        roles: Vec<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Every user with their organisations and roles.
    List {
        /// Only the members of this organisation.
        #[arg(long)]
        org: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Give or take roles in an organisation.
    #[command(subcommand)]
    Role(RoleCommand),
    /// Stop a user signing in (their sessions end at once).
    Disable { email: String },
    /// Let a disabled user sign in again.
    Enable { email: String },
    /// Make a one-time link for the user to set a new password (it works
    /// once, within a day). Prints the link: give it to them yourself.
    ResetPassword {
        email: String,
        /// Where people reach Concord (e.g. https://concord.example.nhs.uk):
        /// the start of the link. Without it, only the path is printed.
        #[arg(long, value_name = "URL")]
        public_url: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum RoleCommand {
    /// Add roles (and the membership, if new).
    Add {
        email: String,
        #[arg(long)]
        org: String,
        #[arg(long = "role", required = true, value_delimiter = ',')]
        roles: Vec<String>,
    },
    /// Remove roles; with none left the user leaves the organisation.
    Remove {
        email: String,
        #[arg(long)]
        org: String,
        #[arg(long = "role", required = true, value_delimiter = ',')]
        roles: Vec<String>,
    },
}

fn org_code(s: &str) -> anyhow::Result<OrgCode> {
    OrgCode::parse(s).map_err(|e| anyhow::anyhow!("--org: {e}"))
}

pub fn role_set(roles: &[String]) -> anyhow::Result<RoleSet> {
    let mut set = RoleSet::EMPTY;
    for r in roles {
        let role: Role = r.parse().map_err(|e| anyhow::anyhow!("--role: {e}"))?;
        set.insert(role);
    }
    Ok(set)
}

/// The password: the first line of standard input, or typed at the
/// terminal with echo off. Never from an argument (it would show in `ps`).
fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if from_stdin {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_string());
    }
    if !stdin.is_terminal() {
        anyhow::bail!("give the password with --password-stdin (standard input is not a terminal)");
    }
    let stty = |arg: &str| {
        std::process::Command::new("stty")
            .arg(arg)
            .stdin(std::process::Stdio::inherit())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !stty("-echo") {
        anyhow::bail!("cannot hide the password as it is typed; use --password-stdin");
    }
    eprint!("Password (at least 12 characters): ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    stty("echo");
    eprintln!();
    read.context("reading the password")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

async fn find(
    svc: &Services,
    op: &Principal,
    email: &str,
) -> anyhow::Result<concord_domain::account::User> {
    let e = concord_domain::account::Email::parse(email).map_err(|e| anyhow::anyhow!("{e}"))?;
    let users = svc.as_principal(op.clone()).users(None).await?;
    users
        .into_iter()
        .map(|(u, _)| u)
        .find(|u| u.email == e)
        .ok_or_else(|| anyhow::anyhow!("no user has the email {e}"))
}

async fn run_as(svc: &Services, op: Principal, cmd: UserCommand) -> anyhow::Result<()> {
    let auth = svc.as_principal(op.clone());
    match cmd {
        UserCommand::ResetPassword { email, public_url } => {
            let u = find(svc, &op, &email).await?;
            let secret = auth.reset_password(u.id).await?;
            let base = public_url.unwrap_or_default();
            println!("{}/reset-password/{secret}", base.trim_end_matches('/'));
            eprintln!(
                "a one-time link for {} ({}): it works once, within {} hours",
                u.name,
                u.email,
                concord_app::PASSWORD_RESET_HOURS
            );
        }
        UserCommand::Add {
            email,
            name,
            org,
            roles,
            password_stdin,
        } => {
            let org = org_code(&org)?;
            let roles = role_set(&roles)?;
            let password = read_password(password_stdin)?;
            let u = auth
                .add_user(NewUser {
                    email,
                    name,
                    password,
                    memberships: vec![Membership {
                        org: org.clone(),
                        roles,
                    }],
                })
                .await?;
            println!("user {} ({}) added to {org} as {roles}", u.id, u.email);
        }
        UserCommand::List { org, json } => {
            let org = org.as_deref().map(org_code).transpose()?;
            let users = auth.users(org.as_ref()).await?;
            let mut out = std::io::stdout().lock();
            if json {
                let v: Vec<_> = users
                    .iter()
                    .map(|(u, ms)| serde_json::json!({"user": u, "memberships": ms}))
                    .collect();
                serde_json::to_writer_pretty(&mut out, &v)?;
                writeln!(out)?;
            } else {
                for (u, ms) in &users {
                    let ms: Vec<String> = ms
                        .iter()
                        .map(|m| format!("{} ({})", m.org, m.roles))
                        .collect();
                    writeln!(
                        out,
                        "{}\t{}\t{}{}\t{}",
                        u.id,
                        u.email,
                        u.name,
                        if u.disabled { " [disabled]" } else { "" },
                        if ms.is_empty() {
                            "no organisation".to_string()
                        } else {
                            ms.join("; ")
                        }
                    )?;
                }
            }
        }
        UserCommand::Role(rc) => {
            let (email, org, roles, add) = match rc {
                RoleCommand::Add { email, org, roles } => (email, org, roles, true),
                RoleCommand::Remove { email, org, roles } => (email, org, roles, false),
            };
            let org = org_code(&org)?;
            let change = role_set(&roles)?;
            let u = find(svc, &op, &email).await?;
            let mut now = svc
                .as_principal(op.clone())
                .users(Some(&org))
                .await?
                .into_iter()
                .find(|(x, _)| x.id == u.id)
                .and_then(|(_, ms)| ms.into_iter().find(|m| m.org == org))
                .map(|m| m.roles)
                .unwrap_or_default();
            for r in change.iter() {
                if add {
                    now.insert(r);
                } else {
                    now.remove(r);
                }
            }
            auth.set_roles(u.id, &org, now).await?;
            if now.is_empty() {
                println!("{} is no longer a member of {org}", u.email);
            } else {
                println!("{} in {org}: {now}", u.email);
            }
        }
        UserCommand::Disable { email } => {
            let u = find(svc, &op, &email).await?;
            auth.set_user_disabled(u.id, true).await?;
            println!("{} disabled; their sessions have ended", u.email);
        }
        UserCommand::Enable { email } => {
            let u = find(svc, &op, &email).await?;
            auth.set_user_disabled(u.id, false).await?;
            println!("{} may sign in again", u.email);
        }
    }
    Ok(())
}

/// Runs the command as the operator at the command line.
pub async fn run(ctx: &crate::commands::Context, cmd: UserCommand) -> anyhow::Result<()> {
    run_as(&ctx.open().await?, crate::commands::operator(), cmd).await
}
