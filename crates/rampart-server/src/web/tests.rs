use super::*;

#[test]
fn next_is_followed_only_to_local_paths() {
    for ok in [
        "/",
        "/hosts?q=web&page=2",
        "/hosts/0190-abc",
        "/advisories/DSA-1%2F2",
    ] {
        assert_eq!(local_path(ok), Some(ok), "{ok}");
    }
    for bad in [
        "",
        "hosts",
        "//evil.example/",
        "/\\evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
        "/\tevil",
        "/\nLocation: x",
        " /hosts",
    ] {
        assert_eq!(local_path(bad), None, "{bad:?}");
    }
    assert_eq!(local_path(&format!("/{}", "a".repeat(3000))), None);
}

#[test]
fn the_stylesheet_url_carries_its_hash() {
    let href = stylesheet_href();
    let hash = crate::secrets::sha256_hex(STYLESHEET);
    assert_eq!(href, format!("/assets/app.{}.css", &hash[..16]));
}

#[test]
fn the_route_table_has_no_duplicates_and_every_write_is_a_post() {
    let mut seen = std::collections::BTreeSet::new();
    for r in WEB_ROUTES {
        assert!(
            seen.insert((r.method.as_str(), r.path)),
            "{} {}",
            r.method,
            r.path
        );
        assert!(r.method == Method::GET || r.method == Method::POST);
        assert!(!r.path.starts_with("/api/") && !r.path.starts_with("/agent/"));
    }
}
