//! The `rampart-agent` binary: parses the command line and prints. The work lives in
//! the library (`collect`, `enroll`, `run`, `transport`).
//!
//! Exit codes: 0 success; 2 usage or input error (a missing `--root`, a malformed
//! token, an existing enrolment without `--force`, a refusal by the server such as an
//! expired, revoked or used-up token); 1 other failures (server unreachable, TLS).
//!
//! Nothing secret is printed: not the token, not the key.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use rampart_agent::run::Agent;
use rampart_agent::{collect, enroll};
use rampart_proto::Inventory;

#[derive(Parser)]
#[command(name = "rampart-agent", version, about = "Rampart's per-host agent")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Collect this host's inventory and print it, exactly as the agent would send it.
    Inventory(InventoryArgs),
    /// Enrol this host with a Rampart server: trade an enrolment token for a client
    /// certificate, saved in the state directory.
    Enroll(EnrollArgs),
    /// Check in with the server: send the inventory when it changed, poll for the next
    /// check-in. Runs until SIGTERM/SIGINT unless `--once`.
    Run(RunArgs),
}

const DEFAULT_STATE_DIR: &str = "/var/lib/rampart-agent";

#[derive(clap::Args)]
struct EnrollArgs {
    /// The server's URL, `https://host[:port]`.
    #[arg(long)]
    server: String,
    /// The enrolment token (`rpe1_...`) from the server. Prefer the environment variable
    /// over the flag: command lines are visible to other users in `ps`.
    #[arg(long, env = "RAMPART_ENROLL_TOKEN", hide_env_values = true)]
    token: String,
    #[arg(long, default_value = DEFAULT_STATE_DIR)]
    state_dir: PathBuf,
    /// Replace an existing enrolment (the old agent id stops being used).
    #[arg(long)]
    force: bool,
    /// Directory whose host name and machine id identify the host (as for `run
    /// --root`): a machine id the server knows joins that host again.
    #[arg(long, default_value = "/")]
    root: PathBuf,
}

#[derive(clap::Args)]
struct RunArgs {
    /// Check in once and exit: 0 on success, 1 with the reason otherwise.
    #[arg(long)]
    once: bool,
    #[arg(long, default_value = DEFAULT_STATE_DIR)]
    state_dir: PathBuf,
    /// Directory to collect the inventory from (as for `inventory --root`).
    #[arg(long, default_value = "/")]
    root: PathBuf,
}

#[derive(clap::Args)]
struct InventoryArgs {
    /// Directory to treat as `/`: a mounted disk or unpacked image. Facts of the running
    /// system (kernel, uptime, sshd, sockets) are collected only when this is `/`.
    #[arg(long, default_value = "/")]
    root: PathBuf,
    /// `json`: the wire JSON, compact, byte for byte what is sent (pipe through `jq`
    /// to read it); `summary`: a few lines for people.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
    /// Indent the JSON (the same value, only whitespace differs from what is sent).
    #[arg(long)]
    pretty: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Json,
    Summary,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Inventory(args) => inventory(&args),
        Command::Enroll(args) => enroll_command(&args),
        Command::Run(args) => run_command(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("rampart-agent: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn enroll_command(args: &EnrollArgs) -> anyhow::Result<ExitCode> {
    let options = enroll::Options {
        server_url: &args.server,
        token: &args.token,
        state_dir: &args.state_dir,
        force: args.force,
        root: &args.root,
    };
    match enroll::enroll(&options) {
        Ok(enroll::Enrolled { config, reenrolled }) => {
            println!(
                "enrolled as {} with {}; credentials in {}",
                config.agent_id,
                config.server_url,
                args.state_dir.display()
            );
            if reenrolled {
                println!(
                    "the server already knew this machine: it stays the same host, and its \
                     earlier agent is revoked"
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) if e.is_refusal() => {
            eprintln!("rampart-agent: enrolment refused: {e}");
            Ok(ExitCode::from(2))
        }
        Err(e) => Err(anyhow::Error::new(e).context("enrolment failed")),
    }
}

fn run_command(args: &RunArgs) -> anyhow::Result<ExitCode> {
    let agent = Agent::open(&args.state_dir, &args.root)
        .with_context(|| format!("loading the enrolment from {}", args.state_dir.display()))?;
    if args.once {
        let outcome = agent.check_in().context("check-in failed")?;
        println!(
            "checked in as {}: state {}, {} inventor{} sent, next check-in in {} s",
            agent.config().agent_id,
            outcome.state_hash,
            outcome.inventories_sent,
            if outcome.inventories_sent == 1 {
                "y"
            } else {
                "ies"
            },
            outcome.next.as_secs()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .context("installing the signal handler")?;
    }
    eprintln!(
        "rampart-agent: checking in as {} with {}",
        agent.config().agent_id,
        agent.config().server_url
    );
    agent.run(&stop, |result| match result {
        Ok(o) if o.inventories_sent > 0 => eprintln!(
            "rampart-agent: inventory {} sent; next check-in in about {} s",
            o.state_hash,
            o.next.as_secs()
        ),
        Ok(_) => {}
        Err(e) => eprintln!("rampart-agent: check-in failed, retrying with backoff: {e}"),
    });
    eprintln!("rampart-agent: stopped");
    Ok(ExitCode::SUCCESS)
}

fn inventory(args: &InventoryArgs) -> anyhow::Result<ExitCode> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let inventory = match collect::collect(&args.root, now) {
        Ok(inv) => inv,
        Err(e @ collect::Error::Root { .. }) => {
            eprintln!("rampart-agent: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            if args.pretty {
                serde_json::to_writer_pretty(&mut out, &inventory)
            } else {
                serde_json::to_writer(&mut out, &inventory)
            }
            .context("writing the inventory")?;
            writeln!(out)?;
        }
        Format::Summary => write_summary(&mut out, &inventory)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn write_summary(out: &mut impl Write, inv: &Inventory) -> anyhow::Result<()> {
    let s = &inv.state;
    let h = &s.host;
    let security = s
        .updates
        .iter()
        .filter(|u| u.category == rampart_proto::UpdateCategory::Security)
        .count();
    writeln!(out, "host:      {}", h.hostname)?;
    writeln!(
        out,
        "os:        {} ({})",
        h.os.pretty_name.as_deref().unwrap_or(&h.os.id),
        h.os.ecosystem.as_deref().unwrap_or("no advisory ecosystem")
    )?;
    if let Some(k) = &h.kernel {
        writeln!(out, "kernel:    {k} {}", h.arch.as_deref().unwrap_or(""))?;
    }
    if let Some(c) = &h.cloud {
        writeln!(
            out,
            "cloud:     {} {}",
            c.provider,
            c.instance_id.as_deref().unwrap_or("")
        )?;
    }
    writeln!(out, "packages:  {}", s.packages.len())?;
    writeln!(out, "updates:   {} ({security} security)", s.updates.len())?;
    writeln!(
        out,
        "reboot:    {}",
        if h.reboot_required {
            "required"
        } else {
            "not required"
        }
    )?;
    writeln!(out, "users:     {} that can log in", s.users.len())?;
    writeln!(out, "ssh keys:  {}", s.ssh_keys.len())?;
    writeln!(
        out,
        "sshd:      {}",
        if s.sshd.is_some() {
            "settings read"
        } else {
            "not read"
        }
    )?;
    writeln!(out, "listening: {} TCP sockets", s.listening.len())?;
    writeln!(out, "state:     {}", s.content_hash())?;
    for p in &s.problems {
        writeln!(out, "problem:   {}: {}", p.collector, p.message)?;
    }
    Ok(())
}
