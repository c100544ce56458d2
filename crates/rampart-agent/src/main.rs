//! The `rampart-agent` binary: parses the command line and prints. Collection lives in
//! the library (`rampart_agent::collect`). Further subcommands (`enroll`, `run`, over a
//! transport module) slot into [`Command`] beside `inventory`.
//!
//! Exit codes: 0 success, 2 usage or input error (such as a missing `--root`), 1 other
//! failures.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use rampart_agent::collect;
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
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("rampart-agent: {e:#}");
            ExitCode::FAILURE
        }
    }
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
