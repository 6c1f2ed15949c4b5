//! `POST /api/v1/sql`: one read-only statement in the body (plain text, or JSON `{"sql": "…"}`), the
//! result as JSON, CSV or Arrow IPC by the Accept header. Administrators only.

use crate::sql::SqlError;
use crate::sql::encode::{encode_arrow, encode_csv, encode_json};
use crate::web::access::Grant;
use crate::web::error::ApiError;
use crate::web::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The media type of Arrow IPC streams.
pub const ARROW_STREAM: &str = "application/vnd.apache.arrow.stream";

/// What the caller asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Json,
    Csv,
    Arrow,
}

impl Answer {
    /// From the Accept header; JSON when absent or `*/*`.
    fn of(headers: &HeaderMap) -> Result<Self, ApiError> {
        let Some(accept) = headers.get(header::ACCEPT) else {
            return Ok(Self::Json);
        };
        let accept = accept.to_str().unwrap_or_default();
        for media in accept
            .split(',')
            .map(|m| m.split(';').next().unwrap_or("").trim())
        {
            match media {
                "application/json" | "*/*" | "application/*" | "" => return Ok(Self::Json),
                "text/csv" | "text/*" => return Ok(Self::Csv),
                ARROW_STREAM => return Ok(Self::Arrow),
                _ => {}
            }
        }
        Err(ApiError::new(
            StatusCode::NOT_ACCEPTABLE,
            format!(
                "cannot answer {:?}: accept application/json, text/csv or {ARROW_STREAM}",
                schemas::excerpt(accept)
            ),
        ))
    }
}

/// The handler.
pub async fn sql(
    State(state): State<AppState>,
    grant: Grant,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    grant.require_admin()?;
    let body = body?;
    let answer = Answer::of(&headers)?;
    let sql = statement_of(&headers, &body)?;
    let result = state.sql.query(&sql, state.sql.max_http_rows()).await;
    crate::metrics::record_sql(
        "http",
        result.as_ref().map_or_else(SqlError::outcome, |_| "ok"),
    );
    let result = result.map_err(api_error)?;
    let encoded = match answer {
        Answer::Json => encode_json(&result).map(|b| (b, "application/json")),
        Answer::Csv => encode_csv(&result).map(|b| (b, "text/csv; charset=utf-8")),
        Answer::Arrow => encode_arrow(&result).map(|b| (b, ARROW_STREAM)),
    }
    .map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("encoding the result: {e}"),
        )
    })?;
    Ok(([(header::CONTENT_TYPE, encoded.1)], encoded.0).into_response())
}

/// The statement of the body: plain text, or `{"sql": "…"}` when the body is JSON.
fn statement_of(headers: &HeaderMap, body: &[u8]) -> Result<String, ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Body {
            sql: String,
        }
        let body: Body = serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request(format!("the body must be {{\"sql\": \"SELECT …\"}}: {e}"))
        })?;
        return Ok(body.sql);
    }
    String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::bad_request("the body must be the SQL text in UTF-8"))
}

/// The status of each kind of failure.
fn api_error(e: SqlError) -> ApiError {
    let status = match &e {
        SqlError::Forbidden(_) => StatusCode::FORBIDDEN,
        SqlError::Invalid(_) => StatusCode::BAD_REQUEST,
        SqlError::Limit(..) => StatusCode::UNPROCESSABLE_ENTITY,
        SqlError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
        SqlError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    ApiError::new(status, e.to_string())
}
