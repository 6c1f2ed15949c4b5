//! DataFusion aggregates each micro-batch of fact rows into one delta per `(month, branch, user)` key:
//! one grouped aggregate per batch, never a recomputation over history.

use crate::error::EngineError;
use crate::facts::{LOGIN_DAYS, MEASURES, Measures};
use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::{Int32Type, Int64Type, UInt32Type};
use datafusion::functions_aggregate::expr_fn::{bit_or, sum};
use datafusion::prelude::{SessionConfig, SessionContext, col};

/// The key of a counter: `(month ordinal, branch, user)`.
pub type CounterKey = (i32, u32, u32);

/// Runs the per-batch grouped aggregate.
pub struct DeltaAggregator {
    ctx: SessionContext,
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
        }
    }

    /// Sums the measures and ors the login days of `facts` per key.
    pub async fn aggregate(
        &self,
        facts: RecordBatch,
    ) -> Result<Vec<(CounterKey, Measures)>, EngineError> {
        if facts.num_rows() == 0 {
            return Ok(Vec::new());
        }
        let mut aggregates: Vec<_> = MEASURES.iter().map(|m| sum(col(*m)).alias(*m)).collect();
        aggregates.push(bit_or(col(LOGIN_DAYS)).alias(LOGIN_DAYS));
        let batches = self
            .ctx
            .read_batch(facts)?
            .aggregate(vec![col("month"), col("branch"), col("user")], aggregates)?
            .collect()
            .await?;
        let mut deltas = Vec::with_capacity(batches.iter().map(RecordBatch::num_rows).sum());
        for batch in &batches {
            let month = batch.column(0).as_primitive::<Int32Type>();
            let branch = batch.column(1).as_primitive::<UInt32Type>();
            let user = batch.column(2).as_primitive::<UInt32Type>();
            let measures: Vec<_> = (0..MEASURES.len())
                .map(|i| batch.column(3 + i).as_primitive::<Int64Type>())
                .collect();
            let login = batch.column(3 + MEASURES.len()).as_primitive::<Int64Type>();
            for row in 0..batch.num_rows() {
                let mut m = Measures::default();
                for (slot, column) in m.sums.iter_mut().zip(&measures) {
                    *slot = column.value(row);
                }
                m.login_days = login.value(row);
                deltas.push(((month.value(row), branch.value(row), user.value(row)), m));
            }
        }
        Ok(deltas)
    }
}
