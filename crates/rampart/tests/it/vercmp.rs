//! `rampart vercmp`: single comparisons, batch mode and its error reporting.

use crate::support::{rampart, stderr, stdout};

fn check(kind: &str, a: &str, b: &str, expected: &str) {
    let o = rampart(&["vercmp", "--kind", kind, a, b], "");
    assert!(o.status.success(), "{kind} {a} {b}: {}", stderr(&o));
    assert_eq!(stdout(&o).trim(), expected, "{kind} {a} {b}");
}

#[test]
fn single_pairs() {
    check("deb", "1:1.0-1", "1.1-1", ">");
    check("deb", "1.0~rc1", "1.0", "<");
    check("deb", "1.0", "1.0-0", "=");
    check("rpm", "1.0", "1.0~rc1", ">");
    check("rpm", "1.0^git1", "1.0", ">");
    check("apk", "1.2.3-r1", "1.2.3-r0", ">");
    check("apk", "1.0_rc1", "1.0", "<");
}

#[test]
fn invalid_single_pair_is_a_usage_error() {
    let o = rampart(&["vercmp", "--kind", "deb", "1:", "1.0"], "");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("nothing after colon"), "{}", stderr(&o));
    let o = rampart(&["vercmp", "--kind", "nope", "1", "2"], "");
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn batch_prints_one_result_per_line_and_marks_bad_lines() {
    let input = "1.0 1.1\n2:0 1:9\nonly-one\n1.0-1 1.0-1\n a:b 1.0\n\n1.0~rc1   1.0\n";
    let o = rampart(&["vercmp", "--kind", "deb", "--batch"], input);
    assert_eq!(stdout(&o), "<\n>\n?\n=\n?\n?\n<\n");
    assert_eq!(
        o.status.code(),
        Some(2),
        "bad lines make the batch exit 2 at the end"
    );
    let err = stderr(&o);
    for line in ["line 3", "line 5", "line 6"] {
        assert!(err.contains(line), "stderr names {line}: {err}");
    }
    assert!(
        err.contains("epoch in version is empty"),
        "dpkg's own wording: {err}"
    );
}

#[test]
fn batch_of_good_lines_succeeds() {
    let o = rampart(
        &["vercmp", "--kind", "rpm", "--batch"],
        "1.0 1.0\n1.0 2.0\n",
    );
    assert!(o.status.success());
    assert_eq!(stdout(&o), "=\n<\n");
}
