//! One module per subcommand: its arguments (clap derive) and its `run`.

pub(crate) mod remote;
pub(crate) mod scan;
pub(crate) mod vercmp;
