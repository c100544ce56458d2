use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn internal_addresses_are_not_public() {
    for s in [
        "127.0.0.1",
        "127.8.9.10",
        "10.1.2.3",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "0.1.2.3",
        "255.255.255.255",
        "224.0.0.1",
        "192.0.2.1",
        "198.18.0.1",
        "240.0.0.1",
        "::1",
        "::",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "64:ff9b::a9fe:a9fe",
        "2002:7f00:1::",
        "2001:db8::1",
        "::127.0.0.1",
        "64:ff9b:1::a9fe:a9fe",
        "::ffff:0:a9fe:a9fe",
    ] {
        assert!(!is_public(ip(s)), "{s} must not count as public");
        assert!(!EgressPolicy::public_only().permits(ip(s)), "{s}");
        assert!(EgressPolicy::any().permits(ip(s)), "{s}");
    }
    for s in [
        "1.1.1.1",
        "8.8.8.8",
        "172.32.0.1",
        "100.128.0.1",
        "151.101.1.1",
        "2606:4700::1111",
        "2a00:1450:4001::1",
        "::ffff:8.8.8.8",
    ] {
        assert!(is_public(ip(s)), "{s} is public");
    }
}

#[test]
fn allowed_networks_open_exactly_their_range() {
    let policy = EgressPolicy::allow(["10.20.0.0/16".parse().unwrap(), "::1".parse().unwrap()]);
    assert!(policy.permits(ip("10.20.3.4")));
    assert!(policy.permits(ip("::ffff:10.20.3.4")));
    assert!(!policy.permits(ip("10.21.0.1")));
    assert!(policy.permits(ip("::1")));
    assert!(!policy.permits(ip("127.0.0.1")));
    let refused = policy.check("metadata", ip("169.254.169.254")).unwrap_err();
    assert!(refused.to_string().contains("169.254.169.254"), "{refused}");
    assert!(refused.to_string().contains("outbound_allow"), "{refused}");
}

#[test]
fn networks_parse_and_refuse_nonsense() {
    let check = |s: &str, want: &str| {
        assert_eq!(s.parse::<IpNetwork>().unwrap().to_string(), want, "{s}");
    };
    check("127.0.0.1", "127.0.0.1/32");
    check("10.0.0.0/8", "10.0.0.0/8");
    check("0.0.0.0/0", "0.0.0.0/0");
    check("fd00::/8", "fd00::/8");
    check("::ffff:10.0.0.0/104", "10.0.0.0/8");
    let all: IpNetwork = "0.0.0.0/0".parse().unwrap();
    assert!(all.contains(ip("127.0.0.1")));
    assert!(!all.contains(ip("::1")));
    for bad in [
        "",
        "10.0.0.0/33",
        "::/129",
        "example.com",
        "10.0.0.0/x",
        "10.0.0/8",
        "::ffff:0:0/80",
    ] {
        let e = bad.parse::<IpNetwork>().unwrap_err();
        assert!(e.to_string().contains("not an IP network"), "{bad}: {e}");
    }
}
