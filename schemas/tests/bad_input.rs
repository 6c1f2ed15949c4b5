//! One case per bad-input rule of docs/operations.md#dead-letters: nothing panics, and each reason names the field (or, for
//! message-level faults, the message) and says what was expected.

use schemas::{Config, RejectKind, decode_event};
use serde_json::{Value, json};

const NOW: i64 = 1_467_331_200_000; // 2016-07-01T00:00:00Z

fn valid_payment() -> Value {
    json!({
        "event_id": "e1", "event_type": "payment_completed", "occurred_at": "2016-06-30T10:00:00+08:00",
        "branch_id": "zd", "user_id": "u1", "terminal": "phone", "payment_id": "p1", "amount": 120.5
    })
}

fn with(field: &str, value: Value) -> Vec<u8> {
    let mut e = valid_payment();
    e[field] = value;
    e.to_string().into_bytes()
}

fn without(field: &str) -> Vec<u8> {
    let mut e = valid_payment();
    e.as_object_mut().unwrap().remove(field);
    e.to_string().into_bytes()
}

#[test]
fn the_fixture_itself_is_valid() {
    decode_event(&valid_payment().to_string().into_bytes(), NOW).unwrap();
}

#[test]
fn every_bad_input_rule_is_rejected_with_a_reason_naming_the_fault() {
    let mut oversized = valid_payment();
    oversized["padding"] = json!("x".repeat(1024 * 1024));
    let task = |from: &str, until: &str| {
        json!({"event_id": "t", "event_type": "task_created", "occurred_at": "2016-06-01T10:00:00+08:00", "branch_id": "zd",
               "user_id": "u1", "task_id": "T", "subject_id": "S", "valid_from": from, "valid_until": until})
        .to_string()
        .into_bytes()
    };
    let cases: Vec<(&str, Vec<u8>, RejectKind, &str)> = vec![
        ("not JSON", b"{\"event_id\": ".to_vec(), RejectKind::NotJson, "not valid JSON"),
        ("JSON but not an object", b"[1,2,3]".to_vec(), RejectKind::NotJson, "JSON object"),
        ("not UTF-8", b"{\"event_id\":\"\xff\xfe\"}".to_vec(), RejectKind::NotUtf8, "not UTF-8"),
        ("over 1 MiB", oversized.to_string().into_bytes(), RejectKind::TooLarge, "over the limit"),
        ("missing common field", without("occurred_at"), RejectKind::MissingField, "occurred_at is required"),
        ("missing type field", without("amount"), RejectKind::MissingField, "payment_completed.amount is required"),
        ("missing user_id", without("user_id"), RejectKind::MissingField, "payment_completed.user_id is required"),
        ("missing required terminal", without("terminal"), RejectKind::MissingField, "payment_completed.terminal is required"),
        ("mistyped field", with("amount", json!("120")), RejectKind::InvalidField, "payment_completed.amount must be a finite number"),
        ("mistyped id", with("branch_id", json!(42)), RejectKind::InvalidField, "branch_id must be a string"),
        ("unknown event_type", with("event_type", json!("sale")), RejectKind::UnknownEventType, "event_type must be one of"),
        ("unknown enum value", with("terminal", json!("tv")), RejectKind::InvalidField, "payment_completed.terminal must be one of pc, pad, phone, wechat"),
        ("impossible timestamp", with("occurred_at", json!("2016-02-30T10:00:00+08:00")), RejectKind::InvalidField, "occurred_at must be an RFC 3339"),
        ("timestamp without offset", with("occurred_at", json!("2016-06-30T10:00:00")), RejectKind::InvalidField, "occurred_at must be an RFC 3339"),
        ("impossible date", task("2016-06-31", "2016-07-31"), RejectKind::InvalidField, "task_created.valid_from must be a real date"),
        ("inverted validity", task("2016-07-01", "2016-06-01"), RejectKind::InvalidField, "task_created.valid_until must be on or after valid_from"),
        ("negative amount", with("amount", json!(-50)), RejectKind::InvalidField, "payment_completed.amount must be > 0 and <= 1e10, got -50"),
        ("zero amount", with("amount", json!(0)), RejectKind::InvalidField, "payment_completed.amount must be > 0"),
        (
            "absurd amount",
            with("amount", json!(2e10)),
            RejectKind::InvalidField,
            "payment_completed.amount must be > 0 and <= 1e10, got 20000000000.0",
        ),
        ("non-finite amount", b"{\"event_id\":\"e\",\"event_type\":\"payment_completed\",\"occurred_at\":\"2016-06-30T10:00:00+08:00\",\"branch_id\":\"zd\",\"user_id\":\"u\",\"terminal\":\"pc\",\"payment_id\":\"p\",\"amount\":1e999}".to_vec(), RejectKind::InvalidField, "amount must be a finite number"),
        ("more than 24 h ahead", with("occurred_at", json!("2016-07-02T08:00:01+08:00")), RejectKind::InFuture, "occurred_at is 24.0 h ahead"),
        ("empty event_id", with("event_id", json!("")), RejectKind::InvalidField, "event_id must be a non-empty string"),
        ("event_id over 128 characters", with("event_id", json!("e".repeat(129))), RejectKind::InvalidField, "event_id must be at most 128 characters"),
        ("duplicate key", br#"{"event_id":"a","event_id":"b"}"#.to_vec(), RejectKind::NotJson, "duplicate field `event_id`"),
        ("a clock in 1970", with("occurred_at", json!("1970-01-01T08:00:00+08:00")), RejectKind::Implausible, "occurred_at \"1970-01-01T08:00:00+08:00\" is more than 366 days before the assessment starts"),
        ("NUL inside user_id", with("user_id", json!("u\u{0}1")), RejectKind::InvalidField, "payment_completed.user_id must be a string without control characters"),
        ("newline inside branch_id", with("branch_id", json!("zd\n")), RejectKind::InvalidField, "branch_id must be a string without control characters"),
        ("C1 control inside event_id", with("event_id", json!("e\u{85}1")), RejectKind::InvalidField, "event_id must be a string without control characters"),
        (
            "bell inside display_name",
            json!({"event_id": "r", "event_type": "user_registered", "occurred_at": "2016-06-01T10:00:00+08:00", "branch_id": "zd",
                   "user_id": "u1", "channel": "direct", "display_name": "王\u{7}"}).to_string().into_bytes(),
            RejectKind::InvalidField,
            "user_registered.display_name must be a string without control characters",
        ),
    ];
    let bounds = Config::default().time_bounds(NOW);
    for (name, bytes, kind, reason) in cases {
        let rejection = decode_event(&bytes, bounds).expect_err(name);
        assert_eq!(rejection.kind, kind, "{name}: {rejection}");
        assert!(
            rejection.reason.contains(reason),
            "{name}: expected {reason:?} in {:?}",
            rejection.reason
        );
    }
}

#[test]
fn the_earliest_plausible_time_is_a_year_before_the_assessment() {
    let bounds = Config::default().time_bounds(NOW);
    let at = |t: &str| with("occurred_at", json!(t));
    decode_event(&at("2015-06-01T00:00:00+08:00"), bounds).expect("366 days before 2016-06-01");
    let early = decode_event(&at("2015-05-31T23:59:59+08:00"), bounds).expect_err("before that");
    assert_eq!(early.kind, RejectKind::Implausible);
    assert_eq!(early.field.as_deref(), Some("occurred_at"));
    // A registration years before the assessment is an old member of staff, not a wrong clock.
    let registered = json!({"event_id": "r", "event_type": "user_registered",
        "occurred_at": "2012-03-01T09:00:00+08:00", "branch_id": "zd", "user_id": "u",
        "channel": "direct"});
    decode_event(registered.to_string().as_bytes(), bounds).expect("an old registration stands");
}

#[test]
fn type_specific_rules_name_their_fields() {
    let base = |ty: &str, extra: Value| {
        let mut e = json!({"event_id": "e", "event_type": ty, "occurred_at": "2016-06-01T10:00:00+08:00", "branch_id": "zd", "user_id": "u"});
        for (k, v) in extra.as_object().unwrap() {
            e[k] = v.clone();
        }
        decode_event(e.to_string().as_bytes(), NOW)
    };
    let reason = |r: schemas::Checked<schemas::Event>| r.expect_err("rejected").reason;
    assert!(
        reason(base(
            "clearing_scored",
            json!({"month": "2016-06", "score": 11})
        ))
        .contains("clearing_scored.score must be between 0 and 10")
    );
    assert!(
        reason(base(
            "clearing_scored",
            json!({"month": "2016-13", "score": 5})
        ))
        .contains("clearing_scored.month must be a month as YYYY-MM")
    );
    assert!(
        reason(base(
            "policy_issued",
            json!({"policy_id": "p", "premium": 1, "deal_type": "gift"})
        ))
        .contains("policy_issued.deal_type must be one of task, system_quote, other")
    );
    assert!(
        reason(base(
            "report_submitted",
            json!({"report_id": "r", "report_type": "briefing", "accepted": "yes"})
        ))
        .contains("report_submitted.accepted must be true or false")
    );
    assert!(
        reason(base("user_registered", json!({"channel": "shop"})))
            .contains("user_registered.channel must be one of")
    );
    assert!(
        reason(base(
            "task_action",
            json!({"task_id": "t", "action": "email"})
        ))
        .contains("task_action.action must be one of")
    );
    assert!(
        reason(base(
            "quote_created",
            json!({"terminal": "pc", "quote_id": "q", "quoted_premium": -1})
        ))
        .contains("quote_created.quoted_premium must be >= 0 and <= 1e10")
    );
    // Optional user_id really is optional for these three.
    let no_user = json!({"event_id": "e", "event_type": "report_submitted", "occurred_at": "2016-06-01T10:00:00+08:00", "branch_id": "zd",
                         "report_id": "r", "report_type": "training", "accepted": true});
    decode_event(no_user.to_string().as_bytes(), NOW).unwrap();
    // Unknown extra fields are ignored; null counts as absent.
    let mut extra = valid_payment();
    extra["unexpected"] = json!({"nested": [1, 2]});
    extra["policy_id"] = Value::Null;
    decode_event(extra.to_string().as_bytes(), NOW).unwrap();
}
