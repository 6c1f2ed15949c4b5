//! Runs a live pipeline together with its HTTP server until SIGINT or SIGTERM, then checkpoints and stops.

use crate::live::Live;
use crate::pipeline::{DeadLetters, Pipeline, PipelineOptions};
use crate::server::{AppState, router};
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
    /// The HTTP listen address.
    pub listen: String,
}

impl<S: Source + 'static> Service<S> {
    /// Binds the server, calls `on_listening` with its address, and runs until a signal arrives.
    pub async fn run(self, on_listening: impl FnOnce(SocketAddr)) -> Result<()> {
        let metrics = match crate::metrics::install() {
            Ok(handle) => Some(handle),
            Err(e) => {
                tracing::warn!(error = %e, "metrics disabled");
                None
            }
        };
        let live = Arc::new(Live::new(self.engine));
        let listener = tokio::net::TcpListener::bind(&self.listen)
            .await
            .with_context(|| format!("cannot listen on {}", self.listen))?;
        on_listening(listener.local_addr()?);
        let shutdown = CancellationToken::new();
        tokio::spawn(cancel_on_signal(shutdown.clone()));
        let app = router(AppState {
            live: live.clone(),
            metrics,
        });
        let server = tokio::spawn(
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown.clone().cancelled_owned())
                .into_future(),
        );
        let result = Pipeline::new(self.source, live, self.dead_letters, self.options)
            .run(shutdown.clone())
            .await;
        shutdown.cancel();
        match server.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "the HTTP server failed"),
            Err(e) => tracing::error!(error = %e, "the HTTP server task failed"),
        }
        result
    }
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
