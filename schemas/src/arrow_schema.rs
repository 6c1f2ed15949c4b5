//! The Arrow schema of validated events (one flat row per event, type-specific columns null where they do
//! not apply, then the source partition and offset) and the conversion from [`Event`]s. The event archive
//! and the `events`, `late_events` SQL tables use it; rejected messages have [`rejected_schema`].

use crate::decode::Rejection;
use crate::encode::encode_event;
use crate::event::Event;
use crate::message::PartitionId;
use crate::time::{EpochMillis, LocalDates, YearMonth};
use arrow::array::{
    ArrayBuilder, ArrayRef, BooleanBuilder, Date32Builder, Float64Builder, Int32Builder,
    Int64Builder, StringBuilder, TimestampMillisecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use chrono::NaiveDate;
use serde_json::Value;
use std::sync::{Arc, LazyLock};

static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let s = |name: &str, nullable| Field::new(name, DataType::Utf8, nullable);
    let f = |name: &str| Field::new(name, DataType::Float64, true);
    let b = |name: &str| Field::new(name, DataType::Boolean, true);
    let d = |name: &str| Field::new(name, DataType::Date32, true);
    Arc::new(Schema::new(vec![
        s("event_id", false),
        s("event_type", false),
        Field::new(
            "occurred_at",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            false,
        ),
        s("branch_id", false),
        s("user_id", true),
        s("terminal", true),
        s("channel", true),
        s("display_name", true),
        b("is_specialist"),
        s("quote_id", true),
        f("quoted_premium"),
        s("proposal_id", true),
        s("kind", true),
        s("policy_id", true),
        f("premium"),
        s("deal_type", true),
        s("payment_id", true),
        f("amount"),
        s("task_id", true),
        s("subject_id", true),
        d("valid_from"),
        d("valid_until"),
        s("action", true),
        s("due_month", true),
        s("vehicle_use", true),
        b("ecommerce_direct"),
        s("report_id", true),
        s("report_type", true),
        b("accepted"),
        s("month", true),
        f("score"),
        Field::new(LOCAL_DATE_COLUMN, DataType::Date32, false),
        Field::new(LOCAL_MONTH_COLUMN, DataType::Utf8, false),
        Field::new(PARTITION_COLUMN, DataType::Int32, false),
        Field::new(OFFSET_COLUMN, DataType::Int64, false),
    ]))
});

static REJECTED_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new(
            "received_at",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            false,
        ),
        Field::new("kind", DataType::Utf8, false),
        Field::new("field", DataType::Utf8, true),
        Field::new("reason", DataType::Utf8, false),
        Field::new("payload", DataType::Utf8, false),
        Field::new(PARTITION_COLUMN, DataType::Int32, false),
        Field::new(OFFSET_COLUMN, DataType::Int64, false),
    ]))
});

/// The column of the event's day in the configured time zone (the calendar the scorecards use).
pub const LOCAL_DATE_COLUMN: &str = "local_date";
/// The column of the event's month in the configured time zone, `YYYY-MM`.
pub const LOCAL_MONTH_COLUMN: &str = "local_month";
/// The column of the source partition an event was read from (a file is partition 0).
pub const PARTITION_COLUMN: &str = "source_partition";
/// The column of the offset within its partition (a file's 0-based line number).
pub const OFFSET_COLUMN: &str = "source_offset";

/// The Arrow schema of an event row.
pub fn event_schema() -> SchemaRef {
    SCHEMA.clone()
}

/// The Arrow schema of a rejected message: when it was received, why it was rejected, its bytes (as text,
/// invalid UTF-8 replaced) and where it came from.
pub fn rejected_schema() -> SchemaRef {
    REJECTED_SCHEMA.clone()
}

/// Converts events, each with its source partition and offset, to one record batch of [`event_schema`];
/// `dates` gives their local days and months.
///
/// Field values are taken from the event's wire JSON ([`encode_event`]), so the mapping of each event type
/// to its fields exists in one place.
pub fn events_to_batch<'a>(
    events: impl IntoIterator<Item = (&'a Event, PartitionId, u64)>,
    dates: &mut LocalDates,
) -> Result<RecordBatch, ArrowError> {
    let schema = event_schema();
    let mut builders: Vec<Box<dyn ArrayBuilder>> = schema
        .fields()
        .iter()
        .map(|f| arrow::array::make_builder(f.data_type(), 1024))
        .collect();
    for (event, partition, offset) in events {
        let wire = encode_event(event, chrono_tz::UTC);
        for (field, builder) in schema.fields().iter().zip(builders.iter_mut()) {
            let name = field.name().as_str();
            let mut local = || dates.local_date(event.occurred_at);
            let value = match name {
                LOCAL_DATE_COLUMN => Some(Value::from(local().to_string())),
                LOCAL_MONTH_COLUMN => Some(Value::from(YearMonth::of_date(local()).to_string())),
                PARTITION_COLUMN => Some(Value::from(partition)),
                OFFSET_COLUMN => Some(Value::from(offset)),
                _ => wire.get(name).cloned(),
            };
            append(
                builder.as_mut(),
                field.data_type(),
                name,
                event,
                value.as_ref(),
            );
        }
    }
    let columns: Vec<ArrayRef> = builders.iter_mut().map(|b| b.finish()).collect();
    RecordBatch::try_new(schema, columns)
}

/// One rejected message, for [`rejections_to_batch`].
pub struct RejectedRow<'a> {
    /// Why it was rejected.
    pub rejection: &'a Rejection,
    /// Its bytes.
    pub payload: &'a [u8],
    /// When it was received (Unix milliseconds).
    pub received_at: EpochMillis,
    /// Its source partition.
    pub partition: PartitionId,
    /// Its offset in the partition.
    pub offset: u64,
}

/// Converts rejected messages to one record batch of [`rejected_schema`].
pub fn rejections_to_batch<'a>(
    rows: impl IntoIterator<Item = RejectedRow<'a>>,
) -> Result<RecordBatch, ArrowError> {
    let mut received_at = TimestampMillisecondBuilder::new().with_timezone("UTC");
    let (mut kind, mut field, mut reason, mut payload) = (
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
    );
    let (mut partition, mut offset) = (Int32Builder::new(), Int64Builder::new());
    for row in rows {
        received_at.append_value(row.received_at);
        kind.append_value(row.rejection.kind.as_str());
        field.append_option(row.rejection.field.as_deref());
        reason.append_value(&row.rejection.reason);
        payload.append_value(String::from_utf8_lossy(row.payload));
        partition.append_value(row.partition as i32);
        offset.append_value(row.offset as i64);
    }
    let columns: Vec<ArrayRef> = vec![
        Arc::new(received_at.finish()),
        Arc::new(kind.finish()),
        Arc::new(field.finish()),
        Arc::new(reason.finish()),
        Arc::new(payload.finish()),
        Arc::new(partition.finish()),
        Arc::new(offset.finish()),
    ];
    RecordBatch::try_new(rejected_schema(), columns)
}

fn append(
    builder: &mut dyn ArrayBuilder,
    data_type: &DataType,
    name: &str,
    event: &Event,
    value: Option<&Value>,
) {
    let any = builder.as_any_mut();
    match data_type {
        DataType::Utf8 => {
            downcast::<StringBuilder>(any).append_option(value.and_then(Value::as_str))
        }
        DataType::Float64 => {
            downcast::<Float64Builder>(any).append_option(value.and_then(Value::as_f64))
        }
        DataType::Boolean => {
            downcast::<BooleanBuilder>(any).append_option(value.and_then(Value::as_bool))
        }
        DataType::Int32 => downcast::<Int32Builder>(any)
            .append_option(value.and_then(Value::as_i64).map(|v| v as i32)),
        DataType::Int64 => {
            downcast::<Int64Builder>(any).append_option(value.and_then(Value::as_i64))
        }
        DataType::Date32 => downcast::<Date32Builder>(any).append_option(
            value
                .and_then(Value::as_str)
                .and_then(|d| d.parse::<NaiveDate>().ok())
                .map(days_since_epoch),
        ),
        DataType::Timestamp(..) => {
            debug_assert_eq!(name, "occurred_at");
            downcast::<TimestampMillisecondBuilder>(any).append_value(event.occurred_at)
        }
        other => unreachable!("the event schema has no {other} column"),
    }
}

fn downcast<T: 'static>(any: &mut dyn std::any::Any) -> &mut T {
    any.downcast_mut::<T>()
        .expect("builder made for this column's type")
}

fn days_since_epoch(date: NaiveDate) -> i32 {
    (date - NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid")).num_days() as i32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode_event;
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{
        Date32Type, Float64Type, Int32Type, Int64Type, TimestampMillisecondType,
    };

    #[test]
    fn rows_carry_the_fields_of_their_type_and_nulls_elsewhere() {
        let task = br#"{"event_id":"t1","event_type":"task_created","occurred_at":"2016-06-01T10:00:00+08:00","branch_id":"b","user_id":"u","task_id":"T","subject_id":"S","valid_from":"2016-06-01","valid_until":"2016-06-30"}"#;
        let pay = br#"{"event_id":"p1","event_type":"payment_completed","occurred_at":"2016-06-01T10:00:00Z","branch_id":"b","user_id":"u","terminal":"phone","payment_id":"P","amount":12.5}"#;
        let (task, pay) = (
            decode_event(task, i64::MAX / 2).unwrap(),
            decode_event(pay, i64::MAX / 2).unwrap(),
        );
        let mut dates = LocalDates::new(crate::LocalCalendar::new(chrono_tz::Asia::Shanghai));
        let batch = events_to_batch([(&task, 2, 41), (&pay, 0, 7)], &mut dates).unwrap();
        assert_eq!(batch.num_rows(), 2);
        let col = |name: &str| batch.column(batch.schema().index_of(name).unwrap()).clone();
        assert_eq!(
            col("event_type").as_string::<i32>().value(1),
            "payment_completed"
        );
        assert_eq!(col("amount").as_primitive::<Float64Type>().value(1), 12.5);
        assert!(col("amount").is_null(0));
        assert_eq!(
            col("valid_until").as_primitive::<Date32Type>().value(0),
            16_982
        ); // 2016-06-30
        assert_eq!(
            col("occurred_at")
                .as_primitive::<TimestampMillisecondType>()
                .value(1),
            1_464_775_200_000
        );
        assert_eq!(
            col(PARTITION_COLUMN).as_primitive::<Int32Type>().value(0),
            2
        );
        assert_eq!(col(OFFSET_COLUMN).as_primitive::<Int64Type>().value(1), 7);
        assert!(col("terminal").is_null(0));
    }
}
