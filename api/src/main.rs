use std::io::Read;

use anyhow::{Context, anyhow};
use api::{
    app, clients::canopy::CanopyClient, config::Config, graphql, ingest::canopy, store, telemetry,
};
use clap::{Parser, Subcommand};

/// Many small, short-lived allocations per request (bodies, JSON trees,
/// GraphQL values) from several threads: mimalloc spends far less on them
/// than glibc's malloc (bench/RESULTS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The integration gateway for lending platforms.
#[derive(Parser)]
#[command(name = "gateway", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the gateway (the default).
    Serve,
    /// Apply the store's migrations and exit.
    Migrate,
    /// Print the GraphQL schema (SDL) on stdout.
    Schema,
    /// Read a Canopy webhook body (or just its `data` object) on stdin and
    /// print it signed with `secret`, ready to POST to /webhooks/canopy.
    SignCanopy {
        #[arg(long, env = "CANOPY_SIGNING_SECRET")]
        secret: String,
        /// The event name to use when stdin holds only `data`.
        #[arg(long, default_value = "test_event")]
        event: String,
    },
    /// Canopy's API (`CANOPY_API_URL` and its client credentials).
    Canopy {
        #[command(subcommand)]
        command: CanopyCommand,
    },
}

#[derive(Subcommand)]
enum CanopyCommand {
    /// Print the organization's webhook secret (for CANOPY_WEBHOOK_SECRETS).
    WebhookSecret,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // reqwest is built without a crypto provider of its own.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let command = cli.command.unwrap_or(Command::Serve);
    // A Canopy command's failure is one line on stderr; its retries stay
    // out of it unless RUST_LOG asks for them.
    if !matches!(command, Command::Canopy { .. }) || std::env::var_os("RUST_LOG").is_some() {
        telemetry::init();
    }
    match command {
        Command::Serve => {
            let config = Config::from_env()?;
            let app = app::App::build(config).await?;
            app.run_until_stopped(app::shutdown_signal()).await?;
        }
        Command::Migrate => {
            let config = Config::from_env()?;
            let db = store::connect(&config.database_url).await?;
            store::migrate(&db).await?;
            tracing::info!("migrations applied");
        }
        Command::Schema => print!("{}", graphql::sdl()),
        Command::SignCanopy { secret, event } => {
            let mut input = String::new();
            std::io::stdin().read_to_string(&mut input)?;
            let body: serde_json::Value =
                serde_json::from_str(&input).context("stdin is not JSON")?;
            println!("{}", canopy::signed_body(&secret, body, &event)?);
        }
        Command::Canopy {
            command: CanopyCommand::WebhookSecret,
        } => {
            let config = Config::from_env()?
                .canopy_api
                .context("CANOPY_API_URL is not set")?;
            let secret = CanopyClient::new(&config)?
                .webhook_secret()
                .await
                // One line: the client's message already says what failed.
                .map_err(|error| anyhow!("{error}"))?;
            println!("{}", secret.expose());
        }
    }
    Ok(())
}
