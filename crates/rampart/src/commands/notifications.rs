//! `rampart notifications channels|deliveries …` and `rampart change-requests …`: the
//! notification API from the command line. Secrets are read from files, never from
//! the command line (`ps` would show them).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use serde_json::{Value, json};

use super::remote::{OutputArgs, print_items, print_object, urlencode};
use crate::client::{Client, ConnectArgs};
use crate::output::Column;

#[derive(clap::Subcommand)]
pub(crate) enum NotificationsCommand {
    /// Where events go: mail or webhook channels.
    #[command(subcommand)]
    Channels(ChannelsCommand),
    /// The outbox: every (channel, event) and how its delivery went.
    #[command(subcommand)]
    Deliveries(DeliveriesCommand),
}

#[derive(clap::Subcommand)]
pub(crate) enum ChannelsCommand {
    /// List channels.
    Ls,
    /// Add a channel.
    #[command(
        after_help = "Examples:\n  rampart notifications channels add siem --kind webhook --url https://siem.example/hooks/rampart --event finding.critical --event host.stale\n  rampart notifications channels add jira --kind webhook --url https://tickets.example/rampart --ticketing\n  rampart notifications channels add security --kind email --smtp-host smtp.example.com --username rampart --password-file pw.txt --from rampart@example.com --to sec@example.com --event report.ready\n\nEvents: finding.critical, host.non_compliant, host.stale, exception.expiring, report.ready, change_request.opened, change_request.updated."
    )]
    Add(Box<AddChannel>),
    /// Delete a channel and its deliveries.
    Rm { id: String },
    /// Send a test event to a channel now and show how it went.
    Test { id: String },
}

#[derive(clap::Args)]
pub(crate) struct AddChannel {
    name: String,
    /// `webhook` or `email`.
    #[arg(long)]
    kind: String,
    /// Event kind to receive (repeatable).
    #[arg(long = "event", value_name = "KIND")]
    events: Vec<String>,
    /// Only events concerning this project (id).
    #[arg(long)]
    project: Option<String>,
    /// Create it disabled.
    #[arg(long)]
    disabled: bool,
    /// Webhook: the https:// URL (http:// only to loopback).
    #[arg(long)]
    url: Option<String>,
    /// Webhook: a ticketing system (receives change requests, answers `external_ref`).
    #[arg(long)]
    ticketing: bool,
    /// Webhook signing secret or SMTP password, first line of this file. A webhook
    /// without one gets a generated secret, printed once.
    #[arg(long, value_name = "FILE")]
    secret_file: Option<PathBuf>,
    /// SMTP password file (same as --secret-file).
    #[arg(long, value_name = "FILE", conflicts_with = "secret_file")]
    password_file: Option<PathBuf>,
    /// PEM file of a CA to trust for this endpoint (a private server).
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,
    /// Email: the SMTP server.
    #[arg(long)]
    smtp_host: Option<String>,
    #[arg(long)]
    smtp_port: Option<u16>,
    /// Email: starttls (default, required), tls (implicit) or plain (loopback only).
    #[arg(long)]
    security: Option<String>,
    /// Email: SMTP AUTH user.
    #[arg(long)]
    username: Option<String>,
    /// Email: sender.
    #[arg(long)]
    from: Option<String>,
    /// Email: recipient (repeatable).
    #[arg(long = "to", value_name = "ADDRESS")]
    to: Vec<String>,
}

#[derive(clap::Subcommand)]
pub(crate) enum DeliveriesCommand {
    /// List deliveries, newest first.
    Ls {
        /// pending, delivered or failed.
        #[arg(long)]
        status: Option<String>,
        /// Channel id.
        #[arg(long)]
        channel: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Make a pending or failed delivery due now.
    Retry { id: String },
}

#[derive(clap::Subcommand)]
pub(crate) enum ChangeRequestsCommand {
    /// List change requests, most recently updated first.
    Ls {
        /// open or closed.
        #[arg(long)]
        status: Option<String>,
        /// Project id.
        #[arg(long)]
        project: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Show one change request with its items.
    Show { id: String },
    /// Close a change request.
    Close { id: String },
}

const CHANNEL_COLUMNS: &[Column] = &[
    Column::new("ID", "/id"),
    Column::new("NAME", "/name"),
    Column::new("KIND", "/kind"),
    Column::new("EVENTS", "/events"),
    Column::new("PROJECT", "/project_id"),
    Column::new("ENABLED", "/enabled"),
    Column::new("SECRET", "/has_secret"),
];

const DELIVERY_COLUMNS: &[Column] = &[
    Column::new("ID", "/id"),
    Column::new("CHANNEL", "/channel_name"),
    Column::new("EVENT", "/event_kind"),
    Column::new("STATUS", "/status"),
    Column::new("ATTEMPTS", "/attempts"),
    Column::time("NEXT ATTEMPT", "/next_attempt_at"),
    Column::new("LAST ERROR", "/last_error"),
    Column::time("CREATED", "/created_at"),
];

const CHANGE_REQUEST_COLUMNS: &[Column] = &[
    Column::new("ID", "/id"),
    Column::new("PROJECT", "/project_name"),
    Column::new("STATUS", "/status"),
    Column::new("HOSTS", "/items"),
    Column::new("TICKET", "/external_ref"),
    Column::time("UPDATED", "/updated_at"),
];

fn first_line(path: &PathBuf) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the secret file {}", path.display()))?;
    Ok(text.lines().next().unwrap_or_default().to_owned())
}

fn channel_body(a: AddChannel) -> anyhow::Result<Value> {
    let ca_pem = a
        .ca_file
        .as_ref()
        .map(|p| std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display())))
        .transpose()?;
    let mut config = serde_json::Map::new();
    let mut put = |k: &str, v: Value| {
        config.insert(k.to_owned(), v);
    };
    match a.kind.as_str() {
        "webhook" => {
            put(
                "url",
                json!(a.url.context("--url is required for a webhook")?),
            );
            if a.ticketing {
                put("ticketing", json!(true));
            }
        }
        "email" => {
            put(
                "host",
                json!(a.smtp_host.context("--smtp-host is required for email")?),
            );
            put(
                "from",
                json!(a.from.context("--from is required for email")?),
            );
            anyhow::ensure!(!a.to.is_empty(), "--to is required for email");
            put("to", json!(a.to));
            if let Some(port) = a.smtp_port {
                put("port", json!(port));
            }
            if let Some(security) = a.security {
                put("security", json!(security));
            }
            if let Some(user) = a.username {
                put("username", json!(user));
            }
        }
        other => anyhow::bail!("--kind {other:?}: expected webhook or email"),
    }
    if let Some(pem) = ca_pem {
        put("ca_pem", json!(pem));
    }
    let secret = a
        .secret_file
        .as_ref()
        .or(a.password_file.as_ref())
        .map(first_line)
        .transpose()?;
    let mut body = json!({
        "name": a.name,
        "kind": a.kind,
        "config": Value::Object(config),
        "events": a.events,
        "enabled": !a.disabled,
    });
    if let Some(secret) = secret {
        body["secret"] = json!(secret);
    }
    if let Some(project) = a.project {
        body["project_id"] = json!(project);
    }
    Ok(body)
}

pub(crate) fn notifications(
    cmd: NotificationsCommand,
    conn: &ConnectArgs,
    out: OutputArgs,
) -> anyhow::Result<ExitCode> {
    let client = Client::connect(conn)?;
    match cmd {
        NotificationsCommand::Channels(ChannelsCommand::Ls) => print_items(
            &client.get("/api/v1/notification-channels", &[("limit", "1000".into())])?,
            CHANNEL_COLUMNS,
            out,
        ),
        NotificationsCommand::Channels(ChannelsCommand::Add(args)) => {
            let body = channel_body(*args)?;
            let created = client.send("POST", "/api/v1/notification-channels", Some(&body))?;
            if let Some(secret) = created["generated_secret"].as_str() {
                eprintln!(
                    "generated signing secret (shown once; give it to the receiver): {secret}"
                );
            }
            print_object(&created, CHANNEL_COLUMNS, out)
        }
        NotificationsCommand::Channels(ChannelsCommand::Rm { id }) => {
            client.send(
                "DELETE",
                &format!("/api/v1/notification-channels/{}", urlencode(&id)),
                None,
            )?;
            eprintln!("deleted channel {id}");
            Ok(ExitCode::SUCCESS)
        }
        NotificationsCommand::Channels(ChannelsCommand::Test { id }) => {
            let path = format!("/api/v1/notification-channels/{}/test", urlencode(&id));
            let delivery = client.send("POST", &path, None)?;
            let failed = delivery["status"] != "delivered";
            print_object(&delivery, DELIVERY_COLUMNS, out)?;
            // A test that did not get through is a failure for scripts too.
            Ok(if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        NotificationsCommand::Deliveries(DeliveriesCommand::Ls {
            status,
            channel,
            limit,
        }) => {
            let mut query = vec![("limit", limit.to_string())];
            if let Some(s) = status {
                query.push(("status", s));
            }
            if let Some(c) = channel {
                query.push(("channel", c));
            }
            print_items(
                &client.get("/api/v1/notification-deliveries", &query)?,
                DELIVERY_COLUMNS,
                out,
            )
        }
        NotificationsCommand::Deliveries(DeliveriesCommand::Retry { id }) => {
            let path = format!("/api/v1/notification-deliveries/{}/retry", urlencode(&id));
            print_object(&client.send("POST", &path, None)?, DELIVERY_COLUMNS, out)
        }
    }
}

pub(crate) fn change_requests(
    cmd: ChangeRequestsCommand,
    conn: &ConnectArgs,
    out: OutputArgs,
) -> anyhow::Result<ExitCode> {
    let client = Client::connect(conn)?;
    match cmd {
        ChangeRequestsCommand::Ls {
            status,
            project,
            limit,
        } => {
            let mut query = vec![("limit", limit.to_string())];
            if let Some(s) = status {
                query.push(("status", s));
            }
            if let Some(p) = project {
                query.push(("project", p));
            }
            print_items(
                &client.get("/api/v1/change-requests", &query)?,
                CHANGE_REQUEST_COLUMNS,
                out,
            )
        }
        ChangeRequestsCommand::Show { id } => print_object(
            &client.get(&format!("/api/v1/change-requests/{}", urlencode(&id)), &[])?,
            CHANGE_REQUEST_COLUMNS,
            out,
        ),
        ChangeRequestsCommand::Close { id } => {
            let path = format!("/api/v1/change-requests/{}/close", urlencode(&id));
            print_object(
                &client.send("POST", &path, None)?,
                CHANGE_REQUEST_COLUMNS,
                out,
            )
        }
    }
}
