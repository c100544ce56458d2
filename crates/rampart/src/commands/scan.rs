//! `rampart scan`: offline vulnerability scan of a root filesystem against local or
//! downloaded advisory feeds. Reads the package databases under `--root` without the
//! package managers, so image roots and mounted disks scan like the running system.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use rampart_core::matcher::{AdvisoryIndex, match_host};
use rampart_core::severity::SeverityLevel;
use rampart_feeds::{LoadOptions, Progress};

use crate::output::{self, Format, OsInfo, ScanReport};

/// Exit status when `--fail-on` found a finding at or above its level.
const EXIT_FINDINGS: u8 = 3;
/// Problems listed one by one before the rest are only counted.
const PROBLEMS_SHOWN: usize = 10;

/// Scan a root filesystem offline for vulnerable packages.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  rampart scan --feed debian-osv.zip\n  rampart scan --root /mnt/image --feed osv/ --format json --fail-on high\n\nFeeds: an OSV JSON file, a directory of OSV/secdb files, an OSV all.zip, an Alpine secdb YAML, or an http(s) URL of any of these (cached, re-downloaded only when changed).\nExit status: 0 done, 2 usage or input error, 3 a finding at or above --fail-on."
)]
pub(crate) struct Args {
    /// Root of the filesystem to scan.
    #[arg(long, default_value = "/")]
    root: PathBuf,
    /// Advisory feed (repeatable): file, directory, zip or URL.
    #[arg(long = "feed", required = true, value_name = "PATH|URL")]
    feeds: Vec<String>,
    /// Output format.
    #[arg(long, short = 'o', visible_alias = "output", value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Exit with status 3 when a finding is at or above this severity.
    #[arg(long, value_name = "SEVERITY", value_parser = ["critical", "high", "medium", "low", "unknown"])]
    fail_on: Option<String>,
    /// Where downloaded feeds are cached.
    #[arg(long, env = "RAMPART_CACHE_DIR", value_name = "DIR")]
    cache_dir: Option<PathBuf>,
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let fail_on: Option<SeverityLevel> = args
        .fail_on
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let started = Instant::now();

    let inventory = rampart_inventory::read_root(&args.root).with_context(|| {
        format!(
            "reading the packages installed under {}",
            args.root.display()
        )
    })?;
    report_problems(
        "inventory",
        inventory
            .problems
            .iter()
            .map(|p| (p.location.as_str(), p.reason.as_str())),
    );
    let release = inventory.os.release().with_context(|| {
        format!(
            "cannot tell which advisories apply to {} (from its os-release)",
            args.root.display()
        )
    })?;

    let cache_dir = args.cache_dir.clone().unwrap_or_else(default_cache_dir);
    let mut index = AdvisoryIndex::new();
    for feed in &args.feeds {
        let bar = progress_bar(feed);
        let on_progress = |p: Progress| match p {
            Progress::Downloading { received, total } => {
                bar.set_message(format!("downloading {feed}"));
                bar.set_length(total.unwrap_or(0));
                bar.set_position(received);
            }
            Progress::Parsing { done, total } => {
                bar.set_message(format!("loading {feed}"));
                bar.set_length(total);
                bar.set_position(done);
            }
        };
        let opts = LoadOptions {
            cache_dir: Some(cache_dir.clone()),
            progress: Some(&on_progress),
            ..LoadOptions::default()
        };
        let load =
            rampart_feeds::load(feed, &opts).with_context(|| format!("loading feed {feed}"))?;
        bar.finish_and_clear();
        report_problems(
            feed,
            load.problems
                .iter()
                .map(|p| (p.location.as_str(), p.reason.as_str())),
        );
        index.extend(load.advisories);
    }

    let findings = match_host(&index, &release, &inventory.packages);
    let worst = findings.iter().map(|f| f.severity.level).max();
    let report = ScanReport {
        os: OsInfo {
            id: inventory.os.id.clone(),
            version_id: inventory.os.version_id.clone(),
            ecosystem: release.to_string(),
        },
        packages: inventory.packages.len(),
        findings: findings.into_iter().map(Into::into).collect(),
    };
    let mut stdout = io::BufWriter::new(io::stdout().lock());
    output::write(&report, args.format, &mut stdout).context("writing the report")?;
    stdout.flush().context("writing the report")?;
    if args.format == Format::Table && io::stderr().is_terminal() {
        eprintln!(
            "scanned in {:.2?} against {} advisories",
            started.elapsed(),
            index.len()
        );
    }
    // The process ends right after this: freeing the index and report one allocation at
    // a time (millions of small strings for a large feed) would only delay the exit.
    std::mem::forget(index);
    std::mem::forget(report);
    match (fail_on, worst) {
        (Some(threshold), Some(w)) if w >= threshold => Ok(ExitCode::from(EXIT_FINDINGS)),
        _ => Ok(ExitCode::SUCCESS),
    }
}

pub(super) fn default_cache_dir() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("rampart")
        .join("feeds")
}

/// A bar on stderr when it is a terminal; hidden otherwise so logs and pipes stay clean.
pub(super) fn progress_bar(feed: &str) -> ProgressBar {
    if !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({per_sec})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(format!("loading {feed}"));
    bar
}

fn report_problems<'a>(what: &str, problems: impl Iterator<Item = (&'a str, &'a str)>) {
    let mut count = 0usize;
    for (location, reason) in problems {
        if count < PROBLEMS_SHOWN {
            eprintln!("rampart scan: warning: {what}: skipped {location}: {reason}");
        }
        count += 1;
    }
    if count > PROBLEMS_SHOWN {
        eprintln!(
            "rampart scan: warning: {what}: {} more problems not shown ({count} in all)",
            count - PROBLEMS_SHOWN
        );
    }
}
