//! Fact rows: what the arrival-order pass emits for each accepted event that changes a counter, as an Arrow
//! record batch ready for DataFusion to aggregate. All amounts are integer fen so sums are exact and never
//! depend on the order or grouping in which they are added.

use arrow::array::{ArrayRef, Int32Array, Int64Array, UInt32Array};
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

/// Accumulates fact rows for one micro-batch, column by column in plain vectors that become the Arrow
/// arrays without a copy.
#[derive(Default)]
pub struct FactBuilder {
    month: Vec<i32>,
    branch: Vec<u32>,
    user: Vec<u32>,
    measures: [Vec<i64>; MEASURES.len()],
    login_days: Vec<i64>,
}

impl FactBuilder {
    /// Appends one row.
    pub fn push(&mut self, month: i32, branch: u32, user: u32, m: &Measures) {
        self.month.push(month);
        self.branch.push(branch);
        self.user.push(user);
        for (column, value) in self.measures.iter_mut().zip(m.sums) {
            column.push(value);
        }
        self.login_days.push(m.login_days);
    }

    /// The number of rows appended since the last [`FactBuilder::finish`].
    pub fn len(&self) -> usize {
        self.month.len()
    }

    /// Returns true if and only if no row was appended since the last [`FactBuilder::finish`].
    pub fn is_empty(&self) -> bool {
        self.month.is_empty()
    }

    /// The rows as a record batch; the builder is empty afterwards, with room for as many rows again.
    pub fn finish(&mut self) -> RecordBatch {
        let rows = self.len();
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(Int32Array::from(take_with_room(&mut self.month, rows))),
            Arc::new(UInt32Array::from(take_with_room(&mut self.branch, rows))),
            Arc::new(UInt32Array::from(take_with_room(&mut self.user, rows))),
        ];
        columns.extend(
            self.measures
                .iter_mut()
                .map(|column| Arc::new(Int64Array::from(take_with_room(column, rows))) as ArrayRef),
        );
        columns.push(Arc::new(Int64Array::from(take_with_room(
            &mut self.login_days,
            rows,
        ))));
        RecordBatch::try_new(fact_schema(), columns).expect("columns match the fact schema")
    }
}

/// The values of `column`, leaving it empty with room for `rows` values.
fn take_with_room<T>(column: &mut Vec<T>, rows: usize) -> Vec<T> {
    std::mem::replace(column, Vec::with_capacity(rows))
}
