//! One module per subcommand: its arguments (clap derive) and its `run`. `DbArgs` is
//! the database location shared by `server`, `up` and `admin`.

pub(crate) mod admin;
pub(crate) mod compliance;
pub(crate) mod feed_upload;
pub(crate) mod notifications;
pub(crate) mod remote;
pub(crate) mod reports;
pub(crate) mod scan;
pub(crate) mod server;
pub(crate) mod up;
pub(crate) mod vercmp;

use std::path::PathBuf;

use anyhow::Context;

/// Where the server's data lives.
#[derive(clap::Args)]
pub(crate) struct DbArgs {
    /// Data directory (embedded SQLite database, feed cache).
    #[arg(
        long,
        env = "RAMPART_DATA_DIR",
        default_value = "./rampart-data",
        global = true
    )]
    pub(crate) data_dir: PathBuf,
    /// PostgreSQL URL (postgres://…) instead of the embedded SQLite database.
    #[arg(
        long,
        env = "RAMPART_DATABASE",
        value_name = "URL",
        hide_env_values = true,
        global = true
    )]
    pub(crate) database: Option<String>,
}

impl DbArgs {
    /// Opens the store, creating the data directory (owner-only) if needed, and runs
    /// the migrations.
    pub(crate) async fn open(&self) -> anyhow::Result<rampart_store::Store> {
        create_private_dir(&self.data_dir)?;
        match &self.database {
            Some(url) => rampart_store::Store::open(url)
                .await
                .context("opening the PostgreSQL database"),
            None => rampart_store::Store::open_in_dir(&self.data_dir)
                .await
                .with_context(|| format!("opening the database in {}", self.data_dir.display())),
        }
    }
}

fn create_private_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .with_context(|| format!("creating the data directory {}", dir.display()))
}
