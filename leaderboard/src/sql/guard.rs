//! What the data team may run: SELECT, EXPLAIN, SHOW and DESCRIBE, plus the session chatter Postgres
//! clients send (a few SET variables, BEGIN/COMMIT/ROLLBACK). Everything else (DDL, DML, COPY,
//! CREATE EXTERNAL TABLE, SET of engine options) is refused with a message that says why.

use super::SqlError;
use datafusion::sql::parser::{DFParser, Statement as DFStatement};
use datafusion::sql::sqlparser::ast::{Set, SetExpr, Statement};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;

/// What an allowed statement is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowed {
    /// A query the SQL engine plans and runs under its limits (SELECT, EXPLAIN, DESCRIBE, SHOW TABLES or
    /// COLUMNS).
    Query,
    /// `SHOW variable`: answered by the Postgres front end, or by the engine's settings table over HTTP.
    ShowVariable,
    /// A client session setting (`SET datestyle …`) or transaction control: no effect on the data.
    Session,
    /// Transaction characteristics (`SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL …`, as
    /// pgjdbc's `setTransactionIsolation` sends it for Metabase), accepted and ignored: every query reads
    /// one consistent snapshot, so every isolation level holds, and `READ WRITE` changes nothing, as every
    /// write is still refused.
    Transaction,
}

/// Session variables clients may SET (they change how a connection formats values, nothing else).
const SESSION_VARIABLES: [&str; 9] = [
    "datestyle",
    "bytea_output",
    "intervalstyle",
    "application_name",
    "extra_float_digits",
    "search_path",
    "statement_timeout",
    "client_encoding",
    "client_min_messages",
];

/// The message of every refusal.
fn refused(what: &str) -> String {
    format!(
        "the leaderboard's SQL is read-only: {what} is not allowed (only SELECT, EXPLAIN, SHOW and \
         DESCRIBE)"
    )
}

/// Checks one parsed statement.
pub fn check(statement: &Statement) -> Result<Allowed, String> {
    match statement {
        // `WITH … DELETE` and the like parse as queries whose body writes.
        Statement::Query(query) => match writes(&query.body) {
            Some(write) => Err(refused(&leading_words(&write.to_string()))),
            None => Ok(Allowed::Query),
        },
        Statement::ExplainTable { .. }
        | Statement::ShowTables { .. }
        | Statement::ShowColumns { .. } => Ok(Allowed::Query),
        Statement::Explain {
            statement: inner, ..
        } => match check(inner)? {
            Allowed::Query => Ok(Allowed::Query),
            _ => Err(refused("EXPLAIN of a non-query")),
        },
        Statement::ShowVariable { .. } => Ok(Allowed::ShowVariable),
        Statement::StartTransaction { .. }
        | Statement::Commit { .. }
        | Statement::Rollback { .. } => Ok(Allowed::Session),
        Statement::Set(set) => check_set(set),
        other => Err(refused(&leading_words(&other.to_string()))),
    }
}

/// The statement in `body` that writes (the INSERT, UPDATE, DELETE or MERGE of `WITH … DELETE …`), if any.
fn writes(body: &SetExpr) -> Option<&Statement> {
    match body {
        SetExpr::Insert(write)
        | SetExpr::Update(write)
        | SetExpr::Delete(write)
        | SetExpr::Merge(write) => Some(write),
        SetExpr::Query(query) => writes(&query.body),
        SetExpr::SetOperation { left, right, .. } => writes(left).or_else(|| writes(right)),
        _ => None,
    }
}

fn check_set(set: &Set) -> Result<Allowed, String> {
    match set {
        Set::SingleAssignment { variable, .. } => {
            let name = variable.to_string().to_lowercase();
            if SESSION_VARIABLES.contains(&name.as_str()) {
                Ok(Allowed::Session)
            } else {
                Err(format!(
                    "SET {name} is not allowed: only the client session settings {} may be set",
                    SESSION_VARIABLES.join(", ")
                ))
            }
        }
        Set::SetTimeZone { .. } | Set::SetNames { .. } => Ok(Allowed::Session),
        Set::SetTransaction { .. } => Ok(Allowed::Transaction),
        other => Err(refused(&leading_words(&other.to_string()))),
    }
}

/// The longest statement accepted, in bytes. DataFusion walks expressions recursively, so a statement's
/// length bounds how deep it can be: 256 KiB keeps the deepest (`1+1+1…`) well inside a query thread's stack
/// ([`super::limits::QUERY_THREAD_STACK_BYTES`]), and is far more than any IN list a tool writes.
pub const MAX_SQL_BYTES: usize = 256 * 1024;

/// Parses `sql` (one statement, DataFusion's dialect extensions included) and checks it: an error that
/// does not parse is [`SqlError::Invalid`], a refused statement [`SqlError::Forbidden`].
pub fn check_sql(sql: &str) -> Result<(Allowed, DFStatement), SqlError> {
    if sql.len() > MAX_SQL_BYTES {
        return Err(SqlError::Invalid(format!(
            "the query is {} bytes, over the limit of {MAX_SQL_BYTES} bytes (256 KiB)",
            sql.len()
        )));
    }
    let mut statements = DFParser::parse_sql_with_dialect(sql, &PostgreSqlDialect {})
        .map_err(|e| SqlError::Invalid(format!("cannot parse the query: {e}")))?;
    let statement = match (statements.pop_front(), statements.is_empty()) {
        (Some(statement), true) => statement,
        (None, _) => return Err(SqlError::Invalid("the query is empty".into())),
        (Some(_), false) => {
            return Err(SqlError::Invalid("send one statement at a time".into()));
        }
    };
    let allowed = check_parsed(&statement).map_err(SqlError::Forbidden)?;
    Ok((allowed, statement))
}

fn check_parsed(statement: &DFStatement) -> Result<Allowed, String> {
    Ok(match statement {
        DFStatement::Statement(s) => check(s)?,
        DFStatement::Explain(explain) => match &*explain.statement {
            DFStatement::Statement(s) if check(s)? == Allowed::Query => Allowed::Query,
            _ => return Err(refused("EXPLAIN of a non-query")),
        },
        DFStatement::CreateExternalTable(_) => return Err(refused("CREATE EXTERNAL TABLE")),
        DFStatement::CopyTo(_) => return Err(refused("COPY")),
        other => return Err(refused(&leading_words(&other.to_string()))),
    })
}

/// The statement's first keywords, for messages: `INSERT`, `CREATE TABLE`, `DROP VIEW`.
fn leading_words(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().take(3).collect();
    let n = match words.first().map(|w| w.to_uppercase()).as_deref() {
        Some("CREATE" | "DROP" | "ALTER") if words.get(1).is_some_and(|w| *w == "EXTERNAL") => 3,
        Some("CREATE" | "DROP" | "ALTER" | "TRUNCATE") => 2,
        _ => 1,
    };
    words[..n.min(words.len())].join(" ").to_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_pass_and_everything_that_writes_or_reads_files_is_refused_by_name() {
        for ok in [
            "SELECT 1",
            "WITH t AS (SELECT 1) SELECT * FROM t",
            "EXPLAIN SELECT * FROM events",
            "DESCRIBE events",
            "SHOW TABLES",
            "SHOW COLUMNS FROM events",
        ] {
            assert_eq!(check_sql(ok).unwrap().0, Allowed::Query, "{ok}");
        }
        assert_eq!(
            check_sql("SET datestyle = 'ISO'").unwrap().0,
            Allowed::Session
        );
        for transaction in [
            "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ UNCOMMITTED",
            "SET TRANSACTION READ ONLY",
        ] {
            assert_eq!(
                check_sql(transaction).unwrap().0,
                Allowed::Transaction,
                "{transaction}"
            );
        }
        for (bad, named) in [
            ("INSERT INTO events VALUES (1)", "INSERT"),
            ("DELETE FROM events", "DELETE"),
            ("UPDATE events SET amount = 0", "UPDATE"),
            ("CREATE TABLE t (a int)", "CREATE TABLE"),
            ("CREATE VIEW v AS SELECT 1", "CREATE VIEW"),
            ("DROP TABLE events", "DROP TABLE"),
            (
                "CREATE EXTERNAL TABLE t STORED AS CSV LOCATION '/etc/passwd'",
                "CREATE EXTERNAL TABLE",
            ),
            ("COPY events TO '/tmp/out.csv'", "COPY"),
            ("EXPLAIN DELETE FROM events", "EXPLAIN"),
            ("WITH t AS (SELECT 1) DELETE FROM events", "DELETE"),
            (
                "WITH t AS (SELECT 1) INSERT INTO events SELECT * FROM t",
                "INSERT",
            ),
            (
                "WITH t AS (SELECT 1) UPDATE events SET amount = 0",
                "UPDATE",
            ),
            ("EXPLAIN WITH t AS (SELECT 1) DELETE FROM events", "DELETE"),
        ] {
            let err = check_sql(bad).unwrap_err().to_string();
            assert!(
                err.contains("read-only") && err.contains(named),
                "{bad}: {err}"
            );
        }
        let err = check_sql("SET datafusion.execution.target_partitions = 64")
            .unwrap_err()
            .to_string();
        assert!(err.contains("only the client session settings"), "{err}");
        let invalid = |sql| matches!(check_sql(sql), Err(SqlError::Invalid(_)));
        assert!(invalid("SELECT 1; SELECT 2"));
        assert!(invalid(""));
        assert!(invalid("SELEC 1"));
    }
}
