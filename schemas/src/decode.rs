//! Turns one message's bytes into a validated [`Event`], or a [`Rejection`] whose reason names the field and
//! says what was expected, so a producer can act on it.

use crate::event::*;
use crate::excerpt::{bounded_message, excerpt};
use crate::time::{EpochMillis, YearMonth};
use chrono::{DateTime, NaiveDate};
use quotes::QuoteIndex;
use std::borrow::Cow;
use std::fmt;
use wire::Wire;

mod quotes;
mod timestamp;
mod wire;

/// The largest message accepted, in bytes (1 MiB; docs/operations.md#dead-letters).
pub const MAX_MESSAGE_BYTES: usize = 1024 * 1024;

/// The longest `event_id`, in characters.
pub const MAX_EVENT_ID_CHARS: usize = 128;

/// The largest amount or premium accepted, in yuan: far above any real policy, and small enough that sums
/// in fen never overflow.
pub const MAX_AMOUNT_YUAN: f64 = 1e10;

/// How far ahead of the pipeline clock `occurred_at` may be, in milliseconds (24 hours).
pub const MAX_FUTURE_MILLIS: i64 = 24 * 3600 * 1000;

/// How long before the assessment starts an `occurred_at` may be, in days: earlier is a wrong clock.
pub const MAX_DAYS_BEFORE_ASSESSMENT: i64 = 366;

/// The `occurred_at` a message may carry: outside these bounds a timestamp is implausible (a wrong device
/// clock) and the message is rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeBounds {
    /// The earliest instant accepted.
    pub earliest: EpochMillis,
    /// The pipeline clock: at most [`MAX_FUTURE_MILLIS`] after it is accepted.
    pub now: EpochMillis,
}

impl TimeBounds {
    /// The bounds of an assessment that starts at `assessment_start` (local midnight, in milliseconds),
    /// with the pipeline clock at `now`: from [`MAX_DAYS_BEFORE_ASSESSMENT`] days before it.
    pub fn new(assessment_start: EpochMillis, now: EpochMillis) -> Self {
        Self {
            earliest: assessment_start.saturating_sub(MAX_DAYS_BEFORE_ASSESSMENT * 86_400_000),
            now,
        }
    }
}

impl From<EpochMillis> for TimeBounds {
    /// Only the pipeline clock `now`, without a lower bound (tools and tests that decode outside a
    /// pipeline).
    fn from(now: EpochMillis) -> Self {
        Self {
            earliest: EpochMillis::MIN,
            now,
        }
    }
}

/// Why a message was rejected, as a small fixed set for metrics and dead-letter headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectKind {
    /// Over [`MAX_MESSAGE_BYTES`].
    TooLarge,
    /// Not valid UTF-8.
    NotUtf8,
    /// Not a JSON object.
    NotJson,
    /// A required field is absent (or null).
    MissingField,
    /// A field has the wrong type or a value outside its range or set.
    InvalidField,
    /// `event_type` names no known type.
    UnknownEventType,
    /// `occurred_at` is too far ahead of the pipeline clock.
    InFuture,
    /// `occurred_at` is long before the assessment: a wrong clock.
    Implausible,
}

impl RejectKind {
    /// The snake_case code used in metrics and headers.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectKind::TooLarge => "too_large",
            RejectKind::NotUtf8 => "not_utf8",
            RejectKind::NotJson => "not_json",
            RejectKind::MissingField => "missing_field",
            RejectKind::InvalidField => "invalid_field",
            RejectKind::UnknownEventType => "unknown_event_type",
            RejectKind::InFuture => "in_future",
            RejectKind::Implausible => "implausible_time",
        }
    }
}

/// A message that is not a valid event, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The category.
    pub kind: RejectKind,
    /// The field at fault, when one is.
    pub field: Option<String>,
    /// What is wrong and what was expected, e.g. `payment_completed.amount must be > 0, got -50`.
    pub reason: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for Rejection {}

impl Rejection {
    /// A rejection, boxed: decoding passes results along at every field, and a small error keeps them small.
    fn new(kind: RejectKind, field: Option<String>, reason: String) -> Box<Self> {
        Box::new(Self {
            kind,
            field,
            reason: bounded_message(reason),
        })
    }
}

/// The result of checking a field or a message, with the rejection boxed.
pub type Checked<T> = Result<T, Box<Rejection>>;

/// Reads the fields of one message, naming each field in errors as `scope.field`.
struct Fields<'w, 'a> {
    scope: &'static str,
    wire: &'w Wire<'a>,
}

/// A field's raw JSON text, if present.
type Field<'a> = Option<&'a str>;

/// Returns true if and only if `text` holds a control character (C0, DEL or C1).
#[inline(always)]
fn has_control_characters(text: &str) -> bool {
    if text.is_ascii() {
        text.bytes().any(|b| b < 0x20 || b == 0x7f)
    } else {
        text.chars().any(char::is_control)
    }
}

impl<'a> Fields<'_, 'a> {
    fn name(&self, field: &str) -> String {
        if self.scope.is_empty() {
            field.to_string()
        } else {
            format!("{}.{field}", self.scope)
        }
    }

    fn missing(&self, field: &str) -> Box<Rejection> {
        let name = self.name(field);
        Rejection::new(
            RejectKind::MissingField,
            Some(field.into()),
            format!("{name} is required"),
        )
    }

    fn invalid(&self, field: &str, expected: impl fmt::Display, raw: &str) -> Box<Rejection> {
        let name = self.name(field);
        Rejection::new(
            RejectKind::InvalidField,
            Some(field.into()),
            format!("{name} must be {expected}, got {}", excerpt(raw)),
        )
    }

    #[inline(always)]
    fn required<T>(&self, field: &str, value: Option<T>) -> Checked<T> {
        value.ok_or_else(|| self.missing(field))
    }

    #[inline(always)]
    fn opt_str(&self, field: &str, raw: Field<'a>) -> Checked<Option<Cow<'a, str>>> {
        let Some(raw) = raw else { return Ok(None) };
        // A string without escapes is its text between the quotes; serde_json unescapes the others.
        if let Some(inner) = raw
            .strip_prefix('"')
            .and_then(|rest| rest.strip_suffix('"'))
            && (self.wire.plain_strings || !inner.contains('\\'))
        {
            return Ok(Some(Cow::Borrowed(inner)));
        }
        let text: Cow<'a, str> =
            serde_json::from_str(raw).map_err(|_| self.invalid(field, "a string", raw))?;
        Ok(Some(text))
    }

    /// A string without control characters (an id or a name, shown on screens and compared as keys), if
    /// present.
    #[inline(always)]
    fn opt_text(&self, field: &str, raw: Field<'a>) -> Checked<Option<Cow<'a, str>>> {
        let text = self.opt_str(field, raw)?;
        if let Some(text) = &text
            && has_control_characters(text)
        {
            return Err(self.invalid(
                field,
                "a string without control characters",
                raw.expect("present"),
            ));
        }
        Ok(text)
    }

    /// The text of a non-empty string identifier, if present.
    #[inline(always)]
    fn opt_id_text(&self, field: &str, raw: Field<'a>) -> Checked<Option<Cow<'a, str>>> {
        match self.opt_text(field, raw)? {
            Some(text) if text.is_empty() => {
                Err(self.invalid(field, "a non-empty string", raw.expect("present")))
            }
            other => Ok(other),
        }
    }

    /// The text of a non-empty string identifier. Callers make the [`Id`] where it is stored: an id passed
    /// back inside a `Checked` is copied through the niche-tagged result with loads of other widths than
    /// the stores, which stalls the processor (measured: 6 % of decoding).
    #[inline(always)]
    fn id_text(&self, field: &str, raw: Field<'a>) -> Checked<Cow<'a, str>> {
        let text = self.opt_id_text(field, raw)?;
        self.required(field, text)
    }

    fn opt_enum<T>(
        &self,
        field: &str,
        raw: Field<'a>,
        lookup: fn(&str) -> Option<T>,
        names: fn() -> Vec<&'static str>,
    ) -> Checked<Option<T>> {
        let Some(text) = self.opt_str(field, raw)? else {
            return Ok(None);
        };
        lookup(&text).map(Some).ok_or_else(|| {
            self.invalid(
                field,
                format_args!("one of {}", names().join(", ")),
                raw.expect("present"),
            )
        })
    }

    fn enumerated<T>(
        &self,
        field: &str,
        raw: Field<'a>,
        lookup: fn(&str) -> Option<T>,
        names: fn() -> Vec<&'static str>,
    ) -> Checked<T> {
        let value = self.opt_enum(field, raw, lookup, names)?;
        self.required(field, value)
    }

    fn opt_bool(&self, field: &str, raw: Field<'a>) -> Checked<Option<bool>> {
        match raw {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(raw) => Err(self.invalid(field, "true or false", raw)),
        }
    }

    fn boolean(&self, field: &str, raw: Field<'a>) -> Checked<bool> {
        let value = self.opt_bool(field, raw)?;
        self.required(field, value)
    }

    /// A finite number that `ok` accepts; `rule` describes the range for the error message.
    fn opt_number(
        &self,
        field: &str,
        raw: Field<'a>,
        rule: &str,
        ok: fn(f64) -> bool,
    ) -> Checked<Option<f64>> {
        let Some(raw) = raw else { return Ok(None) };
        // The raw text is valid JSON, so one starting like a number is one; Rust parses it exactly as
        // serde_json does (correctly rounded), and out-of-range values become infinite.
        let value: f64 = Some(raw)
            .filter(|raw| raw.starts_with(|c: char| c == '-' || c.is_ascii_digit()))
            .and_then(|raw| raw.parse().ok())
            .ok_or_else(|| self.invalid(field, "a finite number", raw))?;
        if !value.is_finite() {
            return Err(self.invalid(field, "a finite number", raw));
        }
        if !ok(value) {
            return Err(self.invalid(field, rule, raw));
        }
        Ok(Some(value))
    }

    fn number(&self, field: &str, raw: Field<'a>, rule: &str, ok: fn(f64) -> bool) -> Checked<f64> {
        let value = self.opt_number(field, raw, rule, ok)?;
        self.required(field, value)
    }

    fn date(&self, field: &str, raw: Field<'a>) -> Checked<NaiveDate> {
        let text = self.opt_str(field, raw)?;
        let text = self.required(field, text)?;
        let raw = raw.expect("present");
        if text.len() != 10 {
            return Err(self.invalid(field, "a date as YYYY-MM-DD", raw));
        }
        NaiveDate::parse_from_str(&text, "%Y-%m-%d")
            .map_err(|_| self.invalid(field, "a real date as YYYY-MM-DD", raw))
    }

    fn month(&self, field: &str, raw: Field<'a>) -> Checked<YearMonth> {
        let text = self.opt_str(field, raw)?;
        let text = self.required(field, text)?;
        text.parse()
            .map_err(|_| self.invalid(field, "a month as YYYY-MM", raw.expect("present")))
    }

    fn timestamp(&self, field: &str, raw: Field<'a>) -> Checked<EpochMillis> {
        let text = self.opt_str(field, raw)?;
        let text = self.required(field, text)?;
        if let Some(millis) = timestamp::fast_rfc3339_millis(&text) {
            return Ok(millis);
        }
        DateTime::parse_from_rfc3339(&text)
            .map(|t| t.timestamp_millis())
            .map_err(|_| {
                self.invalid(
                    field,
                    "an RFC 3339 timestamp with offset",
                    raw.expect("present"),
                )
            })
    }
}

/// Decodes and validates one message.
///
/// An `occurred_at` outside `bounds` is rejected: more than 24 hours after the pipeline clock, or before
/// the earliest plausible instant.
///
/// The rejection is boxed, as every check's is: the result is then hardly larger than the event, and is
/// passed on without converting (which would copy the whole event).
pub fn decode_event(bytes: &[u8], bounds: impl Into<TimeBounds>) -> Checked<Event> {
    let TimeBounds { earliest, now } = bounds.into();
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err(Rejection::new(
            RejectKind::TooLarge,
            None,
            format!(
                "message is {} bytes, over the limit of {MAX_MESSAGE_BYTES} bytes (1 MiB)",
                bytes.len()
            ),
        ));
    }
    let mut empty = QuoteIndex::empty();
    let index = empty.fill(bytes);
    let text = if index.is_some_and(|index| index.ascii) {
        // SAFETY: every byte is ASCII, and ASCII is valid UTF-8.
        unsafe { std::str::from_utf8_unchecked(bytes) }
    } else {
        std::str::from_utf8(bytes).map_err(|e| {
            Rejection::new(
                RejectKind::NotUtf8,
                None,
                format!(
                    "message is not UTF-8: invalid byte at offset {}",
                    e.valid_up_to()
                ),
            )
        })?
    };
    let mut wire = Wire::default();
    Wire::parse_into(text, &mut wire, index).map_err(|e| {
        let reason = if e.is_data() {
            format!("message must be a JSON object with each field once: {e}")
        } else {
            format!("message is not valid JSON: {e}")
        };
        Rejection::new(RejectKind::NotJson, None, reason)
    })?;
    let common = Fields {
        scope: "",
        wire: &wire,
    };

    let event_type_text = common.opt_str("event_type", common.wire.event_type)?;
    let event_type_text = common.required("event_type", event_type_text)?;
    let event_type = EventType::from_wire(&event_type_text).ok_or_else(|| {
        Rejection::new(
            RejectKind::UnknownEventType,
            Some("event_type".into()),
            format!(
                "event_type must be one of {}, got {:?}",
                EventType::wire_names().join(", "),
                excerpt(&event_type_text)
            ),
        )
    })?;

    let event_id = common.id_text("event_id", common.wire.event_id)?;
    // A string is never longer in characters than in bytes, so most ids need no count.
    if event_id.len() > MAX_EVENT_ID_CHARS && event_id.chars().count() > MAX_EVENT_ID_CHARS {
        return Err(common.invalid(
            "event_id",
            format_args!("at most {MAX_EVENT_ID_CHARS} characters"),
            common.wire.event_id.expect("present"),
        ));
    }
    let occurred_at = common.timestamp("occurred_at", common.wire.occurred_at)?;
    // A state change from long ago (staff registered years before the assessment) is a fact, not a
    // wrong clock: only the events that count in their own month have an earliest time.
    let earliest = if event_type.is_state_change() {
        EpochMillis::MIN
    } else {
        earliest
    };
    check_plausible(occurred_at, common.wire.occurred_at, earliest, now)?;
    let branch_id = common.id_text("branch_id", common.wire.branch_id)?;

    let f = Fields {
        scope: event_type.as_str(),
        wire: common.wire,
    };
    let user_id = f.opt_id_text("user_id", f.wire.user_id)?;
    if user_id.is_none() && !event_type.user_optional() {
        return Err(f.missing("user_id"));
    }
    let terminal = f.opt_enum(
        "terminal",
        f.wire.terminal,
        Terminal::from_wire,
        Terminal::wire_names,
    )?;
    if terminal.is_none() && event_type.terminal_required() {
        return Err(f.missing("terminal"));
    }
    let payload = payload(&f, event_type)?;
    // The common ids are made last, straight into the event.
    Ok(Event {
        event_id: Id::from(event_id),
        occurred_at,
        branch_id: Id::from(branch_id),
        user_id: user_id.map(Id::from),
        terminal,
        payload,
    })
}

/// Refuses an event time more than 24 h ahead of `now` (the pipeline clock) or before `earliest`; `text`
/// is the time as written.
fn check_plausible(
    occurred_at: EpochMillis,
    text: Field<'_>,
    earliest: EpochMillis,
    now: EpochMillis,
) -> Checked<()> {
    if occurred_at > now.saturating_add(MAX_FUTURE_MILLIS) {
        let hours = (occurred_at - now) as f64 / 3_600_000.0;
        return Err(Rejection::new(
            RejectKind::InFuture,
            Some("occurred_at".into()),
            format!(
                "occurred_at is {hours:.1} h ahead of the pipeline clock; at most 24 h is accepted"
            ),
        ));
    }
    if occurred_at < earliest {
        return Err(Rejection::new(
            RejectKind::Implausible,
            Some("occurred_at".into()),
            format!(
                "occurred_at {} is more than {MAX_DAYS_BEFORE_ASSESSMENT} days before the assessment \
                 starts: a wrong clock",
                excerpt(text.unwrap_or_default())
            ),
        ));
    }
    Ok(())
}

/// The payload of an event of `event_type`, from the fields of its type.
fn payload(f: &Fields<'_, '_>, event_type: EventType) -> Checked<Payload> {
    let w = &f.wire;
    Ok(match event_type {
        EventType::UserRegistered => Payload::UserRegistered {
            channel: f.enumerated(
                "channel",
                w.channel,
                Channel::from_wire,
                Channel::wire_names,
            )?,
            display_name: f
                .opt_text("display_name", w.display_name)?
                .map(Cow::into_owned),
            is_specialist: f
                .opt_bool("is_specialist", w.is_specialist)?
                .unwrap_or(false),
        },
        EventType::UserDeregistered => Payload::UserDeregistered,
        EventType::Login => Payload::Login,
        EventType::QuoteCreated => Payload::QuoteCreated {
            quote_id: Id::from(f.id_text("quote_id", w.quote_id)?),
            quoted_premium: f.opt_number(
                "quoted_premium",
                w.quoted_premium,
                ">= 0 and <= 1e10",
                |v| (0.0..=MAX_AMOUNT_YUAN).contains(&v),
            )?,
        },
        EventType::ProposalCreated => Payload::ProposalCreated {
            proposal_id: Id::from(f.id_text("proposal_id", w.proposal_id)?),
            quote_id: f.opt_id_text("quote_id", w.quote_id)?.map(Id::from),
            kind: f.enumerated(
                "kind",
                w.kind,
                ProposalKind::from_wire,
                ProposalKind::wire_names,
            )?,
        },
        EventType::PolicyIssued => Payload::PolicyIssued {
            policy_id: Id::from(f.id_text("policy_id", w.policy_id)?),
            premium: f.number("premium", w.premium, ">= 0 and <= 1e10", |v| {
                (0.0..=MAX_AMOUNT_YUAN).contains(&v)
            })?,
            deal_type: f.enumerated(
                "deal_type",
                w.deal_type,
                DealType::from_wire,
                DealType::wire_names,
            )?,
            quote_id: f.opt_id_text("quote_id", w.quote_id)?.map(Id::from),
            proposal_id: f.opt_id_text("proposal_id", w.proposal_id)?.map(Id::from),
        },
        EventType::PolicyCancelled => Payload::PolicyCancelled {
            policy_id: Id::from(f.id_text("policy_id", w.policy_id)?),
        },
        EventType::PaymentCompleted => Payload::PaymentCompleted {
            payment_id: Id::from(f.id_text("payment_id", w.payment_id)?),
            amount: f.number("amount", w.amount, "> 0 and <= 1e10", |v| {
                v > 0.0 && v <= MAX_AMOUNT_YUAN
            })?,
            policy_id: f.opt_id_text("policy_id", w.policy_id)?.map(Id::from),
        },
        EventType::TaskCreated => {
            let valid_from = f.date("valid_from", w.valid_from)?;
            let valid_until = f.date("valid_until", w.valid_until)?;
            if valid_until < valid_from {
                return Err(f.invalid(
                    "valid_until",
                    format_args!("on or after valid_from ({valid_from})"),
                    w.valid_until.expect("present"),
                ));
            }
            Payload::TaskCreated {
                task_id: Id::from(f.id_text("task_id", w.task_id)?),
                subject_id: Id::from(f.id_text("subject_id", w.subject_id)?),
                valid_from,
                valid_until,
            }
        }
        EventType::TaskAction => Payload::TaskAction {
            task_id: Id::from(f.id_text("task_id", w.task_id)?),
            action: f.enumerated(
                "action",
                w.action,
                TaskActionKind::from_wire,
                TaskActionKind::wire_names,
            )?,
        },
        EventType::TaskCancelled => Payload::TaskCancelled {
            task_id: Id::from(f.id_text("task_id", w.task_id)?),
        },
        EventType::RenewalDue => Payload::RenewalDue {
            policy_id: Id::from(f.id_text("policy_id", w.policy_id)?),
            due_month: f.month("due_month", w.due_month)?,
            vehicle_use: Id::from(f.id_text("vehicle_use", w.vehicle_use)?),
            ecommerce_direct: f.boolean("ecommerce_direct", w.ecommerce_direct)?,
        },
        EventType::RenewalAssigned => Payload::RenewalAssigned {
            policy_id: Id::from(f.id_text("policy_id", w.policy_id)?),
        },
        EventType::WechatBound => Payload::WechatBound,
        EventType::WechatUnbound => Payload::WechatUnbound,
        EventType::ReportSubmitted => Payload::ReportSubmitted {
            report_id: Id::from(f.id_text("report_id", w.report_id)?),
            report_type: f.enumerated(
                "report_type",
                w.report_type,
                ReportType::from_wire,
                ReportType::wire_names,
            )?,
            accepted: f.boolean("accepted", w.accepted)?,
        },
        EventType::ClearingScored => Payload::ClearingScored {
            month: f.month("month", w.month)?,
            score: f.number("score", w.score, "between 0 and 10", |v| {
                (0.0..=10.0).contains(&v)
            })?,
        },
    })
}
