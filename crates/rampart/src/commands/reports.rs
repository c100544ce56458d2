//! `rampart reports compliance|findings`: downloads a report from the server's
//! `/api/v1/reports/…` into a file (or stdout with `-o -`), exactly as the API renders
//! it, so the CLI, the UI and scripts get the same document. `rampart reports
//! schedules …` manages the reports mailed on a schedule (`/api/v1/report-schedules`).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use serde_json::json;

use super::remote::{OutputArgs, print_items, print_object, urlencode};
use crate::client::{Client, ConnectArgs};
use crate::output::Column;

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
    /// Reports mailed on a schedule to notification channels.
    Schedules {
        #[command(subcommand)]
        command: SchedulesCommand,
        #[command(flatten)]
        output: OutputArgs,
    },
}

#[derive(clap::Subcommand)]
enum SchedulesCommand {
    /// List schedules.
    Ls,
    /// Add a schedule.
    #[command(
        after_help = "Examples:\n  rampart reports schedules add weekly-compliance --report compliance --format pdf --cron '0 7 * * MON' --timezone Europe/Berlin --channel <CHANNEL-ID>\n  rampart reports schedules add web-findings --report findings --project web --format csv --cron @daily --channel <CHANNEL-ID>"
    )]
    Add {
        /// Shown in the mail's subject.
        name: String,
        /// compliance or findings.
        #[arg(long)]
        report: String,
        /// csv, json or pdf.
        #[arg(long, default_value = "pdf")]
        format: String,
        /// Only this project's hosts (id or name).
        #[arg(long)]
        project: Option<String>,
        /// Five-field cron expression (`0 7 * * MON`) or a nickname (`@weekly`).
        #[arg(long)]
        cron: String,
        /// IANA time zone the cron expression is read in.
        #[arg(long, default_value = "UTC")]
        timezone: String,
        /// Notification channel id to send it to (repeatable).
        #[arg(long = "channel", value_name = "ID", required = true)]
        channels: Vec<String>,
        /// Create it disabled.
        #[arg(long)]
        disabled: bool,
    },
    /// Delete a schedule and its runs.
    Rm { id: String },
    /// Render and send a schedule's report now (its timing stays as it is).
    Run { id: String },
    /// A schedule's runs, newest first.
    Runs {
        id: String,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
}

const SCHEDULE_COLUMNS: &[Column] = &[
    Column::new("ID", "/id"),
    Column::new("NAME", "/name"),
    Column::new("REPORT", "/report"),
    Column::new("FORMAT", "/format"),
    Column::new("PROJECT", "/project_id"),
    Column::new("CRON", "/cron"),
    Column::new("TIMEZONE", "/timezone"),
    Column::new("CHANNELS", "/channel_ids"),
    Column::new("ENABLED", "/enabled"),
    Column::time("NEXT RUN", "/next_run_at"),
];

const RUN_COLUMNS: &[Column] = &[
    Column::new("ID", "/id"),
    Column::time("STARTED", "/started_at"),
    Column::new("STATUS", "/status"),
    Column::new("EVENT", "/event_id"),
    Column::new("BYTES", "/bytes"),
    Column::new("ERROR", "/error"),
];

fn schedules(
    command: SchedulesCommand,
    connect: &ConnectArgs,
    out: OutputArgs,
) -> anyhow::Result<ExitCode> {
    let client = Client::connect(connect)?;
    let path = |id: &str, rest: &str| format!("/api/v1/report-schedules/{}{rest}", urlencode(id));
    match command {
        SchedulesCommand::Ls => print_items(
            &client.get("/api/v1/report-schedules", &[("limit", "1000".into())])?,
            SCHEDULE_COLUMNS,
            out,
        ),
        SchedulesCommand::Add {
            name,
            report,
            format,
            project,
            cron,
            timezone,
            channels,
            disabled,
        } => {
            let mut body = json!({
                "name": name, "report": report, "format": format, "cron": cron,
                "timezone": timezone, "channel_ids": channels, "enabled": !disabled,
            });
            if let Some(project) = project {
                body["project"] = json!(project);
            }
            let created = client.send("POST", "/api/v1/report-schedules", Some(&body))?;
            print_object(&created, SCHEDULE_COLUMNS, out)
        }
        SchedulesCommand::Rm { id } => {
            client.send("DELETE", &path(&id, ""), None)?;
            eprintln!("deleted schedule {id}");
            Ok(ExitCode::SUCCESS)
        }
        SchedulesCommand::Run { id } => {
            let run = client.send("POST", &path(&id, "/run"), None)?;
            let failed = run["status"] == "failed";
            print_object(&run, RUN_COLUMNS, out)?;
            Ok(if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        SchedulesCommand::Runs { id, limit } => print_items(
            &client.get(&path(&id, "/runs"), &[("limit", limit.to_string())])?,
            RUN_COLUMNS,
            out,
        ),
    }
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
        Report::Schedules { command, output } => return schedules(command, &args.connect, output),
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
