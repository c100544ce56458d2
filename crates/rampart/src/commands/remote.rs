//! The admin CLI over the REST API: `login`, `hosts`, `findings`, `projects`, `tokens`,
//! `enroll-token`, `feeds`. Each command is one or two API calls; `--output json` prints
//! the API's own answer unchanged, so scripts see the documented shape.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::client::{Client, ConnectArgs, Credentials, read_ca};
use crate::output::{Column, Format, write_items, write_object};

/// Output options shared by the remote commands.
#[derive(clap::Args, Clone, Copy, Debug)]
pub(crate) struct OutputArgs {
    /// Output format [default: table].
    #[arg(long, short = 'o', value_enum, global = true)]
    pub(crate) output: Option<Format>,
}

impl OutputArgs {
    pub(crate) fn format(self) -> Format {
        self.output.unwrap_or(Format::Table)
    }
}

/// Save a server, token and CA for the other commands.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  rampart login --server https://rampart.example:8443 --ca-cert ca.pem --user alice --password-file pw.txt\n  rampart login --server https://127.0.0.1:8443 --ca-cert rampart-data/ca.pem --token rpt_…"
)]
pub(crate) struct LoginArgs {
    #[arg(long, env = "RAMPART_SERVER", value_name = "URL")]
    server: String,
    #[arg(long, env = "RAMPART_CA_CERT", value_name = "FILE")]
    ca_cert: Option<PathBuf>,
    /// Use this API token (checked against the server before saving).
    #[arg(
        long,
        env = "RAMPART_TOKEN",
        hide_env_values = true,
        conflicts_with = "user"
    )]
    token: Option<String>,
    /// Log in as this user; a personal API token is created for the CLI.
    #[arg(long, requires = "password_file")]
    user: Option<String>,
    /// File holding the password (first line).
    #[arg(long, value_name = "FILE")]
    password_file: Option<PathBuf>,
    /// Lifetime of the CLI's token, in days.
    #[arg(long, default_value_t = 30)]
    days: u64,
}

pub(crate) fn login(args: LoginArgs) -> anyhow::Result<ExitCode> {
    let ca_pem = args.ca_cert.as_deref().map(read_ca).transpose()?;
    let token = match (args.token, args.user) {
        (Some(token), _) => token,
        (None, Some(user)) => {
            let path = args.password_file.expect("clap requires it with --user");
            let password = std::fs::read_to_string(&path)
                .with_context(|| format!("reading the password file {}", path.display()))?;
            let password = password.lines().next().unwrap_or_default();
            let client = Client::new(&args.server, None, ca_pem.as_deref())?;
            let host = hostname();
            client.token_from_password(
                &user,
                password,
                &format!("rampart-cli@{host}"),
                args.days * 86_400,
            )?
        }
        (None, None) => bail!("pass --token T, or --user NAME with --password-file F"),
    };
    let client = Client::new(&args.server, Some(token.clone()), ca_pem.as_deref())?;
    let me = client.get("/api/v1/session", &[])?;
    let creds = Credentials {
        server: client.base().to_owned(),
        token,
        ca_pem,
    };
    let path = creds.save()?;
    eprintln!(
        "logged in to {} as {} (saved to {})",
        client.base(),
        me["user"]["name"].as_str().unwrap_or("?"),
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn hostname() -> String {
    hostname_opt().unwrap_or_else(|| "unknown".to_owned())
}

/// This machine's host name, if it has one.
pub(crate) fn hostname_opt() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
}

pub(crate) fn print_items(
    v: &Value,
    columns: &[Column],
    out: OutputArgs,
) -> anyhow::Result<ExitCode> {
    let mut stdout = io::BufWriter::new(io::stdout().lock());
    write_items(v, columns, out.format(), &mut stdout)?;
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn print_object(
    v: &Value,
    fields: &[Column],
    out: OutputArgs,
) -> anyhow::Result<ExitCode> {
    let mut stdout = io::BufWriter::new(io::stdout().lock());
    write_object(v, fields, out.format(), &mut stdout)?;
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Paging flags for list commands.
#[derive(clap::Args, Debug)]
pub(crate) struct PageArgs {
    #[arg(long, default_value_t = 100)]
    limit: u32,
    #[arg(long, default_value_t = 0)]
    offset: u64,
}

impl PageArgs {
    pub(crate) fn query(&self) -> Vec<(&'static str, String)> {
        vec![
            ("limit", self.limit.to_string()),
            ("offset", self.offset.to_string()),
        ]
    }
}

const HOST_COLUMNS: &[Column] = &[
    Column::new("ID", "/id"),
    Column::new("HOSTNAME", "/hostname"),
    Column::new("OS", "/ecosystem"),
    Column::new("CRITICAL", "/findings/critical"),
    Column::new("HIGH", "/findings/high"),
    Column::new("FINDINGS", "/findings/total"),
    Column::new("LABELS", "/labels"),
    Column::time("LAST SEEN", "/last_seen"),
];

#[derive(clap::Subcommand)]
pub(crate) enum HostsCommand {
    /// List hosts.
    Ls {
        /// Only hosts in this project (name or id).
        #[arg(long)]
        project: Option<String>,
        /// Only hosts with this label (KEY=VALUE, repeatable).
        #[arg(long = "label", value_name = "KEY=VALUE")]
        labels: Vec<String>,
        /// Only hosts with this OS id (debian, rocky, alpine, …).
        #[arg(long)]
        os: Option<String>,
        /// Only hosts with at least one critical finding.
        #[arg(long)]
        has_critical: bool,
        /// Free text over hostname and labels.
        #[arg(long, short = 'q')]
        query: Option<String>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// List the agents (certificates) enrolled for a host.
    Agents { id: String },
    /// Revoke an agent: its check-ins are refused from now on (enrol again to return).
    RevokeAgent {
        /// The host.
        id: String,
        /// The agent to revoke (see `rampart hosts agents`).
        agent_id: String,
    },
    /// Show one host; with --packages, --updates or --findings, that list instead.
    Show {
        id: String,
        #[arg(long, group = "what")]
        packages: bool,
        #[arg(long, group = "what")]
        updates: bool,
        #[arg(long, group = "what")]
        findings: bool,
    },
}

pub(crate) fn hosts(
    cmd: HostsCommand,
    conn: &ConnectArgs,
    out: OutputArgs,
) -> anyhow::Result<ExitCode> {
    let client = Client::connect(conn)?;
    match cmd {
        HostsCommand::Ls {
            project,
            labels,
            os,
            has_critical,
            query,
            page,
        } => {
            let mut q = page.query();
            if let Some(p) = project {
                q.push(("project", p));
            }
            for l in labels {
                let (k, v) = l
                    .split_once('=')
                    .with_context(|| format!("--label {l:?}: expected KEY=VALUE"))?;
                q.push(("label", format!("{k}:{v}")));
            }
            if let Some(os) = os {
                q.push(("os", os));
            }
            if has_critical {
                q.push(("has_critical", "true".to_owned()));
            }
            if let Some(text) = query {
                q.push(("q", text));
            }
            print_items(&client.get("/api/v1/hosts", &q)?, HOST_COLUMNS, out)
        }
        HostsCommand::Agents { id } => {
            let v = client.get(&format!("/api/v1/hosts/{}/agents", urlencode(&id)), &[])?;
            print_items(&v, AGENT_COLUMNS, out)
        }
        HostsCommand::RevokeAgent { id, agent_id } => {
            let path = format!(
                "/api/v1/hosts/{}/agents/{}/revoke",
                urlencode(&id),
                urlencode(&agent_id)
            );
            let v = client.send("POST", &path, None)?;
            print_object(&v, AGENT_COLUMNS, out)
        }
        HostsCommand::Show {
            id,
            packages,
            updates,
            findings,
        } => {
            let id = urlencode(&id);
            if packages {
                let v = get_all(&client, &format!("/api/v1/hosts/{id}/packages"))?;
                return print_items(
                    &v,
                    &[
                        Column::new("NAME", "/name"),
                        Column::new("VERSION", "/version"),
                        Column::new("ARCH", "/arch"),
                        Column::new("SOURCE", "/source_name"),
                    ],
                    out,
                );
            }
            if updates {
                let v = get_all(&client, &format!("/api/v1/hosts/{id}/updates"))?;
                return print_items(
                    &v,
                    &[
                        Column::new("NAME", "/name"),
                        Column::new("INSTALLED", "/installed"),
                        Column::new("CANDIDATE", "/candidate"),
                        Column::new("CATEGORY", "/category"),
                        Column::new("SEVERITY", "/severity"),
                        Column::new("ORIGIN", "/origin"),
                    ],
                    out,
                );
            }
            if findings {
                let v = get_all(&client, &format!("/api/v1/hosts/{id}/findings"))?;
                return print_items(&v, FINDING_COLUMNS, out);
            }
            let v = client.get(&format!("/api/v1/hosts/{id}"), &[])?;
            print_object(&v, HOST_COLUMNS, out)
        }
    }
}

/// Every item of a listing, fetched page by page (the API serves at most 1000 per
/// page), as one listing answer.
fn get_all(client: &Client, path: &str) -> anyhow::Result<Value> {
    let mut items = Vec::new();
    loop {
        let page = client.get(
            path,
            &[
                ("limit", "1000".into()),
                ("offset", items.len().to_string()),
            ],
        )?;
        let total = page["total"].as_u64().unwrap_or(0);
        let got = page["items"].as_array().cloned().unwrap_or_default();
        let done = got.is_empty() || items.len() + got.len() >= total as usize;
        items.extend(got);
        if done {
            return Ok(json!({"items": items, "total": total, "limit": items.len(), "offset": 0}));
        }
    }
}

const AGENT_COLUMNS: &[Column] = &[
    Column::new("AGENT", "/id"),
    Column::new("SERIAL", "/cert_serial"),
    Column::time("ENROLLED", "/enrolled_at"),
    Column::time("REVOKED", "/revoked_at"),
];

const FINDING_COLUMNS: &[Column] = &[
    Column::new("SEVERITY", "/severity"),
    Column::new("ADVISORY", "/advisory"),
    Column::new("HOST", "/hostname"),
    Column::new("PACKAGE", "/package"),
    Column::new("INSTALLED", "/installed"),
    Column::new("FIXED", "/fixed"),
    Column::new("CVSS", "/cvss"),
];

/// List findings across the estate.
#[derive(clap::Args)]
pub(crate) struct FindingsLs {
    /// Exactly this severity (critical, high, medium, low, unknown).
    #[arg(long)]
    severity: Option<String>,
    /// This severity or worse.
    #[arg(long)]
    min_severity: Option<String>,
    /// Advisory id or alias (CVE-…).
    #[arg(long)]
    advisory: Option<String>,
    /// Binary or source package name.
    #[arg(long)]
    package: Option<String>,
    #[arg(long)]
    project: Option<String>,
    #[command(flatten)]
    page: PageArgs,
}

pub(crate) fn findings(
    args: FindingsLs,
    conn: &ConnectArgs,
    out: OutputArgs,
) -> anyhow::Result<ExitCode> {
    let client = Client::connect(conn)?;
    let mut q = args.page.query();
    for (k, v) in [
        ("severity", args.severity),
        ("min_severity", args.min_severity),
        ("advisory", args.advisory),
        ("package", args.package),
        ("project", args.project),
    ] {
        if let Some(v) = v {
            q.push((k, v));
        }
    }
    print_items(&client.get("/api/v1/findings", &q)?, FINDING_COLUMNS, out)
}

const PROJECT_COLUMNS: &[Column] = &[
    Column::new("ID", "/id"),
    Column::new("NAME", "/name"),
    Column::new("SELECTOR", "/selector"),
    Column::new("DESCRIPTION", "/description"),
];

#[derive(clap::Subcommand)]
pub(crate) enum ProjectsCommand {
    /// List projects.
    Ls,
    /// Show one project.
    Show { id: String },
    /// Create a project whose hosts are those carrying every --selector label.
    Create {
        name: String,
        #[arg(long)]
        description: Option<String>,
        /// KEY=VALUE a host must carry (repeatable).
        #[arg(long = "selector", value_name = "KEY=VALUE")]
        selector: Vec<String>,
    },
    /// Change a project's description or selector.
    Update {
        id: String,
        #[arg(long)]
        description: Option<String>,
        /// Replace the selector (repeatable KEY=VALUE).
        #[arg(long = "selector", value_name = "KEY=VALUE")]
        selector: Option<Vec<String>>,
    },
    /// Delete a project (its hosts stay).
    Rm { id: String },
    /// A project's compliance standard.
    #[command(subcommand)]
    Standard(super::compliance::StandardCommand),
    /// A project's software policy (allow and deny lists of package-name globs).
    #[command(name = "software-policy", subcommand)]
    SoftwarePolicy(super::compliance::SoftwarePolicyCommand),
}

fn key_values(items: &[String], flag: &str) -> anyhow::Result<BTreeMap<String, String>> {
    items
        .iter()
        .map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .with_context(|| format!("{flag} {kv:?}: expected KEY=VALUE"))
        })
        .collect()
}

pub(crate) fn projects(
    cmd: ProjectsCommand,
    conn: &ConnectArgs,
    out: OutputArgs,
) -> anyhow::Result<ExitCode> {
    let client = Client::connect(conn)?;
    match cmd {
        ProjectsCommand::Ls => print_items(
            &client.get("/api/v1/projects", &[("limit", "1000".into())])?,
            PROJECT_COLUMNS,
            out,
        ),
        ProjectsCommand::Show { id } => print_object(
            &client.get(&format!("/api/v1/projects/{}", urlencode(&id)), &[])?,
            PROJECT_COLUMNS,
            out,
        ),
        ProjectsCommand::Create {
            name,
            description,
            selector,
        } => {
            // The API wants a string; no --description is the empty one.
            let description = description.unwrap_or_default();
            let body = json!({"name": name, "description": description, "selector": key_values(&selector, "--selector")?});
            print_object(
                &client.send("POST", "/api/v1/projects", Some(&body))?,
                PROJECT_COLUMNS,
                out,
            )
        }
        ProjectsCommand::Update {
            id,
            description,
            selector,
        } => {
            let mut body = serde_json::Map::new();
            if let Some(d) = description {
                body.insert("description".into(), json!(d));
            }
            if let Some(s) = selector {
                body.insert("selector".into(), json!(key_values(&s, "--selector")?));
            }
            let path = format!("/api/v1/projects/{}", urlencode(&id));
            print_object(
                &client.send("PATCH", &path, Some(&Value::Object(body)))?,
                PROJECT_COLUMNS,
                out,
            )
        }
        ProjectsCommand::Rm { id } => {
            client.send(
                "DELETE",
                &format!("/api/v1/projects/{}", urlencode(&id)),
                None,
            )?;
            eprintln!("deleted project {id}");
            Ok(ExitCode::SUCCESS)
        }
        ProjectsCommand::Standard(cmd) => super::compliance::standard(cmd, &client, out),
        ProjectsCommand::SoftwarePolicy(cmd) => {
            super::compliance::software_policy(cmd, &client, out)
        }
    }
}

const TOKEN_COLUMNS: &[Column] = &[
    Column::new("ID", "/id"),
    Column::new("NAME", "/name"),
    Column::new("SCOPES", "/scopes"),
    Column::time("EXPIRES", "/expires_at"),
    Column::time("LAST USED", "/last_used_at"),
    Column::time("REVOKED", "/revoked_at"),
];

#[derive(clap::Subcommand)]
pub(crate) enum TokensCommand {
    /// List your API tokens.
    Ls,
    /// Create an API token (printed once).
    Create {
        #[arg(long)]
        name: Option<String>,
        /// Limit the token to these roles (repeatable); default your own.
        #[arg(long = "role")]
        roles: Vec<String>,
        /// Lifetime, e.g. 24h, 30d; default no expiry.
        #[arg(long, value_parser = parse_duration_secs)]
        expires: Option<u64>,
    },
    /// Revoke an API token.
    Revoke { id: String },
}

/// `90s`, `15m`, `24h`, `30d` → seconds.
pub(crate) fn parse_duration_secs(s: &str) -> Result<u64, String> {
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = n
        .parse()
        .map_err(|_| format!("{s:?}: expected a number and s, m, h or d (24h)"))?;
    let mult = match unit {
        "s" | "" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{s:?}: unit must be s, m, h or d")),
    };
    n.checked_mul(mult)
        .filter(|&v| v > 0)
        .ok_or_else(|| format!("{s:?}: out of range"))
}

pub(crate) fn tokens(
    cmd: TokensCommand,
    conn: &ConnectArgs,
    out: OutputArgs,
) -> anyhow::Result<ExitCode> {
    let client = Client::connect(conn)?;
    match cmd {
        TokensCommand::Ls => {
            print_items(&client.get("/api/v1/api-tokens", &[])?, TOKEN_COLUMNS, out)
        }
        TokensCommand::Create {
            name,
            roles,
            expires,
        } => {
            let body = json!({"name": name, "roles": roles, "expires_in": expires});
            let v = client.send("POST", "/api/v1/api-tokens", Some(&body))?;
            created_secret(&v, "token", out)
        }
        TokensCommand::Revoke { id } => {
            client.send(
                "DELETE",
                &format!("/api/v1/api-tokens/{}", urlencode(&id)),
                None,
            )?;
            eprintln!("revoked token {id}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Prints a created secret: bare on stdout for tables (easy to capture), the whole
/// answer for JSON.
fn created_secret(v: &Value, key: &str, out: OutputArgs) -> anyhow::Result<ExitCode> {
    match out.format() {
        Format::Json => print_object(v, &[], out),
        _ => {
            let secret = v[key].as_str().context("the server returned no secret")?;
            println!("{secret}");
            eprintln!("shown once; store it now");
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[derive(clap::Subcommand)]
pub(crate) enum EnrollTokenCommand {
    /// Create an enrolment token for `rampart-agent enroll` (printed once).
    Create {
        /// Project the hosts join (their labels are set from --label).
        #[arg(long)]
        project: Option<String>,
        /// Label for hosts enrolled with it (KEY=VALUE, repeatable).
        #[arg(long = "label", value_name = "KEY=VALUE")]
        labels: Vec<String>,
        /// Lifetime, e.g. 1h, 7d.
        #[arg(long, default_value = "24h", value_parser = parse_duration_secs)]
        expires: u64,
        /// How many hosts may enrol with it.
        #[arg(long, default_value_t = 1)]
        max_uses: u32,
    },
    /// List enrolment tokens (never their secrets).
    Ls,
    /// Revoke an enrolment token.
    Revoke { id: String },
}

pub(crate) fn enroll_token(
    cmd: EnrollTokenCommand,
    conn: &ConnectArgs,
    out: OutputArgs,
) -> anyhow::Result<ExitCode> {
    let client = Client::connect(conn)?;
    match cmd {
        EnrollTokenCommand::Create {
            project,
            labels,
            expires,
            max_uses,
        } => {
            let body = json!({
                "project": project,
                "labels": key_values(&labels, "--label")?,
                "expires_in": expires,
                "max_uses": max_uses,
            });
            let v = client.send("POST", "/api/v1/enrollment-tokens", Some(&body))?;
            created_secret(&v, "token", out)
        }
        EnrollTokenCommand::Ls => print_items(
            &client.get("/api/v1/enrollment-tokens", &[("limit", "1000".into())])?,
            &[
                Column::new("ID", "/id"),
                Column::new("PROJECT", "/project_id"),
                Column::new("LABELS", "/labels"),
                Column::new("USES", "/uses"),
                Column::new("MAX", "/max_uses"),
                Column::time("EXPIRES", "/expires_at"),
                Column::time("REVOKED", "/revoked_at"),
            ],
            out,
        ),
        EnrollTokenCommand::Revoke { id } => {
            client.send(
                "DELETE",
                &format!("/api/v1/enrollment-tokens/{}", urlencode(&id)),
                None,
            )?;
            eprintln!("revoked enrolment token {id}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[derive(clap::Subcommand)]
pub(crate) enum FeedsCommand {
    /// Upload an advisory feed to the server and import it: an OSV .json file, a
    /// directory of them (zipped here), an OSV all.zip, an Alpine secdb .yaml file, or
    /// an https:// URL (downloaded here, then uploaded). The server never opens a path
    /// or URL named by a client; sources it syncs by itself are set in its configuration.
    #[command(
        after_help = "Examples:\n  rampart feeds import ./Debian-all.zip\n  rampart feeds import ./osv-records/ --name debian-local\n  rampart feeds import https://osv-vulnerabilities.storage.googleapis.com/Alpine/all.zip"
    )]
    Import {
        #[arg(value_name = "PATH|URL")]
        source: String,
        /// Label of the feed on the server (`upload:<name>`); importing the same name
        /// again replaces it. Default: the file or directory name, or the URL's path.
        #[arg(long)]
        name: Option<String>,
        /// Where downloaded feeds are cached (default ~/.cache/rampart/feeds).
        #[arg(long, value_name = "DIR")]
        cache_dir: Option<std::path::PathBuf>,
    },
    /// Sync every source the server is configured with, now.
    Sync,
    /// List the sources the server syncs by itself (from its configuration).
    Sources,
    /// List imported feeds.
    Ls,
}

pub(crate) fn feeds(
    cmd: FeedsCommand,
    conn: &ConnectArgs,
    out: OutputArgs,
) -> anyhow::Result<ExitCode> {
    let client = Client::connect(conn)?;
    match cmd {
        FeedsCommand::Import {
            source,
            name,
            cache_dir,
        } => {
            let feed = super::feed_upload::prepare(&source, cache_dir)?;
            let name = name.unwrap_or(feed.name.clone());
            eprintln!(
                "uploading {source} ({} bytes) to {} as upload:{name} …",
                feed.len,
                client.base()
            );
            let v = feed.upload(&client, &name)?;
            for problem in v["problems"].as_array().into_iter().flatten() {
                eprintln!("warning: skipped {}", problem.as_str().unwrap_or_default());
            }
            print_object(
                &v,
                &[
                    Column::new("FEED", "/feed/source"),
                    Column::new("ADVISORIES", "/feed/record_count"),
                    Column::new("CHANGED", "/changed"),
                    Column::new("PROBLEMS", "/feed/problem_count"),
                    Column::new("HOSTS RECOMPUTED", "/hosts_recomputed"),
                    Column::new("FINDINGS", "/findings"),
                    Column::time("IMPORTED", "/feed/imported_at"),
                ],
                out,
            )
        }
        FeedsCommand::Sync => {
            eprintln!("syncing the configured feeds on {} …", client.base());
            let v = client.send("POST", "/api/v1/feeds/sync", None)?;
            let failed = v
                .as_array()
                .is_some_and(|a| a.iter().any(|r| r.get("error").is_some()));
            print_items(
                &json!({ "items": v }),
                &[
                    Column::new("SOURCE", "/source"),
                    Column::new("RECORDS", "/import/feed/record_count"),
                    Column::new("CHANGED", "/import/changed"),
                    Column::new("ERROR", "/error"),
                ],
                out,
            )?;
            Ok(if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        FeedsCommand::Sources => print_items(
            &json!({ "items": client.get("/api/v1/feeds/sources", &[])? }),
            &[
                Column::new("SOURCE", "/source"),
                Column::new("KIND", "/kind"),
            ],
            out,
        ),
        FeedsCommand::Ls => print_items(
            &client.get("/api/v1/feeds", &[])?,
            &[
                Column::new("SOURCE", "/source"),
                Column::new("GENERATION", "/generation"),
                Column::new("RECORDS", "/record_count"),
                Column::new("PROBLEMS", "/problem_count"),
                Column::time("IMPORTED", "/imported_at"),
            ],
            out,
        ),
    }
}

/// Percent-encodes a path segment (ids are plain, but names given by people may not be).
pub(crate) fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration_secs("24h"), Ok(86_400));
        assert_eq!(parse_duration_secs("90"), Ok(90));
        assert_eq!(parse_duration_secs("7d"), Ok(604_800));
        assert!(parse_duration_secs("0h").is_err());
        assert!(parse_duration_secs("1w").unwrap_err().contains("unit"));
        assert!(parse_duration_secs("h").is_err());
        assert!(parse_duration_secs("99999999999999999999d").is_err());
    }

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(urlencode("web-1.example"), "web-1.example");
        assert_eq!(urlencode("a b/c"), "a%20b%2Fc");
    }
}
