//! The Arrow schema of validated events (one flat row per event, type-specific columns null where they do
//! not apply) and the conversion from [`Event`]s. The event archive and the `events` SQL table use it.

use crate::event::{Event, Payload};
use arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Float64Builder, StringBuilder,
    TimestampMillisecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use chrono::NaiveDate;
use std::sync::{Arc, LazyLock};

const STRING_COLUMNS: [&str; 22] = [
    "event_id",
    "event_type",
    "branch_id",
    "user_id",
    "terminal",
    "channel",
    "display_name",
    "quote_id",
    "proposal_id",
    "kind",
    "policy_id",
    "deal_type",
    "payment_id",
    "task_id",
    "subject_id",
    "action",
    "due_month",
    "vehicle_use",
    "report_id",
    "report_type",
    "month",
    "source",
];

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

/// Column builders for one batch of event rows.
#[derive(Default)]
struct Columns {
    strings: Vec<(&'static str, StringBuilder)>,
    occurred_at: TimestampMillisecondBuilder,
    is_specialist: BooleanBuilder,
    ecommerce_direct: BooleanBuilder,
    accepted: BooleanBuilder,
    quoted_premium: Float64Builder,
    premium: Float64Builder,
    amount: Float64Builder,
    score: Float64Builder,
    valid_from: Date32Builder,
    valid_until: Date32Builder,
}

fn days(date: NaiveDate) -> i32 {
    (date - NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid")).num_days() as i32
}

/// Converts events (with an optional source label each) to one record batch of [`event_schema`].
pub fn events_to_batch<'a>(
    events: impl IntoIterator<Item = (&'a Event, Option<&'a str>)>,
) -> Result<RecordBatch, ArrowError> {
    let mut c = Columns {
        strings: STRING_COLUMNS
            .iter()
            .map(|n| (*n, StringBuilder::new()))
            .collect(),
        ..Default::default()
    };
    for (event, source) in events {
        let mut strings: [Option<String>; 22] = Default::default();
        let mut set = |name: &str, value: Option<String>| {
            let i = STRING_COLUMNS
                .iter()
                .position(|n| *n == name)
                .expect("known column");
            strings[i] = value;
        };
        set("event_id", Some(event.event_id.clone()));
        set("event_type", Some(event.event_type().as_str().into()));
        set("branch_id", Some(event.branch_id.clone()));
        set("user_id", event.user_id.clone());
        set("terminal", event.terminal.map(|t| t.as_str().into()));
        set("source", source.map(Into::into));
        c.occurred_at.append_value(event.occurred_at);
        let (mut specialist, mut ecommerce, mut accepted) = (None, None, None);
        let (mut quoted, mut premium, mut amount, mut score) = (None, None, None, None);
        let (mut from, mut until) = (None, None);
        match &event.payload {
            Payload::UserRegistered {
                channel,
                display_name,
                is_specialist,
            } => {
                set("channel", Some(channel.as_str().into()));
                set("display_name", display_name.clone());
                specialist = Some(*is_specialist);
            }
            Payload::UserDeregistered
            | Payload::Login
            | Payload::WechatBound
            | Payload::WechatUnbound => {}
            Payload::QuoteCreated {
                quote_id,
                quoted_premium,
            } => {
                set("quote_id", Some(quote_id.clone()));
                quoted = *quoted_premium;
            }
            Payload::ProposalCreated {
                proposal_id,
                quote_id,
                kind,
            } => {
                set("proposal_id", Some(proposal_id.clone()));
                set("quote_id", quote_id.clone());
                set("kind", Some(kind.as_str().into()));
            }
            Payload::PolicyIssued {
                policy_id,
                premium: p,
                deal_type,
                quote_id,
                proposal_id,
            } => {
                set("policy_id", Some(policy_id.clone()));
                premium = Some(*p);
                set("deal_type", Some(deal_type.as_str().into()));
                set("quote_id", quote_id.clone());
                set("proposal_id", proposal_id.clone());
            }
            Payload::PolicyCancelled { policy_id } | Payload::RenewalAssigned { policy_id } => {
                set("policy_id", Some(policy_id.clone()))
            }
            Payload::PaymentCompleted {
                payment_id,
                amount: a,
                policy_id,
            } => {
                set("payment_id", Some(payment_id.clone()));
                amount = Some(*a);
                set("policy_id", policy_id.clone());
            }
            Payload::TaskCreated {
                task_id,
                subject_id,
                valid_from,
                valid_until,
            } => {
                set("task_id", Some(task_id.clone()));
                set("subject_id", Some(subject_id.clone()));
                from = Some(days(*valid_from));
                until = Some(days(*valid_until));
            }
            Payload::TaskAction { task_id, action } => {
                set("task_id", Some(task_id.clone()));
                set("action", Some(action.as_str().into()));
            }
            Payload::TaskCancelled { task_id } => set("task_id", Some(task_id.clone())),
            Payload::RenewalDue {
                policy_id,
                due_month,
                vehicle_use,
                ecommerce_direct,
            } => {
                set("policy_id", Some(policy_id.clone()));
                set("due_month", Some(due_month.to_string()));
                set("vehicle_use", Some(vehicle_use.clone()));
                ecommerce = Some(*ecommerce_direct);
            }
            Payload::ReportSubmitted {
                report_id,
                report_type,
                accepted: a,
            } => {
                set("report_id", Some(report_id.clone()));
                set("report_type", Some(report_type.as_str().into()));
                accepted = Some(*a);
            }
            Payload::ClearingScored { month, score: s } => {
                set("month", Some(month.to_string()));
                score = Some(*s);
            }
        }
        for ((_, builder), value) in c.strings.iter_mut().zip(strings) {
            builder.append_option(value);
        }
        c.is_specialist.append_option(specialist);
        c.ecommerce_direct.append_option(ecommerce);
        c.accepted.append_option(accepted);
        c.quoted_premium.append_option(quoted);
        c.premium.append_option(premium);
        c.amount.append_option(amount);
        c.score.append_option(score);
        c.valid_from.append_option(from);
        c.valid_until.append_option(until);
    }
    let schema = event_schema();
    let mut strings: Vec<(&str, ArrayRef)> = c
        .strings
        .into_iter()
        .map(|(n, mut b)| (n, Arc::new(b.finish()) as ArrayRef))
        .collect();
    let columns = schema
        .fields()
        .iter()
        .map(|field| -> ArrayRef {
            match field.name().as_str() {
                "occurred_at" => Arc::new(c.occurred_at.finish_cloned().with_timezone("UTC")),
                "is_specialist" => Arc::new(c.is_specialist.finish_cloned()),
                "ecommerce_direct" => Arc::new(c.ecommerce_direct.finish_cloned()),
                "accepted" => Arc::new(c.accepted.finish_cloned()),
                "quoted_premium" => Arc::new(c.quoted_premium.finish_cloned()),
                "premium" => Arc::new(c.premium.finish_cloned()),
                "amount" => Arc::new(c.amount.finish_cloned()),
                "score" => Arc::new(c.score.finish_cloned()),
                "valid_from" => Arc::new(c.valid_from.finish_cloned()),
                "valid_until" => Arc::new(c.valid_until.finish_cloned()),
                name => {
                    let i = strings
                        .iter()
                        .position(|(n, _)| *n == name)
                        .expect("string column");
                    strings.swap_remove(i).1
                }
            }
        })
        .collect();
    RecordBatch::try_new(schema, columns)
}
