//! Ad hoc SQL for the data team: DataFusion over the event archive and the live indicator tables,
//! read-only, each query under a memory limit and a timeout, on threads of its own.
//!
//! Front ends: the Postgres wire protocol ([`postgres`]), `POST /api/v1/sql` ([`http`]) and the offline
//! `leaderboard sql` command, which all go through [`SqlEngine`].

pub mod bounded;
pub mod catalog;
pub mod encode;
pub mod guard;
pub mod http;
pub mod limits;
pub mod postgres;

use crate::live::Live;
use analytics::Archive;
use anyhow::Context;
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use datafusion::error::DataFusionError;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{SendableRecordBatchStream, execute_stream};
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion::sql::parser::Statement as DFStatement;
use futures_util::{FutureExt, StreamExt};
use guard::Allowed;
use schemas::SqlConfig;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;
use tokio::sync::Semaphore;

/// The archive directory of a state directory.
pub fn archive_dir(state_dir: &std::path::Path) -> std::path::PathBuf {
    state_dir.join("archive")
}

/// Opens the archive of `state_dir` for a pipeline resuming at `positions`.
pub fn open_archive(
    state_dir: &std::path::Path,
    positions: &std::collections::BTreeMap<u32, u64>,
) -> anyhow::Result<Archive> {
    let dir = archive_dir(state_dir);
    Archive::open(&dir, positions)
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
    /// The query was stopped by its memory limit or timeout, or its result is too large.
    #[error("{0}")]
    Limit(String),
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
            Self::Limit(_) => "limit",
            Self::Busy(_) => "busy",
            Self::Internal(_) => "internal",
        }
    }

    /// Sorts a DataFusion error: limits, the caller's mistakes, or ours.
    pub fn from_datafusion(e: DataFusionError) -> Self {
        match e.find_root() {
            // The deadline's own message already says so.
            DataFusionError::ResourcesExhausted(message)
                if message.starts_with("query stopped") =>
            {
                Self::Limit(message.clone())
            }
            DataFusionError::ResourcesExhausted(message) => {
                Self::Limit(format!("query stopped: {message}"))
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
    /// One permit per query that may run; a query holds its permit until its stream is dropped.
    running: Arc<Semaphore>,
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
            .with_default_catalog_and_schema("datafusion", "public");
        let ctx = SessionContext::new_with_config(session);
        catalog::register(&ctx, live, archive)?;
        datafusion_postgres::datafusion_pg_catalog::pg_catalog::setup_pg_catalog(
            &ctx,
            "datafusion",
            datafusion_postgres::auth::AuthManager::new(),
        )
        .map_err(|e| anyhow::anyhow!("cannot set up pg_catalog: {e}"))?;
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
    /// queries are running (otherwise it fails at once).
    ///
    /// The query runs on the query threads whatever runtime calls this; the stream it returns may be polled
    /// from any runtime and stops the query when dropped. A query that keeps the query threads busy cannot
    /// hold up the answer "busy" to another caller, or the Postgres connections, which run elsewhere.
    pub async fn execute_plan(
        &self,
        plan: LogicalPlan,
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
            deadline: std::time::Instant::now() + self.timeout,
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
            .map_err(|_| SqlError::Limit(limits::timeout_message(self.timeout)))?
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

    /// Plans one statement that [`guard::check_sql`] allowed as a query.
    ///
    /// Planning runs on a query thread, within the query's time limit: DataFusion's planning time grows
    /// faster than the length of a chain like `a = 1 OR a = 2 OR …` (2,000 terms take seconds), so a long
    /// one gets the time-limit error instead of holding one of the pipeline's threads.
    pub async fn plan(&self, statement: DFStatement) -> Result<LogicalPlan, SqlError> {
        // Busy is said at once, not after waiting for a query thread to plan on.
        if self.running.available_permits() == 0 {
            return Err(self.busy());
        }
        let state = self.ctx.state();
        let planning = self
            .handle()
            .spawn(async move { state.statement_to_plan(statement).await });
        let plan = tokio::time::timeout(self.timeout, planning)
            .await
            .map_err(|_| SqlError::Limit(limits::timeout_message(self.timeout)))?
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
        if allowed == Allowed::Session {
            return Err(SqlError::Invalid(
                "session settings and transactions only mean something over the Postgres protocol"
                    .into(),
            ));
        }
        let plan = self.plan(statement).await?;
        let mut stream = self.execute_plan(plan).await?;
        let schema = stream.schema();
        let mut batches = Vec::new();
        let mut rows = 0;
        while let Some(batch) = stream.next().await {
            let batch = batch.map_err(SqlError::from_datafusion)?;
            rows += batch.num_rows();
            if rows > max_rows {
                return Err(SqlError::Limit(format!(
                    "the result has more than {max_rows} rows (sql.max_http_rows): add a LIMIT or \
                     aggregate, or use the Postgres protocol"
                )));
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
    deadline: std::time::Instant,
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
    let physical = tokio::time::timeout_at(deadline.into(), state.create_physical_plan(&plan))
        .await
        .map_err(|_| SqlError::Limit(limits::timeout_message(timeout)))?
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
        let config = Arc::new(schemas::Config::default());
        let org =
            schemas::Organisation::from_csv(&b"branch_id,branch_name,in_scope\nb01,One,true\n"[..])
                .unwrap();
        let live = Arc::new(Live::new(analytics::Engine::new(
            Arc::clone(&config),
            Arc::new(org),
        )));
        let archive = Arc::new(Archive::open(dir, &Default::default()).unwrap());
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
}
