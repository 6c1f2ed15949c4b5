//! What the client wrote that datafusion-postgres's rewriting would lose, kept.
//!
//! Before a statement reaches the hooks, datafusion-postgres rewrites it, and two of its rewrites lose
//! what a data team wrote:
//! - it replaces each subquery that is a select item with null when it names a column by a qualifier that
//!   is not an alias given inside it: a reference to the outer query, but also a table's own name
//!   (`(SELECT count(*) FROM events WHERE events.event_type = …)`). Its catalog queries need that (psql's
//!   and the tools' have subqueries DataFusion cannot plan), but a data team's query would answer null
//!   without a word;
//! - it renames `current_user` to `session_user`, and with it the column.
//!
//! So the SQL the client sends is read first: each select-item subquery over the leaderboard's own tables
//! is put in parentheses once more, which datafusion-postgres leaves alone and DataFusion plans as the same
//! subquery (answered, or refused with DataFusion's message); a select item `current_user` is named so.
//! Subqueries over `pg_catalog` and `information_schema` stay datafusion-postgres's, and SQL with neither
//! goes on byte for byte as it was sent (psql's catalog queries are recognised by their text).

use crate::sql::pg_rewrite::{selects, session_user_function};
use async_trait::async_trait;
use datafusion::sql::sqlparser::ast::{
    Expr, Ident, ObjectName, Query, SelectItem, Visit, VisitMut, Visitor, VisitorMut,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion_postgres::DfSessionService;
use datafusion_postgres::pgwire;
use futures_util::Sink;
use pgwire::api::portal::Format;
use pgwire::api::results::{FieldInfo, Response};
use pgwire::api::stmt::QueryParser;
use pgwire::api::store::PortalStore;
use pgwire::api::{ClientInfo, ClientPortalStore, Type, query::SimpleQueryHandler};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use std::borrow::Cow;
use std::ops::ControlFlow;
use std::sync::Arc;

/// `sql` with each select-item subquery over the leaderboard's tables in parentheses once more and each
/// select item `current_user` named; `sql` itself when it has neither, or does not parse
/// (datafusion-postgres then says why).
pub fn as_written(sql: &str) -> Cow<'_, str> {
    let Ok(mut statements) = Parser::parse_sql(&PostgreSqlDialect {}, sql) else {
        return Cow::Borrowed(sql);
    };
    let mut keep = KeepAsWritten { kept: false };
    for statement in &mut statements {
        let _ = statement.visit(&mut keep);
    }
    if !keep.kept {
        return Cow::Borrowed(sql);
    }
    let texts: Vec<String> = statements.iter().map(ToString::to_string).collect();
    Cow::Owned(texts.join("; "))
}

/// Wraps the select-item subqueries and names the `current_user` items of every query of a statement
/// ([`as_written`]).
struct KeepAsWritten {
    kept: bool,
}

impl VisitorMut for KeepAsWritten {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        for select in selects(&mut query.body) {
            for item in &mut select.projection {
                if let SelectItem::UnnamedExpr(expr) = item
                    && session_user_function(expr).as_deref() == Some("current_user")
                {
                    *item = SelectItem::ExprWithAlias {
                        expr: expr.clone(),
                        alias: Ident::new("current_user"),
                    };
                    self.kept = true;
                    continue;
                }
                let (SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. }) = item
                else {
                    continue;
                };
                if let Expr::Subquery(subquery) = expr
                    && !reads_the_catalog(subquery)
                {
                    *expr = Expr::Nested(Box::new(expr.clone()));
                    self.kept = true;
                }
            }
        }
        ControlFlow::Continue(())
    }
}

/// Whether `query` reads a table of `pg_catalog` or `information_schema` (named so, or `pg_…`).
fn reads_the_catalog(query: &Query) -> bool {
    struct Catalog(bool);
    impl Visitor for Catalog {
        type Break = ();
        fn pre_visit_relation(&mut self, name: &ObjectName) -> ControlFlow<()> {
            let parts: Vec<String> = name
                .0
                .iter()
                .map(|p| p.to_string().trim_matches('"').to_ascii_lowercase())
                .collect();
            self.0 |= parts
                .iter()
                .any(|p| p == "pg_catalog" || p == "information_schema")
                || parts.last().is_some_and(|p| p.starts_with("pg_"));
            ControlFlow::Continue(())
        }
    }
    let mut catalog = Catalog(false);
    let _ = query.visit(&mut catalog);
    catalog.0
}

/// datafusion-postgres's simple-protocol handler, given the SQL [`as_written`].
pub struct SimpleAsWritten(pub Arc<DfSessionService>);

#[async_trait]
impl SimpleQueryHandler for SimpleAsWritten {
    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: std::fmt::Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        self.0.do_query(client, &as_written(query)).await
    }
}

/// datafusion-postgres's extended-protocol parser, given the SQL [`as_written`].
pub struct ParserAsWritten(pub Arc<datafusion_postgres::Parser>);

#[async_trait]
impl QueryParser for ParserAsWritten {
    type Statement = <datafusion_postgres::Parser as QueryParser>::Statement;

    async fn parse_sql<C>(
        &self,
        client: &C,
        sql: &str,
        types: &[Option<Type>],
    ) -> PgWireResult<Option<Self::Statement>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        self.0.parse_sql(client, &as_written(sql), types).await
    }

    fn get_parameter_types(&self, statement: &Self::Statement) -> PgWireResult<Vec<Type>> {
        self.0.get_parameter_types(statement)
    }

    fn get_result_schema(
        &self,
        statement: &Self::Statement,
        column_format: Option<&Format>,
    ) -> PgWireResult<Vec<FieldInfo>> {
        self.0.get_result_schema(statement, column_format)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_current_user_item_keeps_its_name() {
        assert_eq!(
            as_written("SELECT current_user, session_user"),
            "SELECT current_user AS current_user, session_user"
        );
    }

    #[test]
    fn select_item_subqueries_over_the_tables_are_kept_and_catalog_ones_left() {
        let kept = as_written(
            "SELECT 1 AS a, (SELECT count(*) FROM events WHERE events.event_type = 'login') AS n",
        );
        assert!(
            kept.contains("((SELECT count(*) FROM events WHERE events.event_type = 'login'))"),
            "{kept}"
        );
        // In a nested query and in each statement.
        let nested = as_written(
            "SELECT * FROM (SELECT b.id, (SELECT max(e.x) FROM events e WHERE e.b = b.id) FROM b) t; SELECT 1",
        );
        assert!(nested.contains("((SELECT max(e.x)"), "{nested}");
        assert!(nested.ends_with("; SELECT 1"), "{nested}");
        // Catalog queries, SQL without select-item subqueries and SQL that does not parse are as sent.
        for as_sent in [
            "SELECT c.relname, (SELECT n.nspname FROM pg_catalog.pg_namespace n WHERE n.oid = c.relnamespace) FROM pg_catalog.pg_class c",
            "SELECT (SELECT count(*) FROM pg_class)",
            "SELECT   a FROM t WHERE x IN (SELECT y FROM u)",
            "SELEC nothing",
        ] {
            assert!(
                matches!(as_written(as_sent), Cow::Borrowed(s) if s == as_sent),
                "{as_sent}"
            );
        }
    }
}
