//! The wall screen, the manager view and the OpenAPI document: static files embedded in the binary.
//!
//! The pages read their token from their own URL (`?token=`) and pass it on to the API and the websocket.

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

fn html(body: &'static str) -> Response {
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
    html(include_str!("../../assets/screen.html"))
}

/// `GET /manager?token=`: the manager view.
pub async fn manager() -> Response {
    html(include_str!("../../assets/manager.html"))
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
            asset.body,
        )
            .into_response(),
        None => ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no asset {:?}", schemas::excerpt(&file)),
        )
        .into_response(),
    }
}
