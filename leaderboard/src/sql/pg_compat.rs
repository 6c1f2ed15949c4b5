//! What the SQL port says it is to drivers. They parse PostgreSQL's version (SQLAlchemy reads `version()`
//! and expects `PostgreSQL X.Y …`, others read the `server_version` parameter), so both answer like
//! PostgreSQL 16 while naming the real engine in the rest of the text; and the catalog functions their
//! table browsers call that `pg_catalog` lacks.

use datafusion::arrow::datatypes::DataType;
use datafusion::logical_expr::{ColumnarValue, Volatility, create_udf};
use datafusion::prelude::SessionContext;
use datafusion::scalar::ScalarValue;
use std::sync::Arc;

/// The PostgreSQL version the port answers as: the protocol and catalog it speaks.
const POSTGRES: &str = "16.6";

/// The `server_version` parameter sent at login: `16.6 (leaderboard 0.1.0)`.
pub fn server_version() -> String {
    format!("{POSTGRES} (leaderboard {})", env!("CARGO_PKG_VERSION"))
}

/// The text of `version()`: `PostgreSQL 16.6 (leaderboard 0.1.0, Apache DataFusion 55.2.0) on
/// x86_64-linux`.
pub fn version_text() -> String {
    format!(
        "PostgreSQL {POSTGRES} (leaderboard {}, Apache DataFusion {}) on {}-{}",
        env!("CARGO_PKG_VERSION"),
        datafusion::DATAFUSION_VERSION,
        std::env::consts::ARCH,
        std::env::consts::OS,
    )
}

/// Replaces DataFusion's `version()` in `ctx` with [`version_text`], and adds `pg_type_is_visible(oid)`:
/// every type of the catalog is on the search path, as `pg_table_is_visible` says of every table.
pub fn register(ctx: &SessionContext) {
    let text = version_text();
    ctx.register_udf(create_udf(
        "version",
        vec![],
        DataType::Utf8,
        Volatility::Immutable,
        Arc::new(move |_| Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(text.clone()))))),
    ));
    ctx.register_udf(create_udf(
        "pg_type_is_visible",
        vec![DataType::Int32],
        DataType::Boolean,
        Volatility::Stable,
        Arc::new(|args: &[ColumnarValue]| {
            let visible =
                |oid: &ScalarValue| ScalarValue::Boolean((!oid.is_null()).then_some(true));
            Ok(match &args[0] {
                ColumnarValue::Scalar(oid) => ColumnarValue::Scalar(visible(oid)),
                ColumnarValue::Array(oids) => ColumnarValue::Array(Arc::new(
                    (0..oids.len())
                        .map(|i| oids.is_valid(i).then_some(true))
                        .collect::<datafusion::arrow::array::BooleanArray>(),
                )),
            })
        }),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn version_reads_like_postgres_and_names_the_engine() {
        let ctx = SessionContext::new();
        register(&ctx);
        let batches = ctx
            .sql("SELECT version()")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
            .unwrap()
            .to_string();
        assert!(text.contains("PostgreSQL 16.6 (leaderboard "), "{text}");
        assert!(text.contains("Apache DataFusion 55."), "{text}");
        let visible = ctx
            .sql("SELECT pg_type_is_visible(CAST(25 AS INT)) AS v")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let visible = datafusion::arrow::util::pretty::pretty_format_batches(&visible)
            .unwrap()
            .to_string();
        assert!(visible.contains("true"), "{visible}");
        assert!(server_version().starts_with("16.6 "));
    }
}
