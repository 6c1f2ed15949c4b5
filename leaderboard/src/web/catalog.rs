//! What the pages and the OpenAPI document know of the indicators and the boards, taken from their Rust
//! definitions ([`Indicator`], [`Board`]) so that no list is kept twice: `GET /api/v1/catalog`, the same
//! document as the script `/assets/catalog.js` the pages load first, and the enums of
//! `/api/v1/openapi.json`.

use crate::live::boards::Board;
use analytics::Indicator;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::LazyLock;

/// The catalog: the server's version (a screen reports the version of the page it runs), every indicator (key, names, whether it is a rate, a volume, an amount in yuan, ranked or
/// scored against a target) and every board (key,
/// titles, whether it ranks people, the unit of its values), in their order.
pub fn catalog() -> Value {
    let indicators: Vec<Value> = Indicator::ALL
        .iter()
        .map(|i| {
            json!({
                "key": i.key(),
                "zh": i.label_zh(),
                "en": i.label_en(),
                "is_rate": i.is_rate(),
                "is_volume": i.is_volume(),
                "is_amount": i.is_amount(),
                "is_ranked": i.is_ranked(),
                "has_target": i.has_target(),
            })
        })
        .collect();
    let boards: Vec<Value> = Board::ALL
        .iter()
        .map(|b| {
            json!({
                "key": b.as_str(),
                "zh": b.title_zh(),
                "en": b.title_en(),
                "ranks_people": b.ranks_people(),
                "unit": b.unit(),
            })
        })
        .collect();
    json!({ "version": env!("CARGO_PKG_VERSION"), "indicators": indicators, "boards": boards })
}

/// The catalog as JSON text, made once.
static CATALOG: LazyLock<String> = LazyLock::new(|| catalog().to_string());

/// `GET /api/v1/catalog`: the indicators and boards.
pub async fn get() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        CATALOG.as_str(),
    )
        .into_response()
}

/// `GET /assets/catalog.js`: the catalog as the constant `CATALOG`, for the pages.
pub async fn script() -> Response {
    static SCRIPT: LazyLock<String> = LazyLock::new(|| {
        format!(
            "// The indicators and boards, from the server's definitions.\n\"use strict\";\nconst CATALOG = {};\n",
            CATALOG.as_str()
        )
    });
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        SCRIPT.as_str(),
    )
        .into_response()
}

/// `GET /api/v1/openapi.json`: the API's OpenAPI 3.1 document, its board and indicator enums filled in
/// from the definitions.
pub async fn openapi() -> Response {
    static DOCUMENT: LazyLock<String> = LazyLock::new(|| openapi_document().to_string());
    (
        [(header::CONTENT_TYPE, "application/json")],
        DOCUMENT.as_str(),
    )
        .into_response()
}

/// The OpenAPI document with its enums filled in.
fn openapi_document() -> Value {
    let mut doc: Value = serde_json::from_str(include_str!("../../assets/openapi.json"))
        .expect("assets/openapi.json is valid JSON (a unit test reads it)");
    let boards: Vec<&str> = Board::ALL.iter().map(|b| b.as_str()).collect();
    let indicators: Vec<&str> = Indicator::ALL.iter().map(|i| i.key()).collect();
    doc["components"]["schemas"]["Board"]["properties"]["board"]["enum"] = json!(boards);
    for parameter in doc["paths"]["/api/v1/boards/{board}"]["get"]["parameters"]
        .as_array_mut()
        .into_iter()
        .flatten()
    {
        if parameter["name"] == "board" {
            parameter["schema"]["enum"] = json!(boards);
        }
    }
    for field in ["indicators", "points"] {
        doc["components"]["schemas"]["BranchRow"]["properties"][field]["propertyNames"] =
            json!({ "enum": indicators });
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pages take every indicator and board from the catalog: none of their keys is written in them.
    #[test]
    fn no_page_keeps_its_own_list_of_indicators_or_boards() {
        let pages = crate::web::pages::own_pages();
        let keys = Indicator::ALL
            .iter()
            .map(|i| i.key())
            .chain(Board::ALL.iter().map(|b| b.as_str()));
        for key in keys {
            for &(name, text) in &pages {
                assert!(
                    !text.contains(&format!("\"{key}\"")),
                    "{name} names {key}: take it from CATALOG"
                );
            }
        }
    }

    #[test]
    fn the_openapi_enums_are_the_definitions() {
        let doc = openapi_document();
        let boards =
            &doc["paths"]["/api/v1/boards/{board}"]["get"]["parameters"][0]["schema"]["enum"];
        assert_eq!(boards.as_array().unwrap().len(), Board::ALL.len());
        assert_eq!(
            boards,
            &doc["components"]["schemas"]["Board"]["properties"]["board"]["enum"]
        );
        let indicators = &doc["components"]["schemas"]["BranchRow"]["properties"]["points"]["propertyNames"]
            ["enum"];
        assert_eq!(indicators[0], "quotes_per_user");
        assert_eq!(indicators.as_array().unwrap().len(), Indicator::ALL.len());
        let catalog = catalog();
        assert_eq!(catalog["boards"][2]["zh"], "考评总分排名");
        assert_eq!(catalog["indicators"][8]["is_rate"], true);
    }
}
