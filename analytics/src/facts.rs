//! Fact rows: what the arrival-order pass emits for each accepted event that changes a counter, as an Arrow
//! record batch ready for DataFusion to aggregate. All amounts are integer fen so sums are exact and never
//! depend on the order or grouping in which they are added.

use arrow::array::{Int32Builder, Int64Builder, UInt32Builder};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use std::sync::{Arc, LazyLock};

/// The user key for rows that belong to a branch but no user (e.g. reports without `user_id`).
pub const NO_USER: u32 = u32::MAX;

/// The summed measures, in column order after the three keys.
pub const MEASURES: [&str; 10] = [
    "quotes",
    "mobile_quotes",
    "proposals",
    "deals",
    "deal_premium_fen",
    "reward_policies",
    "payment_fen",
    "mobile_payment_fen",
    "reports",
    "task_actions",
];

/// The column of login-day bits (bit d-1 set = logged in on day d), combined with bitwise or.
pub const LOGIN_DAYS: &str = "login_days";

static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let mut fields = vec![
        Field::new("month", DataType::Int32, false),
        Field::new("branch", DataType::UInt32, false),
        Field::new("user", DataType::UInt32, false),
    ];
    fields.extend(
        MEASURES
            .iter()
            .map(|m| Field::new(*m, DataType::Int64, false)),
    );
    fields.push(Field::new(LOGIN_DAYS, DataType::Int64, false));
    Arc::new(Schema::new(fields))
});

/// The schema of fact batches.
pub fn fact_schema() -> SchemaRef {
    SCHEMA.clone()
}

/// The changes one event makes to the counters of one `(month, branch, user)` key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Measures {
    /// Values in [`MEASURES`] order.
    pub sums: [i64; MEASURES.len()],
    /// Login-day bits.
    pub login_days: i64,
}

/// Index of a measure in [`MEASURES`].
#[derive(Debug, Clone, Copy)]
#[allow(missing_docs)]
pub enum Measure {
    Quotes = 0,
    MobileQuotes,
    Proposals,
    Deals,
    DealPremiumFen,
    RewardPolicies,
    PaymentFen,
    MobilePaymentFen,
    Reports,
    TaskActions,
}

impl Measures {
    /// Adds `value` to `measure`.
    pub fn add(&mut self, measure: Measure, value: i64) -> &mut Self {
        self.sums[measure as usize] += value;
        self
    }

    /// The value of `measure`.
    pub fn get(&self, measure: Measure) -> i64 {
        self.sums[measure as usize]
    }

    /// Folds another set of changes into this one.
    pub fn merge(&mut self, other: &Measures) {
        for (a, b) in self.sums.iter_mut().zip(other.sums) {
            *a += b;
        }
        self.login_days |= other.login_days;
    }
}

/// Accumulates fact rows for one micro-batch.
pub struct FactBuilder {
    month: Int32Builder,
    branch: UInt32Builder,
    user: UInt32Builder,
    measures: Vec<Int64Builder>,
    login_days: Int64Builder,
    rows: usize,
}

impl Default for FactBuilder {
    fn default() -> Self {
        Self::with_capacity(1024)
    }
}

impl FactBuilder {
    /// A builder with room for `rows` rows.
    pub fn with_capacity(rows: usize) -> Self {
        Self {
            month: Int32Builder::with_capacity(rows),
            branch: UInt32Builder::with_capacity(rows),
            user: UInt32Builder::with_capacity(rows),
            measures: MEASURES
                .iter()
                .map(|_| Int64Builder::with_capacity(rows))
                .collect(),
            login_days: Int64Builder::with_capacity(rows),
            rows: 0,
        }
    }

    /// Appends one row.
    pub fn push(&mut self, month: i32, branch: u32, user: u32, m: &Measures) {
        self.month.append_value(month);
        self.branch.append_value(branch);
        self.user.append_value(user);
        for (builder, value) in self.measures.iter_mut().zip(m.sums) {
            builder.append_value(value);
        }
        self.login_days.append_value(m.login_days);
        self.rows += 1;
    }

    /// The number of rows appended since the last [`FactBuilder::finish`].
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Returns true if and only if no row was appended since the last [`FactBuilder::finish`].
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// The rows as a record batch; the builder is empty afterwards.
    pub fn finish(&mut self) -> RecordBatch {
        let mut columns: Vec<arrow::array::ArrayRef> = vec![
            Arc::new(self.month.finish()),
            Arc::new(self.branch.finish()),
            Arc::new(self.user.finish()),
        ];
        columns.extend(
            self.measures
                .iter_mut()
                .map(|b| Arc::new(b.finish()) as arrow::array::ArrayRef),
        );
        columns.push(Arc::new(self.login_days.finish()));
        self.rows = 0;
        RecordBatch::try_new(fact_schema(), columns).expect("columns match the fact schema")
    }
}
