//! `rampart reports compliance|findings`: downloads a report from the server's
//! `/api/v1/reports/…` into a file (or stdout with `-o -`), exactly as the API renders
//! it, so the CLI, the UI and scripts get the same document.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};

use crate::client::{Client, ConnectArgs};

/// Compliance and findings reports as CSV, JSON or PDF.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  rampart reports compliance --format pdf -o compliance.pdf\n  rampart reports findings --project web --severity critical -o critical.csv"
)]
pub(crate) struct Args {
    #[command(subcommand)]
    report: Report,
    #[command(flatten)]
    connect: ConnectArgs,
}

#[derive(clap::Subcommand)]
enum Report {
    /// One row per host: compliance state and reasons, findings, pending updates.
    Compliance(Common),
    /// One row per open finding, worst first.
    Findings {
        #[command(flatten)]
        common: Common,
        /// Only this severity (critical, high, medium, low, unknown).
        #[arg(long)]
        severity: Option<String>,
    },
}

#[derive(clap::Args)]
struct Common {
    /// Only this project's hosts (id or name).
    #[arg(long)]
    project: Option<String>,
    /// Report format [default: from the output file's extension; json for `-o -`].
    #[arg(long, value_enum)]
    format: Option<ReportFormat>,
    /// Where to write the report; `-` for standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum ReportFormat {
    Csv,
    Json,
    Pdf,
}

impl ReportFormat {
    fn as_str(self) -> &'static str {
        match self {
            ReportFormat::Csv => "csv",
            ReportFormat::Json => "json",
            ReportFormat::Pdf => "pdf",
        }
    }

    /// The format a file name's extension names.
    fn of_path(path: &Path) -> Option<ReportFormat> {
        if path == Path::new("-") {
            return Some(ReportFormat::Json);
        }
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(ReportFormat::Csv),
            "json" => Some(ReportFormat::Json),
            "pdf" => Some(ReportFormat::Pdf),
            _ => None,
        }
    }
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let (kind, common, severity) = match args.report {
        Report::Compliance(common) => ("compliance", common, None),
        Report::Findings { common, severity } => ("findings", common, severity),
    };
    let format = match common
        .format
        .or_else(|| ReportFormat::of_path(&common.output))
    {
        Some(f) => f,
        None => bail!(
            "say which format with --format csv|json|pdf (the output file {} has no such extension)",
            common.output.display()
        ),
    };
    let mut query = vec![("format", format.as_str().to_owned())];
    if let Some(p) = common.project {
        query.push(("project", p));
    }
    if let Some(s) = severity {
        query.push(("severity", s));
    }
    let client = Client::connect(&args.connect)?;
    let bytes = client.get_bytes(&format!("/api/v1/reports/{kind}"), &query)?;
    if common.output == Path::new("-") {
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(&bytes)?;
        stdout.flush()?;
    } else {
        // Written only once the whole report arrived: a failed download leaves no
        // half file behind.
        std::fs::write(&common.output, &bytes)
            .with_context(|| format!("writing {}", common.output.display()))?;
        eprintln!(
            "wrote the {kind} report ({}, {} bytes) to {}",
            format.as_str(),
            bytes.len(),
            common.output.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
