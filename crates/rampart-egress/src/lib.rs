//! Outbound connections the server makes on someone's behalf — feed downloads, webhook
//! deliveries, mail relays — held to [`EgressPolicy`] on the addresses actually
//! connected to.
//!
//! Checking the host name of a URL when it is configured is not enough: a name can
//! resolve to a public address then and to `127.0.0.1` at delivery time (DNS
//! rebinding), and `http://[::ffff:127.0.0.1]` spells loopback in ways a string check
//! misses. So the check sits in the resolver: [`agent`] builds a ureq agent whose
//! resolver drops every address the policy refuses, and fails with [`EgressRefused`]
//! when none is left; [`resolve`] does the same for clients that connect themselves
//! (SMTP), which then connect to the returned address, never the name again.
//!
//! A proxy configured for the process (`HTTPS_PROXY`) is the administrator's own
//! choice and is connected to whatever its address. Through a proxy the target is
//! resolved by the proxy, not here, so [`check_target`] resolves it locally first and
//! refuses an internal target before the request leaves.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;

use rampart_core::egress::{EgressPolicy, EgressRefused};
use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

/// A ureq agent with `config` whose connections obey `policy`.
pub fn agent(config: Config, policy: EgressPolicy) -> ureq::Agent {
    ureq::Agent::with_parts(
        config,
        DefaultConnector::new(),
        GuardedResolver {
            policy: Arc::new(policy),
            inner: DefaultResolver::default(),
        },
    )
}

/// The policy's refusal inside a ureq error, if that is why the request failed.
pub fn refusal(error: &ureq::Error) -> Option<&EgressRefused> {
    match error {
        ureq::Error::Other(inner) => inner.downcast_ref::<EgressRefused>(),
        _ => None,
    }
}

#[derive(Debug)]
struct GuardedResolver {
    policy: Arc<EgressPolicy>,
    inner: DefaultResolver,
}

impl Resolver for GuardedResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let resolved = self.inner.resolve(uri, config, timeout)?;
        let host = uri.host().unwrap_or_default();
        let port = uri.port_u16();
        if config
            .proxy()
            .is_some_and(|p| p.host() == host && port.is_none_or(|port| port == p.port()))
        {
            return Ok(resolved);
        }
        let mut allowed = self.empty();
        let mut refused = None;
        for addr in &resolved {
            match self.policy.check(host, addr.ip()) {
                Ok(()) => allowed.push(*addr),
                Err(e) => refused = refused.or(Some(e)),
            }
        }
        match refused {
            Some(e) if allowed.is_empty() => Err(ureq::Error::Other(Box::new(e))),
            _ => Ok(allowed),
        }
    }
}

/// Refuses `url` before a request through a proxy (from `config` or the environment,
/// unless `NO_PROXY` exempts the host): the proxy would resolve and reach the target,
/// so the policy is applied to the target's own addresses here. Without a proxy the
/// resolver of [`agent`] checks every connection and this does nothing. Blocking.
pub fn check_target(url: &str, config: &Config, policy: &EgressPolicy) -> Result<(), ResolveError> {
    let Ok(uri) = url.parse::<Uri>() else {
        return Ok(()); // the request itself reports the bad URL
    };
    let Some(proxy) = config.proxy() else {
        return Ok(());
    };
    if proxy.is_no_proxy(&uri) {
        return Ok(());
    }
    let host = uri.host().unwrap_or_default();
    let port = uri.port_u16().unwrap_or(match uri.scheme_str() {
        Some("http") => 80,
        _ => 443,
    });
    resolve(host, port, policy).map(|_| ())
}

/// Why [`resolve`] found nowhere to connect.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("cannot resolve {host}: {source}")]
    Lookup {
        host: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Refused(#[from] EgressRefused),
}

/// The addresses of `host:port` that `policy` allows (at least one), for a client that
/// connects by address. Blocking: call it off the async runtime.
pub fn resolve(
    host: &str,
    port: u16,
    policy: &EgressPolicy,
) -> Result<Vec<SocketAddr>, ResolveError> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let lookup = |source| ResolveError::Lookup {
        host: host.to_owned(),
        source,
    };
    let resolved: Vec<SocketAddr> = (bare, port).to_socket_addrs().map_err(lookup)?.collect();
    let mut refused = None;
    let allowed: Vec<SocketAddr> = resolved
        .into_iter()
        .filter(|a| match policy.check(host, a.ip()) {
            Ok(()) => true,
            Err(e) => {
                refused.get_or_insert(e);
                false
            }
        })
        .collect();
    match refused {
        Some(e) if allowed.is_empty() => Err(e.into()),
        None if allowed.is_empty() => Err(lookup(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no address",
        ))),
        _ => Ok(allowed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// A one-shot HTTP server on loopback: the real socket the policy must refuse.
    fn serve_once() -> (String, std::thread::JoinHandle<()>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://localhost:{}/secret",
            listener.local_addr().unwrap().port()
        );
        let handle = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf);
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecret");
        });
        (url, handle)
    }

    fn config() -> Config {
        ureq::Agent::config_builder().proxy(None).build()
    }

    #[test]
    fn loopback_is_refused_by_default_and_reached_when_allowed() {
        let (url, handle) = serve_once();
        let err = agent(config(), EgressPolicy::public_only())
            .get(&url)
            .call()
            .unwrap_err();
        let refused = refusal(&err).expect("refused by the policy");
        assert!(refused.ip.is_loopback(), "{refused}");

        let allowed = EgressPolicy::allow(["127.0.0.0/8".parse().unwrap(), "::1".parse().unwrap()]);
        let body = agent(config(), allowed)
            .get(&url)
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        assert_eq!(body, "secret");
        handle.join().unwrap();
    }

    /// Through a proxy the target never reaches the resolver, so it is checked first;
    /// `NO_PROXY` hosts and unproxied agents are left to the resolver.
    #[test]
    fn targets_behind_a_proxy_are_checked_before_the_request() {
        let proxied = ureq::Agent::config_builder()
            .proxy(Some(ureq::Proxy::new("http://proxy.example:3128").unwrap()))
            .build();
        let e = check_target(
            "https://169.254.169.254/latest/meta-data",
            &proxied,
            &EgressPolicy::public_only(),
        )
        .unwrap_err();
        assert!(matches!(e, ResolveError::Refused(_)), "{e}");
        check_target("https://10.1.2.3/", &config(), &EgressPolicy::public_only()).unwrap();
        check_target(
            "https://10.1.2.3/",
            &proxied,
            &EgressPolicy::allow(["10.0.0.0/8".parse().unwrap()]),
        )
        .unwrap();
    }

    #[test]
    fn resolve_refuses_internal_addresses() {
        let e = resolve("localhost", 25, &EgressPolicy::public_only()).unwrap_err();
        assert!(matches!(e, ResolveError::Refused(_)), "{e}");
        let e = resolve("[::ffff:169.254.169.254]", 80, &EgressPolicy::public_only()).unwrap_err();
        assert!(e.to_string().contains("169.254.169.254"), "{e}");
        let ok = resolve(
            "127.0.0.1",
            25,
            &EgressPolicy::allow(["127.0.0.1".parse().unwrap()]),
        );
        assert_eq!(ok.unwrap(), vec!["127.0.0.1:25".parse().unwrap()]);
    }
}
