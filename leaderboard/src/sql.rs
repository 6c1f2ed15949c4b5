//! Ad hoc SQL for the data team: DataFusion over the event archive and the live indicator tables,
//! read-only, each query under a memory limit and a timeout, on threads of its own.
//!
//! Front ends: the Postgres wire protocol ([`postgres`]), `POST /api/v1/sql` ([`crate::web::sql`]) and the offline
//! `leaderboard sql` command, which all go through [`SqlEngine`].

pub mod bounded;
pub mod catalog;
pub mod encode;
pub mod guard;
pub mod limits;
pub mod pg_compat;
pub mod pg_format;
pub mod pg_rewrite;
pub mod planning;
pub mod postgres;
pub mod report;
pub mod roles;
pub mod shape;

use crate::live::Live;
use analytics::Archive;
use anyhow::Context;
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use datafusion::error::DataFusionError;
use datafusion::execution::TaskContext;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{SendableRecordBatchStream, execute_stream};
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::parser::Statement as DFStatement;
use futures_util::{FutureExt, StreamExt};
use guard::Allowed;
use report::Excerpt;
use schemas::SqlConfig;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};
use thiserror::Error;
use tokio::sync::Semaphore;

/// The database the tables are in: what clients connect to (`psql … leaderboard`), `current_database()`
/// answers and `pg_database` lists.
pub const DATABASE: &str = "leaderboard";

/// The archive directory of a state directory.
pub fn archive_dir(state_dir: &std::path::Path) -> std::path::PathBuf {
    state_dir.join("archive")
}

/// Opens the archive of `state_dir` for a pipeline resuming at `positions` of `source`.
pub fn open_archive(
    state_dir: &std::path::Path,
    source: &str,
    positions: &std::collections::BTreeMap<u32, u64>,
) -> anyhow::Result<Archive> {
    let dir = archive_dir(state_dir);
    Archive::open(&dir, source, positions)
        .with_context(|| format!("cannot open the event archive in {}", dir.display()))
}

/// How long a file the archive merged away must stay on disk: a query that listed it before the merge
/// runs at most `sql.timeout_secs`, plus a margin for the plan to wind down after its deadline.
pub fn longest_query(config: &SqlConfig) -> Duration {
    Duration::from_secs(config.timeout_secs) + Duration::from_secs(5)
}

/// The copy of the organisation file kept in a state directory, for `leaderboard sql`.
pub fn organisation_copy(state_dir: &std::path::Path) -> std::path::PathBuf {
    state_dir.join("org.csv")
}

/// Keeps a copy of the organisation file `org` in `state_dir`.
pub fn keep_organisation(state_dir: &std::path::Path, org: &std::path::Path) -> anyhow::Result<()> {
    let copy = organisation_copy(state_dir);
    // The same file under another name (`./state/org.csv`, a link) must not be copied onto itself: the copy
    // would truncate it first.
    let same_file = match (copy.canonicalize(), org.canonicalize()) {
        (Ok(copy), Ok(org)) => copy == org,
        _ => false,
    };
    if !same_file {
        std::fs::copy(org, &copy)
            .with_context(|| format!("cannot copy {} to {}", org.display(), copy.display()))?;
    }
    Ok(())
}

/// The second line of defence behind [`guard`], on the plan: nothing that writes or defines.
pub fn verify_read_only(plan: &LogicalPlan) -> Result<(), SqlError> {
    datafusion::execution::context::SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
        .verify_plan(plan)
        .map_err(|e| SqlError::Forbidden(e.to_string()))
}

/// Why a query gave no result.
#[derive(Debug, Error)]
pub enum SqlError {
    /// The statement would change something or read files.
    #[error("{0}")]
    Forbidden(String),
    /// The query does not parse or plan (unknown table or column, type error).
    #[error("{0}")]
    Invalid(String),
    /// The query was stopped by a limit (the first field says which), or its result is too large.
    #[error("{1}")]
    Limit(Limit, String),
    /// As many queries as `sql.max_concurrent_queries` allows are running.
    #[error("{0}")]
    Busy(String),
    /// Something failed on the server's side.
    #[error("{0}")]
    Internal(String),
}

impl SqlError {
    /// The outcome label of the metrics.
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::Forbidden(_) => "forbidden",
            Self::Invalid(_) => "invalid",
            Self::Limit(..) => "limit",
            Self::Busy(_) => "busy",
            Self::Internal(_) => "internal",
        }
    }

    /// Sorts a DataFusion error: limits, the caller's mistakes, or ours.
    pub fn from_datafusion(e: DataFusionError) -> Self {
        Self::sort(&e)
    }

    /// [`Self::from_datafusion`] of an error the caller keeps.
    fn sort(e: &DataFusionError) -> Self {
        match e.find_root() {
            // Only the deadline's message starts so, and it already says what stopped the query.
            DataFusionError::ResourcesExhausted(message)
                if message.starts_with("query stopped") =>
            {
                Self::Limit(Limit::Time, message.clone())
            }
            DataFusionError::ResourcesExhausted(message) => {
                Self::Limit(Limit::Memory, format!("query stopped: {message}"))
            }
            DataFusionError::SQL(..)
            | DataFusionError::Plan(_)
            | DataFusionError::SchemaError(..)
            | DataFusionError::NotImplemented(_)
            | DataFusionError::Execution(_)
            | DataFusionError::ArrowError(..) => Self::Invalid(e.to_string()),
            _ => Self::Internal(e.to_string()),
        }
    }
}

/// The limit that stopped a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// `sql.timeout_secs`, while planning or running.
    Time,
    /// `sql.memory_limit_mb`: the query's memory pool, or a value a function would make.
    Memory,
    /// `sql.max_expression_weight`: refused before planning.
    Size,
    /// `sql.max_http_rows`: the result is too large for an HTTP answer.
    Rows,
}

impl Limit {
    /// The label of the metrics and log lines.
    pub fn label(self) -> &'static str {
        match self {
            Self::Time => "time",
            Self::Memory => "memory",
            Self::Size => "size",
            Self::Rows => "rows",
        }
    }
}

/// A collected result.
#[derive(Debug)]
pub struct QueryResult {
    /// The columns.
    pub schema: SchemaRef,
    /// The rows.
    pub batches: Vec<RecordBatch>,
}

/// The SQL engine: one catalog, one query runtime, the limits.
pub struct SqlEngine {
    ctx: SessionContext,
    runtime: Option<tokio::runtime::Runtime>,
    memory_limit_bytes: usize,
    timeout: Duration,
    max_http_rows: usize,
    /// One permit per query that may plan or run; a query holds its permit until its planning has ended,
    /// and again until its stream is dropped.
    running: Arc<Semaphore>,
    /// `sql.max_expression_weight`.
    max_expression_weight: u64,
    max_concurrent_queries: usize,
}

impl SqlEngine {
    /// The engine over `live`'s tables and `archive`, under `config`'s limits.
    pub fn new(
        config: &SqlConfig,
        live: &Arc<Live>,
        archive: &Arc<Archive>,
    ) -> anyhow::Result<Self> {
        let session = SessionConfig::new()
            .with_information_schema(true)
            .with_target_partitions(config.threads)
            .with_default_catalog_and_schema(DATABASE, "public");
        let state = SessionStateBuilder::new()
            .with_config(session)
            .with_default_features()
            .build();
        let ctx = SessionContext::new_with_state(planning::checking_deadlines(state));
        catalog::register(&ctx, live, archive)?;
        datafusion_postgres::datafusion_pg_catalog::pg_catalog::setup_pg_catalog(
            &ctx,
            DATABASE,
            roles::Roles::of(config),
        )
        .map_err(|e| anyhow::anyhow!("cannot set up pg_catalog: {e}"))?;
        pg_compat::register(&ctx);
        pg_compat::type_catalog_arrays(&ctx, DATABASE)
            .map_err(|e| anyhow::anyhow!("cannot type pg_catalog's arrays: {e}"))?;
        let memory_limit_bytes = usize::try_from(config.memory_limit_mb)
            .unwrap_or(usize::MAX / (1 << 20))
            .saturating_mul(1 << 20);
        bounded::register(
            &ctx,
            memory_limit_bytes,
            &format!("sql.memory_limit_mb = {}", config.memory_limit_mb),
        )
        .context("cannot bound the functions that make large values")?;
        let runtime = limits::query_runtime(config.threads)?;
        Ok(Self {
            ctx,
            runtime: Some(runtime),
            memory_limit_bytes,
            timeout: Duration::from_secs(config.timeout_secs),
            max_http_rows: config.max_http_rows,
            running: Arc::new(Semaphore::new(config.max_concurrent_queries)),
            max_concurrent_queries: config.max_concurrent_queries,
            max_expression_weight: config.max_expression_weight,
        })
    }

    /// The session context with the catalog (for the Postgres front end).
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// The runtime queries run on.
    fn handle(&self) -> tokio::runtime::Handle {
        self.runtime
            .as_ref()
            .expect("the runtime lives as long as the engine")
            .handle()
            .clone()
    }

    /// Most rows of an HTTP answer.
    pub fn max_http_rows(&self) -> usize {
        self.max_http_rows
    }

    /// Starts `plan` under the memory limit and the deadline, if fewer than `sql.max_concurrent_queries`
    /// queries are planning or running (otherwise it fails at once).
    ///
    /// The query runs on the query threads whatever runtime calls this; the stream it returns may be polled
    /// from any runtime and stops the query when dropped. A query that keeps the query threads busy cannot
    /// hold up the answer "busy" to another caller, or the Postgres connections, which run elsewhere. A
    /// limit that stops the query is logged with `statement`, the start of its SQL.
    pub async fn execute_plan(
        &self,
        plan: LogicalPlan,
        statement: &Excerpt,
    ) -> Result<SendableRecordBatchStream, SqlError> {
        let started = self.start_plan(plan, statement.clone()).await;
        if let Err(e) = &started {
            report::stopped(statement, e);
        }
        started
    }

    /// Starts `plan` as [`Self::execute_plan`] says; a limit that stops it before it starts is left to the
    /// caller to log.
    async fn start_plan(
        &self,
        plan: LogicalPlan,
        statement: Excerpt,
    ) -> Result<SendableRecordBatchStream, SqlError> {
        let permit = self
            .running
            .clone()
            .try_acquire_owned()
            .map_err(|_| self.busy())?;
        let (started, schema) = tokio::sync::oneshot::channel();
        let (batches, received) = tokio::sync::mpsc::channel(RESULT_BATCHES_IN_FLIGHT);
        let state = self.ctx.state();
        // The deadline counts from now, time spent waiting for a query thread included.
        let bounds = QueryLimits {
            deadline: Instant::now() + self.timeout,
            timeout: self.timeout,
            memory_limit_bytes: self.memory_limit_bytes,
        };
        self.handle().spawn(async move {
            let _running = permit; // held until the query has ended or its reader has gone
            // A panic inside DataFusion ends the query with an error, never as a result cut short.
            let begun = AssertUnwindSafe(start(state, plan, bounds))
                .catch_unwind()
                .await
                .unwrap_or_else(|panic| Err(SqlError::Internal(panicked(panic))));
            let mut stream = match begun {
                Ok(stream) => {
                    if started.send(Ok(stream.schema())).is_err() {
                        return; // the caller gave up waiting
                    }
                    stream
                }
                Err(e) => {
                    // Logged by the caller, unless it gave up waiting at the deadline (and said so).
                    let _ = started.send(Err(e));
                    return;
                }
            };
            loop {
                let batch = tokio::select! {
                    batch = AssertUnwindSafe(stream.next()).catch_unwind() => batch,
                    // The reader dropped the stream: stop the query without waiting for its next batch.
                    _ = batches.closed() => break,
                };
                let batch = match batch {
                    Ok(Some(Err(e))) => {
                        report::stopped(&statement, &SqlError::sort(&e));
                        Err(e)
                    }
                    Ok(Some(batch)) => batch,
                    Ok(None) => break,
                    Err(panic) => {
                        // The plan is unusable after a panic: say so and poll it no more.
                        let _ = batches
                            .send(Err(DataFusionError::External(panicked(panic).into())))
                            .await;
                        break;
                    }
                };
                if batches.send(batch).await.is_err() {
                    break;
                }
            }
        });
        let schema = tokio::time::timeout_at(bounds.deadline.into(), schema)
            .await
            .map_err(|_| SqlError::Limit(Limit::Time, limits::timeout_message(self.timeout)))?
            .map_err(|_| SqlError::Internal("the query task ended before it started".into()))??;
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            schema,
            tokio_stream::wrappers::ReceiverStream::new(received),
        )))
    }

    /// The answer when every query slot is taken.
    fn busy(&self) -> SqlError {
        SqlError::Busy(format!(
            "as many queries as may run at once (sql.max_concurrent_queries = {}) are running: try again \
             when one has finished",
            self.max_concurrent_queries
        ))
    }

    /// Plans one statement that [`guard::check_sql`] allowed as a query, under the query's limits, in
    /// DataFusion's words for PostgreSQL's ([`pg_rewrite::rewrite`]): a statement
    /// whose expressions weigh more than `sql.max_expression_weight` ([`shape`]) is refused at once,
    /// and planning takes a query slot and stops at its first check after `sql.timeout_secs` ([`planning`]).
    /// A limit that stops it is logged with the start of the statement. `user` is the login
    /// `current_user` answers ([`pg_rewrite::NO_LOGIN`] without one).
    pub async fn plan(&self, statement: DFStatement, user: &str) -> Result<LogicalPlan, SqlError> {
        let excerpt = Excerpt::of(&statement);
        let planned = self.plan_within_limits(statement, user).await;
        if let Err(e) = &planned {
            report::stopped(&excerpt, e);
        }
        planned
    }

    /// Plans `statement` as [`Self::plan`] says; a limit that stops it is left to the caller to log.
    async fn plan_within_limits(
        &self,
        statement: DFStatement,
        user: &str,
    ) -> Result<LogicalPlan, SqlError> {
        shape::check(&statement, self.max_expression_weight)?;
        // PostgreSQL's words for what DataFusion says otherwise, from every front end.
        let statement = match statement {
            DFStatement::Statement(statement) => {
                let state = self.ctx.state();
                let is_scalar = |name: &str| {
                    state.scalar_functions().contains_key(name)
                        && !state.table_functions().contains_key(name)
                };
                DFStatement::Statement(Box::new(pg_rewrite::rewrite(*statement, &is_scalar, user)))
            }
            other => other,
        };
        // Held by the planning task until it ends, also when the caller has had its answer at the deadline:
        // planning that runs on until its next check still counts against `sql.max_concurrent_queries`.
        let permit = self
            .running
            .clone()
            .try_acquire_owned()
            .map_err(|_| self.busy())?;
        let state = self.ctx.state();
        let deadline = Instant::now() + self.timeout;
        let planning = self
            .handle()
            .spawn(planning::within(deadline, self.timeout, async move {
                let _slot = permit;
                state.statement_to_plan(statement).await
            }));
        let plan = tokio::time::timeout_at(deadline.into(), planning)
            .await
            .map_err(|_| SqlError::Limit(Limit::Time, limits::timeout_message(self.timeout)))?
            .map_err(|e| match e.try_into_panic() {
                Ok(panic) => SqlError::Internal(panicked(panic)),
                Err(e) => SqlError::Internal(format!("planning the query failed: {e}")),
            })?
            .map_err(SqlError::from_datafusion)?;
        verify_read_only(&plan)?;
        Ok(plan)
    }

    /// Runs `sql` (one read-only statement) on the query threads and collects at most `max_rows` rows.
    pub async fn query(&self, sql: &str, max_rows: usize) -> Result<QueryResult, SqlError> {
        let (allowed, statement) = guard::check_sql(sql)?;
        if matches!(allowed, Allowed::Session | Allowed::Transaction) {
            return Err(SqlError::Invalid(
                "session settings and transactions only mean something over the Postgres protocol"
                    .into(),
            ));
        }
        let plan = self.plan(statement, pg_rewrite::NO_LOGIN).await?;
        let excerpt = Excerpt::of(&sql);
        let mut stream = self.execute_plan(plan, &excerpt).await?;
        let schema = stream.schema();
        let mut batches = Vec::new();
        let mut rows = 0;
        while let Some(batch) = stream.next().await {
            let batch = batch.map_err(SqlError::from_datafusion)?;
            rows += batch.num_rows();
            if rows > max_rows {
                let error = SqlError::Limit(
                    Limit::Rows,
                    format!(
                        "the result has more than {max_rows} rows (sql.max_http_rows): add a LIMIT or \
                         aggregate, or use the Postgres protocol"
                    ),
                );
                report::stopped(&excerpt, &error);
                return Err(error);
            }
            batches.push(batch);
        }
        Ok(QueryResult { schema, batches })
    }
}

/// The message for a query that panicked with `panic`.
fn panicked(panic: Box<dyn std::any::Any + Send>) -> String {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into());
    format!("the query failed inside the SQL engine (a bug; please report the query): {message}")
}

/// How many result batches a query computes ahead of its reader.
const RESULT_BATCHES_IN_FLIGHT: usize = 2;

/// The limits one query runs under.
#[derive(Debug, Clone, Copy)]
struct QueryLimits {
    deadline: Instant,
    timeout: Duration,
    memory_limit_bytes: usize,
}

/// Plans `plan` physically and starts it under `bounds`; call on the query runtime.
async fn start(
    state: datafusion::execution::SessionState,
    plan: LogicalPlan,
    bounds: QueryLimits,
) -> Result<SendableRecordBatchStream, SqlError> {
    let QueryLimits {
        deadline,
        timeout,
        memory_limit_bytes,
    } = bounds;
    // The optimizer runs here, and stops at its first check after the deadline.
    let planning = planning::within(deadline, timeout, state.create_physical_plan(&plan));
    let physical = tokio::time::timeout_at(deadline.into(), planning)
        .await
        .map_err(|_| SqlError::Limit(Limit::Time, limits::timeout_message(timeout)))?
        .map_err(SqlError::from_datafusion)?;
    let runtime = limits::query_runtime_env(state.runtime_env(), memory_limit_bytes)
        .map_err(SqlError::from_datafusion)?;
    let task = Arc::new(TaskContext::from(&state).with_runtime(runtime));
    let physical =
        limits::with_deadline(physical, deadline, timeout).map_err(SqlError::from_datafusion)?;
    let stream = execute_stream(physical, task).map_err(SqlError::from_datafusion)?;
    Ok(Box::pin(limits::Deadline::waking(
        stream, deadline, timeout,
    )))
}

impl Drop for SqlEngine {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::DataType;
    use datafusion::logical_expr::{
        ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
    };

    /// `boom(n)`: panics on the first batch that holds a value over 10,000.
    #[derive(Debug, PartialEq, Eq, Hash)]
    struct Boom(Signature);

    impl ScalarUDFImpl for Boom {
        fn name(&self) -> &str {
            "boom"
        }

        fn signature(&self) -> &Signature {
            &self.0
        }

        fn return_type(&self, _: &[DataType]) -> datafusion::error::Result<DataType> {
            Ok(DataType::Int64)
        }

        fn invoke_with_args(
            &self,
            args: ScalarFunctionArgs,
        ) -> datafusion::error::Result<ColumnarValue> {
            let values = args.args[0].to_array(args.number_rows)?;
            let max = arrow::compute::max(arrow::array::AsArray::as_primitive::<
                arrow::datatypes::Int64Type,
            >(&values));
            assert!(max <= Some(10_000), "boom at {max:?}");
            Ok(ColumnarValue::Array(values))
        }
    }

    fn engine(dir: &std::path::Path) -> SqlEngine {
        engine_with(dir, SqlConfig::default())
    }

    /// An engine under the limits of `sql`, with the `boom` function.
    fn engine_with(dir: &std::path::Path, sql: SqlConfig) -> SqlEngine {
        let config = Arc::new(schemas::Config {
            sql,
            ..Default::default()
        });
        let org =
            schemas::Organisation::from_csv(&b"branch_id,branch_name,in_scope\nb01,One,true\n"[..])
                .unwrap();
        let live = Arc::new(Live::new(analytics::Engine::new(
            Arc::clone(&config),
            Arc::new(org),
        )));
        let archive = Arc::new(Archive::open(dir, "embedded", &Default::default()).unwrap());
        let engine = SqlEngine::new(&config.sql, &live, &archive).unwrap();
        engine
            .context()
            .register_udf(ScalarUDF::new_from_impl(Boom(Signature::exact(
                vec![DataType::Int64],
                Volatility::Volatile,
            ))));
        engine
    }

    /// Of 20,000 rows in batches of 8,192, the first batch is fine and the second panics: the caller must get
    /// an error, not the first batch as if it were the whole result.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panic_inside_a_query_is_an_error_not_a_result_cut_short() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine(dir.path());
        let ok = engine
            .query(
                "SELECT count(boom(value)) AS n FROM generate_series(1, 10000)",
                10,
            )
            .await
            .unwrap();
        assert_eq!(ok.batches[0].num_rows(), 1);
        for sql in [
            "SELECT boom(value) FROM generate_series(1, 20000)",
            "SELECT sum(boom(value)) FROM generate_series(1, 20000)",
        ] {
            let error = engine.query(sql, usize::MAX).await.expect_err(sql);
            assert!(matches!(error, SqlError::Internal(_)), "{sql}: {error:?}");
            assert!(
                error
                    .to_string()
                    .contains("the query failed inside the SQL engine")
                    && error.to_string().contains("boom at"),
                "{sql}: {error}"
            );
        }
        // The engine goes on answering.
        let after = engine.query("SELECT 1 AS one", 10).await.unwrap();
        assert_eq!(after.batches[0].num_rows(), 1);
    }

    /// `SELECT 'a' || 'a' || …` of 25,000 terms: DataFusion planned it for minutes.
    fn concat_chain() -> String {
        format!("SELECT {}", vec!["'a'"; 25_000].join(" || "))
    }

    /// A statement heavier than `sql.max_expression_weight` is refused before planning, with the
    /// setting's name, and the refusal is logged with the start of the statement only.
    #[test]
    fn a_statement_too_heavy_to_plan_is_refused_by_name_and_logged_with_its_start() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine(dir.path());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (error, log) = crate::test_log::logged(|| {
            runtime
                .block_on(engine.query(&concat_chain(), 10))
                .unwrap_err()
        });
        assert!(
            matches!(error, SqlError::Limit(Limit::Size, _)),
            "{error:?}"
        );
        assert!(
            error.to_string().contains("(sql.max_expression_weight;"),
            "{error}"
        );
        assert!(
            log.contains("WARN")
                && log.contains("SQL query stopped by its limit")
                && log.contains("limit=\"size\"")
                && log.contains("statement=\"SELECT 'a' || 'a' || 'a'"),
            "{log}"
        );
        assert!(log.len() < 600, "the log line quotes too much: {log}");
    }

    /// With the weight bound raised past it, the 25,000-term chain plans until its time limit and then
    /// stops: its query slot (held until planning has really ended) is free again within two seconds of
    /// the answer, where planning that ran on would hold it for minutes.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn planning_past_the_time_limit_stops_and_frees_its_query_slot() {
        let dir = tempfile::tempdir().unwrap();
        let sql = SqlConfig {
            timeout_secs: 1,
            max_expression_weight: u64::MAX,
            max_concurrent_queries: 1,
            ..SqlConfig::default()
        };
        let engine = engine_with(dir.path(), sql);
        let error = engine.query(&concat_chain(), 10).await.unwrap_err();
        assert!(
            matches!(error, SqlError::Limit(Limit::Time, _)),
            "{error:?}"
        );
        assert!(error.to_string().contains("(sql.timeout_secs)"), "{error}");
        let answered = Instant::now();
        while engine.running.available_permits() == 0 {
            assert!(
                answered.elapsed() < Duration::from_secs(2),
                "planning still holds its query slot {:?} after the time limit",
                answered.elapsed()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let after = engine.query("SELECT 1 AS one", 10).await.unwrap();
        assert_eq!(after.batches[0].num_rows(), 1);
    }
}
