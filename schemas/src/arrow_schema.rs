//! The Arrow schema of validated events (one flat row per event, type-specific columns null where they do
//! not apply) and the conversion from [`Event`]s. The event archive and the `events` SQL table use it.

use crate::encode::encode_event;
use crate::event::Event;
use arrow::array::{
    ArrayBuilder, ArrayRef, BooleanBuilder, Date32Builder, Float64Builder, StringBuilder,
    TimestampMillisecondBuilder,
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
        s("source", true),
    ]))
});

/// The Arrow schema of an event row. `source` is where the event came from (e.g. `kafka:3@1042`).
pub fn event_schema() -> SchemaRef {
    SCHEMA.clone()
}

/// Converts events (with an optional source label each) to one record batch of [`event_schema`].
///
/// Field values are taken from the event's wire JSON ([`encode_event`]), so the mapping of each event type
/// to its fields exists in one place.
pub fn events_to_batch<'a>(
    events: impl IntoIterator<Item = (&'a Event, Option<&'a str>)>,
) -> Result<RecordBatch, ArrowError> {
    let schema = event_schema();
    let mut builders: Vec<Box<dyn ArrayBuilder>> = schema
        .fields()
        .iter()
        .map(|f| arrow::array::make_builder(f.data_type(), 1024))
        .collect();
    for (event, source) in events {
        let wire = encode_event(event, chrono_tz::UTC);
        for (field, builder) in schema.fields().iter().zip(builders.iter_mut()) {
            let name = field.name().as_str();
            let value = if name == "source" {
                source.map(Value::from)
            } else {
                wire.get(name).cloned()
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
    use arrow::datatypes::{Date32Type, Float64Type, TimestampMillisecondType};

    #[test]
    fn rows_carry_the_fields_of_their_type_and_nulls_elsewhere() {
        let task = br#"{"event_id":"t1","event_type":"task_created","occurred_at":"2016-06-01T10:00:00+08:00","branch_id":"b","user_id":"u","task_id":"T","subject_id":"S","valid_from":"2016-06-01","valid_until":"2016-06-30"}"#;
        let pay = br#"{"event_id":"p1","event_type":"payment_completed","occurred_at":"2016-06-01T10:00:00Z","branch_id":"b","user_id":"u","terminal":"phone","payment_id":"P","amount":12.5}"#;
        let (task, pay) = (
            decode_event(task, i64::MAX / 2).unwrap(),
            decode_event(pay, i64::MAX / 2).unwrap(),
        );
        let batch = events_to_batch([(&task, Some("file:0@0")), (&pay, None)]).unwrap();
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
        assert_eq!(col("source").as_string::<i32>().value(0), "file:0@0");
        assert!(col("source").is_null(1));
        assert!(col("terminal").is_null(0));
    }
}
