//! Splits one message into the raw JSON text of each known field, in one pass and without copying.
//!
//! Messages are flat objects of strings, numbers and booleans. [`Wire::scan_with`] reads exactly those in
//! a single pass. Anything else (escapes, control characters in strings, nested values, duplicate keys, text
//! that is not JSON) goes to serde_json, whose result and error messages are the contract: the fast path
//! only ever accepts messages serde_json reads the same way, so both paths give the same [`Wire`].

use super::quotes::{BLOCK_BYTES, QuoteIndex, classify};
use serde::Deserialize;
use serde_json::value::RawValue;

/// Declares the known fields once: the raw-text table, serde_json's fallback reader of it, and the lookup
/// of a field by its key.
macro_rules! wire_fields {
    ($($field:ident),+ $(,)?) => {
        /// The raw JSON text of each known field; `None` when absent or `null`.
        #[derive(Debug, Default, Clone, Copy)]
        pub(super) struct Wire<'a> {
            $(pub(super) $field: Option<&'a str>,)+
            /// True when no string holds an escape (the single pass read the message).
            pub(super) plain_strings: bool,
        }

        /// serde_json's reading of the same fields.
        #[derive(Deserialize)]
        struct SerdeWire<'a> {
            $(#[serde(borrow)] $field: Option<&'a RawValue>,)+
        }

        impl<'a> From<SerdeWire<'a>> for Wire<'a> {
            fn from(wire: SerdeWire<'a>) -> Self {
                Self { $($field: wire.$field.map(RawValue::get),)+ plain_strings: false }
            }
        }

        /// The known field names, in the order of [`Wire`]'s fields.
        const NAMES: &[&str] = &[$(stringify!($field)),+];

        impl<'a> Wire<'a> {
            /// The slot of field number `index` (in [`NAMES`]' order).
            #[allow(unused_assignments)] // the last field's number
            #[inline(always)]
            fn slot_at(&mut self, index: usize) -> Option<&mut Option<&'a str>> {
                let mut number = 0;
                $(
                    if index == number {
                        return Some(&mut self.$field);
                    }
                    number += 1;
                )+
                None
            }
        }
    };
}

wire_fields!(
    event_id,
    event_type,
    occurred_at,
    branch_id,
    user_id,
    terminal,
    channel,
    display_name,
    is_specialist,
    quote_id,
    quoted_premium,
    proposal_id,
    kind,
    policy_id,
    premium,
    deal_type,
    payment_id,
    amount,
    task_id,
    subject_id,
    valid_from,
    valid_until,
    action,
    due_month,
    vehicle_use,
    ecommerce_direct,
    report_id,
    report_type,
    accepted,
    month,
    score,
);

impl<'a> Wire<'a> {
    /// Reads `text` as a JSON object into `wire`, which starts empty; the error is serde_json's. The
    /// table is filled in place: returned by value, its few hundred bytes would be copied on the way.
    ///
    /// `index` is that of `text`'s quotes, if it has one (see [`QuoteIndex::fill`]).
    #[inline(always)]
    pub(super) fn parse_into(
        text: &'a str,
        wire: &mut Self,
        index: Option<&QuoteIndex>,
    ) -> Result<(), serde_json::Error> {
        if Self::scan_into(text, wire, index).is_none() {
            *wire = serde_json::from_str::<SerdeWire>(text).map(Wire::from)?;
        }
        Ok(())
    }

    /// [`Wire::scan_with`], with `index` to find the ends of strings if `text` has one, else each string
    /// searched on its own.
    #[inline(always)]
    fn scan_into(text: &'a str, wire: &mut Self, index: Option<&QuoteIndex>) -> Option<()> {
        match index {
            Some(index) => Self::scan_with(text, wire, index),
            None => Self::scan_with(text, wire, &Searched),
        }
    }

    /// The single-pass reading into `wire` (empty) of a flat object of plain strings, numbers, booleans and
    /// nulls, finding the end of each string with `strings`; `None` when the text is anything else, for
    /// serde_json to read (`wire` is then partly filled).
    #[inline(always)]
    fn scan_with(text: &'a str, wire: &mut Self, strings: &impl StringEnds) -> Option<()> {
        let bytes = text.as_bytes();
        let mut seen = 0u64;
        let mut at = skip_whitespace(bytes, 0);
        if bytes.get(at) != Some(&b'{') {
            return None;
        }
        at = skip_whitespace(bytes, at + 1);
        if bytes.get(at) == Some(&b'}') {
            at += 1;
        } else {
            loop {
                let key_end = strings.end(bytes, at)?;
                // SAFETY (here and for the value): `text` is a `str`, and each bound is at or right after an
                // ASCII byte (a quote, or the first or last byte of a number or literal), so on a character
                // boundary.
                let key = unsafe { text.get_unchecked(at + 1..key_end - 1) };
                at = skip_whitespace(bytes, key_end);
                if bytes.get(at) != Some(&b':') {
                    return None;
                }
                let value_start = skip_whitespace(bytes, at + 1);
                let value_end = value_end(bytes, value_start, strings)?;
                let value = unsafe { text.get_unchecked(value_start..value_end) };
                if let Some(index) = field_number(key)
                    && let Some(slot) = wire.slot_at(index)
                {
                    let bit = 1u64 << index;
                    if seen & bit != 0 {
                        return None; // serde_json names the duplicate field
                    }
                    seen |= bit;
                    *slot = (value != "null").then_some(value);
                }
                at = skip_whitespace(bytes, value_end);
                match bytes.get(at) {
                    Some(b',') => at = skip_whitespace(bytes, at + 1),
                    Some(b'}') => {
                        at += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        wire.plain_strings = true;
        (skip_whitespace(bytes, at) == bytes.len()).then_some(())
    }
}

/// The bucket of a key in [`FIELD_BY_BUCKET`]: its length and first and last bytes, mixed so that no two
/// known names share a bucket (checked when the table is built, at compile time).
const fn bucket(key: &[u8]) -> usize {
    let (first, last) = (key[0] as usize, key[key.len() - 1] as usize);
    (key.len() * 12 + first + last * 61) % BUCKETS
}

/// The size of [`FIELD_BY_BUCKET`].
const BUCKETS: usize = 64;

/// Marks a bucket no known name falls in.
const NO_FIELD: u8 = u8::MAX;

/// The number of the known field in each bucket: a key is then looked up with one hash and one compare,
/// instead of a compare with every name.
const FIELD_BY_BUCKET: [u8; BUCKETS] = {
    let mut table = [NO_FIELD; BUCKETS];
    let mut index = 0;
    while index < NAMES.len() {
        let b = bucket(NAMES[index].as_bytes());
        assert!(
            table[b] == NO_FIELD,
            "two field names share a bucket: change `bucket`"
        );
        table[b] = index as u8;
        index += 1;
    }
    table
};

/// The number of the known field named `key`, if it is one.
#[inline(always)]
fn field_number(key: &str) -> Option<usize> {
    if key.is_empty() {
        return None;
    }
    let index = FIELD_BY_BUCKET[bucket(key.as_bytes())];
    (index != NO_FIELD && same_short_text(key.as_bytes(), NAMES[index as usize].as_bytes()))
        .then_some(index as usize)
}

/// `a == b` for texts of at most 16 bytes, as two overlapping word compares (a call to `memcmp` costs
/// more than the compare itself at these lengths); longer texts are compared as usual.
#[inline(always)]
fn same_short_text(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |text: &[u8], at: usize| u64::from_le_bytes(text[at..at + 8].try_into().expect("8"));
    let half = |text: &[u8], at: usize| u32::from_le_bytes(text[at..at + 4].try_into().expect("4"));
    match n {
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        4..=7 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        _ => a == b,
    }
}

#[inline(always)]
fn skip_whitespace(bytes: &[u8], mut at: usize) -> usize {
    // Compact JSON, the usual case: the next byte is a token's, above every whitespace byte.
    if bytes.get(at).is_some_and(|&b| b > b' ') {
        return at;
    }
    while matches!(bytes.get(at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        at += 1;
    }
    at
}

/// Finds the end of a string without escapes or control characters.
trait StringEnds {
    /// The end (after the closing quote) of the string whose opening quote is at `open`; `None` if it has
    /// an escape or a control character.
    fn close(&self, bytes: &[u8], open: usize) -> Option<usize>;

    /// The end (after the closing quote) of the string starting at `at`; `None` if no string starts there,
    /// or it has an escape or a control character.
    #[inline(always)]
    fn end(&self, bytes: &[u8], at: usize) -> Option<usize> {
        if bytes.get(at) != Some(&b'"') {
            return None;
        }
        self.close(bytes, at)
    }
}

/// Each string searched for its end on its own.
struct Searched;

impl StringEnds for Searched {
    #[inline(always)]
    fn close(&self, bytes: &[u8], open: usize) -> Option<usize> {
        let stop = open + 1 + first_special(&bytes[open + 1..])?;
        (bytes[stop] == b'"').then_some(stop + 1)
    }
}

/// A message without a backslash or control character anywhere: a string's closing quote is the next
/// quote.
impl StringEnds for QuoteIndex {
    #[inline(always)]
    fn close(&self, _bytes: &[u8], open: usize) -> Option<usize> {
        self.string_end(open)
    }
}

/// The index of the first quote, backslash or control character in `bytes`: sixteen bytes at a time as the
/// quote index classifies them ([`classify`]), the rest eight at a time.
fn first_special(bytes: &[u8]) -> Option<usize> {
    let whole = bytes.len() / BLOCK_BYTES * BLOCK_BYTES;
    for at in (0..whole).step_by(BLOCK_BYTES) {
        let (quotes, others, _) = classify(bytes, at);
        let special = quotes | others;
        if special != 0 {
            return Some(at + special.trailing_zeros() as usize);
        }
    }
    first_special_by_words(&bytes[whole..]).map(|j| whole + j)
}

/// The index of the first quote, backslash or control character in `bytes`, eight bytes at a time.
fn first_special_by_words(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let is_special = |b: &u8| *b == b'"' || *b == b'\\' || *b < 0x20;
    let mut words = bytes.chunks_exact(8);
    for (i, chunk) in words.by_ref().enumerate() {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        // A high bit marks a byte below 0x20, or equal to '"' or '\\' (exact up to the first such byte).
        let quote = word ^ (ONES * u64::from(b'"'));
        let backslash = word ^ (ONES * u64::from(b'\\'));
        let found = ((word.wrapping_sub(ONES * 0x20) & !word)
            | (quote.wrapping_sub(ONES) & !quote)
            | (backslash.wrapping_sub(ONES) & !backslash))
            & HIGH;
        if found != 0 {
            return chunk.iter().position(is_special).map(|j| i * 8 + j);
        }
    }
    let tail = words.remainder();
    tail.iter()
        .position(is_special)
        .map(|j| bytes.len() - tail.len() + j)
}

/// The end of a plain string, number, `true`, `false` or `null` starting at `at`.
#[inline(always)]
fn value_end(bytes: &[u8], at: usize, strings: &impl StringEnds) -> Option<usize> {
    match *bytes.get(at)? {
        b'"' => strings.close(bytes, at),
        b'-' | b'0'..=b'9' => number_end(bytes, at),
        _ => [&b"true"[..], b"false", b"null"]
            .into_iter()
            .find(|word| bytes[at..].starts_with(word))
            .map(|word| at + word.len()),
    }
}

/// The end of a number in JSON's grammar: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
fn number_end(bytes: &[u8], mut at: usize) -> Option<usize> {
    let digits = |from: usize| {
        from + bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    if bytes.get(at) == Some(&b'-') {
        at += 1;
    }
    match bytes.get(at)? {
        b'0' => at += 1,
        b'1'..=b'9' => at = digits(at),
        _ => return None,
    }
    if bytes.get(at) == Some(&b'.') {
        let end = digits(at + 1);
        if end == at + 1 {
            return None;
        }
        at = end;
    }
    if matches!(bytes.get(at), Some(b'e' | b'E')) {
        at += 1;
        if matches!(bytes.get(at), Some(b'+' | b'-')) {
            at += 1;
        }
        let end = digits(at);
        if end == at {
            return None;
        }
        at = end;
    }
    Some(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The single pass's reading of `text`, if it reads it, with the index of its quotes if it has one.
    fn scan(text: &str) -> Option<Wire<'_>> {
        let mut wire = Wire::default();
        let mut empty = QuoteIndex::empty();
        let index = empty.fill(text.as_bytes());
        Wire::scan_into(text, &mut wire, index).map(|()| wire)
    }

    #[test]
    fn every_known_name_and_only_those_has_a_field_number() {
        for (index, name) in NAMES.iter().enumerate() {
            assert_eq!(field_number(name), Some(index), "{name}");
            let mut wire = Wire::default();
            *wire.slot_at(index).expect("a slot") = Some("1");
            let text = format!("{{\"{name}\":1}}");
            assert_eq!(
                format!("{:?}", scan(&text).expect("read")),
                format!(
                    "{:?}",
                    Wire {
                        plain_strings: true,
                        ..wire
                    }
                )
            );
        }
        for key in [
            "",
            "e",
            "event",
            "event_ide",
            "Event_id",
            "score_",
            "kind ",
            "amount\u{0}",
        ] {
            assert_eq!(field_number(key), None, "{key:?}");
        }
        assert!(Wire::default().slot_at(NAMES.len()).is_none());
    }

    /// Both readings of `text`: the single pass (if it reads it) and serde_json's.
    fn both(text: &str) -> (Option<Wire<'_>>, Result<Wire<'_>, String>) {
        (
            scan(text),
            serde_json::from_str::<SerdeWire>(text)
                .map(Wire::from)
                .map_err(|e| e.to_string()),
        )
    }

    /// The reading of `text` with every string searched on its own, whether or not it could be indexed.
    fn searched(text: &str) -> Option<Wire<'_>> {
        let mut wire = Wire::default();
        Wire::scan_into(text, &mut wire, None).map(|()| wire)
    }

    fn assert_same(text: &str) {
        let (scanned, serde) = both(text);
        assert_eq!(
            format!("{scanned:?}"),
            format!("{:?}", searched(text)),
            "indexed and searched readings of {text:?}"
        );
        if let Some(mut scanned) = scanned {
            let serde = serde.unwrap_or_else(|e| panic!("scan read {text:?}, serde_json: {e}"));
            assert!(scanned.plain_strings && !serde.plain_strings);
            scanned.plain_strings = false;
            assert_eq!(format!("{scanned:?}"), format!("{serde:?}"), "{text}");
        }
    }

    #[test]
    fn reads_a_flat_object_in_one_pass() {
        let text = r#" { "event_id" : "e1","amount":-12.5e+2, "accepted":true,"kind":null,"extra":false } "#;
        let wire = scan(text).expect("plain object");
        assert_eq!(wire.event_id, Some(r#""e1""#));
        assert_eq!(wire.amount, Some("-12.5e+2"));
        assert_eq!(wire.accepted, Some("true"));
        assert_eq!(wire.kind, None);
        assert_same(text);
        assert!(scan("{}").is_some());
    }

    #[test]
    fn leaves_everything_else_to_serde_json() {
        for text in [
            r#"{"event_id":"a\"b"}"#,
            "{\"event_id\":\"a\u{1}b\"}",
            r#"{"event_id":"a","event_id":"b"}"#,
            r#"{"event_id":null,"event_id":"b"}"#,
            r#"{"nested":{"a":1}}"#,
            r#"{"list":[1]}"#,
            r#"{"amount":01}"#,
            r#"{"amount":1.}"#,
            r#"{"amount":.5}"#,
            r#"{"amount":1e}"#,
            r#"{"amount":+1}"#,
            r#"{"accepted":tru}"#,
            r#"{"a":1,}"#,
            r#"{"a":1} x"#,
            r#"["e1"]"#,
            r#"{"a" 1}"#,
            "",
        ] {
            assert!(scan(text).is_none(), "{text}");
        }
    }

    #[test]
    fn unknown_keys_may_repeat_as_in_serde_json() {
        let text = r#"{"x":1,"x":2,"event_id":"e"}"#;
        assert_eq!(scan(text).expect("read").event_id, Some(r#""e""#));
        assert_same(text);
    }

    proptest! {
        /// The word compare of short texts agrees with `==`.
        #[test]
        fn compares_short_texts_as_equality_does(
            a in proptest::collection::vec(b'a'..=b'c', 0..20),
            b in proptest::collection::vec(b'a'..=b'c', 0..20),
        ) {
            prop_assert_eq!(same_short_text(&a, &b), a == b);
            prop_assert!(same_short_text(&a, &a));
        }

        /// The word-at-a-time search finds what a byte-at-a-time one does.
        #[test]
        fn finds_the_first_special_byte(bytes in proptest::collection::vec(
            prop_oneof![
                1 => Just(b'"'), 1 => Just(b'\\'), 1 => 0u8..0x20, 1 => 0x20u8..=0xff, 20 => b'a'..=b'z',
            ],
            0..80,
        )) {
            let expected = bytes.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
            prop_assert_eq!(first_special(&bytes), expected);
            prop_assert_eq!(first_special_by_words(&bytes), expected);
        }

        /// Whatever the single pass reads, serde_json reads the same way.
        #[test]
        fn agrees_with_serde_json(
            parts in proptest::collection::vec(
                (
                    prop_oneof![Just("event_id"), Just("amount"), Just("accepted"), Just("other"), Just("e\\u0076ent_id")],
                    prop_oneof![
                        Just("\"x\""), Just("\"\""), Just("\"\\n\""), Just("-0"), Just("12.50"), Just("1E-3"),
                        Just("true"), Just("false"), Just("null"), Just("{}"), Just("[]"), Just("01"), Just("-"),
                        Just("\"中文\""), Just("nul"),
                    ],
                    prop_oneof![Just(""), Just(" "), Just("\n\t")],
                ),
                0..5,
            ),
            closing in prop_oneof![Just("}"), Just(" } "), Just(",}"), Just("")],
        ) {
            let body = parts
                .iter()
                .map(|(key, value, space)| format!("{space}\"{key}\"{space}:{space}{value}"))
                .collect::<Vec<_>>()
                .join(",");
            let text = format!("{{{body}{closing}");
            assert_same(&text);
        }
    }
}
