//! Planning under the query's deadline.
//!
//! DataFusion plans a statement without ever waiting, so neither a timer nor dropping the planning task stops
//! it. Instead the deadline is checked from inside planning: at every binary operator while the SQL becomes a
//! logical plan, and before every analyzer and optimizer rule. Planning that runs past the deadline ends at
//! the next check with the time-limit error and frees what it held; [`super::shape`] bounds how long the
//! steps between two checks can take.

use super::limits::timeout_message;
use datafusion::common::DFSchema;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::SessionState;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::logical_expr::LogicalPlan;
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult, RawBinaryExpr};
use datafusion::optimizer::analyzer::AnalyzerRule;
use datafusion::optimizer::optimizer::{ApplyOrder, OptimizerConfig, OptimizerRule};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// When planning must have ended, and the limit it comes from (for the message).
#[derive(Debug, Clone, Copy)]
struct Deadline {
    at: Instant,
    timeout: Duration,
}

tokio::task_local! {
    /// The deadline of the statement the current task plans.
    static DEADLINE: Deadline;
}

/// Runs `planning` (which plans with a session from [`checking_deadlines`]) so that it fails with the
/// time-limit error at its first check after `deadline`; `timeout` is the limit, for the message.
pub async fn within<F: Future>(deadline: Instant, timeout: Duration, planning: F) -> F::Output {
    DEADLINE
        .scope(
            Deadline {
                at: deadline,
                timeout,
            },
            planning,
        )
        .await
}

/// The time-limit error once the current task's deadline has passed; planning outside [`within`] has none.
fn check() -> Result<()> {
    DEADLINE
        .try_with(|deadline| {
            if Instant::now() >= deadline.at {
                Err(DataFusionError::ResourcesExhausted(timeout_message(
                    deadline.timeout,
                )))
            } else {
                Ok(())
            }
        })
        .unwrap_or(Ok(()))
}

/// `state` with the deadline checked at every binary operator it plans and before every analyzer and
/// optimizer rule it applies.
pub fn checking_deadlines(state: SessionState) -> SessionState {
    let mut builder = SessionStateBuilder::new_from_existing(state);
    if let Some(analyzer) = builder.analyzer().as_mut() {
        analyzer.rules = std::mem::take(&mut analyzer.rules)
            .into_iter()
            .map(|inner| Arc::new(CheckedAnalyzerRule(inner)) as _)
            .collect();
    }
    if let Some(optimizer) = builder.optimizer().as_mut() {
        optimizer.rules = std::mem::take(&mut optimizer.rules)
            .into_iter()
            .map(|inner| Arc::new(CheckedOptimizerRule(inner)) as _)
            .collect();
    }
    builder
        .expr_planners()
        .get_or_insert_with(Vec::new)
        .insert(0, Arc::new(CheckingPlanner));
    builder.build()
}

/// Checks the deadline at every binary operator of the SQL, before DataFusion's planners see it (planning a
/// chain of operators works out the type of each operator's operands, which takes longer at every level).
#[derive(Debug)]
struct CheckingPlanner;

impl ExprPlanner for CheckingPlanner {
    fn plan_binary_op(
        &self,
        expr: RawBinaryExpr,
        _schema: &DFSchema,
    ) -> Result<PlannerResult<RawBinaryExpr>> {
        check()?;
        Ok(PlannerResult::Original(expr))
    }
}

/// An analyzer rule that first checks the deadline.
#[derive(Debug)]
struct CheckedAnalyzerRule(Arc<dyn AnalyzerRule + Send + Sync>);

impl AnalyzerRule for CheckedAnalyzerRule {
    fn analyze(&self, plan: LogicalPlan, config: &ConfigOptions) -> Result<LogicalPlan> {
        check()?;
        self.0.analyze(plan, config)
    }

    fn name(&self) -> &str {
        self.0.name()
    }
}

/// An optimizer rule that first checks the deadline (at every plan node it rewrites).
#[derive(Debug)]
struct CheckedOptimizerRule(Arc<dyn OptimizerRule + Send + Sync>);

impl OptimizerRule for CheckedOptimizerRule {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        self.0.apply_order()
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        config: &dyn OptimizerConfig,
    ) -> Result<Transformed<LogicalPlan>> {
        check()?;
        self.0.rewrite(plan, config)
    }
}
