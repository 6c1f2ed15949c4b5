//! Writes an [`Event`] back to its wire JSON: what the simulator and producers send, and what
//! [`crate::decode_event`] reads.

use crate::event::{Event, Payload};
use crate::time::YearMonth;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value, json};

/// The wire JSON of `event`, with `occurred_at` written in `zone`'s offset.
pub fn encode_event(event: &Event, zone: Tz) -> Value {
    let mut out = Map::new();
    let at = DateTime::<Utc>::from_timestamp_millis(event.occurred_at)
        .unwrap_or_default()
        .with_timezone(&zone);
    out.insert("event_id".into(), json!(event.event_id));
    out.insert("event_type".into(), json!(event.event_type().as_str()));
    out.insert(
        "occurred_at".into(),
        json!(at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
    );
    out.insert("branch_id".into(), json!(event.branch_id));
    if let Some(user) = &event.user_id {
        out.insert("user_id".into(), json!(user));
    }
    if let Some(terminal) = event.terminal {
        out.insert("terminal".into(), json!(terminal.as_str()));
    }
    payload_fields(&event.payload, |key, value| {
        let value = match value {
            FieldValue::Text(text) => json!(text),
            FieldValue::Number(number) => json!(number),
            FieldValue::Flag(flag) => json!(flag),
            FieldValue::Date(date) => json!(date.to_string()),
            FieldValue::Month(month) => json!(month.to_string()),
        };
        out.insert(key.into(), value);
    });
    Value::Object(out)
}

/// The value of one type-specific field of an event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FieldValue<'a> {
    /// A string (ids and enumerations by their wire name).
    Text(&'a str),
    /// A number.
    Number(f64),
    /// A boolean.
    Flag(bool),
    /// A date, written `YYYY-MM-DD`.
    Date(NaiveDate),
    /// A month, written `YYYY-MM`.
    Month(YearMonth),
}

/// Calls `visit` with the wire name and value of each type-specific field `payload` carries (absent optional
/// fields, and `is_specialist` when false, are not visited). The one mapping of payloads to wire fields:
/// the JSON encoding and the Arrow rows both use it.
pub fn payload_fields<'a>(
    payload: &'a Payload,
    mut visit: impl FnMut(&'static str, FieldValue<'a>),
) {
    use FieldValue::{Date, Flag, Month, Number, Text};
    match payload {
        Payload::UserRegistered {
            channel,
            display_name,
            is_specialist,
        } => {
            visit("channel", Text(channel.as_str()));
            if let Some(name) = display_name {
                visit("display_name", Text(name));
            }
            if *is_specialist {
                visit("is_specialist", Flag(true));
            }
        }
        Payload::UserDeregistered
        | Payload::Login
        | Payload::WechatBound
        | Payload::WechatUnbound => {}
        Payload::QuoteCreated {
            quote_id,
            quoted_premium,
        } => {
            visit("quote_id", Text(quote_id));
            if let Some(premium) = quoted_premium {
                visit("quoted_premium", Number(*premium));
            }
        }
        Payload::ProposalCreated {
            proposal_id,
            quote_id,
            kind,
        } => {
            if let Some(id) = quote_id {
                visit("quote_id", Text(id));
            }
            visit("proposal_id", Text(proposal_id));
            visit("kind", Text(kind.as_str()));
        }
        Payload::PolicyIssued {
            policy_id,
            premium,
            deal_type,
            quote_id,
            proposal_id,
        } => {
            if let Some(id) = quote_id {
                visit("quote_id", Text(id));
            }
            if let Some(id) = proposal_id {
                visit("proposal_id", Text(id));
            }
            visit("policy_id", Text(policy_id));
            visit("premium", Number(*premium));
            visit("deal_type", Text(deal_type.as_str()));
        }
        Payload::PolicyCancelled { policy_id } | Payload::RenewalAssigned { policy_id } => {
            visit("policy_id", Text(policy_id))
        }
        Payload::PaymentCompleted {
            payment_id,
            amount,
            policy_id,
        } => {
            if let Some(id) = policy_id {
                visit("policy_id", Text(id));
            }
            visit("payment_id", Text(payment_id));
            visit("amount", Number(*amount));
        }
        Payload::TaskCreated {
            task_id,
            subject_id,
            valid_from,
            valid_until,
        } => {
            visit("task_id", Text(task_id));
            visit("subject_id", Text(subject_id));
            visit("valid_from", Date(*valid_from));
            visit("valid_until", Date(*valid_until));
        }
        Payload::TaskAction { task_id, action } => {
            visit("task_id", Text(task_id));
            visit("action", Text(action.as_str()));
        }
        Payload::TaskCancelled { task_id } => visit("task_id", Text(task_id)),
        Payload::RenewalDue {
            policy_id,
            due_month,
            vehicle_use,
            ecommerce_direct,
        } => {
            visit("policy_id", Text(policy_id));
            visit("due_month", Month(*due_month));
            visit("vehicle_use", Text(vehicle_use));
            visit("ecommerce_direct", Flag(*ecommerce_direct));
        }
        Payload::ReportSubmitted {
            report_id,
            report_type,
            accepted,
        } => {
            visit("report_id", Text(report_id));
            visit("report_type", Text(report_type.as_str()));
            visit("accepted", Flag(*accepted));
        }
        Payload::ClearingScored { month, score } => {
            visit("month", Month(*month));
            visit("score", Number(*score));
        }
    }
}
