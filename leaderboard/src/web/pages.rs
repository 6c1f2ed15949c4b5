//! The wall screen, the manager view and the OpenAPI document: static files embedded in the binary.
//!
//! The pages read their token from their own URL (`?token=`) and pass it on to the API and the websocket.
//!
//! While editing the pages, `LEADERBOARD_ASSETS_DIR=leaderboard/assets` makes the server read them from that
//! folder on every request instead (only the files named here; nothing else in the folder is served).

use crate::web::error::ApiError;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

/// An embedded file: its name under `/assets/`, content type and bytes.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

/// The charting library's name under `/assets/`: versioned, so browsers may keep it for good.
const ECHARTS: &str = "echarts-6.1.0.min.js";

const ASSETS: &[Asset] = &[
    Asset {
        name: "common.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../assets/common.js"),
    },
    Asset {
        name: "screen-link.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../assets/screen-link.js"),
    },
    Asset {
        name: "screen-rows.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../assets/screen-rows.js"),
    },
    Asset {
        name: "screen-moments.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../assets/screen-moments.js"),
    },
    Asset {
        name: "screen.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../assets/screen.js"),
    },
    Asset {
        name: "screen.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../../assets/screen.css"),
    },
    Asset {
        name: "manager.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../assets/manager.js"),
    },
    Asset {
        name: "manager-text.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../assets/manager-text.js"),
    },
    Asset {
        name: "manager-branches.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../assets/manager-branches.js"),
    },
    Asset {
        name: "manager-stake.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../assets/manager-stake.js"),
    },
    Asset {
        name: "manager-people.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../assets/manager-people.js"),
    },
    Asset {
        name: "manager-screens.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../assets/manager-screens.js"),
    },
    Asset {
        name: "manager-charts.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../assets/manager-charts.js"),
    },
    Asset {
        name: "manager.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../../assets/manager.css"),
    },
    Asset {
        name: ECHARTS,
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../assets/vendor/echarts/echarts.common.min.js"),
    },
    Asset {
        name: "echarts-LICENSE.txt",
        content_type: "text/plain; charset=utf-8",
        body: concat!(
            include_str!("../../assets/vendor/echarts/LICENSE"),
            "\n\n",
            include_str!("../../assets/vendor/echarts/NOTICE"),
            "\n\nzrender (bundled in echarts.min.js):\n\n",
            include_str!("../../assets/vendor/echarts/LICENSE-zrender"),
        ),
    },
];

/// The environment variable naming a folder to read the pages from instead of the embedded copies.
const ASSETS_DIR: &str = "LEADERBOARD_ASSETS_DIR";

/// The file `name` (relative to `leaderboard/assets/`): from [`ASSETS_DIR`] when it is set and has the
/// file, else the embedded copy.
fn current(name: &str, embedded: &'static str) -> std::borrow::Cow<'static, str> {
    std::env::var_os(ASSETS_DIR)
        .and_then(|dir| std::fs::read_to_string(std::path::Path::new(&dir).join(name)).ok())
        .map_or(
            std::borrow::Cow::Borrowed(embedded),
            std::borrow::Cow::Owned,
        )
}

/// The project's own pages and scripts (not the vendored library), by name: for tests of their content.
#[cfg(test)]
pub(crate) fn own_pages() -> Vec<(&'static str, &'static str)> {
    ASSETS
        .iter()
        .filter(|a| a.name.ends_with(".js") && a.name != ECHARTS)
        .map(|a| (a.name, a.body))
        .chain([
            ("screen.html", include_str!("../../assets/screen.html")),
            ("manager.html", include_str!("../../assets/manager.html")),
        ])
        .collect()
}

fn html(body: std::borrow::Cow<'static, str>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// `GET /`: the wall screen's default board.
pub async fn index() -> Redirect {
    Redirect::to("/screen")
}

/// `GET /screen?board=&branch=&lang=&rotate=&token=`: the wall screen.
pub async fn screen() -> Response {
    html(current(
        "screen.html",
        include_str!("../../assets/screen.html"),
    ))
}

/// `GET /manager?token=`: the manager view.
pub async fn manager() -> Response {
    html(current(
        "manager.html",
        include_str!("../../assets/manager.html"),
    ))
}

/// `GET /assets/{file}`.
pub async fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.name == file) {
        Some(asset) => (
            [
                (header::CONTENT_TYPE, asset.content_type),
                (
                    header::CACHE_CONTROL,
                    if asset.name == ECHARTS {
                        "public, max-age=31536000, immutable"
                    } else {
                        "no-cache"
                    },
                ),
            ],
            current(asset.name, asset.body),
        )
            .into_response(),
        None => ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no asset {:?}", schemas::excerpt(&file)),
        )
        .into_response(),
    }
}
