//! Unit tests for URL checks and cache naming (the exchange with a server is in
//! `tests/it`).

use super::*;

#[test]
fn only_https_or_loopback_http_is_accepted() {
    let ok = |url: &str, loopback: bool| {
        assert_eq!(
            check_url(url).unwrap_or_else(|e| panic!("{url}: {e}")),
            loopback
        )
    };
    ok("https://osv-vulnerabilities.example/Debian/all.zip", false);
    ok("HTTPS://example.org/a.json", false);
    ok("http://127.0.0.1:8080/all.zip", true);
    ok("http://localhost/all.zip", true);
    ok("http://[::1]:9/all.zip", true);
    ok("https://127.0.0.2/x", true);

    assert!(matches!(
        check_url("http://example.org/all.zip"),
        Err(Error::InsecureUrl { .. })
    ));
    assert!(matches!(
        check_url("http://10.0.0.1/all.zip"),
        Err(Error::InsecureUrl { .. })
    ));
    assert!(matches!(
        check_url("ftp://example.org/all.zip"),
        Err(Error::InvalidUrl { .. })
    ));
    assert!(matches!(
        check_url("https:///nohost"),
        Err(Error::InvalidUrl { .. })
    ));
    assert!(matches!(
        check_url("https://exa mple.org/"),
        Err(Error::InvalidUrl { .. })
    ));
}

#[test]
fn cache_keys_are_safe_readable_and_distinct() {
    let a = cache_key("https://example.org/Debian/all.zip");
    let b = cache_key("https://example.org/Ubuntu/all.zip");
    assert!(
        a.starts_with("all.zip-") && b.starts_with("all.zip-"),
        "{a} {b}"
    );
    assert_ne!(a, b);
    assert_eq!(a, cache_key("https://example.org/Debian/all.zip"), "stable");
    let odd = cache_key("https://example.org/../../etc/passwd?x=/../..");
    assert!(!odd.contains('/') && !odd.starts_with('.'), "{odd}");
    assert!(cache_key("https://example.org/").starts_with("example.org-"));
    assert!(cache_key("https://example.org/...").starts_with("feed-"));
}
