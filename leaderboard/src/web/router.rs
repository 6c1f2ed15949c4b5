//! The router of every endpoint, and the body limit in front of them.

use super::error::{ApiError, MAX_BODY_BYTES};
use super::state::AppState;
use super::{api, catalog, pages, screens, sql, ws};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};

/// The router of every endpoint.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/v1/scorecard", get(api::scorecard))
        .route("/api/v1/history", get(api::history))
        .route("/api/v1/boards/{board}", get(api::board))
        .route("/api/v1/periods", get(api::periods))
        .route("/api/v1/clearing-scores", post(api::clearing_score))
        .route("/api/v1/status", get(api::status))
        .route("/api/v1/sql", post(sql::sql))
        .route("/api/v1/screens", get(screens::list))
        .route("/api/v1/screens/{name}", put(screens::put))
        .route("/api/v1/catalog", get(catalog::get))
        .route("/api/v1/openapi.json", get(catalog::openapi))
        .route("/ws", get(ws::upgrade))
        .route("/", get(pages::index))
        .route("/screen", get(pages::screen))
        .route("/manager", get(pages::manager))
        .route("/assets/catalog.js", get(catalog::script))
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

#[cfg(test)]
mod tests {
    /// Every route of [`super::router`] is in the OpenAPI document, and the document lists no other.
    #[test]
    fn the_openapi_document_lists_every_route() {
        let source = include_str!("router.rs");
        let mut routes: Vec<&str> = source
            .split(".route(\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .filter(|route| !route.starts_with("/assets/") && *route != "/")
            .collect();
        routes.sort();
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../../assets/openapi.json")).unwrap();
        let mut documented: Vec<&str> = doc["paths"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        documented.sort();
        assert_eq!(routes, documented);
    }
}
