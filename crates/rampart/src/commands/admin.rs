//! `rampart admin`: offline account administration working directly on the data
//! directory or `--database`, for first set-up and recovery (a lost admin password)
//! when the API cannot be used. Goes through the same validation and hashing as the API.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use rampart_core::authz::Role;

use super::DbArgs;

/// Administer accounts directly on the database.
#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    db: DbArgs,
    /// Create the data directory and its database when they do not exist yet (first
    /// set-up before the server has run). Without it, a --data-dir holding no Rampart
    /// database is refused: a mistyped path would otherwise get a user nobody can use.
    #[arg(long, global = true)]
    init: bool,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Create a user.
    CreateUser {
        name: String,
        /// admin, operator or auditor.
        #[arg(long)]
        role: Role,
        /// File holding the password (`-` for standard input); one trailing newline is
        /// ignored. Never on the command line, where `ps` would show it.
        #[arg(long, value_name = "FILE")]
        password_file: PathBuf,
    },
    /// Issue an API token for a user and print it (shown once).
    CreateToken {
        #[arg(long)]
        user: String,
        /// Lifetime, e.g. 24h, 30d (the server also refuses any token older than its
        /// --api-token-max-lifetime, 365d by default).
        #[arg(long, default_value = "90d")]
        expires: String,
        /// Limit the token to these roles (repeatable; default the user's role).
        #[arg(long = "role")]
        roles: Vec<Role>,
        /// A label for the token.
        #[arg(long)]
        name: Option<String>,
    },
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        if args.db.database.is_none() && !args.init {
            let db = args.db.data_dir.join(rampart_store::SQLITE_FILE_NAME);
            if !db.is_file() {
                anyhow::bail!(
                    "{} holds no Rampart database ({} is missing): check --data-dir (or \
                     RAMPART_DATA_DIR), or pass --init to create a new one",
                    args.db.data_dir.display(),
                    rampart_store::SQLITE_FILE_NAME
                );
            }
        }
        let store = args.db.open().await?;
        let result = execute(&store, args.command).await;
        store.close().await;
        result
    })?;
    Ok(ExitCode::SUCCESS)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

async fn execute(store: &rampart_store::Store, command: Command) -> anyhow::Result<()> {
    match command {
        Command::CreateUser {
            name,
            role,
            password_file,
        } => {
            let password = read_password(&password_file)?;
            let user = rampart_server::admin::create_user(store, &name, role, password, now())
                .await
                .with_context(|| format!("creating user {name:?}"))?;
            eprintln!("created {} {:?} ({})", user.role, user.name, user.id);
        }
        Command::CreateToken {
            user,
            expires,
            roles,
            name,
        } => {
            let now = now();
            let expires_at = Some(
                now + rampart_server::admin::parse_duration_millis(&expires)
                    .map_err(anyhow::Error::msg)?,
            );
            let owner = store
                .get_user_by_name(&user)
                .await
                .with_context(|| format!("finding user {user:?}"))?;
            let issued = rampart_server::admin::create_api_token(
                store,
                &owner,
                name.as_deref(),
                &roles,
                expires_at,
                now,
            )
            .await
            .with_context(|| format!("issuing a token for {user:?}"))?;
            eprintln!(
                "token {:?} for {:?} (roles: {}) — shown once:",
                issued.record.name,
                owner.name,
                issued.record.scopes.join(", ")
            );
            println!("{}", issued.token);
        }
    }
    Ok(())
}

fn read_password(path: &Path) -> anyhow::Result<String> {
    let mut password = String::new();
    if path == Path::new("-") {
        std::io::stdin()
            .read_to_string(&mut password)
            .context("reading the password from standard input")?;
    } else {
        password = std::fs::read_to_string(path)
            .with_context(|| format!("reading the password file {}", path.display()))?;
    }
    let trimmed = password
        .strip_suffix("\r\n")
        .or_else(|| password.strip_suffix('\n'))
        .unwrap_or(&password);
    Ok(trimmed.to_owned())
}
