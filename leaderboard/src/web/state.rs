//! What every handler shares: the live engine, the hub, the publisher, SQL and the metrics recorder.

use crate::live::Live;
use crate::live::hub::Hub;
use crate::live::publish::Publisher;
use crate::live::screens::Screens;
use crate::sql::SqlEngine;
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// The live engine and status.
    pub live: Arc<Live>,
    /// The websocket hub.
    pub hub: Arc<Hub>,
    /// Where clearing scores go.
    pub publisher: Arc<Publisher>,
    /// The metrics recorder, when installed.
    pub metrics: Option<PrometheusHandle>,
    /// Cancelled when the server stops: websockets close with "going away".
    pub shutdown: CancellationToken,
    /// Ad hoc SQL.
    pub sql: Arc<SqlEngine>,
    /// The managed wall screens and who is connected.
    pub screens: Arc<Screens>,
}
