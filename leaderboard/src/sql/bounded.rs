//! Functions whose result can be far larger than their arguments (`repeat('x', 2000000000)`,
//! `range(1, 3000000000)`, `lpad('', 1000000000)`), each wrapped so that a call which could make more than a
//! query may hold fails with a message before it allocates anything.
//!
//! A query's memory pool counts what its operators keep (hash tables, sort buffers), not the values a
//! scalar function makes, so without this one statement could take gigabytes beside the pipeline (before
//! this module, `repeat` of 40 GB grew to 9 GB in the 30 s until the time limit). Each wrapper computes an
//! upper bound of its call's result from the arguments (a pass over the batch's lengths and counts) and
//! delegates everything else, results included, to DataFusion's own function.

use arrow::array::{Array, ArrayRef, AsArray, Int64Array};
use arrow::datatypes::{DataType, Int64Type, IntervalMonthDayNanoType, TimeUnit};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::config::ConfigOptions;
use datafusion::execution::FunctionRegistry;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
};
use datafusion::prelude::SessionContext;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// An upper bound, in bytes, of the values a call makes from `args`.
type Bound = fn(&[ColumnarValue], usize) -> Result<u128>;

/// The functions that are wrapped, with the bound of each.
const BOUNDED: &[(&str, Bound)] = &[
    ("repeat", repeat_bound),
    ("lpad", pad_bound),
    ("rpad", pad_bound),
    ("replace", replace_bound),
    ("regexp_replace", regexp_replace_bound),
    ("array_repeat", array_repeat_bound),
    ("array_resize", array_resize_bound),
    ("range", series_bound),
    ("generate_series", series_bound),
];

/// Replaces each function of `BOUNDED` in `ctx` with one that refuses a call which could make more than
/// `limit_bytes`; `setting` names the limit in the message (`sql.memory_limit_mb = 512`).
pub fn register(ctx: &SessionContext, limit_bytes: usize, setting: &str) -> Result<()> {
    for (name, bound) in BOUNDED {
        let inner = ctx.udf(name)?;
        ctx.register_udf(ScalarUDF::new_from_impl(Bounded {
            inner: Arc::clone(inner.inner()),
            bound: *bound,
            limit_bytes,
            setting: setting.to_string(),
        }));
    }
    Ok(())
}

/// DataFusion's function `inner`, refusing calls whose result could exceed `limit_bytes`.
#[derive(Debug)]
struct Bounded {
    inner: Arc<dyn ScalarUDFImpl>,
    bound: Bound,
    limit_bytes: usize,
    setting: String,
}

impl PartialEq for Bounded {
    fn eq(&self, other: &Self) -> bool {
        self.inner.name() == other.inner.name() && self.limit_bytes == other.limit_bytes
    }
}

impl Eq for Bounded {}

impl Hash for Bounded {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.inner.name().hash(state);
        self.limit_bytes.hash(state);
    }
}

impl Bounded {
    /// The error for a call that could make `bytes`.
    fn too_large(&self, bytes: u128) -> DataFusionError {
        DataFusionError::ResourcesExhausted(format!(
            "{}() would make up to {} of values, more than a query may hold ({}): ask for shorter \
             strings or fewer elements",
            self.inner.name(),
            indicatif::HumanBytes(u64::try_from(bytes).unwrap_or(u64::MAX)),
            self.setting
        ))
    }
}

impl ScalarUDFImpl for Bounded {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn schema_name(&self, args: &[Expr]) -> Result<String> {
        self.inner.schema_name(args)
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }

    fn return_field_from_args(
        &self,
        args: datafusion::logical_expr::ReturnFieldArgs,
    ) -> Result<arrow::datatypes::FieldRef> {
        self.inner.return_field_from_args(args)
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(arg_types)
    }

    fn with_updated_config(&self, config: &ConfigOptions) -> Option<ScalarUDF> {
        let updated = self.inner.with_updated_config(config)?;
        Some(ScalarUDF::new_from_impl(Self {
            inner: Arc::clone(updated.inner()),
            setting: self.setting.clone(),
            ..*self
        }))
    }

    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        self.inner.simplify(args, info)
    }

    fn short_circuits(&self) -> bool {
        self.inner.short_circuits()
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.inner.documentation()
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        // With only constants the function makes one value, whatever the batch's length.
        let rows = if args
            .args
            .iter()
            .all(|a| matches!(a, ColumnarValue::Scalar(_)))
        {
            1
        } else {
            args.number_rows
        };
        let bytes = (self.bound)(&args.args, rows)?;
        if bytes > self.limit_bytes as u128 {
            return Err(self.too_large(bytes));
        }
        self.inner.invoke_with_args(args)
    }
}

/// One argument of a call as a column; a constant is one row that stands for every row. Nulls read as 0
/// (a call with a null argument makes a null).
struct Column(ArrayRef);

impl Column {
    fn of(value: &ColumnarValue) -> Result<Self> {
        Ok(Self(match value {
            ColumnarValue::Array(array) => Arc::clone(array),
            ColumnarValue::Scalar(scalar) => scalar.to_array_of_size(1)?,
        }))
    }

    /// The byte length of the string at `row`; 0 for a null or a value that is not a string.
    fn text_bytes(&self, row: usize) -> u128 {
        let i = index_of(&self.0, row);
        if self.0.is_null(i) {
            return 0;
        }
        let bytes = match self.0.data_type() {
            DataType::Utf8 => self.0.as_string::<i32>().value(i).len(),
            DataType::LargeUtf8 => self.0.as_string::<i64>().value(i).len(),
            DataType::Utf8View => self.0.as_string_view().value(i).len(),
            _ => 0,
        };
        bytes as u128
    }

    /// The bytes one copy of the value at `row` takes in an array.
    fn value_bytes(&self, row: usize) -> Result<u128> {
        if let Some(width) = self.0.data_type().primitive_width() {
            return Ok(width as u128);
        }
        if self.0.data_type().is_null() {
            return Ok(0);
        }
        Ok(match self.0.data_type() {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => self.text_bytes(row),
            _ => ScalarValue::try_from_array(&self.0, index_of(&self.0, row))?.size() as u128,
        } + 8) // its offset or view
    }

    /// The column as whole numbers (integers, and dates and timestamps in their own units).
    fn integers(&self) -> Result<Integers> {
        let cast = arrow::compute::cast(&self.0, &DataType::Int64)?;
        Ok(Integers(cast.as_primitive::<Int64Type>().clone()))
    }

    /// The greatest UTF-8 width of a character in the strings of the column: 4 unless it is one known
    /// string.
    fn char_width(&self) -> u128 {
        let text = match self.0.data_type() {
            _ if self.0.len() != 1 || self.0.is_null(0) => return 4,
            DataType::Utf8 => self.0.as_string::<i32>().value(0),
            DataType::LargeUtf8 => self.0.as_string::<i64>().value(0),
            DataType::Utf8View => self.0.as_string_view().value(0),
            _ => return 4,
        };
        text.chars().map(char::len_utf8).max().unwrap_or(0) as u128
    }
}

/// The index in `column` of the call's row `row`: a constant's one row stands for every row.
fn index_of(column: &dyn Array, row: usize) -> usize {
    if column.len() == 1 { 0 } else { row }
}

/// A column of whole numbers.
struct Integers(Int64Array);

impl Integers {
    /// The value at `row`, 0 when null.
    fn at(&self, row: usize) -> i64 {
        let i = index_of(&self.0, row);
        if self.0.is_null(i) {
            0
        } else {
            self.0.value(i)
        }
    }

    /// The value at `row` as a count: negative and null are 0.
    fn count(&self, row: usize) -> u128 {
        self.at(row).max(0) as u128
    }
}

/// The `index`th argument, as a column (absent optional arguments are `None`).
fn arg(args: &[ColumnarValue], index: usize) -> Result<Option<Column>> {
    args.get(index).map(Column::of).transpose()
}

/// The `index`th argument, which the function's signature requires.
fn required(args: &[ColumnarValue], index: usize) -> Result<Column> {
    arg(args, index)?
        .ok_or_else(|| DataFusionError::Plan(format!("argument {} is missing", index + 1)))
}

/// The sum over the call's rows of `per_row`.
fn sum_rows(rows: usize, mut per_row: impl FnMut(usize) -> Result<u128>) -> Result<u128> {
    (0..rows).try_fold(0u128, |total, row| Ok(total.saturating_add(per_row(row)?)))
}

/// `repeat(text, n)`: the text `n` times.
fn repeat_bound(args: &[ColumnarValue], rows: usize) -> Result<u128> {
    let (text, times) = (required(args, 0)?, required(args, 1)?.integers()?);
    sum_rows(rows, |row| Ok(text.text_bytes(row) * times.count(row)))
}

/// `lpad(text, n [, fill])` and `rpad`: at most the text and `n` characters of the fill (a space by default).
fn pad_bound(args: &[ColumnarValue], rows: usize) -> Result<u128> {
    let (text, length) = (required(args, 0)?, required(args, 1)?.integers()?);
    let width = arg(args, 2)?.map_or(1, |fill| fill.char_width());
    sum_rows(rows, |row| {
        Ok(text.text_bytes(row) + length.count(row) * width)
    })
}

/// `replace(text, from, to)`: every occurrence of `from` (at most one per byte, and one more when it is
/// empty) becomes `to`.
fn replace_bound(args: &[ColumnarValue], rows: usize) -> Result<u128> {
    let (text, from, to) = (required(args, 0)?, required(args, 1)?, required(args, 2)?);
    sum_rows(rows, |row| {
        let bytes = text.text_bytes(row);
        let occurrences = bytes / from.text_bytes(row).max(1) + 1;
        Ok(bytes + occurrences * to.text_bytes(row))
    })
}

/// `regexp_replace(text, pattern, replacement [, flags])`: at most one match per position (an empty pattern
/// matches between every two characters), each replaced by the replacement, whose group references
/// together repeat each matched byte at most once per reference.
fn regexp_replace_bound(args: &[ColumnarValue], rows: usize) -> Result<u128> {
    let (text, replacement) = (required(args, 0)?, required(args, 2)?);
    sum_rows(rows, |row| {
        let bytes = text.text_bytes(row);
        let replacement = replacement.text_bytes(row);
        Ok(bytes + (bytes + 1) * replacement + bytes * replacement)
    })
}

/// `array_repeat(value, n)`: `n` copies of the value.
fn array_repeat_bound(args: &[ColumnarValue], rows: usize) -> Result<u128> {
    let (value, times) = (required(args, 0)?, required(args, 1)?.integers()?);
    sum_rows(rows, |row| Ok(value.value_bytes(row)? * times.count(row)))
}

/// `array_resize(array, n [, fill])`: `n` elements, the fill's or the array's own.
fn array_resize_bound(args: &[ColumnarValue], rows: usize) -> Result<u128> {
    let (array, length) = (required(args, 0)?, required(args, 1)?.integers()?);
    let fill = arg(args, 2)?;
    let element = match array.0.data_type() {
        DataType::List(field) | DataType::LargeList(field) | DataType::FixedSizeList(field, _) => {
            field.data_type().primitive_width().unwrap_or(16) as u128
        }
        _ => 16,
    };
    sum_rows(rows, |row| {
        let fill = fill.as_ref().map_or(Ok(0), |f| f.value_bytes(row))?;
        Ok(element.max(fill) * length.count(row))
    })
}

/// `range(stop)`, `range(start, stop [, step])` and `generate_series`: one 8-byte element per step from
/// start to stop, for whole numbers, dates and timestamps (whose steps are intervals).
fn series_bound(args: &[ColumnarValue], rows: usize) -> Result<u128> {
    let first = required(args, 0)?;
    let Some(second) = arg(args, 1)? else {
        let stop = first.integers()?;
        return sum_rows(rows, |row| Ok(stop.at(row).unsigned_abs() as u128 * 8));
    };
    let unit_nanos: i128 = match first.0.data_type() {
        DataType::Date32 => 86_400_000_000_000,
        DataType::Date64 => 1_000_000,
        DataType::Timestamp(TimeUnit::Second, _) => 1_000_000_000,
        DataType::Timestamp(TimeUnit::Millisecond, _) => 1_000_000,
        DataType::Timestamp(TimeUnit::Microsecond, _) => 1_000,
        _ => 1, // whole numbers and nanosecond timestamps: the step is in the same unit
    };
    let (start, stop) = (first.integers()?, second.integers()?);
    let steps = Steps::of(arg(args, 2)?)?;
    sum_rows(rows, |row| {
        let span =
            (stop.at(row) as i128 - start.at(row) as i128).unsigned_abs() * unit_nanos as u128;
        let step = steps.at(row).unsigned_abs();
        // A step of 0 is DataFusion's error to give: it makes nothing.
        Ok(span.checked_div(step).map_or(0, |steps| (steps + 1) * 8))
    })
}

/// The steps of a series: 1 when absent, whole numbers, or intervals (in nanoseconds).
enum Steps {
    One,
    Whole(Integers),
    Interval(arrow::array::IntervalMonthDayNanoArray),
}

impl Steps {
    fn of(step: Option<Column>) -> Result<Self> {
        Ok(match step {
            None => Self::One,
            Some(Column(step)) if matches!(step.data_type(), DataType::Interval(_)) => {
                let unit = DataType::Interval(arrow::datatypes::IntervalUnit::MonthDayNano);
                let step = arrow::compute::cast(&step, &unit)?;
                Self::Interval(step.as_primitive::<IntervalMonthDayNanoType>().clone())
            }
            Some(step) => Self::Whole(step.integers()?),
        })
    }

    /// The step at `row` (its shortest span, for an interval); 0 when null.
    fn at(&self, row: usize) -> i128 {
        match self {
            Self::One => 1,
            Self::Whole(steps) => i128::from(steps.at(row)),
            Self::Interval(steps) => {
                let i = index_of(steps, row);
                if steps.is_null(i) {
                    0
                } else {
                    shortest_nanos(steps.value(i))
                }
            }
        }
    }
}

/// The fewest nanoseconds an interval can span: months of 28 days and days of 23 hours (a day that a
/// clock change shortens); 1 when its parts have different signs, so they may nearly cancel.
fn shortest_nanos(interval: arrow::datatypes::IntervalMonthDayNano) -> i128 {
    const DAY: i128 = 23 * 3_600_000_000_000;
    let parts = [
        i128::from(interval.months) * 28 * DAY,
        i128::from(interval.days) * DAY,
        i128::from(interval.nanoseconds),
    ];
    let positive = parts.iter().all(|p| *p >= 0);
    let negative = parts.iter().all(|p| *p <= 0);
    if positive || negative {
        parts.iter().sum::<i128>()
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::util::pretty::pretty_format_batches;

    /// A context whose bounded functions may make 1 MiB.
    fn context() -> SessionContext {
        let ctx = SessionContext::new();
        register(&ctx, 1 << 20, "sql.memory_limit_mb = 1").unwrap();
        ctx
    }

    async fn run(ctx: &SessionContext, sql: &str) -> Result<String> {
        let batches = ctx.sql(sql).await?.collect().await?;
        Ok(pretty_format_batches(&batches)?.to_string())
    }

    async fn refused(ctx: &SessionContext, sql: &str, function: &str) {
        let error = match run(ctx, sql).await {
            Ok(table) => panic!("{sql} gave {} bytes of table", table.len()),
            Err(error) => error.to_string(),
        };
        assert!(
            error.contains(&format!("{function}() would make up to"))
                && error.contains("sql.memory_limit_mb = 1"),
            "{sql}: {error}"
        );
    }

    #[tokio::test]
    async fn calls_within_the_limit_give_datafusions_results() {
        let ctx = context();
        for (sql, expected) in [
            ("SELECT repeat('ab', 3) AS v", "ababab"),
            ("SELECT lpad('7', 3, '0') AS v", "007"),
            ("SELECT rpad('7', 3) AS v", "7  "),
            ("SELECT replace('a-b-c', '-', '+') AS v", "a+b+c"),
            (
                "SELECT regexp_replace('a1b22', '[0-9]+', '#', 'g') AS v",
                "a#b#",
            ),
            ("SELECT array_repeat(5, 3) AS v", "[5, 5, 5]"),
            ("SELECT array_resize([1, 2], 3, 0) AS v", "[1, 2, 0]"),
            ("SELECT range(2, 5) AS v", "[2, 3, 4]"),
            ("SELECT generate_series(2, 4) AS v", "[2, 3, 4]"),
            (
                "SELECT range(DATE '2016-06-01', DATE '2016-06-03', INTERVAL '1 day') AS v",
                "[2016-06-01, 2016-06-02]",
            ),
        ] {
            let table = run(&ctx, sql).await.unwrap();
            assert!(table.contains(expected), "{sql}: {table}");
        }
        // Over a column, the bound is the whole batch's: 1,000 rows of 1 KiB are within 1 MiB.
        let table = run(
            &ctx,
            "SELECT sum(length(repeat('x', 999 + value % 2))) AS n FROM generate_series(1, 1000)",
        )
        .await
        .unwrap();
        assert!(table.contains("999500"), "{table}");
    }

    #[tokio::test]
    async fn calls_that_could_make_more_than_the_limit_are_refused() {
        let ctx = context();
        for (sql, function) in [
            ("SELECT repeat('x', 2000000)", "repeat"),
            (
                "SELECT repeat(arrow_cast('xy', 'LargeUtf8'), 100000000000)",
                "repeat",
            ),
            ("SELECT lpad('', 2000000)", "lpad"),
            ("SELECT rpad('', 400000, '十')", "rpad"),
            (
                "SELECT replace(repeat('a', 2000), 'a', repeat('b', 2000))",
                "replace",
            ),
            (
                "SELECT regexp_replace(repeat('a', 1000), '', repeat('b', 1000), 'g')",
                "regexp_replace",
            ),
            ("SELECT array_repeat(1, 3000000000)", "array_repeat"),
            ("SELECT array_resize([1], 3000000000)", "array_resize"),
            ("SELECT range(1, 3000000000)", "range"),
            (
                "SELECT generate_series(0, 3000000000, 2)",
                "generate_series",
            ),
            (
                "SELECT range(TIMESTAMP '2016-01-01', TIMESTAMP '2017-01-01', INTERVAL '1 second')",
                "range",
            ),
            (
                "SELECT range(DATE '0001-01-01', DATE '9999-01-01', INTERVAL '1 day')",
                "range",
            ),
        ] {
            refused(&ctx, sql, function).await;
        }
        // Each row is within the limit but the batch is not.
        refused(
            &ctx,
            "SELECT length(repeat('x', 10000 + value)) FROM generate_series(1, 1000)",
            "repeat",
        )
        .await;
    }

    #[test]
    fn an_interval_with_parts_of_both_signs_counts_as_one_nanosecond() {
        let mixed = arrow::datatypes::IntervalMonthDayNano::new(1, -30, 0);
        assert_eq!(shortest_nanos(mixed), 1);
        let day = arrow::datatypes::IntervalMonthDayNano::new(0, 1, 0);
        assert_eq!(shortest_nanos(day), 23 * 3_600_000_000_000);
    }
}
