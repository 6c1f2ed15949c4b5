//! RFC 3339 timestamps in their usual shape, read without chrono's general parser: every `occurred_at`
//! goes through here. Whatever this fast path does not read (another shape, or a value it would have to
//! reject) is left to chrono, whose reading and error stay the contract; on what it does read, both agree
//! (a property test checks it).

use crate::time::EpochMillis;
use chrono::NaiveDate;

/// The instant of `text` in milliseconds since the epoch, for `YYYY-MM-DDTHH:MM:SS`, an optional fraction
/// of 1 to 9 digits, and `Z` or `±HH:MM`, with every field in range; `None` for anything else. The date
/// and time are checked and counted by chrono's calendar, only the text is read here.
pub(super) fn fast_rfc3339_millis(text: &str) -> Option<EpochMillis> {
    let b = text.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let field = |range: std::ops::Range<usize>| digits(&b[range]).map(|v| v as u32);
    let local = NaiveDate::from_ymd_opt(digits(&b[0..4])? as i32, field(5..7)?, field(8..10)?)?
        .and_hms_opt(field(11..13)?, field(14..16)?, field(17..19)?)?;
    let mut at = 19;
    let mut millis = 0;
    if b[at] == b'.' {
        let fraction = b[at + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if !(1..=9).contains(&fraction) {
            return None;
        }
        let kept = fraction.min(3);
        millis = digits(&b[at + 1..at + 1 + kept])? * 10i64.pow(3 - kept as u32);
        at += 1 + fraction;
    }
    let offset_minutes = match &b[at..] {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let (hours, minutes) = (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?);
            if hours > 23 || minutes > 59 {
                return None;
            }
            let minutes = hours * 60 + minutes;
            if *sign == b'-' { -minutes } else { minutes }
        }
        _ => return None,
    };
    Some((local.and_utc().timestamp() - offset_minutes * 60) * 1000 + millis)
}

/// The value of a run of ASCII digits.
fn digits(b: &[u8]) -> Option<i64> {
    b.iter().try_fold(0, |value, c| {
        c.is_ascii_digit().then(|| value * 10 + i64::from(c - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;
    use proptest::prelude::*;

    fn chrono_millis(text: &str) -> Option<EpochMillis> {
        DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|t| t.timestamp_millis())
    }

    #[test]
    fn reads_the_usual_shapes_as_chrono_does() {
        for text in [
            "2016-06-30T23:59:59+08:00",
            "2016-06-30T16:30:00Z",
            "2016-02-29T00:00:00.5-03:30",
            "1969-12-31T23:59:59.999999999Z",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59.123+23:59",
            "2000-02-29T12:00:00.000001-00:00",
        ] {
            assert_eq!(fast_rfc3339_millis(text), chrono_millis(text), "{text}");
            assert!(fast_rfc3339_millis(text).is_some(), "{text}");
        }
    }

    #[test]
    fn leaves_everything_else_to_chrono() {
        for text in [
            "2016-02-30T00:00:00Z",
            "2015-02-29T00:00:00Z",
            "2016-06-30T24:00:00Z",
            "2016-06-30T23:59:60Z",
            "2016-06-30 23:59:59Z",
            "2016-06-30t23:59:59z",
            "2016-06-30T23:59:59",
            "2016-06-30T23:59:59+0800",
            "2016-06-30T23:59:59.Z",
            "2016-06-30T23:59:59.1234567891Z",
            "2016-13-01T00:00:00Z",
            "+2016-06-30T23:59:59Z",
            "2016-06-30T23:59:59+24:00",
        ] {
            assert_eq!(fast_rfc3339_millis(text), None, "{text}");
        }
    }

    proptest! {
        /// Whatever the fast path reads, chrono reads as the same instant.
        #[test]
        fn agrees_with_chrono(
            year in 0i64..=9999, month in 0i64..=13, day in 0i64..=32, hour in 0i64..=25,
            minute in 0i64..=60, second in 0i64..=61,
            fraction in proptest::option::of("[0-9]{0,11}"),
            zone in prop_oneof![
                Just("Z".to_string()), Just("z".to_string()), Just(String::new()),
                (0i64..=25, 0i64..=60, any::<bool>()).prop_map(|(h, m, minus)| {
                    format!("{}{h:02}:{m:02}", if minus { '-' } else { '+' })
                }),
            ],
        ) {
            let fraction = fraction.map(|f| format!(".{f}")).unwrap_or_default();
            let text = format!(
                "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{fraction}{zone}"
            );
            if let Some(fast) = fast_rfc3339_millis(&text) {
                prop_assert_eq!(Some(fast), chrono_millis(&text), "{}", text);
            }
        }
    }
}
