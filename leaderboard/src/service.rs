//! Runs a live pipeline together with its HTTP server until SIGINT or SIGTERM, then checkpoints and stops.

use crate::live::Live;
use crate::live::hub::Hub;
use crate::live::pipeline::{DeadLetters, Pipeline, PipelineOptions};
use crate::live::publish::Publisher;
use crate::live::screens::Screens;
use crate::sql::SqlEngine;
use crate::web::{router::router, state::AppState};
use analytics::Engine;
use anyhow::{Context, Result};
use ingest::Source;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// A pipeline and where its server listens.
pub struct Service<S: Source> {
    /// The engine to continue from (fresh or restored from a checkpoint).
    pub engine: Engine,
    /// The message source.
    pub source: S,
    /// Where rejected messages go.
    pub dead_letters: DeadLetters,
    /// Batching and checkpoints.
    pub options: PipelineOptions,
    /// Where clearing scores posted to the API go (the source's own input).
    pub publisher: Publisher,
    /// The HTTP listen address.
    pub listen: String,
}

impl<S: Source + 'static> Service<S> {
    /// Binds the server, calls `on_listening` with its base URL (`http://ADDR` or `https://ADDR`), and
    /// runs until a signal arrives.
    pub async fn run(self, on_listening: impl FnOnce(&str)) -> Result<()> {
        let metrics = match crate::metrics::install() {
            Ok(handle) => Some(handle),
            Err(e) => {
                tracing::warn!(error = %e, "metrics disabled");
                None
            }
        };
        let live = Arc::new(Live::new(self.engine));
        let screens = Screens::new(&live.config().screens, live.org())
            .map_err(|e| anyhow::anyhow!("config: {e}"))?;
        let listen = listen_address(&self.listen, live.config().access.has_tokens())?;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let server_config = &live.config().server;
        let tls = crate::tls::acceptor_for(
            server_config.tls_cert.as_deref(),
            server_config.tls_key.as_deref(),
            &[b"http/1.1"],
        )?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        on_listening(&format!("{scheme}://{}", listener.local_addr()?));
        let shutdown = CancellationToken::new();
        tokio::spawn(cancel_on_signal(shutdown.clone()));
        let hub = Arc::new(Hub::new(live.clone()));
        tokio::spawn(hub.clone().run(shutdown.clone()));
        let sql = Arc::new(SqlEngine::new(
            &live.config().sql,
            &live,
            &self.options.archive,
        )?);
        start_postgres(&sql, &live.config().sql, shutdown.clone()).await?;
        let app = router(AppState {
            live: live.clone(),
            hub,
            publisher: Arc::new(self.publisher),
            metrics,
            shutdown: shutdown.clone(),
            sql,
            screens: Arc::new(screens),
        });
        let limits = crate::web::connections::Limits::of(&live.config().server);
        let server = tokio::spawn(crate::web::connections::serve(
            listener,
            app,
            limits,
            tls,
            shutdown.clone(),
        ));
        let result = Pipeline::new(self.source, live, self.dead_letters, self.options)
            .run(shutdown.clone())
            .await;
        shutdown.cancel();
        if let Err(e) = server.await {
            tracing::error!(error = %e, "the HTTP server task failed");
        }
        result
    }
}

/// Opens the Postgres port when `[[sql.users]]` are configured.
async fn start_postgres(
    sql: &Arc<SqlEngine>,
    config: &schemas::SqlConfig,
    shutdown: CancellationToken,
) -> Result<()> {
    if config.users.is_empty() {
        tracing::info!(
            "no [[sql.users]] configured: the Postgres port stays closed (POST /api/v1/sql works)"
        );
        return Ok(());
    }
    let addr = crate::sql::postgres::serve(sql.clone(), config, shutdown)
        .await
        .with_context(|| format!("cannot serve the Postgres protocol on {}", config.listen))?;
    eprintln!(
        "leaderboard: SQL over the Postgres protocol on {addr} (psql -h {} -p {} -U {} leaderboard)",
        addr.ip(),
        addr.port(),
        config.users[0].name
    );
    Ok(())
}

/// Where to listen: `listen`, except that without any access token only loopback is served.
fn listen_address(listen: &str, has_tokens: bool) -> Result<SocketAddr> {
    let addr: SocketAddr = listen.parse().with_context(|| {
        format!(
            "server.listen must be an IP address and port (like 127.0.0.1:8080), got {listen:?}"
        )
    })?;
    if has_tokens || addr.ip().is_loopback() {
        return Ok(addr);
    }
    let local = SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), addr.port());
    tracing::warn!(
        requested = %addr,
        listening = %local,
        "no access tokens are configured ([access] admin_token / kiosk): listening on localhost only"
    );
    eprintln!(
        "leaderboard: no access tokens configured: listening on localhost only ({local}), not {addr}"
    );
    Ok(local)
}

async fn cancel_on_signal(shutdown: CancellationToken) {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch SIGTERM; stopping on Ctrl-C only");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
    tracing::info!("stopping: writing a last checkpoint");
    shutdown.cancel();
}

#[cfg(test)]
mod tests {
    use super::listen_address;

    #[test]
    fn without_tokens_only_loopback_is_served() {
        let open = listen_address("0.0.0.0:8080", false).unwrap();
        assert!(open.ip().is_loopback());
        assert_eq!(open.port(), 8080);
        assert!(
            !listen_address("0.0.0.0:8080", true)
                .unwrap()
                .ip()
                .is_loopback()
        );
        assert!(
            listen_address("[::1]:9000", false)
                .unwrap()
                .ip()
                .is_loopback()
        );
        assert!(listen_address("localhost", false).is_err());
    }
}
