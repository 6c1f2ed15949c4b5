//! docs/event.schema.json, the producers' contract, must match the decoder: the same event types, the same
//! required fields, the same enum values, and its examples must decode.

use schemas::{
    Channel, DealType, EventType, ProposalKind, RejectKind, ReportType, TaskActionKind, Terminal,
    decode_event,
};
use serde_json::Value;
use std::collections::BTreeSet;

const NOW: i64 = i64::MAX / 2;

fn schema() -> Value {
    // Where the tests run, not where they were compiled: a shared target directory reuses test binaries
    // built from another checkout.
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into());
    let path = manifest_dir.join("../docs/event.schema.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("docs/event.schema.json exists"))
        .expect("valid JSON")
}

fn variants(schema: &Value) -> &Vec<Value> {
    schema["oneOf"].as_array().expect("oneOf")
}

fn decode(v: &Value) -> schemas::Checked<schemas::Event> {
    decode_event(v.to_string().as_bytes(), NOW)
}

#[test]
fn event_types_match() {
    let schema = schema();
    let in_schema: BTreeSet<&str> = variants(&schema)
        .iter()
        .map(|v| v["properties"]["event_type"]["const"].as_str().unwrap())
        .collect();
    let in_code: BTreeSet<&str> = EventType::wire_names().into_iter().collect();
    assert_eq!(in_schema, in_code);
}

#[test]
fn examples_decode_and_each_required_field_is_required() {
    let schema = schema();
    for variant in variants(&schema) {
        let name = variant["title"].as_str().unwrap();
        let example = &variant["examples"][0];
        decode(example).unwrap_or_else(|r| panic!("{name} example rejected: {r}"));
        let required: Vec<&str> = variant["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect();
        for field in &required {
            let mut e = example.clone();
            e.as_object_mut().unwrap().remove(*field);
            let r = decode(&e).expect_err(&format!("{name} without {field} must be rejected"));
            assert!(
                matches!(r.kind, RejectKind::MissingField),
                "{name}.{field}: {r}"
            );
            assert!(r.reason.contains(field), "{name}.{field}: {r}");
        }
        for (field, _) in example
            .as_object()
            .unwrap()
            .iter()
            .filter(|(f, _)| !required.contains(&f.as_str()))
        {
            let mut e = example.clone();
            e.as_object_mut().unwrap().remove(field);
            decode(&e).unwrap_or_else(|r| {
                panic!("{name}.{field} is optional in the schema but the decoder says: {r}")
            });
        }
    }
}

#[test]
fn enum_values_match_and_other_values_are_rejected() {
    let schema = schema();
    let code: [(&str, Vec<&str>); 6] = [
        ("terminal", Terminal::wire_names()),
        ("channel", Channel::wire_names()),
        ("kind", ProposalKind::wire_names()),
        ("deal_type", DealType::wire_names()),
        ("action", TaskActionKind::wire_names()),
        ("report_type", ReportType::wire_names()),
    ];
    for variant in variants(&schema) {
        for (field, values) in &code {
            let Some(spec) = variant["properties"].get(*field) else {
                continue;
            };
            let in_schema: Vec<&str> = spec["enum"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            assert_eq!(&in_schema, values, "{field}");
            let mut e = variant["examples"][0].clone();
            e[*field] = Value::from("not-a-value");
            let r = decode(&e).expect_err("unknown enum value");
            assert!(r.reason.contains(field), "{r}");
        }
    }
}
