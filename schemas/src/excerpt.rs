//! How error messages quote what a client sent: a short prefix, never a huge input echoed back whole.
//!
//! Every message that quotes an input value quotes [`excerpt`] of it, and every message that leaves the
//! service (HTTP error bodies, Postgres errors, dead-letter reasons) is passed through [`bounded_message`]
//! too, since a library's error text (a SQL parser's, a JSON parser's) may quote the input itself.

use std::borrow::Cow;

/// Most characters of an input value a message quotes.
pub const MAX_QUOTED_CHARS: usize = 200;

/// Most characters of a whole error message.
pub const MAX_MESSAGE_CHARS: usize = 1_000;

/// `text` as a message quotes it: whole when it has at most [`MAX_QUOTED_CHARS`] characters, else its first
/// [`MAX_QUOTED_CHARS`] characters followed by "…", to quote with `{:?}` or `{}`.
pub fn excerpt(text: &str) -> Cow<'_, str> {
    cut(text, MAX_QUOTED_CHARS)
}

/// `message` cut to its first [`MAX_MESSAGE_CHARS`] characters followed by "…" when longer.
pub fn bounded_message(message: String) -> String {
    match cut(&message, MAX_MESSAGE_CHARS) {
        Cow::Borrowed(_) => message,
        Cow::Owned(cut) => cut,
    }
}

/// `text`, or its first `max_chars` characters and "…".
fn cut(text: &str, max_chars: usize) -> Cow<'_, str> {
    // A string has at least as many bytes as characters, so short ones need no count.
    if text.len() <= max_chars {
        return Cow::Borrowed(text);
    }
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => Cow::Owned(format!("{}…", &text[..end])),
        None => Cow::Borrowed(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_texts_are_quoted_whole_and_long_ones_cut_on_a_character() {
        assert_eq!(excerpt("2016-13"), "2016-13");
        let exact = "é".repeat(MAX_QUOTED_CHARS);
        assert_eq!(excerpt(&exact), exact);
        let long = format!("{}x", "é".repeat(MAX_QUOTED_CHARS));
        assert_eq!(excerpt(&long), format!("{exact}…"));
        let huge = "y".repeat(65_000);
        assert_eq!(excerpt(&huge).chars().count(), MAX_QUOTED_CHARS + 1);
        assert_eq!(
            format!("{:?}", excerpt(&huge)).len(),
            MAX_QUOTED_CHARS + 2 + '…'.len_utf8()
        );
        let message = bounded_message(format!("no field named {huge}"));
        assert_eq!(message.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(message.starts_with("no field named yyy") && message.ends_with('…'));
        assert_eq!(bounded_message("short".into()), "short");
    }

    #[test]
    fn a_dead_letter_reason_quotes_a_short_prefix_of_a_huge_field() {
        let huge = "z".repeat(65_000);
        let payment = |field: &str, value: &str| {
            let mut event = serde_json::json!({
                "event_id": "e1", "event_type": "payment_completed",
                "occurred_at": "2016-06-30T10:00:00+08:00", "branch_id": "zd", "user_id": "u1",
                "terminal": "phone", "payment_id": "p1", "amount": 120.5
            });
            event[field] = value.into();
            event.to_string().into_bytes()
        };
        for (field, named) in [
            ("event_type", "event_type must be one of"),
            ("amount", "payment_completed.amount must be"),
            ("terminal", "payment_completed.terminal must be"),
        ] {
            let rejection = crate::decode_event(&payment(field, &huge), i64::MAX / 2).unwrap_err();
            assert!(rejection.reason.contains(named), "{}", rejection.reason);
            assert!(rejection.reason.contains("zzz…"), "{}", rejection.reason);
            let quoted = rejection.reason.matches('z').count();
            assert!(quoted <= MAX_QUOTED_CHARS, "{quoted} characters quoted");
        }
    }
}
