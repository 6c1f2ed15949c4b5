//! Statements in PostgreSQL's words that DataFusion says otherwise, rewritten before planning for every
//! front end (Postgres, HTTP, `leaderboard sql`): what the catalog queries of psql, SQLAlchemy and pgjdbc
//! write.

use super::pg_compat::ExpandArray;
use datafusion::sql::sqlparser::ast::{
    AccessExpr, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentList,
    FunctionArguments, GroupByExpr, Ident, LambdaFunction, LambdaFunctionParameter, LambdaSyntax,
    ObjectName, OneOrManyWithParens, Query, Select, SelectItem, SetExpr, Statement, TableAlias,
    TableAliasColumnDef, TableFactor, VisitMut, VisitorMut, visit_expressions_mut,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;
use std::ops::ControlFlow;

/// What `current_user` answers without a Postgres login (over HTTP and in `leaderboard sql`):
/// PostgreSQL's superuser, as datafusion-postgres names it.
pub const NO_LOGIN: &str = "postgres";

/// The functions naming the session's user; sqlparser reads PostgreSQL's keywords as calls without
/// parentheses, and datafusion-postgres has made `current_user` `session_user` already.
const SESSION_USER_FUNCTIONS: [&str; 4] = ["current_user", "session_user", "user", "current_role"];

/// `statement` with what DataFusion cannot run but can run in other words rewritten:
/// - each `generate_subscripts(array, dim)` becomes `unnest(range(1, array_length(array, dim) + 1))` (the
///   subscripts of a one-based array, unnested alongside the array as PostgreSQL zips set-returning
///   functions in a select list);
/// - `ARRAY(SELECT e FROM unnest(a) x)` becomes `array_transform(a, x -> e)` ([`array_of_elements`]);
/// - each other `ARRAY(subquery)` becomes `(SELECT array_agg(…) FROM (subquery))`, the array of the subquery's
///   one column (null rather than `{}` when it has no rows);
/// - `FROM pg_catalog.unnest(a) x` names its column `x` too, and a scalar function in `FROM` (`is_scalar`
///   says which names are scalar functions and not table functions) is a table of one row
///   ([`NameScalarFunctionColumns`]);
/// - `x [NOT] IN (subquery)` in a select list or an `ORDER BY`, where DataFusion plans none, becomes a test of
///   the array of the subquery's rows ([`InSubqueryOutsideFilters`]);
/// - `information_schema.columns` is read through PostgreSQL's type names and 1-based positions, and the
///   constraint views PostgreSQL has are there, empty ([`information_schema_in_postgres_words`]);
/// - `current_user`, `session_user`, `current_role` and `user` (Grafana's table picker and Metabase's
///   privilege check use them) are `user`, the login, and a select item of one is named after it
///   ([`NameSessionUser`]);
/// - `information_schema._pg_expandarray(a)` becomes `unnest(pg_expandarray_list(a))` ([`ExpandArray`]), and
///   `(expression).field` becomes `get_field(expression, 'field')`.
///
/// The rewrites that print and parse SQL text run first; the lambdas, which PostgreSQL's dialect cannot
/// spell, are put in last.
pub fn rewrite(
    mut statement: Statement,
    is_scalar: &dyn Fn(&str) -> bool,
    user: &str,
) -> Statement {
    let _ = statement.visit(&mut NameSessionUser);
    let _ = visit_expressions_mut(&mut statement, |expr| {
        if array_of_elements(expr).is_none()
            && let Some(text) = replacement_text(expr, user)
            && let Ok(replacement) = Parser::new(&PostgreSqlDialect {})
                .try_with_sql(&text)
                .and_then(|mut p| p.parse_expr())
        {
            *expr = replacement;
        }
        ControlFlow::<()>::Continue(())
    });
    let _ = statement.visit(&mut InSubqueryOutsideFilters);
    let _ = statement.visit(&mut NameScalarFunctionColumns { is_scalar });
    let _ = visit_expressions_mut(&mut statement, |expr| {
        if let Some(replacement) = array_of_elements(expr) {
            *expr = replacement;
        }
        ControlFlow::<()>::Continue(())
    });
    statement
}

/// `ARRAY(SELECT e FROM [pg_catalog.]unnest(a) [AS] x)` as `array_transform(a, x -> e)`: the array of `e`
/// for each element `x` of `a`, in order. When `a` is an outer query's column (psql's `\d+` builds a table's
/// options so), the subquery is correlated, which DataFusion plans only as a whole select item; the lambda
/// is an ordinary expression. `None` for any other subquery (a filter, a join, a second column, an order).
/// Unlike PostgreSQL's `{}`, a null `a` gives null.
fn array_of_elements(expr: &Expr) -> Option<Expr> {
    let Expr::Function(function) = expr else {
        return None;
    };
    let FunctionArguments::Subquery(query) = &function.args else {
        return None;
    };
    if !function.name.to_string().eq_ignore_ascii_case("array")
        || query.with.is_some()
        || query.order_by.is_some()
        || query.limit_clause.is_some()
        || query.fetch.is_some()
    {
        return None;
    }
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    let ungrouped =
        matches!(&select.group_by, GroupByExpr::Expressions(e, m) if e.is_empty() && m.is_empty());
    let ([from], [item]) = (select.from.as_slice(), select.projection.as_slice()) else {
        return None;
    };
    if !ungrouped
        || !from.joins.is_empty()
        || select.selection.is_some()
        || select.having.is_some()
        || select.distinct.is_some()
        || select.qualify.is_some()
    {
        return None;
    }
    let TableFactor::Table {
        name,
        args: Some(args),
        alias: Some(alias),
        with_ordinality: false,
        ..
    } = &from.relation
    else {
        return None;
    };
    let table_function = name.to_string().to_lowercase();
    if table_function != "unnest" && table_function != "pg_catalog.unnest" {
        return None;
    }
    let [FunctionArg::Unnamed(FunctionArgExpr::Expr(array))] = args.args.as_slice() else {
        return None;
    };
    let element = match alias.columns.as_slice() {
        [] => alias.name.clone(),
        [column] => column.name.clone(),
        _ => return None,
    };
    let (SelectItem::UnnamedExpr(body) | SelectItem::ExprWithAlias { expr: body, .. }) = item
    else {
        return None;
    };
    let lambda = Expr::Lambda(LambdaFunction {
        params: OneOrManyWithParens::One(LambdaFunctionParameter {
            name: element,
            data_type: None,
        }),
        body: Box::new(body.clone()),
        syntax: LambdaSyntax::Arrow,
    });
    let argument = |e: Expr| FunctionArg::Unnamed(FunctionArgExpr::Expr(e));
    Some(Expr::Function(Function {
        name: ObjectName::from(vec![Ident::new("array_transform")]),
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: vec![argument(array.clone()), argument(lambda)],
            clauses: vec![],
        }),
        ..function.clone()
    }))
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

/// `x [NOT] IN (subquery)` in a select list or an `ORDER BY` (Grafana's table picker names the tables of the
/// search path's schemas without their schema, and lists them first, so) as
/// `[NOT] coalesce(array_has((SELECT array_agg(…) FROM (subquery)), x), false)`: DataFusion plans an
/// `IN (subquery)` only in a filter, where it stays (a join there, rather than an array of every row); a
/// query nested in a select item has its own filters, left alone. Unlike PostgreSQL, a null `x` or a null
/// among the rows answers false rather than null. The subquery must not refer to the outer query.
struct InSubqueryOutsideFilters;

impl VisitorMut for InSubqueryOutsideFilters {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        for select in selects(&mut query.body) {
            for item in &mut select.projection {
                let _ = item.visit(&mut OutermostInSubqueries { depth: 0 });
            }
        }
        if let Some(order_by) = &mut query.order_by {
            let _ = order_by.visit(&mut OutermostInSubqueries { depth: 0 });
        }
        ControlFlow::Continue(())
    }
}

/// Rewrites the `IN (subquery)` expressions of one select item or `ORDER BY` that are not inside a nested
/// query ([`InSubqueryOutsideFilters`]): `depth` counts the expressions holding a query around the one
/// visited, itself included.
struct OutermostInSubqueries {
    depth: usize,
}

impl OutermostInSubqueries {
    fn holds_query(expr: &Expr) -> bool {
        match expr {
            Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. } => true,
            Expr::Function(f) => matches!(f.args, FunctionArguments::Subquery(_)),
            _ => false,
        }
    }
}

impl VisitorMut for OutermostInSubqueries {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if Self::holds_query(expr) {
            self.depth += 1;
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if !Self::holds_query(expr) {
            return ControlFlow::Continue(());
        }
        self.depth -= 1;
        if self.depth == 0
            && let Expr::InSubquery {
                expr: needle,
                subquery,
                negated,
            } = expr
        {
            let text = format!(
                "{}coalesce(array_has((SELECT array_agg(in_element) FROM ({subquery}) AS in_subquery(in_element)), {needle}), false)",
                if *negated { "NOT " } else { "" }
            );
            if let Ok(replacement) = Parser::new(&PostgreSqlDialect {})
                .try_with_sql(&text)
                .and_then(|mut p| p.parse_expr())
            {
                *expr = replacement;
            }
        }
        ControlFlow::Continue(())
    }
}

/// PostgreSQL's functions in `FROM` that return one value per row:
/// - gives `FROM pg_catalog.unnest(a) x` the column list `x(x)`: PostgreSQL names the one column of a
///   scalar table function after the alias (psql's `\d+` reads `x` so); DataFusion names only the table.
///   Only the qualified name, as the catalog queries of tools write it: a user's `unnest` of a struct array
///   has a column per field, and DataFusion's own names for them keep working;
/// - makes `FROM f(args) s` of a scalar function `f` the one-row table `(SELECT f(args) AS s) s` (Grafana's
///   table picker splits the search path so), where DataFusion looks for a table function.
struct NameScalarFunctionColumns<'a> {
    is_scalar: &'a dyn Fn(&str) -> bool,
}

impl VisitorMut for NameScalarFunctionColumns<'_> {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        if let Some(table) = self
            .one_row_table(factor)
            .or_else(|| series_named(factor))
            .or_else(|| information_schema_in_postgres_words(factor))
        {
            *factor = table;
            return ControlFlow::Continue(());
        }
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

/// A function called in `FROM`: its name's last part in lower case, the call as written, its alias.
struct FromCall<'a> {
    function: String,
    call: String,
    alias: Option<&'a TableAlias>,
}

impl<'a> FromCall<'a> {
    /// The call `factor` makes, if it is one.
    fn of(factor: &'a TableFactor) -> Option<Self> {
        let TableFactor::Table {
            name,
            args: Some(args),
            alias,
            with_ordinality: false,
            ..
        } = factor
        else {
            return None;
        };
        let arguments: Vec<String> = args.args.iter().map(ToString::to_string).collect();
        Some(FromCall {
            function: name.0.last()?.to_string().to_lowercase(),
            call: format!("{name}({})", arguments.join(", ")),
            alias: alias.as_ref(),
        })
    }
}

/// The table `(query) alias`; `None` if `query` does not parse.
fn derived(query: &str, alias: TableAlias) -> Option<TableFactor> {
    let subquery = Parser::new(&PostgreSqlDialect {})
        .try_with_sql(query)
        .and_then(|mut p| p.parse_query())
        .ok()?;
    Some(TableFactor::Derived {
        lateral: false,
        subquery,
        alias: Some(alias),
        sample: None,
    })
}

/// `information_schema`'s views as PostgreSQL has them, for `factor` `information_schema.NAME` (see
/// [`information_schema_view`]), under the alias written or the view's name.
fn information_schema_in_postgres_words(factor: &TableFactor) -> Option<TableFactor> {
    let TableFactor::Table {
        name,
        args: None,
        alias,
        ..
    } = factor
    else {
        return None;
    };
    let parts: Vec<String> = name.0.iter().map(ToString::to_string).collect();
    let unquoted: Vec<&str> = parts.iter().map(|p| p.trim_matches('"')).collect();
    let [schema, view] = unquoted.as_slice() else {
        return None;
    };
    if !schema.eq_ignore_ascii_case("information_schema") {
        return None;
    }
    let view = view.to_ascii_lowercase();
    let query = information_schema_view(&view)?;
    let alias = alias.clone().unwrap_or(TableAlias {
        explicit: true,
        name: Ident::new(view),
        columns: vec![],
        at: None,
    });
    derived(&query, alias)
}

/// The constraint views of PostgreSQL's `information_schema` that DataFusion's lacks, with their columns
/// (Metabase's sync joins `table_constraints` and `key_column_usage` to find primary keys): empty, as this
/// database has no keys or constraints.
const CONSTRAINT_VIEWS: [(&str, &[&str]); 5] = [
    (
        "table_constraints",
        &[
            "constraint_catalog",
            "constraint_schema",
            "constraint_name",
            "table_catalog",
            "table_schema",
            "table_name",
            "constraint_type",
            "is_deferrable",
            "initially_deferred",
            "enforced",
            "nulls_distinct",
        ],
    ),
    (
        "key_column_usage",
        &[
            "constraint_catalog",
            "constraint_schema",
            "constraint_name",
            "table_catalog",
            "table_schema",
            "table_name",
            "column_name",
            "ordinal_position:int",
            "position_in_unique_constraint:int",
        ],
    ),
    (
        "referential_constraints",
        &[
            "constraint_catalog",
            "constraint_schema",
            "constraint_name",
            "unique_constraint_catalog",
            "unique_constraint_schema",
            "unique_constraint_name",
            "match_option",
            "update_rule",
            "delete_rule",
        ],
    ),
    (
        "constraint_column_usage",
        &[
            "table_catalog",
            "table_schema",
            "table_name",
            "column_name",
            "constraint_catalog",
            "constraint_schema",
            "constraint_name",
        ],
    ),
    (
        "check_constraints",
        &[
            "constraint_catalog",
            "constraint_schema",
            "constraint_name",
            "check_clause",
        ],
    ),
];

/// The query standing for `information_schema.VIEW` (`view` in lower case), where DataFusion's differs
/// from PostgreSQL's:
/// - `columns`: `data_type` in PostgreSQL's words (`text`, `timestamp with time zone`; Grafana's query
///   builder finds time columns by them), `ordinal_position` from 1, and PostgreSQL's columns that
///   DataFusion's lacks: `udt_name` (`int8`, `timestamptz`, `_text`: Metabase's sync types columns by
///   it), `udt_schema`, identity and generation (none), updatability (none: the database is read-only).
///   DataFusion's view inside is qualified by its catalog, so it is not rewritten again;
/// - the views of [`CONSTRAINT_VIEWS`], empty.
fn information_schema_view(view: &str) -> Option<String> {
    if view == "columns" {
        return Some(format!(
            "SELECT table_catalog, table_schema, table_name, column_name, \
             ordinal_position + 1 AS ordinal_position, column_default, is_nullable, \
             {data_type}(data_type) AS data_type, character_maximum_length, character_octet_length, \
             numeric_precision, numeric_precision_radix, numeric_scale, datetime_precision, \
             interval_type, table_catalog AS udt_catalog, 'pg_catalog' AS udt_schema, \
             {udt_name}(data_type) AS udt_name, 'NO' AS is_identity, 'NEVER' AS is_generated, \
             CAST(NULL AS TEXT) AS generation_expression, 'NO' AS is_updatable \
             FROM {database}.information_schema.columns",
            data_type = super::pg_compat::PG_DATA_TYPE,
            udt_name = super::pg_compat::PG_UDT_NAME,
            database = super::DATABASE,
        ));
    }
    let (_, columns) = CONSTRAINT_VIEWS.iter().find(|(name, _)| *name == view)?;
    let columns: Vec<String> = columns
        .iter()
        .map(|column| match column.split_once(':') {
            Some((name, _)) => format!("CAST(NULL AS INT) AS {name}"),
            None => format!("CAST(NULL AS TEXT) AS {column}"),
        })
        .collect();
    Some(format!("SELECT {} WHERE false", columns.join(", ")))
}

/// `(SELECT value, value AS alias FROM f(args)) alias` for `factor` `f(args) alias` of the series `f`
/// (`generate_series`, `range`): PostgreSQL names the one column after the alias (Grafana's table picker
/// reads `i` of `generate_series(…) AS i`), DataFusion names it `value`; both names work.
fn series_named(factor: &TableFactor) -> Option<TableFactor> {
    let call = FromCall::of(factor)?;
    let alias = call.alias.filter(|a| a.columns.is_empty())?;
    if !matches!(call.function.as_str(), "generate_series" | "range")
        || alias.name.value.eq_ignore_ascii_case("value")
    {
        return None;
    }
    derived(
        &format!("SELECT value, value AS {} FROM {}", alias.name, call.call),
        alias.clone(),
    )
}

impl NameScalarFunctionColumns<'_> {
    /// `(SELECT f(args) AS column) alias` for `factor` `f(args) alias[(column)]` when `f` is a scalar
    /// function; PostgreSQL names the column after the alias, or after the function without one.
    fn one_row_table(&self, factor: &TableFactor) -> Option<TableFactor> {
        let call = FromCall::of(factor)?;
        if call.function == "unnest" || !(self.is_scalar)(&call.function) {
            return None;
        }
        let column = match call.alias.map(|a| a.columns.as_slice()) {
            Some([column]) => column.name.clone(),
            Some([]) => call.alias?.name.clone(),
            None => Ident::new(&call.function),
            Some(_) => return None,
        };
        let mut alias = call.alias.cloned().unwrap_or(TableAlias {
            explicit: true,
            name: Ident::new(&call.function),
            columns: vec![],
            at: None,
        });
        alias.columns.clear();
        derived(&format!("SELECT {} AS {column}", call.call), alias)
    }
}

/// The name of the session-user function `expr` calls, in lower case ([`SESSION_USER_FUNCTIONS`]).
pub(crate) fn session_user_function(expr: &Expr) -> Option<String> {
    // sqlparser reads `current_role` as a name; unquoted, it is PostgreSQL's keyword.
    if let Expr::Identifier(name) = expr
        && name.quote_style.is_none()
        && name.value.eq_ignore_ascii_case("current_role")
    {
        return Some("current_role".into());
    }
    let Expr::Function(f) = expr else {
        return None;
    };
    let name = f.name.to_string().to_lowercase();
    let name = name.strip_prefix("pg_catalog.").unwrap_or(&name);
    let no_arguments = match &f.args {
        FunctionArguments::None => true,
        FunctionArguments::List(list) => list.args.is_empty(),
        FunctionArguments::Subquery(_) => false,
    };
    (no_arguments && SESSION_USER_FUNCTIONS.contains(&name)).then(|| name.to_string())
}

/// Names each select item that is only a session-user function after the function (`session_user`), as
/// PostgreSQL does, before [`rewrite`] puts the login in its place: two of them in one select list
/// (`SELECT current_user, session_user`) would otherwise have the same name, which DataFusion refuses.
/// (Over the Postgres port, datafusion-postgres has renamed `current_user` to `session_user`; the port
/// names a `current_user` item before that, `super::postgres`'s `as_written`.)
struct NameSessionUser;

impl VisitorMut for NameSessionUser {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        for select in selects(&mut query.body) {
            for item in &mut select.projection {
                if let SelectItem::UnnamedExpr(expr) = item
                    && let Some(name) = session_user_function(expr)
                {
                    *item = SelectItem::ExprWithAlias {
                        expr: expr.clone(),
                        alias: Ident::new(name),
                    };
                }
            }
        }
        ControlFlow::Continue(())
    }
}

/// The selects of a query's `body`: itself, or each branch of its UNIONs (not nested queries).
pub(crate) fn selects(body: &mut SetExpr) -> Vec<&mut Select> {
    let mut found = Vec::new();
    let mut bodies = vec![body];
    while let Some(body) = bodies.pop() {
        match body {
            SetExpr::Select(select) => found.push(select.as_mut()),
            SetExpr::SetOperation { left, right, .. } => {
                bodies.push(left.as_mut());
                bodies.push(right.as_mut());
            }
            _ => {}
        }
    }
    found
}

/// What [`rewrite`] puts in place of `expr`, as SQL text, with `user` the session's user; `None` to keep
/// it.
fn replacement_text(expr: &Expr, user: &str) -> Option<String> {
    if session_user_function(expr).is_some() {
        return Some(format!("CAST('{}' AS TEXT)", user.replace('\'', "''")));
    }
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
    use super::super::pg_compat::register;
    use super::*;
    use datafusion::prelude::SessionContext;

    #[test]
    fn generate_subscripts_becomes_an_unnest_of_a_range() {
        let text = rewritten("SELECT unnest(k) AS n, generate_subscripts(k, 1) AS i FROM t");
        assert!(
            text.contains("unnest(range(1, CAST(array_length(k, 1) AS BIGINT) + 1)) AS i"),
            "{text}"
        );
    }

    /// Whether `name` is one of the scalar functions the tests' statements call in `FROM`.
    fn is_scalar(name: &str) -> bool {
        name == "string_to_array"
    }

    /// The data lines of a printed table (below its header).
    fn rows(text: &str) -> Vec<&str> {
        text.lines()
            .filter(|l| l.starts_with("| "))
            .skip(1)
            .collect()
    }

    /// `sql` as [`rewrite`] leaves it.
    fn rewritten(sql: &str) -> String {
        let statement = Parser::new(&PostgreSqlDialect {})
            .try_with_sql(sql)
            .unwrap()
            .parse_statement()
            .unwrap();
        rewrite(statement, &is_scalar, "analyst").to_string()
    }

    #[tokio::test]
    async fn an_array_of_an_outer_columns_elements_becomes_a_lambda_over_them() {
        // psql's \d+ NAME: the elements of a left-joined table's column, inside a function call.
        let sql = "SELECT c.n, array_to_string(c.o || ARRAY(SELECT 'toast.' || x FROM pg_catalog.unnest(t.o) x), ', ') AS options \
             FROM (SELECT 1 AS n, make_array('a') AS o UNION ALL SELECT 2, make_array('b')) c \
             LEFT JOIN (SELECT make_array('p', 'q') AS o, 1 AS n) t ON c.n = t.n ORDER BY c.n";
        assert!(
            rewritten(sql).contains("array_transform(t.o, x -> 'toast.' || x)"),
            "{}",
            rewritten(sql)
        );
        let text = answer(&SessionContext::new(), sql).await;
        assert!(text.contains("| 1 | a, toast.p, toast.q |"), "{text}");
        // No row on the right: the lambda gives null, and the options are the left's.
        assert!(text.contains("| 2 | b "), "{text}");
        // Inside a rewrite that prints and parses its text again, the lambda is still put in.
        let nested = "SELECT ARRAY(SELECT array_to_string(ARRAY(SELECT 'p.' || x FROM pg_catalog.unnest(t.o) x), ',') \
             FROM (SELECT make_array('a', 'b') AS o) t WHERE t.o IS NOT NULL) AS a";
        let text = answer(&SessionContext::new(), nested).await;
        assert!(text.contains("p.a,p.b"), "{text}");
        // Filters, joins, grouping and two columns are left to the array_agg rewrite or DataFusion.
        let filtered = rewritten("SELECT ARRAY(SELECT x FROM unnest(k) x WHERE x > 1) FROM t");
        assert!(filtered.contains("array_agg"), "{filtered}");
    }

    #[tokio::test]
    async fn an_array_subquery_becomes_the_array_of_its_rows() {
        let sql = "SELECT array_to_string(ARRAY(SELECT 'toast.' || x FROM (VALUES ('a'), ('b')) AS t(x)), ', ')";
        assert!(rewritten(sql).contains("array_agg"), "{}", rewritten(sql));
        let text = answer(&SessionContext::new(), sql).await;
        assert!(text.contains("| toast.a, toast.b"), "{text}");
        // With ORDER BY it is left alone: array_agg need not keep the order.
        let ordered = "SELECT ARRAY(SELECT x FROM t ORDER BY x)";
        assert_eq!(rewritten(ordered), ordered);
    }

    #[tokio::test]
    async fn an_in_subquery_in_a_select_list_or_an_order_by_tests_the_array_of_its_rows() {
        let sql = "SELECT x, CASE WHEN x IN (SELECT y FROM (VALUES (1), (2)) AS t(y)) THEN 'in' ELSE 'out' END AS a, \
             x NOT IN (SELECT 2) AS b FROM (VALUES (1), (2), (3)) AS s(x) \
             ORDER BY CASE WHEN x IN (SELECT 3) THEN 0 ELSE 1 END, x";
        let text = rewritten(sql);
        assert_eq!(text.matches("array_has").count(), 3, "{text}");
        let text = answer(&SessionContext::new(), sql).await;
        let rows = rows(&text);
        assert_eq!(
            rows,
            [
                "| 3 | out | true  |",
                "| 1 | in  | true  |",
                "| 2 | in  | false |"
            ],
            "{text}"
        );
        // In a filter it stays for DataFusion to plan as a join, also in a query nested in a select item.
        let filter = "SELECT x FROM t WHERE x IN (SELECT y FROM u)";
        assert_eq!(rewritten(filter), filter);
        let nested =
            "SELECT (SELECT count(*) FROM u WHERE u.b NOT IN (SELECT b FROM v)) AS n FROM t";
        assert_eq!(rewritten(nested), nested);
        // Each branch of a UNION.
        let union = "SELECT 1 IN (SELECT 1) AS a UNION ALL SELECT 2 IN (SELECT 1)";
        assert_eq!(
            rewritten(union).matches("array_has").count(),
            2,
            "{}",
            rewritten(union)
        );
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
        let own = "SELECT value FROM generate_series(1, 3)";
        assert_eq!(rewritten(own), own);
    }

    #[tokio::test]
    async fn a_scalar_function_in_from_is_a_table_of_one_row() {
        let sql = "SELECT s[i] AS part FROM generate_series(1, 2) AS g(i), string_to_array('a,b', ',') s ORDER BY part";
        assert!(
            rewritten(sql).contains("(SELECT string_to_array('a,b', ',') AS s) s"),
            "{}",
            rewritten(sql)
        );
        let text = answer(&SessionContext::new(), sql).await;
        assert!(
            text.contains("| a    |") && text.contains("| b    |"),
            "{text}"
        );
        // Table functions stay as they are.
        let own = "SELECT value FROM generate_series(1, 3)";
        assert_eq!(rewritten(own), own);
        // PostgreSQL's keyword `user` is the login; a quoted "user" is a column.
        assert_eq!(
            rewritten("SELECT CASE WHEN a THEN user ELSE \"user\" END FROM t"),
            "SELECT CASE WHEN a THEN CAST('analyst' AS TEXT) ELSE \"user\" END FROM t"
        );
        // Each session-user function is the login, named after the function in a select list.
        assert_eq!(
            rewritten("SELECT current_user, session_user, x FROM t WHERE o = current_role"),
            "SELECT CAST('analyst' AS TEXT) AS current_user, CAST('analyst' AS TEXT) AS session_user, x \
             FROM t WHERE o = CAST('analyst' AS TEXT)"
        );
        // A series' one column is named after its alias too, and keeps DataFusion's name `value`.
        let series =
            "SELECT i, g.value FROM generate_series(1, 3) AS i, generate_series(4, 4) AS g";
        assert!(
            rewritten(series)
                .contains("FROM (SELECT value, value AS i FROM generate_series(1, 3)) AS i"),
            "{}",
            rewritten(series)
        );
        let text = answer(&SessionContext::new(), series).await;
        assert!(text.contains("| 3 | 4     |"), "{text}");
        // An alias `value` keeps DataFusion's one column.
        let value = "SELECT value FROM generate_series(1, 2) AS value";
        assert_eq!(rewritten(value), value);
    }

    #[tokio::test]
    async fn information_schema_columns_names_types_and_positions_as_postgresql_does() {
        let ctx = SessionContext::new_with_config(
            datafusion::prelude::SessionConfig::new().with_information_schema(true),
        );
        register(&ctx);
        ctx.sql(
            "CREATE TABLE t AS SELECT arrow_cast('a', 'Utf8View') AS a, \
             arrow_cast(0, 'Timestamp(Millisecond, Some(\"UTC\"))') AS b, CAST(1 AS BIGINT) AS c, \
             make_array(1.5) AS d",
        )
        .await
        .unwrap();
        let sql = "SELECT c.column_name, c.data_type, c.ordinal_position FROM information_schema.columns c \
             WHERE c.table_name = 't' ORDER BY 3";
        let text = answer(&ctx, sql).await;
        let rows: Vec<Vec<&str>> = rows(&text)
            .into_iter()
            .map(|l| {
                l.split('|')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .collect()
            })
            .collect();
        assert_eq!(
            rows,
            [
                ["a", "text", "1"],
                ["b", "timestamp with time zone", "2"],
                ["c", "bigint", "3"],
                ["d", "ARRAY", "4"]
            ],
            "{text}"
        );
        // Quoted, too.
        let quoted = "SELECT data_type FROM \"information_schema\".\"columns\" \
             WHERE table_name = 't' AND column_name = 'b'";
        let text = answer(&ctx, quoted).await;
        assert!(text.contains("| timestamp with time zone |"), "{text}");
    }

    #[tokio::test]
    async fn pg_expandarray_gives_elements_with_positions_and_fields_are_read_off_expressions() {
        let ctx = SessionContext::new();
        register(&ctx);
        let sql = "SELECT (information_schema._pg_expandarray(k)).x AS x, \
             (information_schema._pg_expandarray(k)).n AS n \
             FROM (SELECT make_array(7, 5, 9) AS k UNION ALL SELECT make_array(4)) ORDER BY n, x";
        let text = answer(&ctx, sql).await;
        let rows = rows(&text);
        assert_eq!(
            rows,
            ["| 4 | 1 |", "| 7 | 1 |", "| 5 | 2 |", "| 9 | 3 |"],
            "{text}"
        );
    }

    /// `sql`'s result on `ctx` once rewritten, as a printed table: the statement is planned as [`rewrite`]
    /// leaves it, not printed and parsed again (its lambdas have no PostgreSQL spelling).
    async fn answer(ctx: &SessionContext, sql: &str) -> String {
        let statement = Parser::new(&PostgreSqlDialect {})
            .try_with_sql(sql)
            .unwrap()
            .parse_statement()
            .unwrap();
        let state = ctx.state();
        let is_scalar = |name: &str| {
            state.scalar_functions().contains_key(name)
                && !state.table_functions().contains_key(name)
        };
        let statement = datafusion::sql::parser::Statement::Statement(Box::new(rewrite(
            statement, &is_scalar, NO_LOGIN,
        )));
        let plan = ctx.state().statement_to_plan(statement).await.unwrap();
        let batches = ctx
            .execute_logical_plan(plan)
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        datafusion::arrow::util::pretty::pretty_format_batches(&batches)
            .unwrap()
            .to_string()
    }
}
