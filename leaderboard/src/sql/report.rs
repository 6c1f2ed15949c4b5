//! Queries stopped by a limit: a warning in the log with the start of the statement, and a count by limit
//! in `leaderboard_sql_stopped_total`.

use super::SqlError;
use std::fmt::{self, Display, Write};

/// Most characters of a statement quoted in a log line.
const EXCERPT_CHARS: usize = 120;

/// The start of a statement, for log lines: at most 120 characters, runs of white space
/// (line breaks included) as one space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Excerpt(String);

impl Excerpt {
    /// The start of `statement` (SQL text or a parsed statement); only the quoted part is rendered.
    pub fn of(statement: &dyn Display) -> Self {
        let mut prefix = Prefix {
            text: String::new(),
            room: EXCERPT_CHARS,
        };
        // The writer refuses what does not fit, which ends the rendering early: the error is that stop.
        if fmt::write(&mut prefix, format_args!("{statement}")).is_err() {
            prefix.text.push('…');
        }
        Self(prefix.text)
    }
}

/// Keeps the first characters written to it, then refuses more.
struct Prefix {
    text: String,
    room: usize,
}

impl Write for Prefix {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            let space = c.is_whitespace();
            if space && (self.text.is_empty() || self.text.ends_with(' ')) {
                continue;
            }
            if self.room == 0 {
                return Err(fmt::Error);
            }
            self.text.push(if space { ' ' } else { c });
            self.room -= 1;
        }
        Ok(())
    }
}

/// Logs and counts `error` when a limit stopped the query of `statement`; other errors are the caller's
/// business.
pub fn stopped(statement: &Excerpt, error: &SqlError) {
    if let SqlError::Limit(limit, message) = error {
        tracing::warn!(
            limit = limit.label(),
            statement = ?statement.0,
            "SQL query stopped by its limit: {message}"
        );
        crate::metrics::record_sql_stopped(limit.label());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_excerpt_is_the_start_of_the_statement_on_one_line() {
        assert_eq!(Excerpt::of(&"SELECT\n  1\t AS one").0, "SELECT 1 AS one");
        let long = format!("SELECT {}", vec!["'a'"; 25_000].join(" || "));
        let excerpt = Excerpt::of(&long).0;
        assert_eq!(excerpt.chars().count(), EXCERPT_CHARS + 1);
        assert!(excerpt.starts_with("SELECT 'a' || 'a'") && excerpt.ends_with('…'));
        let exact = "x".repeat(EXCERPT_CHARS);
        assert_eq!(Excerpt::of(&exact).0, exact);
    }
}
