use proptest::prelude::*;

use super::*;

fn check(pattern: &str, name: &str, expected: bool) {
    let glob = Glob::new(pattern).unwrap_or_else(|e| panic!("{pattern:?}: {e}"));
    assert_eq!(glob.matches(name), expected, "{pattern:?} vs {name:?}");
}

#[test]
fn glob_cases() {
    for (pattern, name, expected) in [
        ("telnet", "telnet", true),
        ("telnet", "telnetd", false),
        ("telnet*", "telnetd", true),
        ("telnet*", "telnet", true),
        ("*telnet*", "inetutils-telnet", true),
        ("*", "", true),
        ("*", "anything", true),
        ("?", "", false),
        ("?", "a", true),
        ("??", "a", false),
        ("lib*-dev", "libssl-dev", true),
        ("lib*-dev", "libssl-dev-doc", false),
        ("lib*-dev", "lib-dev", true),
        ("*a*b*c", "xxaybzzc", true),
        ("*a*b*c", "xxaybzzcd", false),
        ("a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false),
        ("python3.[0-9]*", "python3.11", true),
        ("python3.[0-9]*", "python3.x", false),
        ("[!a-z]*", "0day", true),
        ("[!a-z]*", "day", false),
        ("[^a-z]*", "Day", true),
        ("[]]", "]", true),
        ("[!]]", "]", false),
        ("[!]]", "a", true),
        ("[a-]", "-", true),
        ("[a-]", "a", true),
        ("[a-]", "b", false),
        ("\\*", "*", true),
        ("\\*", "a", false),
        ("[\\]]", "]", true),
        ("gcc-1[2-4]", "gcc-13", true),
        ("gcc-1[2-4]", "gcc-15", false),
        ("nmap", "NMAP", false),
        ("é*", "éclair", true),
        ("?lair", "élair", true),
    ] {
        check(pattern, name, expected);
    }
}

#[test]
fn bad_patterns_are_refused() {
    assert_eq!(Glob::new(""), Err(GlobError::Empty));
    assert!(matches!(
        Glob::new("[abc"),
        Err(GlobError::UnterminatedClass { .. })
    ));
    assert!(matches!(
        Glob::new("[!"),
        Err(GlobError::UnterminatedClass { .. })
    ));
    assert!(matches!(
        Glob::new("[z-a]"),
        Err(GlobError::BackwardsRange { .. })
    ));
    assert!(matches!(
        Glob::new("abc\\"),
        Err(GlobError::DanglingEscape { .. })
    ));
    assert!(matches!(
        Glob::new("a b"),
        Err(GlobError::Whitespace { .. })
    ));
    assert!(matches!(
        Glob::new(&"a".repeat(257)),
        Err(GlobError::TooLong { .. })
    ));
    assert!(Glob::new(&"a".repeat(256)).is_ok());
}

fn policy(allow: &[&str], deny: &[&str]) -> CompiledPolicy {
    SoftwarePolicy {
        allow: allow.iter().map(|s| s.to_string()).collect(),
        deny: deny.iter().map(|s| s.to_string()).collect(),
    }
    .compile()
    .expect("valid policy")
}

#[test]
fn deny_wins_and_a_non_empty_allow_list_is_exclusive() {
    let empty = policy(&[], &[]);
    assert_eq!(empty.verdict("anything"), Verdict::Authorized);

    let deny_only = policy(&[], &["telnet*", "nmap"]);
    assert_eq!(
        deny_only.verdict("telnetd"),
        Verdict::Denied {
            pattern: "telnet*".into()
        }
    );
    assert_eq!(deny_only.verdict("openssh-server"), Verdict::Authorized);

    let both = policy(&["lib*", "openssh-*", "telnet"], &["telnet"]);
    assert_eq!(both.verdict("libc6"), Verdict::Authorized);
    assert_eq!(
        both.verdict("telnet"),
        Verdict::Denied {
            pattern: "telnet".into()
        },
        "deny wins over allow"
    );
    assert_eq!(both.verdict("nginx"), Verdict::NotAllowed);
    assert!(!both.verdict("nginx").is_authorized());
}

#[test]
fn a_bad_pattern_fails_the_whole_policy() {
    let p = SoftwarePolicy {
        allow: vec!["ok*".into()],
        deny: vec!["[bad".into()],
    };
    assert!(p.compile().is_err());
    let too_many = SoftwarePolicy {
        allow: vec!["a".into(); MAX_PATTERNS + 1],
        deny: vec![],
    };
    assert_eq!(too_many.compile(), Err(GlobError::TooMany));
}

/// A straightforward recursive matcher over the same tokens: exponential, but obviously
/// right, so the fast matcher is checked against it.
fn reference(tokens: &[Token], name: &[char]) -> bool {
    match tokens.split_first() {
        None => name.is_empty(),
        Some((Token::Star, rest)) => (0..=name.len()).any(|i| reference(rest, &name[i..])),
        Some((tok, rest)) => match name.split_first() {
            Some((c, tail)) => tok.accepts(*c) && reference(rest, tail),
            None => false,
        },
    }
}

fn pattern_strategy() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("*".to_owned()),
        Just("?".to_owned()),
        Just("a".to_owned()),
        Just("b".to_owned()),
        Just("-".to_owned()),
        Just("[ab]".to_owned()),
        Just("[!a]".to_owned()),
        Just("[a-c]".to_owned()),
        Just("\\*".to_owned()),
    ];
    proptest::collection::vec(piece, 1..8).prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn agrees_with_the_reference_matcher(pattern in pattern_strategy(), name in "[abc*-]{0,10}") {
        let glob = Glob::new(&pattern).unwrap();
        let chars: Vec<char> = name.chars().collect();
        prop_assert_eq!(glob.matches(&name), reference(&glob.tokens, &chars));
    }

    #[test]
    fn an_escaped_name_matches_only_itself(name in "[a-z0-9.+*?\\[\\]-]{1,20}", other in "[a-z0-9.+*?\\[\\]-]{1,20}") {
        let mut escaped = String::new();
        for c in name.chars() {
            if matches!(c, '*' | '?' | '[' | ']' | '\\') {
                escaped.push('\\');
            }
            escaped.push(c);
        }
        let glob = Glob::new(&escaped).unwrap();
        prop_assert!(glob.matches(&name));
        prop_assert_eq!(glob.matches(&other), name == other);
    }

    #[test]
    fn a_star_suffix_matches_every_extension(prefix in "[a-z0-9.+-]{1,12}", rest in "[a-z0-9.+-]{0,12}") {
        let glob = Glob::new(&format!("{prefix}*")).unwrap();
        let extended = format!("{prefix}{rest}");
        prop_assert!(glob.matches(&extended));
    }

    #[test]
    fn deny_always_wins(name in "[a-z]{1,10}") {
        let p = policy(&["*"], &[name.as_str()]);
        prop_assert!(!p.verdict(&name).is_authorized());
    }

    #[test]
    fn never_panics(pattern in "\\PC{0,30}", name in "\\PC{0,30}") {
        if let Ok(glob) = Glob::new(&pattern) {
            let _ = glob.matches(&name);
        }
    }
}
