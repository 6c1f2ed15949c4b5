//! `GET /api/v1/screens` (the managed screens, whether they are lit, and every connection) and
//! `PUT /api/v1/screens/{name}` (an administrator replaces a screen's playlist; its screens follow at once).

use crate::web::access::Grant;
use crate::web::error::ApiError;
use crate::web::state::AppState;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use schemas::{PlaylistItem, ScreenConfig};
use serde::Deserialize;

/// `GET /api/v1/screens`: a token limited to a branch sees that branch's screens and its own connections.
pub async fn list(State(state): State<AppState>, grant: Grant) -> Response {
    Json(state.screens.view(grant.branch())).into_response()
}

/// The body of `PUT /api/v1/screens/{name}`: the playlist, as in `[[screens]]` without name and token.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaylistRequest {
    label: Option<String>,
    lang: Option<String>,
    branch: Option<String>,
    ticker: Option<String>,
    boards: Vec<PlaylistItem>,
}

/// `PUT /api/v1/screens/{name}` (admin): replaces a configured screen's playlist until the server restarts
/// (the configuration file keeps the lasting ones); its connected screens get it at once. 404 for a name
/// `[[screens]]` does not configure.
pub async fn put(
    State(state): State<AppState>,
    grant: Grant,
    Path(name): Path<String>,
    body: Result<Json<PlaylistRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    grant.require_admin()?;
    let Json(request) = body?;
    let config = ScreenConfig {
        name,
        label: request.label,
        token: None,
        lang: request.lang,
        branch: request.branch,
        ticker: request.ticker,
        boards: request.boards,
    };
    let name = config.name.clone();
    let known = state
        .screens
        .set(config, state.live.org(), &state.live.config().access)
        .map_err(ApiError::bad_request)?;
    if !known {
        return Err(ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            format!(
                "no screen named {:?}: screens are configured by [[screens]]",
                schemas::excerpt(&name)
            ),
        ));
    }
    let view = state.screens.view(None);
    let status = view.screens.into_iter().find(|s| s.config.name == name);
    Ok(Json(status).into_response())
}
