//! Compliance over the REST API: `rampart compliance`, `rampart scan-now`,
//! `rampart exceptions …`, and `rampart projects standard|software-policy …` (wired
//! from `remote.rs`'s project commands). Same conventions as the other remote
//! commands: `-o table|json|csv`, JSON printing the API's answer unchanged.

use std::process::ExitCode;

use anyhow::Context;
use serde_json::{Value, json};

use super::remote::{
    OutputArgs, PageArgs, parse_duration_secs, print_items, print_object, urlencode,
};
use crate::client::{Client, ConnectArgs};
use crate::output::{Column, Format};

const SUMMARY_COLUMNS: &[Column] = &[
    Column::new("SCOPE", "/scope"),
    Column::new("HOSTS", "/hosts"),
    Column::new("COMPLIANT", "/compliant"),
    Column::new("NON-COMPLIANT", "/non_compliant"),
    Column::new("STALE", "/stale"),
    Column::new("CRITICAL", "/critical"),
    Column::new("HIGH", "/high"),
    Column::new("PENDING SECURITY", "/pending_security_updates"),
];

const HOST_COMPLIANCE_COLUMNS: &[Column] = &[
    Column::new("HOST", "/hostname"),
    Column::new("STATE", "/state"),
    Column::new("STALE", "/stale"),
    Column::new("REASONS", "/reason_kinds"),
    Column::time("EVALUATED", "/evaluated_at"),
];

/// `rampart compliance`: the estate and each project, or one project's hosts.
#[derive(clap::Args)]
pub(crate) struct ComplianceArgs {
    /// Only this project (name or id).
    #[arg(long)]
    project: Option<String>,
    /// List hosts with their state and reasons instead of the summary.
    #[arg(long)]
    hosts: bool,
    /// With --hosts: only non-compliant hosts.
    #[arg(long, requires = "hosts")]
    non_compliant: bool,
    #[command(flatten)]
    page: PageArgs,
}

pub(crate) fn compliance(
    args: ComplianceArgs,
    conn: &ConnectArgs,
    out: OutputArgs,
) -> anyhow::Result<ExitCode> {
    let client = Client::connect(conn)?;
    if args.hosts {
        let mut q = args.page.query();
        if let Some(p) = args.project {
            q.push(("project", p));
        }
        if args.non_compliant {
            q.push(("state", "non_compliant".into()));
        }
        let mut v = client.get("/api/v1/compliance/hosts", &q)?;
        if out.format() != Format::Json {
            // One cell naming the reasons, e.g. "stale critical_findings".
            for item in v["items"].as_array_mut().into_iter().flatten() {
                let kinds: Vec<Value> = item["reasons"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|r| r["kind"].clone())
                    .collect();
                item["reason_kinds"] = Value::Array(kinds);
            }
        }
        return print_items(&v, HOST_COMPLIANCE_COLUMNS, out);
    }
    let mut q = Vec::new();
    if let Some(p) = args.project {
        q.push(("project", p));
    }
    let v = client.get("/api/v1/compliance", &q)?;
    if out.format() == Format::Json {
        return print_object(&v, &[], out);
    }
    let mut rows = vec![with_scope(&v["estate"], "(estate)")];
    for p in v["projects"].as_array().into_iter().flatten() {
        rows.push(with_scope(p, p["name"].as_str().unwrap_or("?")));
    }
    print_items(&json!({ "items": rows }), SUMMARY_COLUMNS, out)
}

fn with_scope(summary: &Value, scope: &str) -> Value {
    let mut row = summary.clone();
    row["scope"] = json!(scope);
    row
}

const SCAN_COLUMNS: &[Column] = &[
    Column::new("ID", "/id"),
    Column::new("PROJECT", "/project_id"),
    Column::new("TRIGGER", "/trigger"),
    Column::new("HOSTS", "/hosts"),
    Column::new("NON-COMPLIANT", "/non_compliant"),
    Column::time("STARTED", "/started_at"),
    Column::time("FINISHED", "/finished_at"),
    Column::new("ERROR", "/error"),
];

/// `rampart scan-now`: re-match findings and re-evaluate compliance now.
#[derive(clap::Args)]
pub(crate) struct ScanNowArgs {
    /// Only this project (name or id); the whole estate otherwise.
    #[arg(long)]
    project: Option<String>,
}

pub(crate) fn scan_now(
    args: ScanNowArgs,
    conn: &ConnectArgs,
    out: OutputArgs,
) -> anyhow::Result<ExitCode> {
    let client = Client::connect(conn)?;
    let v = client.send(
        "POST",
        "/api/v1/scans",
        Some(&json!({ "project": args.project })),
    )?;
    print_object(&v, SCAN_COLUMNS, out)
}

const EXCEPTION_COLUMNS: &[Column] = &[
    Column::new("ID", "/id"),
    Column::new("ADVISORY", "/advisory"),
    Column::new("SCOPE", "/scope"),
    Column::new("STATUS", "/effective_status"),
    Column::time("EXPIRES", "/expires_at"),
    Column::new("REQUESTED BY", "/requested_by"),
    Column::new("DECIDED BY", "/decided_by"),
    Column::new("TICKET", "/ticket"),
    Column::new("REASON", "/reason"),
];

#[derive(clap::Subcommand)]
pub(crate) enum ExceptionsCommand {
    /// List risk exceptions, newest first.
    Ls {
        /// requested, approved, denied or revoked.
        #[arg(long)]
        status: Option<String>,
        /// Only exceptions in force now.
        #[arg(long)]
        active: bool,
        #[arg(long)]
        advisory: Option<String>,
        /// Only exceptions scoped to this host (id).
        #[arg(long)]
        host: Option<String>,
        /// Only exceptions scoped to this project (name or id).
        #[arg(long)]
        project: Option<String>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// Request an exception for an advisory (id or alias); another person approves it.
    Request {
        advisory: String,
        /// Why the risk is accepted.
        #[arg(long)]
        reason: String,
        /// Reference in your ticketing system.
        #[arg(long)]
        ticket: Option<String>,
        /// How long it lasts from now, e.g. 30d (it stops applying by itself).
        #[arg(long, value_parser = parse_duration_secs)]
        expires: u64,
        /// Scope: one host (id).
        #[arg(long, group = "scope")]
        host: Option<String>,
        /// Scope: a project's hosts (name or id).
        #[arg(long, group = "scope")]
        project: Option<String>,
        /// Scope: every host.
        #[arg(long, group = "scope")]
        estate: bool,
    },
    /// Approve a requested exception (not your own).
    Approve { id: String },
    /// Deny a requested exception.
    Deny { id: String },
    /// Revoke an exception: it stops applying at once.
    Revoke { id: String },
}

pub(crate) fn exceptions(
    cmd: ExceptionsCommand,
    conn: &ConnectArgs,
    out: OutputArgs,
) -> anyhow::Result<ExitCode> {
    let client = Client::connect(conn)?;
    let decide = |id: &str, action: &str| -> anyhow::Result<ExitCode> {
        let v = client.send(
            "POST",
            &format!("/api/v1/exceptions/{}/{action}", urlencode(id)),
            None,
        )?;
        print_object(&v, EXCEPTION_COLUMNS, out)
    };
    match cmd {
        ExceptionsCommand::Ls {
            status,
            active,
            advisory,
            host,
            project,
            page,
        } => {
            let mut q = page.query();
            for (key, value) in [
                ("status", status),
                ("advisory", advisory),
                ("host", host),
                ("project", project),
            ] {
                if let Some(v) = value {
                    q.push((key, v));
                }
            }
            if active {
                q.push(("active", "true".into()));
            }
            print_items(
                &client.get("/api/v1/exceptions", &q)?,
                EXCEPTION_COLUMNS,
                out,
            )
        }
        ExceptionsCommand::Request {
            advisory,
            reason,
            ticket,
            expires,
            host,
            project,
            estate,
        } => {
            let scope = match (host, project, estate) {
                (Some(h), _, _) => json!({"kind": "host", "host_id": h}),
                (_, Some(p), _) => json!({"kind": "project", "project_id": p}),
                (_, _, true) => json!({"kind": "estate"}),
                _ => anyhow::bail!("name a scope: --host ID, --project NAME or --estate"),
            };
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .context("the system clock is before 1970")?
                .as_millis() as i64;
            let body = json!({
                "advisory": advisory,
                "scope": scope,
                "reason": reason,
                "ticket": ticket,
                "expires_at": now + (expires as i64).saturating_mul(1000),
            });
            let v = client.send("POST", "/api/v1/exceptions", Some(&body))?;
            print_object(&v, EXCEPTION_COLUMNS, out)
        }
        ExceptionsCommand::Approve { id } => decide(&id, "approve"),
        ExceptionsCommand::Deny { id } => decide(&id, "deny"),
        ExceptionsCommand::Revoke { id } => decide(&id, "revoke"),
    }
}

const STANDARD_COLUMNS: &[Column] = &[
    Column::new("PROJECT", "/project_id"),
    Column::new("MAX PENDING SECURITY DAYS", "/max_pending_security_days"),
    Column::new("CRITICAL FINDINGS ALLOWED", "/critical_findings_allowed"),
    Column::new("LAST UPDATED ALERT DAYS", "/last_updated_alert_days"),
    Column::new("STALE AFTER CHECKINS", "/stale_after_checkins"),
    Column::new("CHECKIN INTERVAL SECS", "/checkin_interval_secs"),
    Column::new("FULL SCAN INTERVAL HOURS", "/full_scan_interval_hours"),
    Column::new("CONFIGURED", "/configured"),
    Column::time("UPDATED", "/updated_at"),
];

#[derive(clap::Subcommand)]
pub(crate) enum StandardCommand {
    /// Show a project's compliance standard (defaults until set).
    Show { project: String },
    /// Change a project's standard; fields not given keep their value.
    Set {
        project: String,
        #[arg(long)]
        max_pending_security_days: Option<u32>,
        #[arg(long)]
        critical_findings_allowed: Option<u32>,
        #[arg(long)]
        last_updated_alert_days: Option<u32>,
        #[arg(long)]
        stale_after_checkins: Option<u32>,
        #[arg(long)]
        checkin_interval_secs: Option<u32>,
        #[arg(long)]
        full_scan_interval_hours: Option<u32>,
    },
}

pub(crate) fn standard(
    cmd: StandardCommand,
    client: &Client,
    out: OutputArgs,
) -> anyhow::Result<ExitCode> {
    match cmd {
        StandardCommand::Show { project } => {
            let path = format!("/api/v1/projects/{}/standard", urlencode(&project));
            print_object(&client.get(&path, &[])?, STANDARD_COLUMNS, out)
        }
        StandardCommand::Set {
            project,
            max_pending_security_days,
            critical_findings_allowed,
            last_updated_alert_days,
            stale_after_checkins,
            checkin_interval_secs,
            full_scan_interval_hours,
        } => {
            let path = format!("/api/v1/projects/{}/standard", urlencode(&project));
            let current = client.get(&path, &[])?;
            let mut body = serde_json::Map::new();
            for (key, given) in [
                ("max_pending_security_days", max_pending_security_days),
                ("critical_findings_allowed", critical_findings_allowed),
                ("last_updated_alert_days", last_updated_alert_days),
                ("stale_after_checkins", stale_after_checkins),
                ("checkin_interval_secs", checkin_interval_secs),
                ("full_scan_interval_hours", full_scan_interval_hours),
            ] {
                let value = match given {
                    Some(v) => json!(v),
                    None => current[key].clone(),
                };
                body.insert(key.into(), value);
            }
            let v = client.send("PUT", &path, Some(&Value::Object(body)))?;
            print_object(&v, STANDARD_COLUMNS, out)
        }
    }
}

const POLICY_COLUMNS: &[Column] = &[
    Column::new("PROJECT", "/project_id"),
    Column::new("ALLOW", "/allow"),
    Column::new("DENY", "/deny"),
    Column::time("UPDATED", "/updated_at"),
];

#[derive(clap::Subcommand)]
pub(crate) enum SoftwarePolicyCommand {
    /// Show a project's allow and deny lists.
    Show { project: String },
    /// Replace a project's lists (globs: * ? [a-z] [!a-z]; deny wins; a non-empty allow
    /// list refuses everything else). No flags: the empty policy.
    Set {
        project: String,
        /// Allowed package-name glob (repeatable).
        #[arg(long = "allow", value_name = "GLOB")]
        allow: Vec<String>,
        /// Denied package-name glob (repeatable).
        #[arg(long = "deny", value_name = "GLOB")]
        deny: Vec<String>,
    },
}

pub(crate) fn software_policy(
    cmd: SoftwarePolicyCommand,
    client: &Client,
    out: OutputArgs,
) -> anyhow::Result<ExitCode> {
    match cmd {
        SoftwarePolicyCommand::Show { project } => {
            let path = format!("/api/v1/projects/{}/software-policy", urlencode(&project));
            print_object(&client.get(&path, &[])?, POLICY_COLUMNS, out)
        }
        SoftwarePolicyCommand::Set {
            project,
            allow,
            deny,
        } => {
            let path = format!("/api/v1/projects/{}/software-policy", urlencode(&project));
            let body = json!({"allow": allow, "deny": deny});
            print_object(
                &client.send("PUT", &path, Some(&body))?,
                POLICY_COLUMNS,
                out,
            )
        }
    }
}
