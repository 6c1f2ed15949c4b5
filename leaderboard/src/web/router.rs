//! The HTTP server: the router of every endpoint, the state the handlers share, and the error answer.
//!
//! The JSON API is in [`crate::api`], the websocket in [`crate::ws`], the pages in [`crate::pages`].

use crate::hub::Hub;
use crate::live::Live;
use crate::publish::Publisher;
use crate::sql::SqlEngine;
use crate::{api, pages, ws};
use analytics::EngineError;
use axum::extract::DefaultBodyLimit;
use axum::extract::Request;
use axum::extract::rejection::{BytesRejection, JsonRejection, QueryRejection};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use metrics_exporter_prometheus::PrometheusHandle;
use serde_json::json;
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
}

/// Largest request body (a SQL statement, a clearing score); a larger one is answered 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The router of every endpoint.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/v1/scorecard", get(api::scorecard))
        .route("/api/v1/boards/{board}", get(api::board))
        .route("/api/v1/periods", get(api::periods))
        .route("/api/v1/clearing-scores", post(api::clearing_score))
        .route("/api/v1/status", get(api::status))
        .route("/api/v1/sql", post(crate::sql::http::sql))
        .route("/api/v1/openapi.json", get(pages::openapi))
        .route("/ws", get(ws::upgrade))
        .route("/", get(pages::index))
        .route("/screen", get(pages::screen))
        .route("/manager", get(pages::manager))
        .route("/assets/{file}", get(pages::asset))
        .route("/health", get(api::health))
        .route("/ready", get(api::ready))
        .route("/metrics", get(api::metrics))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such endpoint") })
        // Axum still sets the Allow header; this gives the body every other error has.
        .method_not_allowed_fallback(|method: axum::http::Method| async move {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("{method} is not allowed here (the Allow header lists what is)"),
            )
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(refuse_declared_large_bodies))
        .with_state(state)
}

/// Answers 413 before reading a body whose Content-Length is over [`MAX_BODY_BYTES`] (a body without
/// one is stopped by the body limit when it gets there).
async fn refuse_declared_large_bodies(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|length| length.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return ApiError::body_too_large().into_response();
    }
    next.run(request).await
}

/// An error answer: a status and `{"error": message}`, the message at most
/// [`schemas::MAX_MESSAGE_CHARS`] characters.
#[derive(Debug)]
pub struct ApiError(StatusCode, String);

impl ApiError {
    /// An answer of `status` with `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self(status, schemas::bounded_message(message.into()))
    }

    /// A 413 for a body over [`MAX_BODY_BYTES`].
    pub fn body_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is over the limit of {MAX_BODY_BYTES} bytes (1 MiB)"),
        )
    }

    /// A 400 with `message`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.1
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

/// A rejected request as an error answer: 413 for a body over the limit, else 400 with the reason.
macro_rules! from_rejection {
    ($($rejection:ty),*) => {$(
        impl From<$rejection> for ApiError {
            fn from(rejection: $rejection) -> Self {
                match rejection.status() {
                    StatusCode::PAYLOAD_TOO_LARGE => Self::body_too_large(),
                    _ => Self::bad_request(rejection.body_text()),
                }
            }
        }
    )*};
}

from_rejection!(BytesRejection, JsonRejection, QueryRejection);

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        let status = match e {
            EngineError::BadRequest(_) => StatusCode::BAD_REQUEST,
            EngineError::NoData | EngineError::NotStarted { .. } => StatusCode::SERVICE_UNAVAILABLE,
            EngineError::DataFusion(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self(status, e.to_string())
    }
}
