//! `rampart server`: runs the REST API (and, later, the agent channel and web UI) on
//! the embedded SQLite database in `--data-dir` or on PostgreSQL (`--database`).
//! Stops gracefully on SIGINT or SIGTERM: stops accepting, finishes in-flight
//! requests, closes the database (SQLite checkpoints its WAL).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use rampart_server::{AppState, ServerConfig};

use super::DbArgs;

/// Run the Rampart server.
#[derive(clap::Args)]
#[command(
    after_help = "On first start with no users, a one-time bootstrap secret is printed on standard output: POST it with a name and password to /api/v1/bootstrap to create the first admin.\nEnvironment: every flag has a RAMPART_* variable (RAMPART_LISTEN, RAMPART_DATA_DIR, RAMPART_DATABASE, RAMPART_LOG, …)."
)]
pub(crate) struct Args {
    /// Address to listen on.
    #[arg(long, env = "RAMPART_LISTEN", default_value = "127.0.0.1:8443")]
    listen: SocketAddr,
    #[command(flatten)]
    db: DbArgs,
    /// How long a login session lasts (e.g. 12h, 30m).
    #[arg(long, env = "RAMPART_SESSION_TTL", default_value = "12h", value_parser = parse_duration)]
    session_ttl: Duration,
    /// Longest time a request may take before it is answered 408.
    #[arg(long, env = "RAMPART_REQUEST_TIMEOUT", default_value = "120s", value_parser = parse_duration)]
    request_timeout: Duration,
    /// Log filter (tracing's EnvFilter syntax: `info`, `rampart_server=debug,info`).
    #[arg(long, env = "RAMPART_LOG", default_value = "info")]
    log: String,
    /// Log as JSON lines instead of human-readable text.
    #[arg(long, env = "RAMPART_LOG_JSON")]
    log_json: bool,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    rampart_server::admin::parse_duration_millis(s).map(|ms| Duration::from_millis(ms as u64))
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    init_tracing(&args.log, args.log_json)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve(args))?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(args: Args) -> anyhow::Result<()> {
    let store = args.db.open().await?;
    let config = ServerConfig {
        session_ttl: args.session_ttl,
        request_timeout: args.request_timeout,
        feed_cache_dir: Some(args.db.data_dir.join("feed-cache")),
        // Plain HTTP until the TLS listener lands.
        secure_cookies: false,
        ..ServerConfig::default()
    };
    let (state, bootstrap) = AppState::new(store.clone(), config)
        .await
        .context("loading the server state")?;
    if let Some(secret) = bootstrap {
        // Standard output only: logs are often shipped elsewhere, the terminal is not.
        println!("No users exist yet. Create the first admin within this run with:");
        println!(
            "  curl -X POST http://{}/api/v1/bootstrap -H 'Content-Type: application/json' \\\n       -d '{{\"secret\":\"{}\",\"name\":\"admin\",\"password\":\"…\"}}'",
            args.listen, secret.0
        );
        tracing::warn!(
            "no users yet: the one-time bootstrap secret was printed on standard output"
        );
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let addr = listener.local_addr().context("reading the bound address")?;
    tracing::info!(%addr, backend = ?store.backend(), "listening on http://{addr}");
    rampart_server::listener::serve(listener, rampart_server::app(state), shutdown_signal())
        .await
        .context("serving")?;
    tracing::info!("stopped accepting; closing the database");
    store.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received");
}

fn init_tracing(filter: &str, json: bool) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .with_context(|| format!("invalid --log filter {filter:?}"))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Colour only for people: escape codes in a log file or journal are noise.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
    Ok(())
}
