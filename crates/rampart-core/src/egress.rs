//! Which network addresses the server may connect to on someone's behalf (feed
//! downloads, webhooks, mail relays): the rule against server-side request forgery.
//!
//! A URL or host name typed into the API is resolved by the server, so without a rule
//! an operator could make the server reach what only it can reach — its own loopback
//! services, the cloud metadata endpoint (`169.254.169.254`), databases on the private
//! network — and read the answers back through error messages. The rule is checked on
//! the *resolved* addresses, every time a connection is made, so a name that resolves
//! to a public address at configuration time and to a private one later (DNS
//! rebinding) is still refused.
//!
//! Public unicast addresses are always allowed. Everything else — loopback, private
//! (RFC 1918, IPv6 unique-local), link-local, shared (CGNAT), unspecified, multicast,
//! documentation and reserved ranges — only when the server's configuration lists a
//! network containing it ([`EgressPolicy::allow`]).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// An IP network in CIDR notation (`10.0.0.0/8`, `::1/128`); a bare address is a
/// single-host network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpNetwork {
    addr: IpAddr,
    prefix: u8,
}

/// Why a network could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{input:?} is not an IP network (expected e.g. 10.0.0.0/8, 127.0.0.1 or fd00::/8): {reason}"
)]
pub struct NetworkParseError {
    input: String,
    reason: &'static str,
}

impl IpNetwork {
    /// Whether `ip` lies inside this network. An IPv4-mapped IPv6 address
    /// (`::ffff:10.0.0.1`) is compared as the IPv4 address it carries.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for IpNetwork {
    type Err = NetworkParseError;

    fn from_str(s: &str) -> Result<IpNetwork, NetworkParseError> {
        let err = |reason| NetworkParseError {
            input: s.to_owned(),
            reason,
        };
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| err("not an IP address"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| err("the prefix length is out of range"))?,
        };
        // An IPv4-mapped address (`::ffff:10.0.0.0/104`) is the IPv4 network it carries;
        // a shorter prefix would reach beyond the mapped range, so it is refused.
        let (addr, prefix) = match addr {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(_) if prefix < 96 => {
                    return Err(err("an IPv4-mapped network needs a prefix of at least 96"));
                }
                Some(v4) => (IpAddr::V4(v4), prefix - 96),
                None => (addr, prefix),
            },
            v4 => (v4, prefix),
        };
        Ok(IpNetwork { addr, prefix })
    }
}

impl fmt::Display for IpNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// `::ffff:a.b.c.d` as `a.b.c.d`, so one rule covers both spellings.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// Whether `ip` is a public unicast address: reachable on the internet and not one of
/// the special-purpose ranges (IANA's registries) a server could reach only from
/// inside its own network.
pub fn is_public(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x0064 && s[1] == 0xff9b) // NAT64 (and local-use 64:ff9b:1::/48), which embed any IPv4 address
        || (s[..5] == [0, 0, 0, 0, 0xffff] && s[5] == 0) // IPv4-translated (SIIT) ::ffff:0:a.b.c.d
        || (s[0] == 0x2002) // 6to4, likewise
        || s[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible and other reserved ::/96
}

/// The rule: public addresses, plus the networks the configuration allows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EgressPolicy {
    allowed: Vec<IpNetwork>,
    any: bool,
}

/// A destination the policy refuses, with the address it resolved to.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{host} resolves to {ip}, a loopback, private or otherwise internal address; the server \
     connects there only if its configuration allows that network (outbound_allow)"
)]
pub struct EgressRefused {
    pub host: String,
    pub ip: IpAddr,
}

impl EgressPolicy {
    /// Public addresses only: the server's default.
    pub fn public_only() -> EgressPolicy {
        EgressPolicy::default()
    }

    /// Every address: for the CLI acting for the person at the keyboard, who can reach
    /// whatever their machine reaches anyway.
    pub fn any() -> EgressPolicy {
        EgressPolicy {
            allowed: Vec::new(),
            any: true,
        }
    }

    /// Public addresses plus `networks`.
    pub fn allow(networks: impl IntoIterator<Item = IpNetwork>) -> EgressPolicy {
        EgressPolicy {
            allowed: networks.into_iter().collect(),
            any: false,
        }
    }

    /// The networks allowed beyond the public internet.
    pub fn allowed_networks(&self) -> &[IpNetwork] {
        &self.allowed
    }

    pub fn permits(&self, ip: IpAddr) -> bool {
        self.any || is_public(ip) || self.allowed.iter().any(|n| n.contains(ip))
    }

    /// `Ok` when `ip` may be connected to for `host` (named in the refusal).
    pub fn check(&self, host: &str, ip: IpAddr) -> Result<(), EgressRefused> {
        if self.permits(ip) {
            Ok(())
        } else {
            Err(EgressRefused {
                host: host.to_owned(),
                ip,
            })
        }
    }
}

#[cfg(test)]
mod tests;
