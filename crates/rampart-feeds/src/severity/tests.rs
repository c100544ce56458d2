//! Unit tests for CVSS scoring and the rating-over-score rule.

use rampart_core::severity::SeverityLevel;

use super::*;

fn check(vector: &str, score: f64, level: SeverityLevel) {
    let got = cvss_score(vector).unwrap_or_else(|e| panic!("{vector}: {e}"));
    assert_eq!((got.score, got.level), (score, level), "{vector}");
}

#[test]
fn scores_v3_and_v4_vectors() {
    check(
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        9.8,
        SeverityLevel::Critical,
    );
    check(
        "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        9.8,
        SeverityLevel::Critical,
    );
    check(
        "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
        7.8,
        SeverityLevel::High,
    );
    check(
        "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N",
        3.1,
        SeverityLevel::Low,
    );
    check(
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
        10.0,
        SeverityLevel::Critical,
    );
    check(
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N",
        0.0,
        SeverityLevel::Unknown,
    );
    check(
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        9.3,
        SeverityLevel::Critical,
    );
    check(
        "CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        8.5,
        SeverityLevel::High,
    );
    check(
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N",
        0.0,
        SeverityLevel::Unknown,
    );
}

#[test]
fn v2_vectors_score_but_cap_at_high() {
    check("AV:N/AC:L/Au:N/C:C/I:C/A:C", 10.0, SeverityLevel::High);
    check("AV:N/AC:M/Au:N/C:P/I:N/A:N", 4.3, SeverityLevel::Medium);
}

#[test]
fn refuses_garbage_vectors() {
    for v in [
        "",
        "CVSS:3.1/",
        "CVSS:3.1/AV:X",
        "CVSS:9.9/AV:N",
        "hello",
        "CVSS:3.1/AV:N/AC:L",
    ] {
        assert!(cvss_score(v).is_err(), "{v:?} should be refused");
    }
}

#[test]
fn rating_wins_over_cvss_and_inner_scope_wins_over_outer() {
    let mut record = Evidence::default();
    record
        .add_vector("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
        .unwrap();
    let got = record.resolve(&Evidence::default());
    assert_eq!(got.level, SeverityLevel::Critical);
    assert_eq!(got.cvss, Some(9.8));

    record.add_rating("medium");
    let got = record.resolve(&Evidence::default());
    assert_eq!(
        got.level,
        SeverityLevel::Medium,
        "a distribution rating beats the CVSS level"
    );
    assert_eq!(got.cvss, Some(9.8), "the score is kept");
    assert_eq!(
        got.vector.as_deref(),
        Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
    );

    let mut affected = Evidence::default();
    affected.add_rating("low");
    assert_eq!(affected.resolve(&record).level, SeverityLevel::Low);
    assert_eq!(affected.resolve(&record).cvss, Some(9.8));
}

#[test]
fn placeholder_ratings_do_not_hide_cvss() {
    let mut e = Evidence::default();
    e.add_rating("not yet assigned");
    e.add_rating("unimportant");
    e.add_vector("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
        .unwrap();
    assert_eq!(
        e.resolve(&Evidence::default()).level,
        SeverityLevel::Low,
        "first real rating wins"
    );

    let mut e = Evidence::default();
    e.add_rating("not yet assigned");
    e.add_rating("whatever");
    e.add_vector("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H")
        .unwrap();
    assert_eq!(e.resolve(&Evidence::default()).level, SeverityLevel::High);
}

#[test]
fn highest_modern_score_is_kept_and_v2_only_as_last_resort() {
    let mut e = Evidence::default();
    e.add_vector("AV:N/AC:L/Au:N/C:C/I:C/A:C").unwrap();
    e.add_vector("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N")
        .unwrap();
    e.add_vector("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H")
        .unwrap();
    e.add_vector("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N")
        .unwrap();
    let got = e.resolve(&Evidence::default());
    assert_eq!((got.level, got.cvss), (SeverityLevel::High, Some(7.8)));
}
