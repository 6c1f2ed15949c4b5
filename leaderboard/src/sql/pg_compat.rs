//! What drivers and their table browsers expect of PostgreSQL and datafusion-postgres's `pg_catalog`
//! lacks:
//! - the version: drivers parse it (SQLAlchemy reads `version()` and expects `PostgreSQL X.Y …`, others
//!   read the `server_version` parameter), so both answer like PostgreSQL 16 while naming the real engine;
//! - `pg_type_is_visible`;
//! - `pg_constraint` and `pg_index` with PostgreSQL's array types (`int2[]`, `int2vector`, `oidvector` as
//!   lists), so `unnest(conkey)` plans; this database has no constraints or indexes, so they are empty
//!   (the crate's copies hold a PostgreSQL server's own system constraints, as text);
//! - `pg_class.reloptions` and `relacl` (null), which psql's `\d+` and SQLAlchemy's `get_indexes` read;
//! - statements in PostgreSQL's words that DataFusion says otherwise, rewritten before planning
//!   ([`rewrite`]): `generate_subscripts`, `ARRAY(subquery)`, `FROM pg_catalog.unnest(a) x`,
//!   `information_schema._pg_expandarray` and `(expression).field`.

use async_trait::async_trait;
use datafusion::arrow::array::{Array, Int32Array, ListArray, StructArray};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema};
use datafusion::catalog::{MemTable, SchemaProvider, TableProvider};
use datafusion::datasource::{ViewTable, provider_as_source};
use datafusion::error::Result;
use datafusion::logical_expr::LogicalPlanBuilder;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility, create_udf,
};
use datafusion::prelude::SessionContext;
use datafusion::scalar::ScalarValue;
use datafusion::sql::sqlparser::ast::{
    AccessExpr, Expr, FunctionArguments, Statement, TableAliasColumnDef, TableFactor, VisitMut,
    VisitorMut, visit_expressions_mut,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;
use std::ops::ControlFlow;
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
/// (every type of the catalog is on the search path, as `pg_table_is_visible` says of every table) and
/// `pg_get_indexdef(…)` (null: there are no indexes to describe).
pub fn register(ctx: &SessionContext) {
    ctx.register_udf(ScalarUDF::new_from_impl(NoIndexDefinition {
        signature: Signature::variadic_any(Volatility::Stable),
    }));
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

/// `pg_get_indexdef(index [, column, pretty])`: null, as this database has no index to describe.
#[derive(Debug, PartialEq, Eq, Hash)]
struct NoIndexDefinition {
    signature: Signature,
}

impl ScalarUDFImpl for NoIndexDefinition {
    fn name(&self) -> &str {
        "pg_get_indexdef"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, _: ScalarFunctionArgs) -> Result<ColumnarValue> {
        Ok(ColumnarValue::Scalar(ScalarValue::Utf8(None)))
    }
}

/// `pg_expandarray_list(array)`: the array's elements with their one-based positions, as a list of
/// `{x, n}` structs. PostgreSQL's `information_schema._pg_expandarray` returns them as rows; [`rewrite`]
/// makes a call to it an `unnest` of this list, so pgjdbc's `getPrimaryKeys` query plans.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ExpandArray {
    signature: Signature,
}

impl ExpandArray {
    /// The function's name: not PostgreSQL's, whose calls [`rewrite`] turns into an `unnest` of this one.
    const NAME: &str = "pg_expandarray_list";

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

/// `statement` with what DataFusion cannot run but can run in other words rewritten:
/// - each `generate_subscripts(array, dim)` becomes `unnest(range(1, array_length(array, dim) + 1))` (the
///   subscripts of a one-based array, unnested alongside the array as PostgreSQL zips set-returning
///   functions in a select list);
/// - each `ARRAY(subquery)` becomes `(SELECT array_agg(…) FROM (subquery))`, the array of the subquery's
///   one column (null rather than `{}` when it has no rows);
/// - `FROM pg_catalog.unnest(a) x` names its column `x` too ([`NameScalarFunctionColumns`]);
/// - `information_schema._pg_expandarray(a)` becomes `unnest(pg_expandarray_list(a))` ([`ExpandArray`]), and
///   `(expression).field` becomes `get_field(expression, 'field')`.
pub fn rewrite(mut statement: Statement) -> Statement {
    let _ = visit_expressions_mut(&mut statement, |expr| {
        if let Some(text) = replacement_text(expr)
            && let Ok(replacement) = Parser::new(&PostgreSqlDialect {})
                .try_with_sql(&text)
                .and_then(|mut p| p.parse_expr())
        {
            *expr = replacement;
        }
        ControlFlow::<()>::Continue(())
    });
    let _ = statement.visit(&mut NameScalarFunctionColumns);
    statement
}

/// `(composite).field.other` as `get_field(get_field(composite, 'field'), 'other')`: PostgreSQL's field
/// access on an expression, which DataFusion's planner takes only on a column; `None` for other chains.
fn field_access(root: &Expr, chain: &[AccessExpr]) -> Option<String> {
    let mut text = root.to_string();
    for access in chain {
        let AccessExpr::Dot(Expr::Identifier(field)) = access else {
            return None;
        };
        text = format!("get_field({text}, '{}')", field.value.replace('\'', "''"));
    }
    Some(text)
}

/// Gives `FROM pg_catalog.unnest(a) x` the column list `x(x)`: PostgreSQL names the one column of a scalar
/// table function after the alias (psql's `\d+` reads `x` so); DataFusion names only the table. Only the
/// qualified name, as the catalog queries of tools write it: a user's `unnest` of a struct array has a
/// column per field, and DataFusion's own names for them keep working.
struct NameScalarFunctionColumns;

impl VisitorMut for NameScalarFunctionColumns {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        if let TableFactor::Table {
            name,
            args: Some(_),
            alias: Some(alias),
            with_ordinality: false,
            ..
        } = factor
            && name.to_string().eq_ignore_ascii_case("pg_catalog.unnest")
            && alias.columns.is_empty()
        {
            alias.columns = vec![TableAliasColumnDef::from_name(alias.name.value.clone())];
        }
        ControlFlow::Continue(())
    }
}

/// What [`rewrite`] puts in place of `expr`, as SQL text; `None` to keep it.
fn replacement_text(expr: &Expr) -> Option<String> {
    if let Expr::CompoundFieldAccess { root, access_chain } = expr {
        return field_access(root, access_chain);
    }
    let Expr::Function(f) = expr else {
        return None;
    };
    let name = f.name.to_string().to_lowercase();
    // datafusion-postgres may have taken the schema off already.
    if name == "information_schema._pg_expandarray" || name == "_pg_expandarray" {
        return Some(format!("unnest({}{})", ExpandArray::NAME, f.args));
    }
    // Only without ORDER BY: array_agg over a derived table need not keep the subquery's order.
    if let FunctionArguments::Subquery(query) = &f.args
        && name == "array"
        && query.order_by.is_none()
    {
        return Some(format!(
            "(SELECT array_agg(array_element) FROM ({query}) AS array_subquery(array_element))"
        ));
    }
    if name.ends_with("generate_subscripts") {
        let args = f.args.to_string();
        let inner = args.trim_start_matches('(').trim_end_matches(')');
        let (array, dim) = inner.rsplit_once(',')?;
        return Some(format!(
            "unnest(range(1, CAST(array_length({array}, {dim}) AS BIGINT) + 1))"
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generate_subscripts_becomes_an_unnest_of_a_range() {
        let text = rewritten("SELECT unnest(k) AS n, generate_subscripts(k, 1) AS i FROM t");
        assert!(
            text.contains("unnest(range(1, CAST(array_length(k, 1) AS BIGINT) + 1)) AS i"),
            "{text}"
        );
    }

    /// `sql` as [`rewrite`] leaves it.
    fn rewritten(sql: &str) -> String {
        let statement = Parser::new(&PostgreSqlDialect {})
            .try_with_sql(sql)
            .unwrap()
            .parse_statement()
            .unwrap();
        rewrite(statement).to_string()
    }

    #[tokio::test]
    async fn an_array_subquery_becomes_the_array_of_its_rows() {
        let sql = rewritten(
            "SELECT array_to_string(ARRAY(SELECT 'toast.' || x FROM unnest(['a', 'b']) AS t(x)), ', ')",
        );
        let text = answer(&SessionContext::new(), &sql).await;
        assert!(text.contains("| toast.a, toast.b"), "{text}");
        // With ORDER BY it is left alone: array_agg need not keep the order.
        let ordered = "SELECT ARRAY(SELECT x FROM t ORDER BY x)";
        assert_eq!(rewritten(ordered), ordered);
    }

    #[test]
    fn pg_catalog_unnest_names_its_column_after_its_alias() {
        assert!(
            rewritten("SELECT x FROM pg_catalog.unnest(k) x")
                .ends_with("FROM pg_catalog.unnest(k) x (x)"),
            "{}",
            rewritten("SELECT x FROM pg_catalog.unnest(k) x")
        );
        // DataFusion's own names stay for unqualified table functions.
        let own = "SELECT value FROM generate_series(1, 3) AS g";
        assert_eq!(rewritten(own), own);
    }

    #[tokio::test]
    async fn pg_expandarray_gives_elements_with_positions_and_fields_are_read_off_expressions() {
        let ctx = SessionContext::new();
        register(&ctx);
        let sql = rewritten(
            "SELECT (information_schema._pg_expandarray(k)).x AS x, \
             (information_schema._pg_expandarray(k)).n AS n \
             FROM (SELECT make_array(7, 5, 9) AS k UNION ALL SELECT make_array(4)) ORDER BY n, x",
        );
        let text = answer(&ctx, &sql).await;
        let rows: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("| "))
            .skip(1)
            .collect();
        assert_eq!(
            rows,
            ["| 4 | 1 |", "| 7 | 1 |", "| 5 | 2 |", "| 9 | 3 |"],
            "{text}"
        );
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
        let visible = answer(&ctx, "SELECT pg_type_is_visible(CAST(25 AS INT)) AS v").await;
        assert!(visible.contains("true"), "{visible}");
        assert!(server_version().starts_with("16.6 "));
    }
}
