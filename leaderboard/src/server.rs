//! The HTTP server: the scorecard API, health and readiness, and Prometheus metrics.

use crate::live::Live;
use analytics::{EngineError, PeriodSpec};
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use metrics_exporter_prometheus::PrometheusHandle;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    /// The live engine and status.
    pub live: Arc<Live>,
    /// The metrics recorder, when installed.
    pub metrics: Option<PrometheusHandle>,
}

/// The router of every endpoint.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/v1/scorecard", get(scorecard))
        .route("/api/v1/status", get(status))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// An error answer: a status and `{"error": message}`.
pub struct ApiError(StatusCode, String);

impl ApiError {
    /// A 400 with `message`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self(StatusCode::BAD_REQUEST, message.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        let status = match e {
            EngineError::BadRequest(_) => StatusCode::BAD_REQUEST,
            EngineError::NoData => StatusCode::SERVICE_UNAVAILABLE,
            EngineError::DataFusion(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self(status, e.to_string())
    }
}

/// Query of `/api/v1/scorecard`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScorecardQuery {
    /// `YYYY-MM`, `YYYY-Qn` or `assessment`; the current month when absent.
    period: Option<String>,
    /// Include per-user rows.
    #[serde(default)]
    users: bool,
}

async fn scorecard(
    State(state): State<AppState>,
    query: Result<Query<ScorecardQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let engine = state.live.engine.read().await;
    let spec = match &query.period {
        Some(text) => text.parse::<PeriodSpec>().map_err(ApiError::bad_request)?,
        None => PeriodSpec::Month(engine.current_month().ok_or(EngineError::NoData)?),
    };
    let card = engine.scorecard(spec, query.users)?;
    Ok(Json(card).into_response())
}

/// Where the pipeline stands: disposition totals, each partition's next offset and watermark, readiness and
/// the last checkpoint. The totals and offsets are the state's (they survive restarts), not this process's.
async fn status(State(state): State<AppState>) -> Response {
    let engine = state.live.engine.read().await;
    let arrival = &engine.state().arrival;
    let partitions: serde_json::Map<String, serde_json::Value> = arrival
        .partitions()
        .iter()
        .map(|(p, clock)| {
            let watermark = clock
                .watermark
                .and_then(chrono::DateTime::from_timestamp_millis)
                .map(|t| t.to_rfc3339());
            (
                p.to_string(),
                json!({ "next_offset": clock.next_offset, "watermark": watermark }),
            )
        })
        .collect();
    let checkpoint = state
        .live
        .checkpoint_saved_at()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.to_rfc3339());
    Json(json!({
        "ready": state.live.readiness().is_ok(),
        "counts": engine.counts(),
        "partitions": partitions,
        "current_month": engine.current_month().map(|m| m.to_string()),
        "checkpoint_saved_at": checkpoint,
    }))
    .into_response()
}

async fn health() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

async fn ready(State(state): State<AppState>) -> Response {
    match state.live.readiness() {
        Ok(()) => Json(json!({ "ready": true })).into_response(),
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "ready": false, "reason": reason })),
        )
            .into_response(),
    }
}

async fn metrics(State(state): State<AppState>) -> Response {
    match &state.metrics {
        Some(handle) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            crate::metrics::render(handle, &state.live),
        )
            .into_response(),
        None => ApiError(StatusCode::NOT_FOUND, "metrics are not enabled".into()).into_response(),
    }
}
