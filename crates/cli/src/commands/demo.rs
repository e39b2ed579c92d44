//! `concord demo`: a fresh database in a temporary folder, filled with the
//! demo data and demo accounts, and served; or (`--load`) the demo data
//! loaded into the database named by --db.

use std::sync::Arc;

use anyhow::Context as _;
use clap::Args;

use crate::commands::serve::{Cookies, listen};
use crate::commands::{Context, open, operator, search, similar};

/// The demo: a throwaway copy, or the demo data loaded into --db.
#[derive(Args)]
pub struct DemoArgs {
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// Instead: load the demo data into the database named by --db, and exit.
    #[arg(long)]
    pub load: bool,
}

pub async fn run(ctx: &Context, args: DemoArgs) -> anyhow::Result<()> {
    if args.load {
        let services = ctx.open().await?;
        let report = services
            .as_principal(operator())
            .operator()?
            .load_demo()
            .await?;
        search::after_write(&services, &ctx.db, ctx.index_dir()).await;
        println!("{}", report.summary());
        Ok(())
    } else {
        let addr = args.addr;
        let dir = tempfile::Builder::new()
            .prefix("concord-demo-")
            .tempdir()
            .context("cannot make a temporary folder")?;
        let url = format!("sqlite://{}", dir.path().join("demo.db").display());
        let services = Arc::new(open(&url).await?);
        let report = services
            .as_principal(operator())
            .operator()?
            .load_demo()
            .await?;
        let accounts = services
            .as_principal(operator())
            .add_demo_accounts()
            .await?;
        search::attach(&services, &url, None)?;
        eprintln!("{}", similar::attach_derived(&services, &url, None));
        eprintln!(
            "demo database {url}: loaded {} recommendations",
            report.imported
        );
        // On stdout, one line each, so that scripts (the browser
        // journeys) can sign in; the passwords are new each run.
        println!("Sign in at /sign-in as one of these (passwords made for this run):");
        for a in &accounts {
            let roles: Vec<&str> = a.roles.iter().map(|r| r.as_str()).collect();
            println!(
                "demo account: {} {} {} {} - {}",
                a.email,
                a.password,
                a.org,
                roles.join(","),
                a.about
            );
        }
        // A throwaway copy with made-up accounts, often reached over
        // plain HTTP from another machine: Secure cookies would only
        // stop its sign-in working there.
        let result = listen(
            services,
            &addr,
            concord_server::ServerOptions::default(),
            Cookies::Insecure,
        )
        .await;
        drop(dir);
        result
    }
}
