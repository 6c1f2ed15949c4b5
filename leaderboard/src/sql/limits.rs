//! The limits every query runs under: its own memory pool (no spilling to disk), a deadline, and threads
//! of their own at a lower scheduling priority than the pipeline and the websocket pushes.

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, RecordBatchStream,
    SendableRecordBatchStream,
};
use futures_util::Stream;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// How much nicer than the pipeline the query threads are (Linux nice levels).
const QUERY_NICENESS: libc::c_int = 10;

/// The stack of each query thread. DataFusion walks a query's expressions recursively, and a long chain
/// such as `a = 1 OR a = 2 OR …` (which BI tools write) is as deep as it is long: with the default 2 MiB,
/// 2,000 terms overflowed the stack and aborted the whole process. The memory is reserved, not used,
/// until a query needs it.
pub const QUERY_THREAD_STACK_BYTES: usize = 256 * 1024 * 1024;

/// The tokio runtime queries run on: `threads` workers (and DataFusion's blocking file reads) at a lower
/// priority, so a heavy query takes only the CPU the pipeline leaves.
pub fn query_runtime(threads: usize) -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .max_blocking_threads(threads.max(2))
        .thread_stack_size(QUERY_THREAD_STACK_BYTES)
        .thread_name("sql")
        .on_thread_start(|| {
            // SAFETY: setpriority has no memory effects; on Linux, PRIO_PROCESS with 0 is the calling
            // thread only.
            let done = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, QUERY_NICENESS) };
            if done != 0 {
                tracing::debug!("cannot lower the priority of a query thread");
            }
        })
        .enable_all()
        .build()
}

/// A runtime environment like `base` with a memory pool of its own of `bytes` and no disk spilling: a
/// query that needs more fails with a message naming what used the memory.
pub fn query_runtime_env(base: &RuntimeEnv, bytes: usize) -> Result<Arc<RuntimeEnv>> {
    RuntimeEnvBuilder::from_runtime_env(base)
        .with_memory_limit(bytes, 1.0)
        .with_disk_manager_builder(
            DiskManagerBuilder::default().with_mode(DiskManagerMode::Disabled),
        )
        .build_arc()
}

/// Puts a deadline check above every operator of `plan`.
///
/// An operator that computes for a long time without waiting (a nested loop join, an aggregation over a
/// huge input) never gives its task back to tokio, so neither a timer nor dropping the plan can stop it;
/// but it polls its input between batches, and there the check ends it with the deadline's error.
pub fn with_deadline(
    plan: Arc<dyn ExecutionPlan>,
    deadline: Instant,
    timeout: Duration,
) -> Result<Arc<dyn ExecutionPlan>> {
    plan.transform_up(|node| {
        let checked: Arc<dyn ExecutionPlan> = Arc::new(DeadlineExec {
            properties: Arc::clone(node.properties()),
            input: node,
            deadline,
            timeout,
        });
        Ok(Transformed::yes(checked))
    })
    .map(|transformed| transformed.data)
}

/// An operator that passes its input's batches on until the deadline, then fails.
#[derive(Debug)]
struct DeadlineExec {
    input: Arc<dyn ExecutionPlan>,
    properties: Arc<PlanProperties>,
    deadline: Instant,
    timeout: Duration,
}

impl DisplayAs for DeadlineExec {
    fn fmt_as(
        &self,
        _format: DisplayFormatType,
        f: &mut std::fmt::Formatter<'_>,
    ) -> std::fmt::Result {
        write!(f, "DeadlineExec: timeout={}s", self.timeout.as_secs_f64())
    }
}

impl ExecutionPlan for DeadlineExec {
    fn name(&self) -> &str {
        "DeadlineExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(
        self: Arc<Self>,
        mut children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if children.len() != 1 {
            return Err(DataFusionError::Internal(format!(
                "DeadlineExec has one child, not {}",
                children.len()
            )));
        }
        let input = children.swap_remove(0);
        Ok(Arc::new(DeadlineExec {
            properties: Arc::clone(input.properties()),
            input,
            deadline: self.deadline,
            timeout: self.timeout,
        }))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        let input = self.input.execute(partition, context)?;
        Ok(Box::pin(Deadline::checking(
            input,
            self.deadline,
            self.timeout,
        )))
    }
}

/// A stream that ends with an error once its deadline has passed (dropping the plan underneath, which
/// stops its work).
///
/// The clock is read before every poll of the plan: DataFusion's scans spend tokio's cooperative budget
/// and then yield, and a timer polled after an exhausted budget would never report that it fired.
pub struct Deadline {
    schema: SchemaRef,
    inner: Option<SendableRecordBatchStream>,
    deadline: Instant,
    /// Wakes a stream that waits (for files or other tasks) when its time is up; only the stream the
    /// client reads has one, the checks inside the plan are woken by their inputs.
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    timeout: Duration,
}

impl Deadline {
    /// `inner`, stopped at `deadline` even while it waits; call within a tokio runtime.
    pub fn waking(inner: SendableRecordBatchStream, deadline: Instant, timeout: Duration) -> Self {
        let timer = Box::pin(tokio::time::sleep_until(deadline.into()));
        Self {
            timer: Some(timer),
            ..Self::checking(inner, deadline, timeout)
        }
    }

    /// `inner`, stopped at the first poll after `deadline`.
    fn checking(inner: SendableRecordBatchStream, deadline: Instant, timeout: Duration) -> Self {
        Self {
            schema: inner.schema(),
            inner: Some(inner),
            deadline,
            timer: None,
            timeout,
        }
    }

    fn expire(&mut self) -> Poll<Option<Result<RecordBatch>>> {
        self.inner = None;
        let message = timeout_message(self.timeout);
        Poll::Ready(Some(Err(DataFusionError::ResourcesExhausted(message))))
    }
}

/// The message of a query stopped by its deadline.
pub fn timeout_message(timeout: Duration) -> String {
    format!(
        "query stopped: it ran longer than the limit of {} s (sql.timeout_secs)",
        timeout.as_secs_f64()
    )
}

impl Stream for Deadline {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.inner.is_none() {
            return Poll::Ready(None);
        }
        if Instant::now() >= self.deadline {
            return self.expire();
        }
        let polled = self
            .inner
            .as_mut()
            .map_or(Poll::Ready(None), |inner| inner.as_mut().poll_next(cx));
        if let Poll::Ready(item) = polled {
            return Poll::Ready(item);
        }
        let fired = self
            .timer
            .as_mut()
            .is_some_and(|timer| timer.as_mut().poll(cx).is_ready());
        if fired {
            return self.expire();
        }
        Poll::Pending
    }
}

impl RecordBatchStream for Deadline {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int64Array;
    use arrow::datatypes::{DataType, Field, Schema};
    use datafusion::datasource::MemTable;
    use datafusion::prelude::SessionContext;
    use futures_util::StreamExt;

    /// A triple cross join with a filter that matches nothing computes inside one poll for minutes; the
    /// checks between operators end it at the deadline.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_computation_that_never_waits_is_stopped_at_the_deadline() {
        let schema = Arc::new(Schema::new(vec![Field::new("v", DataType::Int64, false)]));
        let values = Int64Array::from_iter_values(0..20_000);
        let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(values)]).unwrap();
        let ctx = SessionContext::new();
        let table = MemTable::try_new(schema, vec![vec![batch]]).unwrap();
        ctx.register_table("t", Arc::new(table)).unwrap();
        let plan = ctx
            .sql("SELECT count(*) FROM t a CROSS JOIN t b CROSS JOIN t c WHERE a.v > b.v + c.v + 40000")
            .await
            .unwrap()
            .create_physical_plan()
            .await
            .unwrap();
        let timeout = Duration::from_millis(500);
        let deadline = Instant::now() + timeout;
        let plan = with_deadline(plan, deadline, timeout).unwrap();
        let stream = datafusion::physical_plan::execute_stream(plan, ctx.task_ctx()).unwrap();
        let mut stream = Deadline::waking(stream, deadline, timeout);
        let error = stream.next().await.unwrap().unwrap_err();
        assert!(
            error.to_string().contains("ran longer than the limit"),
            "{error}"
        );
        let late = deadline.elapsed();
        assert!(
            late < Duration::from_secs(10),
            "stopped {late:?} after the deadline"
        );
    }
}
