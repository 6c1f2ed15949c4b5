//! The error answer of every endpoint: a status and `{"error": message}`.

use analytics::EngineError;
use axum::Json;
use axum::extract::rejection::{BytesRejection, JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Largest request body (a SQL statement, a clearing score); a larger one is answered 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

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
        Self::new(status, e.to_string())
    }
}
