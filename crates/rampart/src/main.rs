//! The `rampart` binary: the server (`server`), offline account administration
//! (`admin`) and the offline tools (`vercmp`, `scan`); the web dashboard and the REST
//! admin CLI join it as subcommands.
//!
//! Exit status: 0 success, 2 usage or input error (with a message that says what to
//! fix), 3 when `scan --fail-on` found something at or above the threshold.

mod client;
mod commands;
mod output;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
    #[command(flatten)]
    connect: client::ConnectArgs,
    #[command(flatten)]
    output: commands::remote::OutputArgs,
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
    #[command(subcommand)]
    Hosts(commands::remote::HostsCommand),
    /// Findings across the estate.
    #[command(subcommand)]
    Findings(FindingsCommand),
    /// Projects: groups of hosts selected by labels.
    #[command(subcommand)]
    Projects(commands::remote::ProjectsCommand),
    /// Your personal API tokens.
    #[command(subcommand)]
    Tokens(commands::remote::TokensCommand),
    /// Enrolment tokens for `rampart-agent enroll`.
    #[command(subcommand, name = "enroll-token")]
    EnrollToken(commands::remote::EnrollTokenCommand),
    /// Advisory feeds on the server.
    #[command(subcommand)]
    Feeds(commands::remote::FeedsCommand),
}

#[derive(Subcommand)]
enum FindingsCommand {
    /// List findings across the estate.
    Ls(commands::remote::FindingsLs),
}

/// Exit status for usage and input errors, shared with clap's own.
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Vercmp(args) => commands::vercmp::run(args),
        Command::Scan(mut args) => {
            // `-o/--output` is global; on scan it means the same as `--format`.
            if let Some(format) = cli.output.output {
                args.format = format;
            }
            commands::scan::run(args)
        }
        Command::Login(args) => commands::remote::login(args),
        Command::Hosts(cmd) => commands::remote::hosts(cmd, &cli.connect, cli.output),
        Command::Findings(FindingsCommand::Ls(args)) => {
            commands::remote::findings(args, &cli.connect, cli.output)
        }
        Command::Projects(cmd) => commands::remote::projects(cmd, &cli.connect, cli.output),
        Command::Tokens(cmd) => commands::remote::tokens(cmd, &cli.connect, cli.output),
        Command::EnrollToken(cmd) => commands::remote::enroll_token(cmd, &cli.connect, cli.output),
        Command::Feeds(cmd) => commands::remote::feeds(cmd, &cli.connect, cli.output),
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
