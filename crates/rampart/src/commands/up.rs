//! `rampart up`: the first look. One command on a fresh machine gives a running server
//! with this machine enrolled and its findings visible:
//!
//! 1. starts the server on loopback HTTPS with SQLite in `--data-dir` (the same
//!    [`server::prepare`] as `rampart server`: CA, sealed key, master key);
//! 2. creates the first admin if there is none (random password printed once, or
//!    `--admin-password-file`) and an API token for the CLI;
//! 3. enrols a local agent — the real agent library, in-process on a thread, its state
//!    in `DATA_DIR/agent` — with a one-use enrolment token;
//! 4. imports each `--feed` through the API's own import path (an unreachable feed is
//!    reported and skipped: the first look must work offline too);
//! 5. checks in once, so the host, its packages, updates and findings are there at
//!    once; prints the URL, the CA, the login and a ready-to-paste `rampart login`;
//! 6. keeps serving, the agent checking in at the server's interval, until Ctrl-C.
//!
//! Progress goes to standard error, the summary (with the secrets shown once) to
//! standard output. A second `up` on the same data directory reuses the CA, the admin
//! and the agent's enrolment.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, bail};
use rampart_core::authz::Role;
use rampart_server::ServerConfig;
use rampart_store::{NewEnrolmentToken, Store};

use super::DbArgs;
use super::server::{self, TlsArgs};

/// Start a server with this machine enrolled: the first look at Rampart.
#[derive(clap::Args)]
#[command(
    after_help = "Example:\n  rampart up --feed https://osv-vulnerabilities.storage.googleapis.com/Debian/all.zip\nStop with Ctrl-C. Run again on the same --data-dir to pick up where it stopped."
)]
pub(crate) struct Args {
    /// Address to listen on (loopback by default: a first look is not a deployment).
    #[arg(long, default_value = "127.0.0.1:8443")]
    listen: SocketAddr,
    /// Data directory (SQLite database, CA, the local agent's state).
    #[arg(long, default_value = "./rampart-data")]
    data_dir: PathBuf,
    /// Advisory feed to import: an OSV file, directory or zip, or an http(s) URL
    /// (repeatable).
    #[arg(long = "feed", value_name = "PATH|URL")]
    feeds: Vec<String>,
    /// File holding the first admin's password; default: a random one, printed once.
    #[arg(long, value_name = "FILE")]
    admin_password_file: Option<PathBuf>,
    #[command(flatten)]
    tls: TlsArgs,
    /// Log filter for the server's own log (on standard error).
    #[arg(long, default_value = "warn")]
    log: String,
}

const ADMIN: &str = "admin";

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    server::init_tracing(&args.log, false)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(up(args))?;
    Ok(ExitCode::SUCCESS)
}

/// What the first admin's login looks like in the summary.
enum AdminLogin {
    Created { password: Option<String> },
    Existing,
}

async fn up(args: Args) -> anyhow::Result<()> {
    let db = DbArgs {
        data_dir: args.data_dir.clone(),
        database: None,
    };
    let password = match &args.admin_password_file {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned(),
        ),
        None => None,
    };
    let mut login = AdminLogin::Existing;
    progress(&format!(
        "starting the server (data in {})",
        args.data_dir.display()
    ));
    let prepared = server::prepare(
        args.listen,
        &db,
        &args.tls,
        ServerConfig {
            // The feeds named on the command line are this server's configured
            // sources, synced by the same path as the server's own schedule.
            feed_sources: args.feeds.clone(),
            ..ServerConfig::default()
        },
        async |store: &Store| {
            login = ensure_admin(store, password).await?;
            Ok(())
        },
    )
    .await?;
    let url = prepared.url();
    let ca_path = prepared.pki.ca_cert_path.clone();
    let state = prepared.state.clone();
    let store = prepared.store.clone();

    let cli_token = {
        let admin = store.get_user_by_name(ADMIN).await.ok();
        match admin {
            Some(user) => {
                let now = state.now();
                let name = format!("rampart-up-{now}");
                Some(
                    rampart_server::admin::create_api_token(
                        &store,
                        &user,
                        Some(&name),
                        &[],
                        Some(now + 30 * 86_400_000),
                        now,
                    )
                    .await
                    .context("creating an API token for the CLI")?
                    .token,
                )
            }
            None => None,
        }
    };

    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(rampart_server::compliance_engine::run_scheduler(
        prepared.state.clone(),
        std::time::Duration::from_secs(60),
    ));
    let server = tokio::spawn(prepared.serve(async {
        let _ = stop_rx.await;
    }));

    // The local agent, enrolled once per data directory.
    let agent_dir = args.data_dir.join("agent");
    let agent_state = rampart_agent::state::StateDir::new(&agent_dir);
    if let Ok(mut config) = agent_state.load_config() {
        // Enrolled by an earlier `up`, maybe on another port: the same identity, pointed
        // at this server (its certificate names localhost whatever the port), so the
        // machine stays one host.
        if config.server_url != url {
            config.server_url = url.clone();
            let creds = agent_state
                .load_credentials()
                .context("reading the local agent's credentials")?;
            agent_state
                .save_enrolment(&creds, &config)
                .context("updating the local agent's server address")?;
        }
        progress("this machine's agent is already enrolled");
    } else {
        progress("enrolling this machine's agent");
        let issued = state.enrollment_issuer().issue();
        let labels = [("enrolled-by".to_owned(), "rampart-up".to_owned())].into();
        store
            .create_enrolment_token(
                NewEnrolmentToken {
                    token_hash: &issued.hash,
                    project_id: None,
                    labels: &labels,
                    expires_at: state.now() + 600_000,
                    max_uses: 1,
                },
                state.now(),
            )
            .await
            .context("creating an enrolment token")?;
        let (server_url, dir) = (url.clone(), agent_dir.clone());
        tokio::task::spawn_blocking(move || {
            rampart_agent::enroll::enroll(&rampart_agent::enroll::Options {
                server_url: &server_url,
                token: &issued.printed,
                state_dir: &dir,
                force: false,
                root: std::path::Path::new("/"),
            })
        })
        .await
        .context("enrolling the local agent")?
        .context("enrolling the local agent")?;
    }

    if !args.feeds.is_empty() {
        progress("importing the feeds");
    }
    for synced in rampart_server::sync_feeds(&state, "rampart-up").await {
        match (&synced.import, &synced.error) {
            (Some(result), _) => progress(&format!(
                "  {}: {} advisories ({} problems)",
                synced.source, result.feed.record_count, result.feed.problem_count
            )),
            // The first look must work offline: say what failed and carry on.
            (None, error) => progress(&format!(
                "  feed {} could not be imported, skipping it: {}",
                synced.source,
                error.as_deref().unwrap_or("unknown error")
            )),
        }
    }

    progress("collecting this machine's inventory and checking in");
    let dir = agent_dir.clone();
    let agent = tokio::task::spawn_blocking(move || {
        rampart_agent::run::Agent::open(&dir, std::path::Path::new("/"))
    })
    .await?
    .context("opening the local agent")?;
    let agent = Arc::new(agent);
    let first = {
        let agent = Arc::clone(&agent);
        tokio::task::spawn_blocking(move || agent.check_in()).await?
    };
    match &first {
        Ok(outcome) => progress(&format!("checked in (state {})", &outcome.state_hash[..12])),
        Err(e) => progress(&format!("the first check-in failed, will retry: {e}")),
    }

    print_summary(&url, &ca_path, &login, cli_token.as_deref(), &state).await;

    // Keep checking in on a plain thread (the agent is blocking by design) until Ctrl-C.
    let stop = Arc::new(AtomicBool::new(false));
    let agent_thread = {
        let stop = Arc::clone(&stop);
        let agent = Arc::clone(&agent);
        std::thread::Builder::new()
            .name("rampart-up-agent".into())
            .spawn(move || {
                if let Ok(outcome) = first {
                    rampart_agent::run::sleep_unless_stopped(outcome.next, &stop);
                }
                agent.run(&stop, |result| {
                    if let Err(e) = result {
                        eprintln!("rampart up: agent check-in failed: {e}");
                    }
                });
            })
            .context("starting the agent thread")?
    };
    server::shutdown_signal().await;
    progress("stopping");
    stop.store(true, Ordering::Relaxed);
    let _ = stop_tx.send(());
    server.await.context("server task")??;
    if agent_thread.join().is_err() {
        bail!("the agent thread panicked");
    }
    Ok(())
}

/// Creates the first admin when no user exists.
async fn ensure_admin(store: &Store, password: Option<String>) -> anyhow::Result<AdminLogin> {
    if !store.list_users().await?.is_empty() {
        return Ok(AdminLogin::Existing);
    }
    let (password, show) = match password {
        Some(p) => (p, false),
        None => (
            rampart_server::secrets::random_secret()[..24].to_owned(),
            true,
        ),
    };
    let now = rampart_server::system_clock()();
    rampart_server::admin::create_user(store, ADMIN, Role::Admin, password.clone(), now)
        .await
        .context("creating the first admin")?;
    Ok(AdminLogin::Created {
        password: show.then_some(password),
    })
}

async fn print_summary(
    url: &str,
    ca: &std::path::Path,
    login: &AdminLogin,
    token: Option<&str>,
    state: &rampart_server::AppState,
) {
    let hosts = state
        .store()
        .list_hosts(
            &Default::default(),
            rampart_store::Page {
                limit: 5,
                offset: 0,
            },
        )
        .await;
    let ca = std::fs::canonicalize(ca).unwrap_or_else(|_| ca.to_owned());
    let ca = ca.display();
    println!();
    println!("Rampart is running at {url}");
    println!("  CA certificate: {ca}");
    match login {
        AdminLogin::Created {
            password: Some(password),
        } => println!("  admin login:    {ADMIN} / {password}   (shown once; change it)"),
        AdminLogin::Created { password: None } => {
            println!("  admin login:    {ADMIN} / the password from --admin-password-file")
        }
        AdminLogin::Existing => {
            println!("  admin login:    the existing users of this data directory")
        }
    }
    if let Ok(hosts) = hosts {
        for host in hosts.items {
            let packages = match &host.package_set_hash {
                Some(_) => state
                    .store()
                    .host_packages(&host.id)
                    .await
                    .map(|p| p.len())
                    .unwrap_or(0),
                None => 0,
            };
            let updates = state
                .store()
                .host_updates(&host.id)
                .await
                .map(|u| u.len())
                .unwrap_or(0);
            let findings = state
                .store()
                .host_severity_counts(&host.id)
                .await
                .map(|c| c.total())
                .unwrap_or(0);
            println!(
                "  host:           {} ({} packages, {updates} pending updates, {findings} findings)",
                host.hostname, packages
            );
        }
    }
    if let Some(token) = token {
        println!();
        println!("Use the CLI (token valid 30 days):");
        println!("  rampart login --server {url} --ca-cert {ca} --token {token}");
        println!("  rampart hosts ls");
    }
    println!();
    println!("Press Ctrl-C to stop.");
}

fn progress(message: &str) {
    eprintln!("rampart up: {message}");
}
