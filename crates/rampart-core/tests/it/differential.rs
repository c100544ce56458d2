//! Differential runs against the real tools on thousands of generated pairs: dpkg for
//! Debian versions, rpm's Lua `rpm.vercmp` and python-rpm's `labelCompare` for RPM. The
//! seed is fixed, so a failure reproduces; any disagreement fails the test and the first
//! ones are printed.
//!
//! Real components: these tests start `dpkg --compare-versions` (one process per
//! question, from several threads), one `rpm --eval` Lua script and one python3 process,
//! because agreeing with those exact programs is the point of the version modules.

use std::cmp::Ordering;
use std::io::Write;
use std::process::{Command, Stdio};

use rampart_core::version::{deb, rpm};

use crate::support::{Rng, ordering_symbol, require_tool};

/// How many disagreements to print before giving up on the list.
const SHOWN: usize = 20;

fn report(tool: &str, checked: usize, failures: &[String]) {
    println!(
        "{tool}: {checked} checked, {} agree, {} disagree",
        checked - failures.len(),
        failures.len()
    );
    assert!(checked > 0, "{tool}: nothing was checked");
    assert!(
        failures.is_empty(),
        "{tool}: {} of {checked} disagree; the first ones:\n{}",
        failures.len(),
        failures
            .iter()
            .take(SHOWN)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

// ---------------------------------------------------------------------------------------
// Generators: versions built from the pieces each tool treats specially, and pairs that
// are mostly near-misses of each other (one piece changed, added or dropped), since that
// is where orderings go wrong.

const DEB_UPSTREAM: &[&str] = &[
    "0",
    "1",
    "2",
    "9",
    "10",
    "01",
    "00",
    "007",
    "123",
    "20240101",
    "99999999999999999999",
    ".",
    ".",
    ".",
    "~",
    "~~",
    "+",
    "-",
    "a",
    "b",
    "z",
    "A",
    "Z",
    "rc",
    "~rc1",
    "~beta",
    "+dfsg",
    "+b1",
    "+really",
    ":",
    "_",
    "^",
];
const DEB_REVISION: &[&str] = &[
    "0", "1", "2", "10", "01", "00", ".", "~", "+", "a", "z", "ubuntu", "deb12u", "~bpo", "+b",
    "build", "A",
];
const DEB_EPOCHS: &[&str] = &["0:", "1:", "2:", "10:", "00:", "01:", "2147483647:", "+1:"];

/// A Debian version as a list of pieces, so a pair can differ by one piece.
fn deb_pieces(rng: &mut Rng) -> Vec<&'static str> {
    let mut pieces = Vec::new();
    if rng.percent(25) {
        pieces.push(*rng.pick(DEB_EPOCHS));
    }
    pieces.push(*rng.pick(&["0", "1", "2", "9", "10", "01", "1", "3"]));
    for _ in 0..rng.below(6) {
        pieces.push(*rng.pick(DEB_UPSTREAM));
    }
    if rng.percent(55) {
        pieces.push("-");
        for _ in 0..1 + rng.below(4) {
            pieces.push(*rng.pick(DEB_REVISION));
        }
    }
    pieces
}

fn mutate(rng: &mut Rng, pieces: &mut Vec<&'static str>, alphabet: &[&'static str]) {
    for _ in 0..1 + rng.below(2) {
        let at = rng.below(pieces.len() + 1);
        match rng.below(3) {
            0 if at < pieces.len() => pieces[at] = *rng.pick(alphabet),
            1 => pieces.insert(at, *rng.pick(alphabet)),
            _ if pieces.len() > 1 && at < pieces.len() => {
                pieces.remove(at);
            }
            _ => pieces.push(*rng.pick(alphabet)),
        }
    }
}

fn pairs(
    rng: &mut Rng,
    count: usize,
    make: fn(&mut Rng) -> Vec<&'static str>,
    alphabet: &[&'static str],
) -> Vec<(String, String)> {
    (0..count)
        .map(|_| {
            let a = make(rng);
            let b = if rng.percent(30) {
                make(rng)
            } else {
                let mut b = a.clone();
                mutate(rng, &mut b, alphabet);
                b
            };
            (a.concat(), b.concat())
        })
        .collect()
}

/// Hand-picked pairs around the rules' edges, checked before the generated ones.
const DEB_EDGES: &[(&str, &str)] = &[
    ("1.0~rc1", "1.0"),
    ("1.0~~", "1.0~"),
    ("1.0", "1.0-0"),
    ("1.0", "1.0-00"),
    ("0:1.0", "1.0"),
    ("00:1.0", "0:1.0"),
    ("1:1.0", "2.0"),
    ("1.01", "1.1"),
    ("1.0a", "1.0+"),
    ("1.0A", "1.0a"),
    ("1.0.", "1.0+"),
    ("1.0~", "1.0-"),
    ("1.0-1", "1.0-1~bpo1"),
    ("1-2-3", "1-3"),
    ("1:2:3", "1:2:4"),
    ("2147483647:1", "2147483648:1"),
    ("99999999999999999999", "99999999999999999998"),
    ("a", "b"),
    ("1.0é", "1.0z"),
    ("-0:1", "0:1"),
    ("1.0^1", "1.0"),
];

#[test]
fn dpkg_orders_like_rampart() {
    if !require_tool(
        "dpkg",
        &["--version"],
        "differential test against dpkg --compare-versions",
    ) {
        return;
    }
    let mut rng = Rng::new(0x5eed_0001);
    let mut all: Vec<(String, String)> = DEB_EDGES
        .iter()
        .map(|&(a, b)| (a.to_owned(), b.to_owned()))
        .collect();
    let alphabet: Vec<&str> = [DEB_UPSTREAM, DEB_REVISION, &["-", ":", "1:"]].concat();
    all.extend(pairs(&mut rng, 2500, deb_pieces, &alphabet));

    let answers = parallel_map(&all, |(a, b)| dpkg_compare(a, b));
    let mut failures = Vec::new();
    let mut refused = 0;
    for ((a, b), answer) in all.iter().zip(&answers) {
        let ours_refuses = deb::validate(a).is_err() || deb::validate(b).is_err();
        match answer {
            None => {
                refused += 1;
                if !ours_refuses {
                    failures.push(format!(
                        "{a:?} vs {b:?}: dpkg refuses, Rampart accepts both"
                    ));
                }
            }
            Some(theirs) => {
                let ours = deb::compare(a, b);
                if ours_refuses {
                    failures.push(format!(
                        "{a:?} vs {b:?}: dpkg accepts both, Rampart refuses one"
                    ));
                } else if ours != *theirs {
                    failures.push(format!(
                        "{a:?} vs {b:?}: dpkg says {}, Rampart {}",
                        ordering_symbol(*theirs),
                        ordering_symbol(ours)
                    ));
                }
            }
        }
    }
    println!("dpkg: {refused} of the pairs hold a version dpkg refuses");
    report("dpkg --compare-versions", all.len(), &failures);
}

/// Malformed versions: Rampart must refuse exactly what dpkg refuses, with dpkg's words.
#[test]
fn dpkg_refuses_like_rampart() {
    if !require_tool(
        "dpkg",
        &["--version"],
        "differential test against dpkg --compare-versions",
    ) {
        return;
    }
    // The command line reads "" and "<unknown>" as "no version", so they are left out.
    let mut inputs: Vec<String> = [
        " ",
        "\t",
        "1 2",
        "1.0 -1",
        " 1.0",
        "1.0\t",
        ":1",
        "+:1",
        "-:1",
        "a:1",
        "1a:1",
        "1.0:",
        "1 :1",
        "-1:1",
        "-0:1",
        "+1:1",
        "0:1",
        "00:1",
        "2147483647:1",
        "2147483648:1",
        "99999999999999999999:1",
        "-99999999999999999999:1",
        "1:",
        "1-",
        "1:1-",
        "-",
        "-1",
        "1:-1",
        "a",
        "1.0_1",
        "1:2:3",
        "1.0-a_b",
        "\n1:2",
        "\u{b}1:2",
        "1\u{b}",
        "1.0é",
        "~",
        "1-~",
        ":",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut rng = Rng::new(0x5eed_0002);
    let nasty = [
        "1",
        "0",
        "a",
        ":",
        "-",
        "+",
        " ",
        "\t",
        "~",
        ".",
        "9999999999",
        "-1",
        "é",
    ];
    for _ in 0..300 {
        inputs.push((0..1 + rng.below(5)).map(|_| *rng.pick(&nasty)).collect());
    }

    let answers = parallel_map(&inputs, |v| dpkg_syntax_error(v));
    let mut failures = Vec::new();
    for (v, theirs) in inputs.iter().zip(&answers) {
        let ours = deb::validate(v).err().map(|e| e.reason);
        if ours != *theirs {
            failures.push(format!("{v:?}: dpkg says {theirs:?}, Rampart {ours:?}"));
        }
    }
    let refused = answers.iter().filter(|a| a.is_some()).count();
    println!(
        "dpkg: {refused} of {} malformed-looking inputs refused",
        inputs.len()
    );
    report("dpkg version syntax", inputs.len(), &failures);
}

fn dpkg(a: &str, op: &str, b: &str) -> std::process::Output {
    Command::new("dpkg")
        .args(["--compare-versions", "--", a, op, b])
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .output()
        .expect("running dpkg")
}

/// dpkg's answer, or `None` when it refuses a version (exit status 2).
fn dpkg_compare(a: &str, b: &str) -> Option<Ordering> {
    let lt = dpkg(a, "lt", b);
    match lt.status.code() {
        Some(0) => Some(Ordering::Less),
        Some(1) => match dpkg(a, "eq", b).status.code() {
            Some(0) => Some(Ordering::Equal),
            Some(1) => Some(Ordering::Greater),
            other => panic!("dpkg eq exited {other:?} on {a:?} {b:?} after accepting them"),
        },
        Some(2) => None,
        other => panic!(
            "dpkg lt exited {other:?} on {a:?} {b:?}: {}",
            String::from_utf8_lossy(&lt.stderr)
        ),
    }
}

/// dpkg's reason for refusing `v`, as it prints it, or `None` when it accepts `v`.
fn dpkg_syntax_error(v: &str) -> Option<String> {
    let out = dpkg(v, "eq", v);
    match out.status.code() {
        Some(0) => None,
        Some(2) => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let reason = stderr
                .rsplit_once("has bad syntax: ")
                .map(|(_, reason)| reason.trim().to_owned())
                .unwrap_or_else(|| panic!("unexpected dpkg error for {v:?}: {stderr}"));
            Some(reason)
        }
        other => panic!("dpkg eq exited {other:?} comparing {v:?} with itself"),
    }
}

/// Runs `f` over `items` on four threads, keeping the order.
fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let chunk = items.len().div_ceil(4).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(|| part.iter().map(&f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("worker panicked"))
            .collect()
    })
}

// ---------------------------------------------------------------------------------------
// RPM.

const RPM_VERSION: &[&str] = &[
    "0",
    "1",
    "2",
    "9",
    "10",
    "01",
    "001",
    "123",
    "20240101",
    "123456789012345678901",
    ".",
    ".",
    ".",
    "_",
    "+",
    "~",
    "~~",
    "^",
    "^^",
    "a",
    "b",
    "z",
    "A",
    "Z",
    "rc",
    "git",
    "el",
    "α",
    ":",
    "-",
];
const RPM_RELEASE: &[&str] = &[
    "0", "1", "2", "10", "01", ".", "~", "^", "_", "+", "a", "el9", "el9_4", "fc40", "module",
    "ael7b", "EL", "α",
];
const RPM_EPOCHS: &[&str] = &["0:", "1:", "2:", "10:", "00:", "01:", ":"];

fn rpm_pieces(rng: &mut Rng) -> Vec<&'static str> {
    let mut pieces = Vec::new();
    if rng.percent(25) {
        pieces.push(*rng.pick(RPM_EPOCHS));
    }
    for _ in 0..1 + rng.below(6) {
        pieces.push(*rng.pick(RPM_VERSION));
    }
    if rng.percent(50) {
        pieces.push("-");
        // Sometimes an empty release: "1.0-".
        for _ in 0..rng.below(4) {
            pieces.push(*rng.pick(RPM_RELEASE));
        }
    }
    pieces
}

const RPM_EDGES: &[(&str, &str)] = &[
    ("1.0~rc1", "1.0"),
    ("1.0^git1", "1.0"),
    ("1.0^git1", "1.0.1"),
    ("1.0^", "1.0~"),
    ("1.0~rc1^git1", "1.0~rc1"),
    (":1.0", "0:1.0"),
    ("00:1", "0:1"),
    ("1.01", "1.1"),
    ("1.0a", "1.0.1"),
    ("a", "1"),
    ("1.0", "1.0-0"),
    ("1.0", "1.0-"),
    ("1.0-", "1.0-0"),
    ("1-2-3", "1-3"),
    ("a:1", "b:1"),
    ("1.1.α", "1.1.β"),
    ("1.1.α", "1.1.a"),
    ("123456789012345678901", "123456789012345678900"),
];

#[test]
fn rpm_orders_like_rampart() {
    let has_rpm = require_tool(
        "rpm",
        &["--eval", "%{lua: print(rpm.vercmp('1', '2'))}"],
        "rpm's Lua rpm.vercmp",
    );
    let has_python = require_tool(
        "/usr/bin/python3",
        &["-c", "import rpm; rpm.labelCompare"],
        "python3-rpm's labelCompare",
    );
    if !has_rpm && !has_python {
        return;
    }
    let mut rng = Rng::new(0x5eed_0003);
    let mut all: Vec<(String, String)> = RPM_EDGES
        .iter()
        .map(|&(a, b)| (a.to_owned(), b.to_owned()))
        .collect();
    let alphabet: Vec<&str> = [RPM_VERSION, RPM_RELEASE, &["-", "1:", ":"]].concat();
    all.extend(pairs(&mut rng, 6000, rpm_pieces, &alphabet));
    // Both tools take one pair a line; rpm cannot parse an empty string at all.
    all.retain(|(a, b)| !a.is_empty() && !b.is_empty());
    let mixed = all.iter().filter(|(a, b)| one_sided_release(a, b)).count();
    println!(
        "rpm: {} pairs, {mixed} with a release on one side only",
        all.len()
    );

    if has_python {
        // labelCompare refuses an empty version part; Rampart's validate must agree.
        let answers = python_label_compare(&all);
        let mut failures = Vec::new();
        for ((a, b), theirs) in all.iter().zip(&answers) {
            let ours_refuses = rpm::validate(a).is_err() || rpm::validate(b).is_err();
            match theirs {
                None if !ours_refuses => {
                    failures.push(format!("{a:?} vs {b:?}: rpm refuses, Rampart accepts both"))
                }
                Some(_) if ours_refuses => {
                    failures.push(format!("{a:?} vs {b:?}: rpm accepts both, Rampart refuses"))
                }
                Some(theirs) if rpm::compare(a, b) != *theirs => failures.push(format!(
                    "{a:?} vs {b:?}: labelCompare says {}, Rampart {}",
                    ordering_symbol(*theirs),
                    ordering_symbol(rpm::compare(a, b))
                )),
                _ => {}
            }
        }
        let refused = answers.iter().filter(|a| a.is_none()).count();
        println!("python-rpm: {refused} of the pairs hold a version labelCompare refuses");
        report("python-rpm labelCompare", all.len(), &failures);
    }
    if has_rpm {
        // rpm 4.18's rpm.vercmp sorts a missing release first, like labelCompare; rpm
        // versions that ignore a one-sided release are held to that rule instead.
        let ignores_one_sided =
            lua_vercmp(&[("1".to_owned(), "1-1".to_owned())])[0] == Ordering::Equal;
        println!(
            "rpm.vercmp {} a release present on one side only",
            if ignores_one_sided {
                "ignores"
            } else {
                "orders"
            }
        );
        let answers = lua_vercmp(&all);
        assert_eq!(
            all.len(),
            answers.len(),
            "rpm answered a different number of pairs"
        );
        let mut failures = Vec::new();
        for ((a, b), theirs) in all.iter().zip(answers) {
            let ours = if ignores_one_sided && one_sided_release(a, b) {
                let (mut x, mut y) = (rpm::parse(a), rpm::parse(b));
                (x.release, y.release) = (None, None);
                rpm::compare_parsed(&x, &y)
            } else {
                rpm::compare(a, b)
            };
            if ours != theirs {
                failures.push(format!(
                    "{a:?} vs {b:?}: rpm.vercmp says {}, Rampart {}",
                    ordering_symbol(theirs),
                    ordering_symbol(ours)
                ));
            }
        }
        report("rpm Lua rpm.vercmp", all.len(), &failures);
    }
}

fn one_sided_release(a: &str, b: &str) -> bool {
    rpm::parse(a).release.is_some() != rpm::parse(b).release.is_some()
}

fn tab_separated(pairs: &[(String, String)]) -> Vec<u8> {
    pairs
        .iter()
        .flat_map(|(a, b)| format!("{a}\t{b}\n").into_bytes())
        .collect()
}

/// Runs `command` with `input` on stdin and reads its answers, one `R -1|0|1|E` a line
/// (`E`: the tool refused the pair).
fn run_batch(mut command: Command, input: Vec<u8>, what: &str) -> Vec<Option<Ordering>> {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {what}: {e}"));
    let mut stdin = child.stdin.take().expect("piped stdin");
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("running {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    writer
        .join()
        .expect("stdin writer")
        .unwrap_or_else(|e| panic!("feeding {what}: {e}"));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.strip_prefix("R "))
        .map(|n| match n.trim() {
            "-1" => Some(Ordering::Less),
            "0" => Some(Ordering::Equal),
            "1" => Some(Ordering::Greater),
            "E" => None,
            other => panic!("{what} answered {other:?}"),
        })
        .collect()
}

/// One `rpm --eval` whose Lua script reads every pair from stdin.
fn lua_vercmp(pairs: &[(String, String)]) -> Vec<Ordering> {
    let script = r#"%{lua:
for line in io.lines() do
  local a, b = line:match("^(.-)\t(.*)$")
  io.write("R ", rpm.vercmp(a, b), "\n")
end
}"#;
    let mut command = Command::new("rpm");
    command.args(["--eval", script]);
    run_batch(command, tab_separated(pairs), "rpm --eval (Lua rpm.vercmp)")
        .into_iter()
        .map(|answer| answer.expect("rpm.vercmp never refuses a non-empty version"))
        .collect()
}

/// One python3 process: rpm's own EVR split (`rpm.ver`), then `rpm.labelCompare`.
fn python_label_compare(pairs: &[(String, String)]) -> Vec<Option<Ordering>> {
    let script = r#"
import sys, rpm
for line in sys.stdin.buffer:
    a, b = line.decode("utf-8").rstrip("\n").split("\t")
    x, y = rpm.ver(a), rpm.ver(b)
    try:
        answer = "%d" % rpm.labelCompare((x.e, x.v, x.r), (y.e, y.v, y.r))
    except ValueError:
        answer = "E"
    sys.stdout.write("R %s\n" % answer)
"#;
    let mut command = Command::new("/usr/bin/python3");
    command.args(["-c", script]);
    run_batch(command, tab_separated(pairs), "python3 rpm.labelCompare")
}
