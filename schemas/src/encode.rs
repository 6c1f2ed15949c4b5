//! Writes an [`Event`] back to its wire JSON: what the simulator and producers send, and what
//! [`crate::decode_event`] reads.

use crate::event::{Event, Payload};
use chrono::{DateTime, Utc};
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
    let mut put = |key: &str, value: Value| {
        if !value.is_null() {
            out.insert(key.into(), value);
        }
    };
    match &event.payload {
        Payload::UserRegistered {
            channel,
            display_name,
            is_specialist,
        } => {
            put("channel", json!(channel.as_str()));
            put("display_name", json!(display_name));
            if *is_specialist {
                put("is_specialist", json!(true));
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
            put("quote_id", json!(quote_id));
            put("quoted_premium", json!(quoted_premium));
        }
        Payload::ProposalCreated {
            proposal_id,
            quote_id,
            kind,
        } => {
            put("proposal_id", json!(proposal_id));
            put("quote_id", json!(quote_id));
            put("kind", json!(kind.as_str()));
        }
        Payload::PolicyIssued {
            policy_id,
            premium,
            deal_type,
            quote_id,
            proposal_id,
        } => {
            put("policy_id", json!(policy_id));
            put("premium", json!(premium));
            put("deal_type", json!(deal_type.as_str()));
            put("quote_id", json!(quote_id));
            put("proposal_id", json!(proposal_id));
        }
        Payload::PolicyCancelled { policy_id } | Payload::RenewalAssigned { policy_id } => {
            put("policy_id", json!(policy_id))
        }
        Payload::PaymentCompleted {
            payment_id,
            amount,
            policy_id,
        } => {
            put("payment_id", json!(payment_id));
            put("amount", json!(amount));
            put("policy_id", json!(policy_id));
        }
        Payload::TaskCreated {
            task_id,
            subject_id,
            valid_from,
            valid_until,
        } => {
            put("task_id", json!(task_id));
            put("subject_id", json!(subject_id));
            put("valid_from", json!(valid_from.to_string()));
            put("valid_until", json!(valid_until.to_string()));
        }
        Payload::TaskAction { task_id, action } => {
            put("task_id", json!(task_id));
            put("action", json!(action.as_str()));
        }
        Payload::TaskCancelled { task_id } => put("task_id", json!(task_id)),
        Payload::RenewalDue {
            policy_id,
            due_month,
            vehicle_use,
            ecommerce_direct,
        } => {
            put("policy_id", json!(policy_id));
            put("due_month", json!(due_month.to_string()));
            put("vehicle_use", json!(vehicle_use));
            put("ecommerce_direct", json!(ecommerce_direct));
        }
        Payload::ReportSubmitted {
            report_id,
            report_type,
            accepted,
        } => {
            put("report_id", json!(report_id));
            put("report_type", json!(report_type.as_str()));
            put("accepted", json!(accepted));
        }
        Payload::ClearingScored { month, score } => {
            put("month", json!(month.to_string()));
            put("score", json!(score));
        }
    }
    Value::Object(out)
}
