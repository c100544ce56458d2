use super::text::Face;

#[test]
fn text_is_cut_with_an_ellipsis_to_fit() {
    let face = Face::new().unwrap();
    let s = "a-very-long-hostname.example.com";
    let full = face.width(s, 7.0);
    assert_eq!(face.fit(s, full, 7.0), s);
    let cut = face.fit(s, full / 2.0, 7.0);
    assert!(cut.ends_with('…'), "{cut}");
    assert!(face.width(&cut, 7.0) <= full / 2.0);
    assert!(s.starts_with(cut.trim_end_matches('…')));
}

#[test]
fn wrapping_breaks_at_spaces_then_at_punctuation_and_stops_at_the_line_limit() {
    let face = Face::new().unwrap();
    let width = face.width("web-00001.staging.eu-", 7.0) + 0.1;
    let check = |s: &str, max: usize, expected: &[&str]| {
        let lines = face.wrap(s, width, 7.0, max);
        assert_eq!(lines, expected, "{s:?}");
        for l in &lines {
            assert!(face.width(l, 7.0) <= width, "{l:?} too wide");
        }
    };
    check("short", 3, &["short"]);
    check(
        "web-00001.staging.eu-west-1.example.com",
        3,
        &["web-00001.staging.eu-", "west-1.example.com"],
    );
    check(
        "one two three four five six seven",
        3,
        &["one two three four five", "six seven"],
    );
    check(
        "one two three four five six seven eight nine ten eleven twelve",
        2,
        &["one two three four five", "six seven eight nine…"],
    );
    let unbroken = "x".repeat(60);
    let lines = face.wrap(&unbroken, width, 7.0, 5);
    assert_eq!(lines.concat(), unbroken, "hard breaks keep every character");
}
