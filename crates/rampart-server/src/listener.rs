//! Serving the app on a socket. Plain HTTP today; the HTTPS accept loop (rustls on
//! ring, client certificates for agents) replaces [`serve`] with the same signature, so
//! neither the app nor the binary's wiring changes.

use std::future::Future;

use axum::Router;
use tokio::net::TcpListener;

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting and
/// lets in-flight requests finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
