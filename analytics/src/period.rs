//! Scoring periods: a month, a quarter, or the assessment to date, clipped to the assessment and never past
//! the month that holds the latest watermark.

use crate::error::EngineError;
use schemas::{Config, YearMonth};
use std::fmt;
use std::str::FromStr;

/// A period as asked for: `YYYY-MM`, `YYYY-Qn` or `assessment`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeriodSpec {
    /// One calendar month.
    Month(YearMonth),
    /// A calendar quarter: year and 1..=4.
    Quarter(i32, u32),
    /// The assessment to date.
    Assessment,
}

impl fmt::Display for PeriodSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeriodSpec::Month(m) => write!(f, "{m}"),
            PeriodSpec::Quarter(y, q) => write!(f, "{y}-Q{q}"),
            PeriodSpec::Assessment => f.write_str("assessment"),
        }
    }
}

impl FromStr for PeriodSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "assessment" {
            return Ok(PeriodSpec::Assessment);
        }
        if let Some((year, quarter)) = s.split_once("-Q") {
            let bad = || {
                format!(
                    "expected a quarter as YYYY-Qn with n in 1..=4, got {:?}",
                    schemas::excerpt(s)
                )
            };
            let year: i32 = year.parse().map_err(|_| bad())?;
            let quarter: u32 = quarter.parse().map_err(|_| bad())?;
            return if (1..=4).contains(&quarter) && (1000..=9999).contains(&year) {
                Ok(PeriodSpec::Quarter(year, quarter))
            } else {
                Err(bad())
            };
        }
        s.parse::<YearMonth>().map(PeriodSpec::Month).map_err(|_| {
            format!(
                "period must be YYYY-MM, YYYY-Qn or assessment, got {:?}",
                schemas::excerpt(s)
            )
        })
    }
}

/// A contiguous run of months, inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonthRange {
    /// First month.
    pub first: YearMonth,
    /// Last month.
    pub last: YearMonth,
}

impl MonthRange {
    /// The months in order.
    pub fn months(self) -> impl Iterator<Item = YearMonth> {
        (0..=self.last.months_since(self.first)).map(move |i| self.first.plus(i))
    }

    /// Returns true if and only if `month` is in the range.
    pub fn contains(self, month: YearMonth) -> bool {
        self.first <= month && month <= self.last
    }

    fn clip(self, other: MonthRange) -> Option<MonthRange> {
        let first = self.first.max(other.first);
        let last = self.last.min(other.last);
        (first <= last).then_some(MonthRange { first, last })
    }
}

/// A period resolved against the assessment and the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    /// What was asked for.
    pub spec: PeriodSpec,
    /// The months scored.
    pub range: MonthRange,
    /// The quarters whose totals add up to the assessment's (one entry for a month or quarter).
    pub quarters: Vec<MonthRange>,
}

/// The assessment's months.
pub fn assessment_months(config: &Config) -> MonthRange {
    MonthRange {
        first: YearMonth::of_date(config.assessment_start),
        last: YearMonth::of_date(config.assessment_end),
    }
}

impl Period {
    /// Resolves `spec`, clipping to the assessment and to `latest` (the month of the latest watermark).
    pub fn resolve(
        spec: PeriodSpec,
        config: &Config,
        latest: YearMonth,
    ) -> Result<Period, EngineError> {
        let assessment = assessment_months(config);
        let asked = match spec {
            PeriodSpec::Month(m) => MonthRange { first: m, last: m },
            PeriodSpec::Quarter(year, q) => {
                let first = YearMonth::new(year, (q - 1) * 3 + 1).expect("quarter checked");
                MonthRange {
                    first,
                    last: first.plus(2),
                }
            }
            PeriodSpec::Assessment => assessment,
        };
        let in_assessment = asked.clip(assessment).ok_or_else(|| {
            EngineError::BadRequest(format!(
                "period {spec} is outside the assessment ({}..={})",
                config.assessment_start, config.assessment_end
            ))
        })?;
        let range = in_assessment
            .clip(MonthRange {
                first: in_assessment.first,
                last: latest,
            })
            .ok_or_else(|| {
                EngineError::BadRequest(format!(
                    "period {spec} has no data yet: the latest watermark is in {latest}"
                ))
            })?;
        let quarters = match spec {
            PeriodSpec::Assessment => {
                let mut quarters = Vec::new();
                let mut start = range.first;
                while start <= range.last {
                    let quarter_end = start.plus(2 - (start.month() as i32 - 1) % 3);
                    let end = quarter_end.min(range.last);
                    quarters.push(MonthRange {
                        first: start,
                        last: end,
                    });
                    start = end.plus(1);
                }
                quarters
            }
            _ => vec![range],
        };
        Ok(Period {
            spec,
            range,
            quarters,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ym(s: &str) -> YearMonth {
        s.parse().unwrap()
    }

    #[test]
    fn parses_all_three_forms() {
        assert_eq!(
            "2016-06".parse::<PeriodSpec>().unwrap(),
            PeriodSpec::Month(ym("2016-06"))
        );
        assert_eq!(
            "2016-Q3".parse::<PeriodSpec>().unwrap(),
            PeriodSpec::Quarter(2016, 3)
        );
        assert_eq!(
            "assessment".parse::<PeriodSpec>().unwrap(),
            PeriodSpec::Assessment
        );
        assert!("2016-Q5".parse::<PeriodSpec>().is_err());
        assert!("June".parse::<PeriodSpec>().is_err());
    }

    #[test]
    fn quarters_are_clipped_to_the_assessment_and_the_watermark() {
        let config = Config::default();
        let q2 = Period::resolve(PeriodSpec::Quarter(2016, 2), &config, ym("2016-12")).unwrap();
        assert_eq!(
            q2.range,
            MonthRange {
                first: ym("2016-06"),
                last: ym("2016-06")
            }
        );
        let q3 = Period::resolve(PeriodSpec::Quarter(2016, 3), &config, ym("2016-08")).unwrap();
        assert_eq!(q3.range.last, ym("2016-08"));
        let whole = Period::resolve(PeriodSpec::Assessment, &config, ym("2016-11")).unwrap();
        let quarters: Vec<_> = whole
            .quarters
            .iter()
            .map(|q| (q.first.to_string(), q.last.to_string()))
            .collect();
        assert_eq!(
            quarters,
            [
                ("2016-06", "2016-06"),
                ("2016-07", "2016-09"),
                ("2016-10", "2016-11")
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
        let err =
            Period::resolve(PeriodSpec::Month(ym("2016-09")), &config, ym("2016-08")).unwrap_err();
        assert!(err.to_string().contains("no data yet"), "{err}");
        let err =
            Period::resolve(PeriodSpec::Month(ym("2017-01")), &config, ym("2017-02")).unwrap_err();
        assert!(err.to_string().contains("outside the assessment"), "{err}");
    }
}
