//! RFC 3339 timestamps in their usual shape, read without chrono's general parser: every `occurred_at`
//! goes through here. Whatever this fast path does not read (another shape, or a value it would have to
//! reject) is left to chrono, whose reading and error stay the contract; on what it does read, both agree
//! (a property test checks it).

use crate::time::EpochMillis;

/// The instant of `text` in milliseconds since the epoch, for `YYYY-MM-DDTHH:MM:SS`, an optional fraction
/// of 1 to 9 digits, and `Z` or `±HH:MM`, with every field in range; `None` for anything else.
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
    let year = digits(&b[0..4])?;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    let hour = digits(&b[11..13])?;
    let minute = digits(&b[14..16])?;
    let second = digits(&b[17..19])?;
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
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
        for (i, c) in b[at + 1..at + 1 + fraction.min(3)].iter().enumerate() {
            millis += i64::from(c - b'0') * [100, 10, 1][i];
        }
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
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(seconds * 1000 + millis)
}

/// The value of a run of ASCII digits.
fn digits(b: &[u8]) -> Option<i64> {
    b.iter().try_fold(0, |value, c| {
        c.is_ascii_digit().then(|| value * 10 + i64::from(c - b'0'))
    })
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
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
