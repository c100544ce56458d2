//! The `rampart` binary: the server (`server`), offline account administration
//! (`admin`) and the offline tools (`vercmp`, `scan`); the web dashboard and the REST
//! admin CLI join it as subcommands.
//!
//! Exit status: 0 success, 2 usage or input error (with a message that says what to
//! fix), 3 when `scan --fail-on` found something at or above the threshold.

mod client;
mod commands;
mod config;
mod logging;
mod output;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

/// Loading a feed allocates millions of small strings across threads; mimalloc's
/// thread-local free lists made `rampart scan` of a 100,000-advisory feed markedly
/// faster than glibc's allocator (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Rampart: the server-security control plane.
#[derive(Parser)]
#[command(name = "rampart", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Vercmp(commands::vercmp::Args),
    Scan(commands::scan::Args),
    Server(commands::server::Args),
    Up(commands::up::Args),
    Admin(commands::admin::Args),
    /// Save a server URL, API token and CA certificate for the commands below.
    Login(commands::remote::LoginArgs),
    /// Enrolled servers, their packages, pending updates and findings.
    Hosts(Remote<commands::remote::HostsCommand>),
    /// Findings across the estate.
    Findings(Remote<FindingsCommand>),
    /// Projects: groups of hosts selected by labels.
    Projects(Remote<commands::remote::ProjectsCommand>),
    /// Your personal API tokens.
    Tokens(Remote<commands::remote::TokensCommand>),
    /// Enrolment tokens for `rampart-agent enroll`.
    #[command(name = "enroll-token")]
    EnrollToken(Remote<commands::remote::EnrollTokenCommand>),
    /// Advisory feeds on the server.
    Feeds(Remote<commands::remote::FeedsCommand>),
    /// Notification channels (mail, webhooks) and their deliveries.
    Notifications(Remote<commands::notifications::NotificationsCommand>),
    /// Change requests opened for security updates pending beyond the standard.
    #[command(name = "change-requests")]
    ChangeRequests(Remote<commands::notifications::ChangeRequestsCommand>),
    /// Download compliance and findings reports (CSV, JSON, PDF).
    Reports(commands::reports::Args),
    /// Compliance of the estate and of each project (or, with --hosts, of each host).
    Compliance(RemoteArgs<commands::compliance::ComplianceArgs>),
    /// Risk exceptions: request, approve, deny, revoke.
    Exceptions(Remote<commands::compliance::ExceptionsCommand>),
    /// Re-match findings and re-evaluate compliance now (estate or --project).
    #[command(name = "scan-now")]
    ScanNow(RemoteArgs<commands::compliance::ScanNowArgs>),
}

/// A single remote command with its own arguments plus the connection and output flags.
#[derive(clap::Args)]
struct RemoteArgs<A: clap::Args> {
    #[command(flatten)]
    args: A,
    #[command(flatten)]
    connect: client::ConnectArgs,
    #[command(flatten)]
    output: commands::remote::OutputArgs,
}

/// A command group that talks to a server: its subcommands plus the connection and
/// output flags, which every subcommand of the group accepts.
#[derive(clap::Args)]
struct Remote<C: Subcommand> {
    #[command(subcommand)]
    command: C,
    #[command(flatten)]
    connect: client::ConnectArgs,
    #[command(flatten)]
    output: commands::remote::OutputArgs,
}

#[derive(Subcommand)]
enum FindingsCommand {
    /// List findings across the estate.
    Ls(commands::remote::FindingsLs),
}

/// Exit status for usage and input errors, shared with clap's own.
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let args = match config::with_config_file(Cli::command(), std::env::args_os().collect()) {
        Ok(args) => args,
        Err(err) => {
            eprintln!("rampart: error: {err:#}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let cli = Cli::parse_from(args);
    let result = match cli.command {
        Command::Vercmp(args) => commands::vercmp::run(args),
        Command::Scan(args) => commands::scan::run(args),
        Command::Login(args) => commands::remote::login(args),
        Command::Hosts(r) => commands::remote::hosts(r.command, &r.connect, r.output),
        Command::Findings(r) => match r.command {
            FindingsCommand::Ls(args) => commands::remote::findings(args, &r.connect, r.output),
        },
        Command::Projects(r) => commands::remote::projects(r.command, &r.connect, r.output),
        Command::Tokens(r) => commands::remote::tokens(r.command, &r.connect, r.output),
        Command::EnrollToken(r) => commands::remote::enroll_token(r.command, &r.connect, r.output),
        Command::Feeds(r) => commands::remote::feeds(r.command, &r.connect, r.output),
        Command::Notifications(r) => {
            commands::notifications::notifications(r.command, &r.connect, r.output)
        }
        Command::ChangeRequests(r) => {
            commands::notifications::change_requests(r.command, &r.connect, r.output)
        }
        Command::Reports(args) => commands::reports::run(args),
        Command::Compliance(r) => commands::compliance::compliance(r.args, &r.connect, r.output),
        Command::Exceptions(r) => commands::compliance::exceptions(r.command, &r.connect, r.output),
        Command::ScanNow(r) => commands::compliance::scan_now(r.args, &r.connect, r.output),
        Command::Server(args) => commands::server::run(args),
        Command::Up(args) => commands::up::run(args),
        Command::Admin(args) => commands::admin::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("rampart: error: {err:#}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}
