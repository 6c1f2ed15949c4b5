//! DataFusion aggregates each micro-batch of fact rows into one delta per `(month, branch, user, day)` key:
//! one grouped aggregate per batch, never a recomputation over history. The aggregate is planned once and
//! run again for each batch, so a batch costs its execution only, not a planning of the same query.

use crate::error::EngineError;
use crate::facts::{FactKey, KEY_COLUMNS, LOGIN_DAYS, MEASURES, Measures, fact_schema};
use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::{Int32Type, Int64Type, SchemaRef, UInt32Type};
use datafusion::catalog::streaming::StreamingTable;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::functions_aggregate::expr_fn::{bit_or, sum};
use datafusion::physical_plan::execution_plan::reset_plan_states;
use datafusion::physical_plan::memory::MemoryStream;
use datafusion::physical_plan::streaming::PartitionStream;
use datafusion::physical_plan::{ExecutionPlan, collect};
use datafusion::prelude::{SessionConfig, SessionContext, col};
use std::sync::{Arc, Mutex};

/// The key of a counter: `(month ordinal, branch, user)`.
pub type CounterKey = (i32, u32, u32);

/// The aggregate's input: the fact batch of the run about to start, handed to the plan when it runs.
#[derive(Debug)]
struct NextFacts {
    schema: SchemaRef,
    batch: Mutex<Option<RecordBatch>>,
}

impl PartitionStream for NextFacts {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let batch = self.batch.lock().unwrap_or_else(|e| e.into_inner()).take();
        let stream = MemoryStream::try_new(batch.into_iter().collect(), self.schema.clone(), None)
            .expect("no projection to check");
        Box::pin(stream)
    }
}

/// The planned aggregate and the slot its input is read from.
struct Planned {
    plan: Arc<dyn ExecutionPlan>,
    input: Arc<NextFacts>,
}

/// Runs the per-batch grouped aggregate.
pub struct DeltaAggregator {
    ctx: SessionContext,
    /// Planned on the first batch (planning is asynchronous), then run for every batch.
    planned: Option<Planned>,
}

impl Default for DeltaAggregator {
    fn default() -> Self {
        Self::new()
    }
}

impl DeltaAggregator {
    /// An aggregator on a single-partition session: batches are small and the other core decodes.
    pub fn new() -> Self {
        let config = SessionConfig::new()
            .with_target_partitions(1)
            .with_batch_size(64 * 1024);
        Self {
            ctx: SessionContext::new_with_config(config),
            planned: None,
        }
    }

    /// Plans `SELECT month, branch, user, day, sum(..) .., bit_or(login_days) GROUP BY month, branch, user,
    /// day` over
    /// an input that yields whatever batch was last handed to it.
    async fn plan(&self) -> Result<Planned, EngineError> {
        let schema = fact_schema();
        let input = Arc::new(NextFacts {
            schema: schema.clone(),
            batch: Mutex::new(None),
        });
        let table = StreamingTable::try_new(schema, vec![input.clone()])?;
        let mut aggregates: Vec<_> = MEASURES.iter().map(|m| sum(col(*m)).alias(*m)).collect();
        aggregates.push(bit_or(col(LOGIN_DAYS)).alias(LOGIN_DAYS));
        let plan = self
            .ctx
            .read_table(Arc::new(table))?
            .aggregate(
                vec![col("month"), col("branch"), col("user"), col("day")],
                aggregates,
            )?
            .create_physical_plan()
            .await?;
        Ok(Planned { plan, input })
    }

    /// Sums the measures and ors the login days of `facts` per key.
    pub async fn aggregate(
        &mut self,
        facts: RecordBatch,
    ) -> Result<Vec<(FactKey, Measures)>, EngineError> {
        if facts.num_rows() == 0 {
            return Ok(Vec::new());
        }
        let planned = match &self.planned {
            Some(planned) => planned,
            None => self.planned.insert(self.plan().await?),
        };
        debug_assert_eq!(facts.schema(), planned.input.schema, "a fact batch");
        *planned
            .input
            .batch
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(facts);
        // Each run registers its metrics with the nodes it runs: a copy of the plan with fresh ones runs, so
        // the planned nodes do not collect metrics for ever (the live pipeline runs one per batch).
        let plan = reset_plan_states(Arc::clone(&planned.plan))?;
        let batches = collect(plan, self.ctx.task_ctx()).await?;
        let mut deltas = Vec::with_capacity(batches.iter().map(RecordBatch::num_rows).sum());
        for batch in &batches {
            let month = batch.column(0).as_primitive::<Int32Type>();
            let branch = batch.column(1).as_primitive::<UInt32Type>();
            let user = batch.column(2).as_primitive::<UInt32Type>();
            let day = batch.column(3).as_primitive::<UInt32Type>();
            let measures: Vec<_> = (0..MEASURES.len())
                .map(|i| batch.column(KEY_COLUMNS + i).as_primitive::<Int64Type>())
                .collect();
            let login = batch
                .column(KEY_COLUMNS + MEASURES.len())
                .as_primitive::<Int64Type>();
            for row in 0..batch.num_rows() {
                let mut m = Measures::default();
                for (slot, column) in m.sums.iter_mut().zip(&measures) {
                    *slot = column.value(row);
                }
                m.login_days = login.value(row);
                let key = FactKey {
                    month: month.value(row),
                    branch: branch.value(row),
                    user: user.value(row),
                    day: day.value(row),
                };
                deltas.push((key, m));
            }
        }
        Ok(deltas)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{FactBuilder, Measure};
    use std::collections::BTreeMap;

    /// `(month, branch, user, day)`.
    type DayKey = (i32, u32, u32, u32);

    /// The fact batch of `rows` (`(month, branch, user, quotes, login days)`, on day `login days % 3 + 1`),
    /// and what aggregating it must give: per key, the sums of the measures and the login days or-ed.
    fn facts_of(rows: &[(i32, u32, u32, i64, i64)]) -> (RecordBatch, BTreeMap<DayKey, Measures>) {
        let mut builder = FactBuilder::default();
        let mut expected = BTreeMap::<_, Measures>::new();
        for &(month, branch, user, quotes, login_days) in rows {
            let mut m = Measures::default();
            m.add(Measure::Quotes, quotes)
                .add(Measure::PaymentFen, quotes * 7);
            m.login_days = login_days;
            let day = (login_days % 3 + 1) as u32;
            let key = FactKey {
                month,
                branch,
                user,
                day,
            };
            builder.push(key, &m);
            expected
                .entry((month, branch, user, day))
                .or_default()
                .merge(&m);
        }
        (builder.finish(), expected)
    }

    #[tokio::test]
    async fn each_run_of_the_planned_aggregate_sums_its_own_batch_only() {
        let mut aggregator = DeltaAggregator::new();
        let first = [
            (100, 1, 1, 2, 0b01),
            (100, 1, 1, 3, 0b10),
            (100, 2, 5, 1, 0),
            (101, 1, 1, 4, 0b100),
        ];
        let second = [(100, 1, 1, 10, 0b1000), (102, 3, 9, 1, 1)];
        // The plan made for the first batch runs for the others: nothing of one run may leak into the next,
        // neither figures nor metrics.
        let mut metrics = Vec::new();
        for rows in [&first[..], &second[..], &first[..]] {
            let (facts, expected) = facts_of(rows);
            let got: BTreeMap<_, _> = aggregator
                .aggregate(facts)
                .await
                .unwrap()
                .into_iter()
                .map(|(k, m)| ((k.month, k.branch, k.user, k.day), m))
                .collect();
            assert_eq!(got, expected, "rows {rows:?}");
            let planned = aggregator
                .planned
                .as_ref()
                .expect("planned by the first batch");
            metrics.push(planned.plan.metrics().map_or(0, |m| m.iter().count()));
            assert!(
                planned.input.batch.lock().unwrap().is_none(),
                "the run took its batch, so its columns can be recycled"
            );
        }
        assert!(metrics.windows(2).all(|w| w[0] == w[1]), "{metrics:?}");
        // An empty batch is answered without running the plan.
        let (empty, _) = facts_of(&[]);
        assert!(aggregator.aggregate(empty).await.unwrap().is_empty());
    }
}
