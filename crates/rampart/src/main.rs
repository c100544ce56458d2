//! The `rampart` binary: the server (`server`), offline account administration
//! (`admin`) and the offline tools (`vercmp`, `scan`); the web dashboard and the REST
//! admin CLI join it as subcommands.
//!
//! Exit status: 0 success, 2 usage or input error (with a message that says what to
//! fix), 3 when `scan --fail-on` found something at or above the threshold.

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
}

#[derive(Subcommand)]
enum Command {
    Vercmp(commands::vercmp::Args),
    Scan(commands::scan::Args),
    Server(commands::server::Args),
    Admin(commands::admin::Args),
}

/// Exit status for usage and input errors, shared with clap's own.
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Vercmp(args) => commands::vercmp::run(args),
        Command::Scan(args) => commands::scan::run(args),
        Command::Server(args) => commands::server::run(args),
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
