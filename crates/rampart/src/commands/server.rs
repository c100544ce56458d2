//! `rampart server`: runs the REST API and the agent channel over HTTPS on the embedded
//! SQLite database in `--data-dir` or on PostgreSQL (`--database`). Stops gracefully on
//! SIGINT or SIGTERM: stops accepting, finishes in-flight requests, closes the database
//! (SQLite checkpoints its WAL).
//!
//! TLS: the private CA lives in the data directory (`ca.pem`, and `ca.key.sealed`
//! sealed with the master key); the listener's certificate is issued by it at each start
//! for localhost, the loopback addresses, the listen address and `--tls-san`, unless
//! the operator brings `--tls-cert/--tls-key`. The master key comes from
//! `RAMPART_MASTER_KEY` (read here, the binary being the only place the environment is
//! read; deliberately not a flag, which `ps` would show) or `--master-key-file`, else it
//! is generated into `DATA_DIR/master.key` with a warning.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use rampart_server::pki::{MasterKeySource, ServerCertSource, ServerPki};
use rampart_server::{AppState, BootstrapSecret, ServerConfig};
use rampart_store::Store;

use super::DbArgs;

/// Run the Rampart server.
#[derive(clap::Args)]
#[command(
    after_help = "On first start with no users, a one-time bootstrap secret is printed on standard output: POST it with a name and password to /api/v1/bootstrap to create the first admin.\nThe CA certificate clients need is DATA_DIR/ca.pem.\nSettings come from --config FILE, then RAMPART_* variables (RAMPART_LISTEN, RAMPART_DATA_DIR, RAMPART_DATABASE, RAMPART_LOG, …), then flags, the later winning; the master key may also come from RAMPART_MASTER_KEY (64 hex digits or base64)."
)]
pub(crate) struct Args {
    /// TOML configuration file: keys are this command's long flags with `_` for `-`
    /// (`listen = "0.0.0.0:8443"`, `feeds = ["https://…/all.zip"]`); the environment and
    /// the command line override it. Unknown keys are an error.
    #[arg(long, env = "RAMPART_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, env = "RAMPART_LISTEN", default_value = "127.0.0.1:8443")]
    listen: SocketAddr,
    #[command(flatten)]
    db: DbArgs,
    #[command(flatten)]
    tls: TlsArgs,
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
    /// Advisory feed to keep in sync (URL or server-side path; repeatable, or
    /// comma-separated in RAMPART_FEEDS): imported at start and then every
    /// --feed-sync-interval. Downloads are conditional (ETag/Last-Modified), so an
    /// unchanged feed costs one request.
    #[arg(
        long = "feed",
        env = "RAMPART_FEEDS",
        value_delimiter = ',',
        value_name = "PATH|URL"
    )]
    feeds: Vec<String>,
    /// A network (CIDR) the server may connect to for feeds, webhooks and mail besides
    /// the public internet (repeatable, or comma-separated in RAMPART_OUTBOUND_ALLOW):
    /// loopback, private and link-local addresses are refused otherwise, so nobody can
    /// point the server at its own internal services (e.g. 10.20.0.0/16, 127.0.0.1).
    #[arg(
        long = "outbound-allow",
        env = "RAMPART_OUTBOUND_ALLOW",
        value_delimiter = ',',
        value_name = "CIDR",
        value_parser = parse_network
    )]
    outbound_allow: Vec<rampart_core::egress::IpNetwork>,
    /// Lifetime of an API token created without an expiry (e.g. 90d; never more than
    /// --api-token-max-lifetime).
    #[arg(long, env = "RAMPART_API_TOKEN_LIFETIME", default_value = "90d", value_parser = parse_duration)]
    api_token_lifetime: Duration,
    /// Longest lifetime an API token may be given; tokens older than this stop working.
    #[arg(long, env = "RAMPART_API_TOKEN_MAX_LIFETIME", default_value = "365d", value_parser = parse_duration)]
    api_token_max_lifetime: Duration,
    /// Most packages an agent's inventory may list.
    #[arg(long, env = "RAMPART_MAX_INVENTORY_PACKAGES", default_value_t = 50_000)]
    max_inventory_packages: usize,
    /// Sustained rate of inventories per agent: one per this interval, after a burst of 5.
    #[arg(long, env = "RAMPART_INVENTORY_INTERVAL", default_value = "30s", value_parser = parse_duration)]
    inventory_interval: Duration,
    /// How often the --feed sources are synced (e.g. 6h, 30m).
    #[arg(long, env = "RAMPART_FEED_SYNC_INTERVAL", default_value = "6h", value_parser = parse_duration)]
    feed_sync_interval: Duration,
    /// How long finished notification deliveries (delivered, or failed for good) stay
    /// in the delivery history before they are purged (e.g. 30d, 12h).
    #[arg(long, env = "RAMPART_NOTIFICATION_RETENTION", default_value = "30d", value_parser = parse_duration)]
    notification_retention: Duration,
}

/// Where the master key and the listener's certificate come from.
#[derive(clap::Args, Clone, Debug, Default)]
pub(crate) struct TlsArgs {
    /// File holding the master key that seals the CA key (64 hex digits or base64).
    /// Default: RAMPART_MASTER_KEY, else DATA_DIR/master.key (generated; move it off
    /// the data disk for production).
    #[arg(long, env = "RAMPART_MASTER_KEY_FILE", value_name = "FILE")]
    pub(crate) master_key_file: Option<PathBuf>,
    /// The listener's certificate chain (PEM) instead of one issued by Rampart's CA.
    #[arg(
        long,
        env = "RAMPART_TLS_CERT",
        value_name = "FILE",
        requires = "tls_key"
    )]
    pub(crate) tls_cert: Option<PathBuf>,
    /// The private key (PEM) for --tls-cert.
    #[arg(
        long,
        env = "RAMPART_TLS_KEY",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    pub(crate) tls_key: Option<PathBuf>,
    /// Another name or address agents and browsers use for this server (repeatable).
    #[arg(
        long = "tls-san",
        env = "RAMPART_TLS_SAN",
        value_name = "NAME",
        value_delimiter = ','
    )]
    pub(crate) tls_san: Vec<String>,
}

fn parse_network(s: &str) -> Result<rampart_core::egress::IpNetwork, String> {
    s.parse()
        .map_err(|e: rampart_core::egress::NetworkParseError| e.to_string())
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

/// A server ready to serve: store open, CA loaded, state built, port bound.
pub(crate) struct Prepared {
    pub(crate) store: Store,
    pub(crate) state: AppState,
    pub(crate) pki: ServerPki,
    pub(crate) listener: tokio::net::TcpListener,
    pub(crate) addr: SocketAddr,
    pub(crate) bootstrap: Option<BootstrapSecret>,
}

impl Prepared {
    /// The URL clients use: `localhost` for loopback listeners (the certificate always
    /// names it), the address otherwise.
    pub(crate) fn url(&self) -> String {
        match self.addr.ip() {
            ip if ip.is_loopback() || ip.is_unspecified() => {
                format!("https://localhost:{}", self.addr.port())
            }
            IpAddr::V6(ip) => format!("https://[{ip}]:{}", self.addr.port()),
            IpAddr::V4(ip) => format!("https://{ip}:{}", self.addr.port()),
        }
    }

    /// Serves, with the notification dispatcher beside it, until `shutdown` completes;
    /// then lets the dispatcher finish its round and closes the store.
    pub(crate) async fn serve(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
        let dispatcher = tokio::spawn(rampart_server::notifier::run_dispatcher(
            self.state.clone(),
            async move {
                // Also ends when the sender is dropped (serving failed).
                let _ = stop_rx.wait_for(|stop| *stop).await;
            },
        ));
        let shutdown = async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        };
        let served = rampart_server::listener::serve_tls(
            self.listener,
            self.pki.tls.clone(),
            rampart_server::app(self.state),
            shutdown,
        )
        .await
        .context("serving");
        if tokio::time::timeout(Duration::from_secs(60), dispatcher)
            .await
            .is_err()
        {
            tracing::warn!("the notification dispatcher did not stop within 60 s");
        }
        served?;
        tracing::info!("stopped accepting; closing the database");
        self.store.close().await;
        Ok(())
    }
}

/// Opens the store, sets up the CA and the TLS configuration, builds the state and
/// binds the port. `before_state` runs on the open store before the state is built
/// (`rampart up` creates the first admin there, so no bootstrap secret is made).
pub(crate) async fn prepare(
    listen: SocketAddr,
    db: &DbArgs,
    tls: &TlsArgs,
    config: ServerConfig,
    before_state: impl AsyncFnOnce(&Store) -> anyhow::Result<()>,
) -> anyhow::Result<Prepared> {
    let store = db.open().await?;
    let master = match (std::env::var("RAMPART_MASTER_KEY"), &tls.master_key_file) {
        (_, Some(file)) => MasterKeySource::File(file.clone()),
        (Ok(text), None) if !text.trim().is_empty() => MasterKeySource::Text(text),
        _ => MasterKeySource::DataDir,
    };
    let cert = match (&tls.tls_cert, &tls.tls_key) {
        (Some(cert), Some(key)) => ServerCertSource::Files {
            cert: cert.clone(),
            key: key.clone(),
        },
        _ => {
            let mut dns_names = Vec::new();
            let mut ip_addrs = Vec::new();
            if listen.ip().is_unspecified() {
                // Listening everywhere: the machine's own name is how others reach it.
                if let Some(host) = super::remote::hostname_opt() {
                    dns_names.push(host);
                }
            } else {
                ip_addrs.push(listen.ip());
            }
            for san in &tls.tls_san {
                match san.trim().parse::<IpAddr>() {
                    Ok(ip) => ip_addrs.push(ip),
                    Err(_) if !san.trim().is_empty() => dns_names.push(san.trim().to_owned()),
                    Err(_) => {}
                }
            }
            ServerCertSource::Issue {
                dns_names,
                ip_addrs,
            }
        }
    };
    let data_dir = db.data_dir.clone();
    let (pki, report) =
        tokio::task::spawn_blocking(move || ServerPki::load_or_create(&data_dir, &master, &cert))
            .await
            .context("setting up the CA")?
            .context("setting up the CA")?;
    if report.ca_created {
        tracing::info!(ca = %pki.ca_cert_path.display(), fingerprint = %pki.ca.fingerprint(), "created the private CA");
    }
    if report.master_key_in_data_dir {
        tracing::warn!(
            path = %db.data_dir.join(rampart_server::pki::MASTER_KEY_FILE).display(),
            "the master key that seals the CA key is stored in the data directory{}; for production move it off the data disk and pass it with RAMPART_MASTER_KEY or --master-key-file",
            if report.master_key_generated { " (generated now)" } else { "" }
        );
    }
    before_state(&store).await?;
    let config = ServerConfig {
        feed_cache_dir: Some(db.data_dir.join("feed-cache")),
        // Always TLS now: the session cookie is `Secure`.
        secure_cookies: true,
        // Channel secrets are sealed with the same master key as the CA key.
        master_key: Some(pki.master.clone()),
        ..config
    };
    let (state, bootstrap) = AppState::with_ca(
        store.clone(),
        config,
        rampart_server::system_clock(),
        Arc::clone(&pki.ca),
    )
    .await
    .context("loading the server state")?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    let addr = listener.local_addr().context("reading the bound address")?;
    Ok(Prepared {
        store,
        state,
        pki,
        listener,
        addr,
        bootstrap,
    })
}

async fn serve(args: Args) -> anyhow::Result<()> {
    let config = ServerConfig {
        session_ttl: args.session_ttl,
        request_timeout: args.request_timeout,
        notifications: rampart_server::notifier::NotifyConfig {
            retention: args.notification_retention,
            ..Default::default()
        },
        feed_sources: args.feeds.clone(),
        egress: rampart_core::egress::EgressPolicy::allow(args.outbound_allow.iter().copied()),
        api_token_default_lifetime: args.api_token_lifetime,
        api_token_max_lifetime: args.api_token_max_lifetime,
        max_inventory_packages: args.max_inventory_packages,
        inventory_interval: args.inventory_interval,
        ..ServerConfig::default()
    };
    let mut prepared = prepare(args.listen, &args.db, &args.tls, config, async |_| Ok(())).await?;
    let url = prepared.url();
    let ca = prepared.pki.ca_cert_path.display().to_string();
    if let Some(secret) = prepared.bootstrap.take() {
        // Standard output only: logs are often shipped elsewhere, the terminal is not.
        println!("No users exist yet. Create the first admin within this run with:");
        println!(
            "  curl --cacert {ca} -X POST {url}/api/v1/bootstrap -H 'Content-Type: application/json' \\\n       -d '{{\"secret\":\"{}\",\"name\":\"admin\",\"password\":\"…\"}}'",
            secret.0
        );
        tracing::warn!(
            "no users yet: the one-time bootstrap secret was printed on standard output"
        );
    }
    tracing::info!(addr = %prepared.addr, backend = ?prepared.store.backend(), ca = %ca, "listening on {url}");
    if !args.feeds.is_empty() {
        tokio::spawn(sync_feeds(prepared.state.clone(), args.feed_sync_interval));
    }
    // Package sets left behind by deleted hosts: swept hourly (check-ins remove a
    // host's previous set themselves).
    tokio::spawn(collect_package_sets(prepared.store.clone()));
    // Compliance: time-dependent reasons, scheduled full scans, trend rows.
    tokio::spawn(rampart_server::compliance_engine::run_scheduler(
        prepared.state.clone(),
        Duration::from_secs(60),
    ));
    prepared.serve(shutdown_signal()).await
}

/// Syncs every configured feed now and then once per `every`, through the same path
/// as `POST /api/v1/feeds/sync`. A feed that fails is logged and retried at the next
/// round; the others still sync.
async fn sync_feeds(state: AppState, every: Duration) {
    let mut ticker = tokio::time::interval(every.max(Duration::from_secs(60)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        rampart_server::sync_feeds(&state, "feed-sync").await;
    }
}

async fn collect_package_sets(store: Store) {
    let mut ticker = tokio::time::interval(Duration::from_secs(3600));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        match store.collect_unused_package_sets().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(sets = n, "removed package sets no host uses"),
            Err(e) => tracing::warn!(error = %e, "collecting unused package sets failed"),
        }
    }
}

pub(crate) async fn shutdown_signal() {
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

pub(crate) fn init_tracing(filter: &str, json: bool) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .with_context(|| format!("invalid --log filter {filter:?}"))?;
    let colours = std::io::IsTerminal::is_terminal(&std::io::stderr()) && !json;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Colour only for people: escape codes in a log file or journal are noise.
        .with_ansi(colours)
        // One event, one line: client-supplied text cannot forge entries.
        .with_writer(crate::logging::OneLine {
            inner: std::io::stderr,
            colours,
        });
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
    Ok(())
}
