//! Fact rows: what the arrival-order pass emits for each accepted event that changes a counter, as an Arrow
//! record batch ready for DataFusion to aggregate. All amounts are integer fen so sums are exact and never
//! depend on the order or grouping in which they are added.

use arrow::array::{ArrayRef, AsArray, Int32Array, Int64Array, UInt32Array};
use arrow::datatypes::{
    ArrowPrimitiveType, DataType, Field, Int32Type, Int64Type, Schema, SchemaRef, UInt32Type,
};
use arrow::record_batch::RecordBatch;
use std::sync::{Arc, LazyLock};

/// The user key for rows that belong to a branch but no user (e.g. reports without `user_id`).
pub const NO_USER: u32 = u32::MAX;

/// The key columns before the measures: month, branch, user and the local day of the month.
pub const KEY_COLUMNS: usize = 4;

/// The summed measures, in column order after the keys.
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
        Field::new("day", DataType::UInt32, false),
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

    /// Returns true if and only if these changes change nothing.
    pub fn is_zero(&self) -> bool {
        *self == Measures::default()
    }

    /// The changes that take these sums back (login days are a set that only grows, so none are taken back).
    pub fn negated(&self) -> Measures {
        Measures {
            sums: self.sums.map(|sum| -sum),
            login_days: 0,
        }
    }

    /// Folds another set of changes into this one.
    pub fn merge(&mut self, other: &Measures) {
        for (a, b) in self.sums.iter_mut().zip(other.sums) {
            *a += b;
        }
        self.login_days |= other.login_days;
    }
}

/// Where a fact row lands: the counters of `(month, branch, user)`, on local day `day` (1..=31) of the month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FactKey {
    /// The month's ordinal.
    pub month: i32,
    /// The branch key.
    pub branch: u32,
    /// The user key ([`NO_USER`] for none).
    pub user: u32,
    /// The local day of the month the change is counted from.
    pub day: u32,
}

/// Accumulates fact rows for one micro-batch, column by column in plain vectors that become the Arrow
/// arrays without a copy.
#[derive(Default)]
pub struct FactBuilder {
    /// Every row's day is 0: the rows of a key aggregate into one (no day-by-day history).
    without_days: bool,
    month: Vec<i32>,
    branch: Vec<u32>,
    user: Vec<u32>,
    day: Vec<u32>,
    measures: [Vec<i64>; MEASURES.len()],
    login_days: Vec<i64>,
}

impl FactBuilder {
    /// Appends one row: the changes `m` to the counters of `(month, branch, user)`, made on local day `day`
    /// of the month (docs/scoring.md#day-by-day-history).
    pub fn push(&mut self, at: FactKey, m: &Measures) {
        self.month.push(at.month);
        self.branch.push(at.branch);
        self.user.push(at.user);
        self.day.push(if self.without_days { 0 } else { at.day });
        for (column, value) in self.measures.iter_mut().zip(m.sums) {
            column.push(value);
        }
        self.login_days.push(m.login_days);
    }

    /// Gives every row from now on day 0, so a key's rows aggregate into one.
    pub fn keep_no_days(&mut self) {
        self.without_days = true;
    }

    /// The number of rows appended since the last [`FactBuilder::finish`].
    pub fn len(&self) -> usize {
        self.month.len()
    }

    /// Returns true if and only if no row was appended since the last [`FactBuilder::finish`].
    pub fn is_empty(&self) -> bool {
        self.month.is_empty()
    }

    /// The rows as a record batch; the builder is empty afterwards. Hand the batch back with
    /// [`FactBuilder::recycle`] once it has been aggregated, so the next rows reuse its memory.
    pub fn finish(&mut self) -> RecordBatch {
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(Int32Array::from(std::mem::take(&mut self.month))),
            Arc::new(UInt32Array::from(std::mem::take(&mut self.branch))),
            Arc::new(UInt32Array::from(std::mem::take(&mut self.user))),
            Arc::new(UInt32Array::from(std::mem::take(&mut self.day))),
        ];
        columns.extend(
            self.measures
                .iter_mut()
                .map(|column| Arc::new(Int64Array::from(std::mem::take(column))) as ArrayRef),
        );
        columns.push(Arc::new(Int64Array::from(std::mem::take(
            &mut self.login_days,
        ))));
        RecordBatch::try_new(fact_schema(), columns).expect("columns match the fact schema")
    }

    /// Takes back the columns of a batch from [`FactBuilder::finish`] that nothing else holds any more, so
    /// the next rows are written into memory already mapped and likely still cached rather than into fresh
    /// pages. A column still shared elsewhere is left alone and a new one is allocated as the rows come.
    pub fn recycle(&mut self, batch: RecordBatch) {
        let rows = batch.num_rows();
        let (_, columns, _) = batch.into_parts();
        let mut columns = columns.into_iter();
        reclaim::<Int32Type>(&mut self.month, columns.next(), rows);
        reclaim::<UInt32Type>(&mut self.branch, columns.next(), rows);
        reclaim::<UInt32Type>(&mut self.user, columns.next(), rows);
        reclaim::<UInt32Type>(&mut self.day, columns.next(), rows);
        for column in &mut self.measures {
            reclaim::<Int64Type>(column, columns.next(), rows);
        }
        reclaim::<Int64Type>(&mut self.login_days, columns.next(), rows);
    }
}

/// Puts the buffer of `array` back into an empty `column`, if `array` held the only reference to it;
/// otherwise gives `column` room for `rows` values.
fn reclaim<T: ArrowPrimitiveType>(
    column: &mut Vec<T::Native>,
    array: Option<ArrayRef>,
    rows: usize,
) {
    if !column.is_empty() {
        return;
    }
    let values = array.map(|array| array.as_primitive::<T>().values().clone());
    match values.map(|values| values.into_inner().into_vec::<T::Native>()) {
        Some(Ok(mut vec)) => {
            vec.clear();
            *column = vec;
        }
        _ => column.reserve(rows),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(quotes: i64) -> Measures {
        let mut m = Measures::default();
        m.add(Measure::Quotes, quotes)
            .add(Measure::PaymentFen, quotes * 100);
        m.login_days = quotes;
        m
    }

    fn key(month: i32, branch: u32, user: u32) -> FactKey {
        FactKey {
            month,
            branch,
            user,
            day: 1,
        }
    }

    fn quotes(batch: &RecordBatch) -> Vec<i64> {
        batch
            .column(KEY_COLUMNS)
            .as_primitive::<Int64Type>()
            .values()
            .to_vec()
    }

    #[test]
    fn a_recycled_batch_lends_its_memory_to_the_next_rows_and_a_shared_one_is_left_alone() {
        let mut facts = FactBuilder::default();
        for i in 0..1000 {
            facts.push(key(7, 1, i as u32), &row(i));
        }
        let first = facts.finish();
        assert!(facts.is_empty());
        let first_quotes = first
            .column(KEY_COLUMNS)
            .as_primitive::<Int64Type>()
            .values()
            .as_ptr();
        facts.recycle(first);
        for i in 0..10 {
            facts.push(key(8, 2, 3), &row(-i));
        }
        let second = facts.finish();
        assert_eq!(quotes(&second), (0..10).map(|i| -i).collect::<Vec<_>>());
        assert_eq!(second.num_rows(), 10);
        assert_eq!(
            second
                .column(KEY_COLUMNS)
                .as_primitive::<Int64Type>()
                .values()
                .as_ptr(),
            first_quotes,
            "the rows were written into the first batch's buffer"
        );

        // A batch somebody still holds keeps its values: the builder takes fresh memory instead.
        let held = second.clone();
        facts.recycle(second);
        for i in 0..5 {
            facts.push(key(9, 4, 5), &row(100 + i));
        }
        let third = facts.finish();
        assert_eq!(quotes(&held), (0..10).map(|i| -i).collect::<Vec<_>>());
        assert_eq!(quotes(&third), (100..105).collect::<Vec<_>>());
        assert_eq!(
            third
                .column(0)
                .as_primitive::<Int32Type>()
                .values()
                .to_vec(),
            vec![9; 5]
        );
    }
}
