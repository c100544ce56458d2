//! `rampart vercmp`: compare two versions, or many pairs from stdin, with the exact
//! ordering the matcher uses — handy to check a finding by hand or to script.

use std::cmp::Ordering;
use std::io::{self, BufRead, BufWriter, Write};
use std::process::ExitCode;

use anyhow::{Context, bail};
use rampart_core::version::VersionKind;

/// Compare package versions with dpkg, RPM or apk rules; prints `<`, `=` or `>`.
#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  rampart vercmp --kind deb 1:1.0-1 1.1-1      # prints >\n  printf '1.0 1.0~rc1\\n' | rampart vercmp --kind rpm --batch\n\nIn batch mode an unparseable line prints ? and a message naming the line on stderr, and the command exits 2 at the end."
)]
pub(crate) struct Args {
    /// Version rules to apply.
    #[arg(long, value_parser = ["deb", "rpm", "apk"])]
    kind: String,
    /// Read one pair per line (`A B`, white-space separated) from stdin.
    #[arg(long, conflicts_with_all = ["a", "b"])]
    batch: bool,
    /// First version.
    #[arg(required_unless_present = "batch", allow_hyphen_values = true)]
    a: Option<String>,
    /// Second version.
    #[arg(required_unless_present = "batch", allow_hyphen_values = true)]
    b: Option<String>,
}

fn symbol(o: Ordering) -> &'static str {
    match o {
        Ordering::Less => "<",
        Ordering::Equal => "=",
        Ordering::Greater => ">",
    }
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let kind: VersionKind = args.kind.parse().map_err(anyhow::Error::msg)?;
    if !args.batch {
        let (a, b) = (args.a.unwrap_or_default(), args.b.unwrap_or_default());
        let o = kind.compare_checked(&a, &b)?;
        println!("{}", symbol(o));
        return Ok(ExitCode::SUCCESS);
    }
    let stdin = io::stdin().lock();
    let mut out = BufWriter::new(io::stdout().lock());
    let mut failed = 0usize;
    for (n, line) in stdin.lines().enumerate() {
        let line = line.with_context(|| format!("reading stdin at line {}", n + 1))?;
        match compare_line(kind, &line) {
            Ok(o) => writeln!(out, "{}", symbol(o))?,
            Err(msg) => {
                failed += 1;
                writeln!(out, "?")?;
                out.flush()?;
                eprintln!("rampart vercmp: line {}: {msg}", n + 1);
            }
        }
    }
    out.flush()?;
    if failed > 0 {
        bail!("{failed} line(s) could not be compared");
    }
    Ok(ExitCode::SUCCESS)
}

fn compare_line(kind: VersionKind, line: &str) -> Result<Ordering, String> {
    let mut parts = line.split_whitespace();
    match (parts.next(), parts.next(), parts.next()) {
        (Some(a), Some(b), None) => kind.compare_checked(a, b).map_err(|e| e.to_string()),
        (None, ..) => Err("empty line; expected two versions".into()),
        (Some(_), None, _) => Err(format!("expected two versions, found one in {line:?}")),
        (Some(_), Some(_), Some(_)) => {
            Err(format!("expected two versions, found more in {line:?}"))
        }
    }
}
