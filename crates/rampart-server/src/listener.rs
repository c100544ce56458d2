//! Serving the app over HTTPS: a tokio-rustls + hyper accept loop.
//!
//! Why not `axum::serve`: it cannot terminate TLS, and the agent channel needs the
//! client certificate rustls verified during the handshake. Each connection's verified
//! leaf certificate (if the client presented one) is attached to every request on that
//! connection as a [`PeerCertificate`] extension, which [`crate::agent`]'s extractor
//! reads. One port serves browsers, API clients and agents: the rustls configuration
//! from `rampart_pki::server_config` makes a client certificate optional but refuses,
//! at the handshake, any presented one that does not chain to Rampart's CA.
//!
//! Invariants: a failed or stalled handshake only ends that connection (it is logged at
//! debug level, never fatal to the loop); an `accept` error (file descriptors
//! exhausted) pauses the loop briefly instead of spinning or exiting; on shutdown the
//! listener closes at once and in-flight connections get [`DRAIN_TIMEOUT`] to finish.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use rustls::pki_types::CertificateDer;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

/// How long a client may take to complete the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client may take to send a request's headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long in-flight connections may run after shutdown was asked for.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// The client certificate the TLS layer verified against Rampart's CA for this
/// connection (the leaf, DER). Absent when the client presented none.
#[derive(Clone, Debug)]
pub struct PeerCertificate(pub Arc<CertificateDer<'static>>);

/// Serves `app` over TLS on `listener` until `shutdown` completes, then stops
/// accepting and lets in-flight requests finish (at most [`DRAIN_TIMEOUT`]).
pub async fn serve_tls(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let acceptor = TlsAcceptor::from(tls);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // EMFILE and friends: wait for connections to close rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => {
                    tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    return;
                }
                Err(_) => {
                    tracing::debug!(%peer, "TLS handshake timed out");
                    return;
                }
            };
            let cert = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|certs| certs.first())
                .map(|c| PeerCertificate(Arc::new(c.clone().into_owned())));
            let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                if let Some(cert) = &cert {
                    req.extensions_mut().insert(cert.clone());
                }
                app.clone().oneshot(req.map(axum::body::Body::new))
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service);
            if let Err(e) = watcher.watch(conn).await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the drain timeout; closing them");
    }
    Ok(())
}
