//! The Arrow schema of validated events (one flat row per event, type-specific columns null where they do
//! not apply, then the source partition and offset) and the conversion from [`Event`]s. The event archive
//! and the `events`, `late_events` SQL tables use it; rejected messages have [`rejected_schema`].

use crate::decode::Rejection;
use crate::encode::{FieldValue, payload_fields};
use crate::event::Event;
use crate::message::PartitionId;
use crate::time::{EpochMillis, LocalDates, YearMonth};
use arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Float64Builder, Int32Builder, Int64Builder,
    StringBuilder, TimestampMillisecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use chrono::NaiveDate;
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

/// A builder for one type-specific column.
enum PayloadColumn {
    Text(StringBuilder),
    Number(Float64Builder),
    Flag(BooleanBuilder),
    Date(Date32Builder),
}

impl PayloadColumn {
    fn for_type(data_type: &DataType) -> Self {
        match data_type {
            DataType::Utf8 => Self::Text(StringBuilder::new()),
            DataType::Float64 => Self::Number(Float64Builder::new()),
            DataType::Boolean => Self::Flag(BooleanBuilder::new()),
            DataType::Date32 => Self::Date(Date32Builder::new()),
            other => unreachable!("no type-specific column is {other}"),
        }
    }

    fn append(&mut self, value: FieldValue<'_>) {
        match (self, value) {
            (Self::Text(b), FieldValue::Text(text)) => b.append_value(text),
            (Self::Text(b), FieldValue::Month(month)) => b.append_value(month.to_string()),
            (Self::Number(b), FieldValue::Number(number)) => b.append_value(number),
            (Self::Flag(b), FieldValue::Flag(flag)) => b.append_value(flag),
            (Self::Date(b), FieldValue::Date(date)) => b.append_value(days_since_epoch(date)),
            (_, value) => unreachable!("the event schema's column for {value:?} has another type"),
        }
    }

    fn append_null(&mut self) {
        match self {
            Self::Text(b) => b.append_null(),
            Self::Number(b) => b.append_null(),
            Self::Flag(b) => b.append_null(),
            Self::Date(b) => b.append_null(),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Self::Text(b) => Arc::new(b.finish()),
            Self::Number(b) => Arc::new(b.finish()),
            Self::Flag(b) => Arc::new(b.finish()),
            Self::Date(b) => Arc::new(b.finish()),
        }
    }
}

/// Where the type-specific fields sit in [`event_schema`]: after `terminal`, before the local date.
struct PayloadLayout {
    /// The schema positions of the type-specific columns.
    columns: std::ops::Range<usize>,
    /// Each field's index among them, by name.
    index: std::collections::HashMap<String, usize>,
}

static PAYLOAD_LAYOUT: LazyLock<PayloadLayout> = LazyLock::new(|| {
    let schema = event_schema();
    let position = |name| schema.index_of(name).expect("column of the event schema");
    let columns = position("terminal") + 1..position(LOCAL_DATE_COLUMN);
    let index = columns
        .clone()
        .map(|i| (schema.field(i).name().clone(), i - columns.start))
        .collect();
    PayloadLayout { columns, index }
});

/// Converts events, each with its source partition and offset, to one record batch of [`event_schema`];
/// `dates` gives their local days and months. The type-specific fields come from the one mapping of
/// payloads to wire fields that the JSON encoding uses too.
pub fn events_to_batch<'a>(
    events: impl IntoIterator<Item = (&'a Event, PartitionId, u64)>,
    dates: &mut LocalDates,
) -> Result<RecordBatch, ArrowError> {
    let schema = event_schema();
    let (mut event_id, mut event_type, mut branch_id, mut user_id, mut terminal) = (
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
        StringBuilder::new(),
    );
    let mut occurred_at = TimestampMillisecondBuilder::new().with_timezone("UTC");
    let layout = &*PAYLOAD_LAYOUT;
    let mut payload: Vec<PayloadColumn> = layout
        .columns
        .clone()
        .map(|i| PayloadColumn::for_type(schema.field(i).data_type()))
        .collect();
    let (mut local_date, mut local_month) = (Date32Builder::new(), StringBuilder::new());
    let (mut partition_column, mut offset_column) = (Int32Builder::new(), Int64Builder::new());
    for (event, partition, offset) in events {
        event_id.append_value(&event.event_id);
        event_type.append_value(event.event_type().as_str());
        occurred_at.append_value(event.occurred_at);
        branch_id.append_value(&event.branch_id);
        user_id.append_option(event.user_id.as_deref());
        terminal.append_option(event.terminal.map(|t| t.as_str()));
        let mut filled = 0u32;
        payload_fields(&event.payload, |name, value| {
            let column = layout.index[name];
            payload[column].append(value);
            filled |= 1 << column;
        });
        for (column, builder) in payload.iter_mut().enumerate() {
            if filled & (1 << column) == 0 {
                builder.append_null();
            }
        }
        let date = dates.local_date(event.occurred_at);
        local_date.append_value(days_since_epoch(date));
        local_month.append_value(YearMonth::of_date(date).to_string());
        partition_column.append_value(partition as i32);
        offset_column.append_value(offset as i64);
    }
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(event_id.finish()),
        Arc::new(event_type.finish()),
        Arc::new(occurred_at.finish()),
        Arc::new(branch_id.finish()),
        Arc::new(user_id.finish()),
        Arc::new(terminal.finish()),
    ];
    columns.extend(payload.iter_mut().map(PayloadColumn::finish));
    columns.extend([
        Arc::new(local_date.finish()) as ArrayRef,
        Arc::new(local_month.finish()),
        Arc::new(partition_column.finish()),
        Arc::new(offset_column.finish()),
    ]);
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

    /// Every column of every event type's row holds what the event's wire JSON says (null where the JSON
    /// has no such field), with one event of each type.
    #[test]
    fn rows_match_the_wire_json_for_every_event_type() {
        let lines = [
            r#"{"event_id":"e1","event_type":"user_registered","occurred_at":"2016-06-01T08:00:00+08:00","branch_id":"b","user_id":"u","channel":"direct","display_name":"张三","is_specialist":true}"#,
            r#"{"event_id":"e2","event_type":"user_deregistered","occurred_at":"2016-06-01T08:00:00+08:00","branch_id":"b","user_id":"u"}"#,
            r#"{"event_id":"e3","event_type":"login","occurred_at":"2016-06-01T08:00:00+08:00","branch_id":"b","user_id":"u","terminal":"pad"}"#,
            r#"{"event_id":"e4","event_type":"quote_created","occurred_at":"2016-06-01T08:00:00+08:00","branch_id":"b","user_id":"u","terminal":"pc","quote_id":"q","quoted_premium":12.5}"#,
            r#"{"event_id":"e5","event_type":"proposal_created","occurred_at":"2016-06-01T08:00:00+08:00","branch_id":"b","user_id":"u","terminal":"pc","proposal_id":"p","quote_id":"q","kind":"draft"}"#,
            r#"{"event_id":"e6","event_type":"policy_issued","occurred_at":"2016-06-01T08:00:00+08:00","branch_id":"b","user_id":"u","policy_id":"po","premium":3000,"deal_type":"task","quote_id":"q","proposal_id":"p"}"#,
            r#"{"event_id":"e7","event_type":"policy_cancelled","occurred_at":"2016-06-01T08:00:00+08:00","branch_id":"b","user_id":"u","policy_id":"po"}"#,
            r#"{"event_id":"e8","event_type":"payment_completed","occurred_at":"2016-06-01T08:00:00+08:00","branch_id":"b","user_id":"u","terminal":"wechat","payment_id":"pay","amount":99.9,"policy_id":"po"}"#,
            r#"{"event_id":"e9","event_type":"task_created","occurred_at":"2016-06-01T08:00:00+08:00","branch_id":"b","user_id":"u","task_id":"t","subject_id":"s","valid_from":"2016-06-01","valid_until":"2016-06-30"}"#,
            r#"{"event_id":"e10","event_type":"task_action","occurred_at":"2016-06-01T08:00:00+08:00","branch_id":"b","user_id":"u","task_id":"t","action":"call"}"#,
            r#"{"event_id":"e11","event_type":"task_cancelled","occurred_at":"2016-06-01T08:00:00+08:00","branch_id":"b","user_id":"u","task_id":"t"}"#,
            r#"{"event_id":"e12","event_type":"renewal_due","occurred_at":"2016-06-01T08:00:00+08:00","branch_id":"b","policy_id":"r","due_month":"2016-07","vehicle_use":"family_private","ecommerce_direct":false}"#,
            r#"{"event_id":"e13","event_type":"renewal_assigned","occurred_at":"2016-06-01T08:00:00+08:00","branch_id":"b","user_id":"u","policy_id":"r"}"#,
            r#"{"event_id":"e14","event_type":"wechat_bound","occurred_at":"2016-06-01T08:00:00+08:00","branch_id":"b","user_id":"u"}"#,
            r#"{"event_id":"e15","event_type":"wechat_unbound","occurred_at":"2016-06-01T08:00:00+08:00","branch_id":"b","user_id":"u"}"#,
            r#"{"event_id":"e16","event_type":"report_submitted","occurred_at":"2016-06-01T08:00:00+08:00","branch_id":"b","report_id":"rep","report_type":"briefing","accepted":true}"#,
            r#"{"event_id":"e17","event_type":"clearing_scored","occurred_at":"2016-06-01T08:00:00+08:00","branch_id":"b","month":"2016-05","score":8.5}"#,
        ];
        let events: Vec<Event> = lines
            .iter()
            .map(|line| decode_event(line.as_bytes(), i64::MAX / 2).unwrap())
            .collect();
        let types: std::collections::HashSet<_> = events.iter().map(Event::event_type).collect();
        assert_eq!(
            types.len(),
            crate::EventType::ALL.len(),
            "one line per type"
        );
        let mut dates = LocalDates::new(crate::LocalCalendar::new(chrono_tz::UTC));
        let batch = events_to_batch(events.iter().map(|e| (e, 0, 0)), &mut dates).unwrap();
        let schema = batch.schema();
        for (row, line) in lines.iter().enumerate() {
            let wire: serde_json::Value = serde_json::from_str(line).unwrap();
            for (i, field) in schema
                .fields()
                .iter()
                .enumerate()
                .take(PAYLOAD_LAYOUT.columns.end)
            {
                let column = batch.column(i);
                let expected = wire.get(field.name()).filter(|v| !v.is_null());
                let name = field.name();
                let Some(expected) = expected else {
                    assert!(column.is_null(row), "{name} of row {row}");
                    continue;
                };
                match field.data_type() {
                    DataType::Utf8 => assert_eq!(
                        column.as_string::<i32>().value(row),
                        expected.as_str().unwrap(),
                        "{name} of row {row}"
                    ),
                    DataType::Float64 => assert_eq!(
                        column.as_primitive::<Float64Type>().value(row),
                        expected.as_f64().unwrap(),
                        "{name} of row {row}"
                    ),
                    DataType::Boolean => assert_eq!(
                        column.as_boolean().value(row),
                        expected.as_bool().unwrap(),
                        "{name} of row {row}"
                    ),
                    DataType::Date32 => assert_eq!(
                        column.as_primitive::<Date32Type>().value(row),
                        days_since_epoch(expected.as_str().unwrap().parse().unwrap()),
                        "{name} of row {row}"
                    ),
                    DataType::Timestamp(..) => assert_eq!(
                        column.as_primitive::<TimestampMillisecondType>().value(row),
                        events[row].occurred_at
                    ),
                    other => panic!("unexpected column type {other}"),
                }
            }
        }
        assert_eq!(
            schema.field(PAYLOAD_LAYOUT.columns.end).name(),
            LOCAL_DATE_COLUMN,
            "the type-specific columns end where the local date begins"
        );
    }
}
