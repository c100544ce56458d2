//! Unit tests for OSV record conversion: tolerance, validation, severity, aliases.

use rampart_core::advisory::{Event, RangeKind};
use rampart_core::distro::Distro;
use rampart_core::severity::SeverityLevel;

use super::*;

fn parse(json: &str) -> ParsedRecord {
    parse_record(json.as_bytes(), "test.json").unwrap_or_else(|p| panic!("{p}"))
}

fn reasons(p: &ParsedRecord) -> Vec<&str> {
    p.notes.problems.iter().map(|p| p.reason.as_str()).collect()
}

#[test]
fn minimal_record_and_nulls_everywhere() {
    let p = parse(
        r#"{"id":"X-1","aliases":null,"upstream":null,"affected":null,"severity":null,"summary":null,
        "database_specific":null,"withdrawn":null}"#,
    );
    assert_eq!(p.advisory.id, "X-1");
    assert!(p.advisory.affected.is_empty() && p.advisory.aliases.is_empty());
    assert_eq!(p.advisory.severity.level, SeverityLevel::Unknown);
    assert!(!p.notes.outside_distros);
}

#[test]
fn records_without_an_id_or_with_wrong_types_are_problems() {
    for (json, expect) in [
        (r#"{"summary":"no id"}"#, "no id"),
        (r#"{"id":"  "}"#, "no id"),
        (r#"{"id":42}"#, "invalid type"),
        (r#"{"id":"X","affected":"nginx"}"#, "invalid type"),
        (r#"{"id":"X","aliases":[1]}"#, "invalid type"),
        (
            r#"{"id":"X","affected":[{"package":{"ecosystem":"Debian:12","name":"a"},"ranges":[{"type":"ECOSYSTEM","events":[{"fixed":1}]}]}]}"#,
            "invalid type",
        ),
        (r#"{"id":"X""#, "EOF"),
        ("[]", "expected a JSON object"),
        (r#"["X-1"]"#, "expected a JSON object"),
        ("42", "expected a JSON object"),
        ("", "EOF"),
    ] {
        let err = parse_record(json.as_bytes(), "f.json").expect_err(json);
        assert_eq!(err.location, "f.json");
        assert!(err.reason.contains(expect), "{json}: {}", err.reason);
    }
    let long = format!(r#"{{"id":"{}"}}"#, "A".repeat(300));
    assert!(
        parse_record(long.as_bytes(), "f")
            .unwrap_err()
            .reason
            .contains("not an identifier")
    );
}

#[test]
fn aliases_merge_upstream_without_duplicates_or_self() {
    let p = parse(
        r#"{"id":"USN-1","aliases":["CVE-1","USN-1"],"upstream":["CVE-1","CVE-2",""," CVE-3 "]}"#,
    );
    assert_eq!(p.advisory.aliases, ["CVE-1", "CVE-2", "CVE-3"]);
}

#[test]
fn summary_falls_back_to_first_line_of_details() {
    let p = parse(r#"{"id":"X","details":"\n\n  First line.  \nSecond."}"#);
    assert_eq!(p.advisory.summary.as_deref(), Some("First line."));
    let p = parse(r#"{"id":"X","summary":" ","details":"D"}"#);
    assert_eq!(p.advisory.summary.as_deref(), Some("D"));
    let p = parse(r#"{"id":"X","summary":"S","details":"D"}"#);
    assert_eq!(p.advisory.summary.as_deref(), Some("S"));
    let long = format!(r#"{{"id":"X","summary":"{}"}}"#, "é".repeat(5000));
    let s = parse(&long).advisory.summary.unwrap();
    assert!(s.len() <= MAX_SUMMARY_LEN && s.chars().all(|c| c == 'é'));
}

#[test]
fn events_ranges_and_versions_convert() {
    let p = parse(
        r#"{"id":"X","affected":[{"package":{"ecosystem":"Debian:12","name":"openssl","purl":"pkg:deb/debian/openssl"},
        "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"3.0.11-1~deb12u1"}]},
                  {"type":"SEMVER","events":[{"introduced":"1.0.0"},{"last_affected":"1.2.3"},{"limit":"*"}]},
                  {"type":"GIT","repo":"https://example.org/x.git","events":[{"introduced":"abc"}]}],
        "versions":["3.0.9-1"]}]}"#,
    );
    let a = &p.advisory.affected[0];
    assert_eq!(a.release.as_ref().unwrap().distro, Distro::Debian);
    assert_eq!(a.package, "openssl");
    assert_eq!(a.ranges.len(), 2, "GIT range ignored");
    assert_eq!(a.ranges[0].kind, RangeKind::Ecosystem);
    assert_eq!(
        a.ranges[0].events,
        [
            Event::Introduced("0".into()),
            Event::Fixed("3.0.11-1~deb12u1".into())
        ]
    );
    assert_eq!(a.ranges[1].kind, RangeKind::Semver);
    assert_eq!(a.versions, ["3.0.9-1"]);
    assert_eq!(p.notes.git_ranges, 1);
    assert!(a.severity.is_none());
}

#[test]
fn bad_events_drop_only_their_affected_entry() {
    let p = parse(
        r#"{"id":"X","affected":[
          {"package":{"ecosystem":"Debian:12","name":"good"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.0-1"}]}]},
          {"package":{"ecosystem":"Debian:12","name":"two"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0","fixed":"1.0"}]}]},
          {"package":{"ecosystem":"Debian:12","name":"none"},"ranges":[{"type":"ECOSYSTEM","events":[{}]}]},
          {"package":{"ecosystem":"Debian:12","name":"bad"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"not a version!"}]}]},
          {"package":{"ecosystem":"Debian:12","name":"badlist"},"versions":["1.0-1", ""]},
          {"package":{"ecosystem":"Debian:12","name":""}},
          {"package":{"ecosystem":"Debian:12","name":"odd"},"ranges":[{"type":"WEIRD","events":[{"introduced":"0"}]}]}
        ]}"#,
    );
    let names: Vec<&str> = p
        .advisory
        .affected
        .iter()
        .map(|a| a.package.as_str())
        .collect();
    assert_eq!(names, ["good", "odd"]);
    assert!(
        p.advisory.affected[1].ranges.is_empty(),
        "unknown range type ignored"
    );
    assert_eq!(p.notes.affected_dropped, 5);
    let r = reasons(&p);
    assert_eq!(r.len(), 6, "{r:#?}");
    assert!(
        r[0].contains("affected[1]") && r[0].contains("more than one"),
        "{}",
        r[0]
    );
    assert!(
        r[1].contains("affected[2]") && r[1].contains("none of"),
        "{}",
        r[1]
    );
    assert!(
        r[2].contains("affected[3]")
            && r[2].contains("Debian:12 bad")
            && r[2].contains("not a version!"),
        "{}",
        r[2]
    );
    assert!(
        r[3].contains("affected[4]") && r[3].contains("versions[]"),
        "{}",
        r[3]
    );
    assert!(
        r[4].contains("affected[5]") && r[4].contains("no name"),
        "{}",
        r[4]
    );
    assert!(
        r[5].contains("WEIRD") && r[5].contains("ignored"),
        "{}",
        r[5]
    );
    assert!(p.notes.problems.iter().all(|p| p.location == "test.json"));
}

#[test]
fn entries_outside_supported_distros_are_counted_not_kept() {
    let p = parse(
        r#"{"id":"PYSEC-1","affected":[{"package":{"ecosystem":"PyPI","name":"x"}},{"ranges":[{"type":"GIT","events":[]}]}]}"#,
    );
    assert!(p.advisory.affected.is_empty());
    assert_eq!(p.notes.affected_outside, 2);
    assert!(p.notes.outside_distros);

    let p = parse(
        r#"{"id":"X","affected":[{"package":{"ecosystem":"npm","name":"x"}},{"package":{"ecosystem":"Alpine:v3.19","name":"y"}}]}"#,
    );
    assert_eq!(p.advisory.affected.len(), 1);
    assert_eq!(p.notes.affected_outside, 1);
    assert!(!p.notes.outside_distros);
}

#[test]
fn severity_rules() {
    let v31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
    // CVSS only: level from the highest score.
    let p = parse(&format!(
        r#"{{"id":"X","severity":[{{"type":"CVSS_V3","score":"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"}},{{"type":"CVSS_V3","score":"{v31}"}}]}}"#
    ));
    assert_eq!(
        (p.advisory.severity.level, p.advisory.severity.cvss),
        (SeverityLevel::Critical, Some(9.8))
    );
    assert_eq!(p.advisory.severity.vector.as_deref(), Some(v31));

    // Record-level distro rating beats the CVSS level, score kept.
    let p = parse(&format!(
        r#"{{"id":"X","severity":[{{"type":"CVSS_V3","score":"{v31}"}},{{"type":"Ubuntu","score":"low"}}]}}"#
    ));
    assert_eq!(
        (p.advisory.severity.level, p.advisory.severity.cvss),
        (SeverityLevel::Low, Some(9.8))
    );

    // Per-affected Debian urgency beats the record's; per-affected severity inherits the score.
    let p = parse(&format!(
        r#"{{"id":"X","severity":[{{"type":"CVSS_V3","score":"{v31}"}}],"database_specific":{{"severity":"moderate"}},
          "affected":[
            {{"package":{{"ecosystem":"Debian:12","name":"a"}},"ecosystem_specific":{{"urgency":"high","other":[1,2]}}}},
            {{"package":{{"ecosystem":"Debian:12","name":"b"}},"ecosystem_specific":{{"urgency":"not yet assigned"}}}},
            {{"package":{{"ecosystem":"Debian:12","name":"c"}},"ecosystem_specific":[1],"database_specific":"x"}},
            {{"package":{{"ecosystem":"Ubuntu:22.04:LTS","name":"d"}},"severity":[{{"type":"CVSS_V4","score":"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}}]}}
          ]}}"#
    ));
    assert_eq!(p.advisory.severity.level, SeverityLevel::Medium);
    let sev: Vec<_> = p
        .advisory
        .affected
        .iter()
        .map(|a| a.severity.clone())
        .collect();
    let a = sev[0].as_ref().unwrap();
    assert_eq!((a.level, a.cvss), (SeverityLevel::High, Some(9.8)));
    assert!(sev[1].is_none(), "a placeholder urgency is no rating");
    assert!(sev[2].is_none());
    let d = sev[3].as_ref().unwrap();
    assert_eq!(
        (d.level, d.cvss),
        (SeverityLevel::Medium, Some(9.3)),
        "record rating beats the entry's CVSS level"
    );

    // Only per-affected ratings: the record summarises the worst.
    let p = parse(
        r#"{"id":"X","affected":[
          {"package":{"ecosystem":"Debian:12","name":"a"},"ecosystem_specific":{"urgency":"low"}},
          {"package":{"ecosystem":"Debian:11","name":"a"},"ecosystem_specific":{"urgency":"high"}}]}"#,
    );
    assert_eq!(p.advisory.severity.level, SeverityLevel::High);
}

#[test]
fn bad_vectors_are_problems_not_failures() {
    let p = parse(
        r#"{"id":"X","severity":[{"type":"CVSS_V3","score":"CVSS:3.1/garbage"},{"type":"Ubuntu","score":"high"}]}"#,
    );
    assert_eq!(p.advisory.severity.level, SeverityLevel::High);
    assert_eq!(reasons(&p).len(), 1);
    assert!(reasons(&p)[0].contains("CVSS:3.1/garbage"));

    let p = parse(
        r#"{"id":"X","affected":[{"package":{"ecosystem":"Debian:12","name":"a"},"severity":[{"type":"CVSS_V3","score":"nope"}]}]}"#,
    );
    assert!(p.advisory.affected.is_empty());
    assert_eq!(p.notes.affected_dropped, 1);
}

#[test]
fn withdrawn_is_kept() {
    let p = parse(
        r#"{"id":"X","withdrawn":"2024-01-01T00:00:00Z","published":" ","modified":"2024-01-02T00:00:00Z"}"#,
    );
    assert_eq!(
        p.advisory.withdrawn.as_deref(),
        Some("2024-01-01T00:00:00Z")
    );
    assert_eq!(p.advisory.published, None);
    assert_eq!(p.advisory.modified.as_deref(), Some("2024-01-02T00:00:00Z"));
}

#[test]
fn documents_hold_one_record_or_an_array() {
    let one = parse_document(br#" {"id":"A"} "#, "f.json", 1000);
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].as_ref().unwrap().advisory.id, "A");

    let many = parse_document(
        br#"[{"id":"A"},{"id":7},{"id":"C","summary":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}]"#,
        "f.json",
        30,
    );
    assert_eq!(many.len(), 3);
    assert_eq!(many[0].as_ref().unwrap().advisory.id, "A");
    assert_eq!(many[1].as_ref().unwrap_err().location, "f.json#1");
    let big = many[2].as_ref().unwrap_err();
    assert_eq!(big.location, "f.json#2");
    assert!(
        big.reason.contains("over the per-record limit of 30 bytes"),
        "{}",
        big.reason
    );

    let broken = parse_document(b"[{\"id\":\"A\"},", "f.json", 1000);
    assert_eq!(broken.len(), 1);
    assert!(
        broken[0]
            .as_ref()
            .unwrap_err()
            .reason
            .contains("JSON array")
    );
}
