//! What drivers and their table browsers expect of PostgreSQL and datafusion-postgres's `pg_catalog`
//! lacks:
//! - the version: drivers parse it (SQLAlchemy reads `version()` and expects `PostgreSQL X.Y …`, others
//!   read the `server_version` parameter), so both answer like PostgreSQL 16 while naming the real engine;
//! - `pg_size_pretty` and the relation sizes psql's `\d+` asks for (null: these are no PostgreSQL
//!   relations);
//! - the privilege functions, answering for a database that may be read and not written
//!   ([`ReadPrivilege`]);
//! - `pg_type_is_visible`, `current_setting` (Grafana reads the search path) and the functions that
//!   describe what this database has none of: comments, indexes, view definitions in SQL
//!   ([`FixedAnswer`]);
//! - `pg_constraint` and `pg_index` with PostgreSQL's array types (`int2[]`, `int2vector`, `oidvector` as
//!   lists), so `unnest(conkey)` plans; this database has no constraints or indexes, so they are empty
//!   (the crate's copies hold a PostgreSQL server's own system constraints, as text);
//! - `pg_class.reloptions` and `relacl` (null), which psql's `\d+` and SQLAlchemy's `get_indexes` read;
//! - `information_schema.columns` in PostgreSQL's words: `pg_data_type(arrow_type)` and
//!   `pg_udt_name(arrow_type)` name a column's type as PostgreSQL's `data_type` and `udt_name` do (what
//!   [`super::pg_rewrite`] reads the view through);
//! - `pg_expandarray_list`, what `information_schema._pg_expandarray` becomes
//!   ([`super::pg_rewrite`] puts statements in PostgreSQL's words into DataFusion's).

use async_trait::async_trait;
use datafusion::arrow::array::{Array, Int32Array, ListArray, StructArray};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema};
use datafusion::catalog::{MemTable, SchemaProvider, TableProvider};
use datafusion::datasource::{ViewTable, provider_as_source};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility, create_udf,
};
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, lit};
use datafusion::prelude::SessionContext;
use datafusion::scalar::ScalarValue;
use datafusion_postgres::arrow_pg;
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

/// Replaces DataFusion's `version()` in `ctx` with [`version_text`], and adds `pg_type_is_visible(oid)`
/// (every type of the catalog is on the search path, as `pg_table_is_visible` says of every table),
/// [`FixedAnswer::ALL`], `current_setting(name [, missing_ok])` ([`CurrentSetting`]) and `format`
/// ([`super::pg_format`]).
pub fn register(ctx: &SessionContext) {
    ctx.register_udf(ScalarUDF::new_from_impl(CurrentSetting {
        signature: Signature::one_of(
            vec![
                TypeSignature::Exact(vec![DataType::Utf8]),
                TypeSignature::Exact(vec![DataType::Utf8, DataType::Boolean]),
            ],
            Volatility::Stable,
        ),
    }));
    ctx.register_udf(super::pg_format::udf());
    for name in ReadPrivilege::FUNCTIONS {
        ctx.register_udf(ScalarUDF::new_from_impl(ReadPrivilege {
            name,
            signature: Signature::variadic_any(Volatility::Stable),
        }));
    }
    for (name, answer) in FixedAnswer::ALL {
        ctx.register_udf(ScalarUDF::new_from_impl(FixedAnswer {
            name,
            answer,
            signature: Signature::variadic_any(Volatility::Stable),
        }));
    }
    ctx.register_udf(ScalarUDF::new_from_impl(ExpandArray {
        signature: Signature::any(1, Volatility::Immutable),
    }));
    let text = version_text();
    ctx.register_udf(create_udf(
        "version",
        vec![],
        DataType::Utf8,
        Volatility::Immutable,
        Arc::new(move |_| Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(text.clone()))))),
    ));
    // Relation sizes: the tables are the engine's figures and Parquet files, not PostgreSQL relations, so
    // their size is unknown (null), as psql's `\d+` then shows it.
    for name in [
        "pg_table_size",
        "pg_relation_size",
        "pg_total_relation_size",
        "pg_indexes_size",
    ] {
        ctx.register_udf(create_udf(
            name,
            vec![DataType::Int64],
            DataType::Int64,
            Volatility::Stable,
            Arc::new(|_| Ok(ColumnarValue::Scalar(ScalarValue::Int64(None)))),
        ));
    }
    ctx.register_udf(create_udf(
        "pg_size_pretty",
        vec![DataType::Int64],
        DataType::Utf8,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            let sizes = ColumnarValue::values_to_arrays(args)?;
            let texts = datafusion::common::cast::as_int64_array(&sizes[0])?
                .iter()
                .map(|size| size.map(size_pretty))
                .collect::<datafusion::arrow::array::StringArray>();
            Ok(ColumnarValue::Array(Arc::new(texts)))
        }),
    ));
    ctx.register_udf(text_function(PG_DATA_TYPE, pg_data_type));
    ctx.register_udf(text_function(PG_UDT_NAME, pg_udt_name));
    ctx.register_udf(create_udf(
        "pg_type_is_visible",
        vec![DataType::Int32],
        DataType::Boolean,
        Volatility::Stable,
        Arc::new(|args: &[ColumnarValue]| {
            let oids = &ColumnarValue::values_to_arrays(args)?[0];
            Ok(ColumnarValue::Array(Arc::new(
                (0..oids.len())
                    .map(|i| oids.is_valid(i).then_some(true))
                    .collect::<datafusion::arrow::array::BooleanArray>(),
            )))
        }),
    ));
}

/// The function `name` of one text argument, giving `f` of each value (null for null).
fn text_function(name: &str, f: fn(&str) -> String) -> ScalarUDF {
    create_udf(
        name,
        vec![DataType::Utf8],
        DataType::Utf8,
        Volatility::Immutable,
        Arc::new(move |args: &[ColumnarValue]| {
            let values = ColumnarValue::values_to_arrays(args)?;
            let answers = datafusion::common::cast::as_string_array(&values[0])?
                .iter()
                .map(|value| value.map(f))
                .collect::<datafusion::arrow::array::StringArray>();
            Ok(ColumnarValue::Array(Arc::new(answers)))
        }),
    )
}

/// `bytes` as PostgreSQL's `pg_size_pretty(bigint)` writes it: bytes below 10 kB, then kB, MB, GB, TB and PB
/// below 20 of the next unit, rounded half away from zero.
fn size_pretty(bytes: i64) -> String {
    // Name, the limit below which it is used, whether the value is rounded, its power of two.
    const UNITS: [(&str, i64, bool, u32); 6] = [
        ("bytes", 10 * 1024, false, 0),
        ("kB", 20 * 1024 - 1, true, 10),
        ("MB", 20 * 1024 - 1, true, 20),
        ("GB", 20 * 1024 - 1, true, 30),
        ("TB", 20 * 1024 - 1, true, 40),
        ("PB", 20 * 1024 - 1, true, 50),
    ];
    let mut size = bytes;
    for (i, &(name, limit, round, bits)) in UNITS.iter().enumerate() {
        let Some(&(_, _, next_round, next_bits)) = UNITS.get(i + 1) else {
            return format!("{} {name}", half_rounded(size, round));
        };
        if size.abs() < limit {
            return format!("{} {name}", half_rounded(size, round));
        }
        // One bit more is kept where the next unit rounds, and dropped where this one did.
        let shift = next_bits - bits - u32::from(next_round) + u32::from(round);
        size /= 1i64 << shift;
    }
    unreachable!("the last unit always answers")
}

/// `size` halved and rounded away from zero when `round` (PostgreSQL's `half_rounded`).
fn half_rounded(size: i64, round: bool) -> i64 {
    if round {
        (size + if size < 0 { -1 } else { 1 }) / 2
    } else {
        size
    }
}

/// The function naming an Arrow type (as DataFusion's `information_schema.columns` spells it) as
/// PostgreSQL's `information_schema.columns.data_type` does.
pub const PG_DATA_TYPE: &str = "pg_data_type";

/// PostgreSQL's `data_type` for the Arrow type named `arrow` (`Utf8View` → `text`, `Timestamp(ms, "UTC")` →
/// `timestamp with time zone`), by the types the port sends values as; a name Arrow cannot read stays.
fn pg_data_type(arrow: &str) -> String {
    let Ok(data_type) = arrow.parse::<DataType>() else {
        return arrow.to_string();
    };
    match data_type {
        DataType::Boolean => "boolean",
        DataType::Int8 | DataType::Int16 | DataType::UInt8 => "smallint",
        DataType::Int32 | DataType::UInt16 => "integer",
        DataType::Int64 | DataType::UInt32 => "bigint",
        DataType::UInt64 | DataType::Decimal128(..) | DataType::Decimal256(..) => "numeric",
        DataType::Float16 | DataType::Float32 => "real",
        DataType::Float64 => "double precision",
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "text",
        DataType::Date32 | DataType::Date64 => "date",
        DataType::Timestamp(_, Some(_)) => "timestamp with time zone",
        DataType::Timestamp(_, None) => "timestamp without time zone",
        DataType::Time32(_) | DataType::Time64(_) => "time without time zone",
        DataType::Interval(_) | DataType::Duration(_) => "interval",
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => "bytea",
        DataType::List(_)
        | DataType::LargeList(_)
        | DataType::FixedSizeList(..)
        | DataType::ListView(_)
        | DataType::LargeListView(_) => "ARRAY",
        DataType::Struct(_) => "record",
        _ => "USER-DEFINED",
    }
    .to_string()
}

/// The function naming an Arrow type (as DataFusion's `information_schema.columns` spells it) as
/// PostgreSQL's `information_schema.columns.udt_name` does.
pub const PG_UDT_NAME: &str = "pg_udt_name";

/// PostgreSQL's `udt_name` for the Arrow type named `arrow`: the name of the type the port sends its values
/// as (`int8`, `timestamptz`, `_text` for an array of text); a name Arrow cannot read stays.
fn pg_udt_name(arrow: &str) -> String {
    arrow
        .parse::<DataType>()
        .ok()
        .and_then(|data_type| arrow_pg::datatypes::into_pg_type(&data_type).ok())
        .map_or_else(|| arrow.to_string(), |pg_type| pg_type.name().to_string())
}

/// The server's settings, as `current_setting(name)` answers them (what a session `SET` is not seen
/// there) and `SHOW name` where the session has not set its own (PostgreSQL 16's values for what this server does; names as PostgreSQL compares them,
/// without regard to case). Grafana's table picker reads `search_path` to name the tables of `public`
/// without their schema; Metabase's sync reads `timezone`.
pub fn setting(name: &str) -> Option<&'static str> {
    Some(match name.to_ascii_lowercase().as_str() {
        "search_path" => "\"$user\", public",
        "server_version" => POSTGRES,
        "server_version_num" => "160006",
        "server_encoding" | "client_encoding" => "UTF8",
        "datestyle" => "ISO, MDY",
        "timezone" => "UTC",
        "standard_conforming_strings" | "integer_datetimes" => "on",
        "transaction_read_only" | "default_transaction_read_only" => "on",
        "max_identifier_length" => "63",
        _ => return None,
    })
}

/// `current_setting(name [, missing_ok])`: the [`setting`] `name`; an unknown name is an error, or null
/// when `missing_ok` is true.
#[derive(Debug, PartialEq, Eq, Hash)]
struct CurrentSetting {
    signature: Signature,
}

impl ScalarUDFImpl for CurrentSetting {
    fn name(&self) -> &str {
        "current_setting"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    // Scalar arguments come as one-row arrays; DataFusion makes the one-row answer a scalar again.
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let names = datafusion::common::cast::as_string_array(&arrays[0])?;
        let missing_ok = arrays
            .get(1)
            .map(|a| datafusion::common::cast::as_boolean_array(a))
            .transpose()?;
        let values = names
            .iter()
            .enumerate()
            .map(|(row, name)| {
                let Some(name) = name else {
                    return Ok(None);
                };
                match setting(name) {
                    Some(value) => Ok(Some(value)),
                    None if missing_ok.is_some_and(|ok| ok.is_valid(row) && ok.value(row)) => {
                        Ok(None)
                    }
                    None => Err(DataFusionError::Execution(format!(
                        "unrecognized configuration parameter \"{name}\""
                    ))),
                }
            })
            .collect::<Result<datafusion::arrow::array::StringArray>>()?;
        Ok(ColumnarValue::Array(Arc::new(values)))
    }
}

/// `has_table_privilege([user,] object, privileges)` and its kin, for a database that may be read and
/// nothing else: true when `privileges` (comma-separated, as PostgreSQL takes them) names one that reads
/// or runs (`SELECT`, `USAGE`, `CONNECT`, `EXECUTE`), false for those that write or define (`INSERT`,
/// `DELETE`, `CREATE`, …), for grant options and for unknown words (PostgreSQL errs on those, and on an
/// unknown role or object). Metabase's sync keeps the tables a user may select and calls a table writable
/// only if it may insert, update and delete. Every object is readable by every account.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ReadPrivilege {
    name: &'static str,
    signature: Signature,
}

impl ReadPrivilege {
    const FUNCTIONS: [&str; 6] = [
        "has_table_privilege",
        "has_any_column_privilege",
        "has_column_privilege",
        "has_schema_privilege",
        "has_database_privilege",
        "has_function_privilege",
    ];

    /// Whether `privileges` names one this database grants.
    fn grants(privileges: &str) -> bool {
        privileges.split(',').any(|privilege| {
            matches!(
                privilege.trim().to_ascii_uppercase().as_str(),
                "SELECT" | "USAGE" | "CONNECT" | "EXECUTE"
            )
        })
    }
}

impl ScalarUDFImpl for ReadPrivilege {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let last = args.args.len().checked_sub(1).ok_or_else(|| {
            DataFusionError::Plan(format!("function {}() needs a privilege", self.name))
        })?;
        let named = args.args[last].to_array(args.number_rows)?;
        let privileges =
            datafusion::arrow::compute::cast(&named, &DataType::Utf8).map_err(|e| {
                DataFusionError::Plan(format!("{}(): the privilege must be text: {e}", self.name))
            })?;
        let answers = datafusion::common::cast::as_string_array(&privileges)?
            .iter()
            .map(|p| p.map(Self::grants))
            .collect::<datafusion::arrow::array::BooleanArray>();
        Ok(ColumnarValue::Array(Arc::new(answers)))
    }
}

/// What a catalog function answers here whatever its arguments.
#[derive(Debug, PartialEq, Eq, Hash)]
struct FixedAnswer {
    name: &'static str,
    answer: Option<&'static str>,
    signature: Signature,
}

impl FixedAnswer {
    /// The functions that describe what this database does not have: comments (`col_description`,
    /// `obj_description`, `shobj_description`: null) and indexes (`pg_get_indexdef`: null), and the view
    /// definitions (`pg_get_viewdef`: a note, as the live tables are built by the engine, not from SQL).
    const ALL: [(&str, Option<&str>); 5] = [
        ("pg_get_indexdef", None),
        ("col_description", None),
        ("obj_description", None),
        ("shobj_description", None),
        (
            "pg_get_viewdef",
            Some("-- built from the engine's live figures when a query reads it"),
        ),
    ];
}

impl ScalarUDFImpl for FixedAnswer {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, _: ScalarFunctionArgs) -> Result<ColumnarValue> {
        Ok(ColumnarValue::Scalar(ScalarValue::Utf8(
            self.answer.map(str::to_string),
        )))
    }

    /// A null answer is null before the arguments are worked out: Metabase's sync asks for each column's
    /// comment with `col_description(CAST(format('%I.%I', schema, table) AS regclass), position)`, a cast
    /// of text from a column to an oid that only a relation lookup could answer.
    fn simplify(&self, args: Vec<Expr>, _: &SimplifyContext) -> Result<ExprSimplifyResult> {
        Ok(match self.answer {
            None => ExprSimplifyResult::Simplified(lit(ScalarValue::Utf8(None))),
            Some(_) => ExprSimplifyResult::Original(args),
        })
    }
}

/// `pg_expandarray_list(array)`: the array's elements with their one-based positions, as a list of
/// `{x, n}` structs. PostgreSQL's `information_schema._pg_expandarray` returns them as rows;
/// [`super::pg_rewrite::rewrite`] makes a call to it an `unnest` of this list, so pgjdbc's
/// `getPrimaryKeys` query plans.
#[derive(Debug, PartialEq, Eq, Hash)]
pub(crate) struct ExpandArray {
    signature: Signature,
}

impl ExpandArray {
    /// The function's name: not PostgreSQL's, whose calls [`super::pg_rewrite::rewrite`] turns into an `unnest` of this one.
    pub(crate) const NAME: &str = "pg_expandarray_list";

    fn element_fields(element: &DataType) -> Fields {
        Fields::from(vec![
            Field::new("x", element.clone(), true),
            Field::new("n", DataType::Int32, false),
        ])
    }
}

impl ScalarUDFImpl for ExpandArray {
    fn name(&self) -> &str {
        Self::NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        let DataType::List(element) = &args[0] else {
            return Err(datafusion::error::DataFusionError::Plan(format!(
                "_pg_expandarray takes an array, got {}",
                args[0]
            )));
        };
        Ok(list_of(DataType::Struct(Self::element_fields(
            element.data_type(),
        ))))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let lists = datafusion::common::cast::as_list_array(&arrays[0])?;
        let offsets = lists.offsets();
        let positions: Int32Array = offsets.windows(2).flat_map(|w| 1..=(w[1] - w[0])).collect();
        let values = lists.values().slice(
            offsets[0] as usize,
            (offsets[offsets.len() - 1] - offsets[0]) as usize,
        );
        let pairs = StructArray::try_new(
            Self::element_fields(&lists.value_type()),
            vec![values, Arc::new(positions)],
            None,
        )?;
        let rebased = OffsetBuffer::new(offsets.iter().map(|o| o - offsets[0]).collect());
        let expanded = ListArray::try_new(
            Arc::new(Field::new_list_field(pairs.data_type().clone(), true)),
            rebased,
            Arc::new(pairs),
            lists.nulls().cloned(),
        )?;
        Ok(ColumnarValue::Array(Arc::new(expanded)))
    }
}

/// PostgreSQL's `element[]`: a list of nullable `element`s.
fn list_of(element: DataType) -> DataType {
    DataType::List(Arc::new(Field::new_list_field(element, true)))
}

/// The array columns of the catalog tables this database has none of rows in, with PostgreSQL's element
/// types: `int2` as Int16, `oid` as Int32 (the crate's oid type).
const TYPED_EMPTY: [(&str, &[(&str, DataType)]); 2] = [
    (
        "pg_constraint",
        &[
            ("conkey", DataType::Int16),
            ("confkey", DataType::Int16),
            ("confdelsetcols", DataType::Int16),
            ("conpfeqop", DataType::Int32),
            ("conppeqop", DataType::Int32),
            ("conffeqop", DataType::Int32),
            ("conexclop", DataType::Int32),
        ],
    ),
    (
        "pg_index",
        &[
            ("indkey", DataType::Int16),
            ("indoption", DataType::Int16),
            ("indcollation", DataType::Int32),
            ("indclass", DataType::Int32),
        ],
    ),
];

/// The `text[]` columns of `pg_class` the crate's copy lacks: storage options and privileges, null for
/// every relation here (none has options; privileges are not per table).
const PG_CLASS_ARRAYS: &[&str] = &["reloptions", "relacl"];

/// `table` as a view with the `text[]` columns `columns` appended, null in every row.
fn with_null_arrays(
    table: Arc<dyn TableProvider>,
    columns: &[&str],
) -> Result<Arc<dyn TableProvider>> {
    let present = table.schema();
    let mut projection: Vec<datafusion::prelude::Expr> = present
        .fields()
        .iter()
        .map(|f| datafusion::prelude::col(datafusion::common::Column::from_name(f.name())))
        .collect();
    let text_array = list_of(DataType::Utf8);
    for column in columns {
        if present.field_with_name(column).is_err() {
            projection
                .push(datafusion::prelude::lit(ScalarValue::try_from(&text_array)?).alias(*column));
        }
    }
    let plan = LogicalPlanBuilder::scan("pg_class", provider_as_source(table), None)?
        .project(projection)?
        .build()?;
    Ok(Arc::new(ViewTable::new(plan, None)))
}

/// `pg_catalog` as datafusion-postgres makes it, but [`TYPED_EMPTY`]'s tables empty and typed, and
/// `pg_class` with [`PG_CLASS_ARRAYS`].
#[derive(Debug)]
struct Catalog {
    inner: Arc<dyn SchemaProvider>,
}

#[async_trait]
impl SchemaProvider for Catalog {
    fn table_names(&self) -> Vec<String> {
        self.inner.table_names()
    }

    async fn table(&self, name: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        let table = self.inner.table(name).await?;
        if name == "pg_class"
            && let Some(table) = table
        {
            return with_null_arrays(table, PG_CLASS_ARRAYS).map(Some);
        }
        let Some((_, arrays)) = TYPED_EMPTY.iter().find(|(t, _)| *t == name) else {
            return Ok(table);
        };
        let Some(table) = table else {
            return Ok(None);
        };
        let fields: Vec<Field> = table
            .schema()
            .fields()
            .iter()
            .map(
                |f| match arrays.iter().find(|(column, _)| column == f.name()) {
                    Some((_, element)) => Field::new(f.name(), list_of(element.clone()), true),
                    None => f.as_ref().clone(),
                },
            )
            .collect();
        let empty = MemTable::try_new(Arc::new(Schema::new(fields)), vec![vec![]])?;
        Ok(Some(Arc::new(empty)))
    }

    fn table_exist(&self, name: &str) -> bool {
        self.inner.table_exist(name)
    }
}

/// Puts [`Catalog`] in place of `ctx`'s `pg_catalog` schema (set up by datafusion-postgres first).
pub fn type_catalog_arrays(ctx: &SessionContext, catalog: &str) -> Result<()> {
    let provider = ctx
        .catalog(catalog)
        .ok_or_else(|| datafusion::error::DataFusionError::Plan(format!("no catalog {catalog}")))?;
    if let Some(inner) = provider.schema("pg_catalog") {
        provider.register_schema("pg_catalog", Arc::new(Catalog { inner }))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_written_as_postgresql_writes_them() {
        for (bytes, text) in [
            (0, "0 bytes"),
            (10_239, "10239 bytes"),
            (10_240, "10 kB"),
            (1_048_576, "1024 kB"),
            (20_971_520, "20 MB"),
            (10_737_418_240, "10 GB"),
            (20_401_094_656, "19 GB"),
            (-10_240, "-10 kB"),
            (i64::MAX, "8192 PB"),
        ] {
            assert_eq!(size_pretty(bytes), text, "{bytes}");
        }
    }

    /// `sql`'s result on `ctx`, as a printed table.
    async fn answer(ctx: &SessionContext, sql: &str) -> String {
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        datafusion::arrow::util::pretty::pretty_format_batches(&batches)
            .unwrap()
            .to_string()
    }

    #[tokio::test]
    async fn version_reads_like_postgres_and_names_the_engine() {
        let ctx = SessionContext::new();
        register(&ctx);
        let text = answer(&ctx, "SELECT version()").await;
        assert!(text.contains("PostgreSQL 16.6 (leaderboard "), "{text}");
        assert!(text.contains("Apache DataFusion 55."), "{text}");
        let path = answer(&ctx, "SELECT current_setting('search_path') AS p").await;
        assert!(path.contains("| \"$user\", public |"), "{path}");
        let unknown = ctx
            .sql("SELECT current_setting('no_such_thing')")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap_err();
        assert!(
            unknown
                .to_string()
                .contains("unrecognized configuration parameter \"no_such_thing\""),
            "{unknown}"
        );
        let missing = answer(
            &ctx,
            "SELECT current_setting('no_such_thing', true) IS NULL AS m, \
             current_setting('TimeZone', false) AS z",
        )
        .await;
        assert!(missing.contains("| true | UTC |"), "{missing}");
        let udt = answer(
            &ctx,
            "SELECT pg_udt_name('Int64') AS a, pg_udt_name('Timestamp(ms, \"UTC\")') AS b, \
             pg_udt_name('List(Utf8)') AS c",
        )
        .await;
        assert!(udt.contains("| int8 | timestamptz | _text |"), "{udt}");
        let privileges = answer(
            &ctx,
            "SELECT has_table_privilege('analyst', 'public.scorecard', 'select') AS s, \
             has_table_privilege('public.scorecard', 'INSERT, UPDATE') AS w, \
             has_schema_privilege('public', 'usage') AS u, \
             has_schema_privilege('analyst', 'public', 'CREATE') AS c",
        )
        .await;
        assert!(
            privileges.contains("| true | false | true | false |"),
            "{privileges}"
        );
        let visible = answer(&ctx, "SELECT pg_type_is_visible(CAST(25 AS INT)) AS v").await;
        assert!(visible.contains("true"), "{visible}");
        assert!(server_version().starts_with("16.6 "));
    }
}
