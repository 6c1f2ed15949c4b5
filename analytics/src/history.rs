//! The month day by day (docs/scoring.md#day-by-day-history): for every local day of a month, each
//! branch's month-to-date scorecard row and each person's month-to-date counts and ranks, as they stood at
//! that day's end. A day's figures are those of only the events that happened by its end; the month's last
//! day also takes what later events change in the month (a cancellation, a clearing score), so it equals
//! the month's scorecard. An event accepted late changes its own day and every later day, never an
//! earlier one, and a day is final when its month is.

use crate::engine::{Counters, Figures};
use crate::error::EngineError;
use crate::facts::{Measure, NO_USER};
#[cfg(test)]
use crate::indicators::Indicator;
use crate::indicators::Membership;
use crate::period::{MonthRange, PeriodSpec};
use crate::scorecard::{BranchRow, UserRank};
use schemas::{EpochMillis, YearMonth};
use serde::Serialize;

/// A month day by day.
#[derive(Debug, Clone, Serialize)]
pub struct History {
    /// `2016-06`.
    pub month: String,
    /// The latest watermark, RFC 3339 in the configured zone.
    pub as_of: String,
    /// Returns true when the month is closed for every partition: no day of it changes any more.
    #[serde(rename = "final")]
    pub is_final: bool,
    /// Its days from the 1st, up to the day of the watermark while the month runs.
    pub days: Vec<HistoryDay>,
}

/// One day of a month: the month to date as it stood at the day's end.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryDay {
    /// The local date, `2016-06-15`.
    pub date: String,
    /// Returns true when the day has ended by the watermark (false for the day in progress).
    pub complete: bool,
    /// Every branch's month-to-date row, as in the month's scorecard (without pace): in-scope branches by
    /// rank, then the rest.
    pub branches: Vec<BranchRow>,
    /// Every person's month-to-date counts and ranks, by branch then user id.
    pub users: Vec<PersonToDate>,
}

/// A person's month to date at a day's end, in one branch.
#[derive(Debug, Clone, Serialize)]
pub struct PersonToDate {
    /// Id.
    pub user_id: String,
    /// Name from registration.
    pub display_name: Option<String>,
    /// Branch the counts belong to.
    pub branch_id: String,
    /// Counted in the branch's users by then.
    pub registered: bool,
    /// Quotes.
    pub quotes: i64,
    /// Quotes from mobile terminals.
    pub mobile_quotes: i64,
    /// Proposals.
    pub proposals: i64,
    /// Premium of counted policies, yuan.
    pub deal_premium: f64,
    /// Mobile payments, yuan.
    pub mobile_payment: f64,
    /// Distinct login days.
    pub login_days: u32,
    /// Tasks valid in the month the person acted on.
    pub tasks_executed: i64,
    /// Rank by mobile quotes within the branch and in the city.
    pub mobile_quotes_rank: UserRank,
    /// Rank by mobile payment within the branch and in the city.
    pub mobile_payment_rank: UserRank,
}

impl Figures {
    /// `month` day by day; only `branch`'s rows and people when given (ranks are still the city's).
    pub fn history(&self, month: YearMonth, branch: Option<&str>) -> Result<History, EngineError> {
        let period = self.resolve_period(PeriodSpec::Month(month))?;
        let branch_key = match branch {
            None => None,
            Some(id) => Some(self.state().entities().branches.get(id).ok_or_else(|| {
                EngineError::BadRequest(format!(
                    "no branch {id:?} in the organisation or the events"
                ))
            })?),
        };
        let progress = self.progress(month)?;
        let watermark = self
            .state()
            .arrival()
            .latest_watermark()
            .ok_or(EngineError::NoData)?;
        let daily = self.state().daily().month(month.ordinal());
        let month_counters = self.state().counters().month(month.ordinal());
        let people = self.people_of(month, &month_counters, &daily);
        let days = (1..=progress.days_elapsed)
            .map(|day| {
                let last = day == month.days();
                let date = month.first_day() + chrono::Days::new(u64::from(day) - 1);
                // The last day is the whole month: its counters as they are, everything known.
                let as_of;
                let (counters, before) = if last {
                    (&month_counters, EpochMillis::MAX)
                } else {
                    as_of = daily.as_of(&month_counters, month.ordinal(), day);
                    let next = date.succ_opt().expect("dates stay in range");
                    (&as_of, self.calendar().start_of(next))
                };
                let mut row = self.day(period.range, counters, before, branch_key, &people);
                row.date = date.to_string();
                row.complete = progress.over || day < progress.days_elapsed;
                row
            })
            .collect();
        Ok(History {
            month: month.to_string(),
            as_of: self.calendar().rfc3339(watermark),
            is_final: self.state().arrival().is_final(month),
            days,
        })
    }

    /// Everyone who has a row on some day of `month`, as `(branch, user)` keys, by branch (scorecard order)
    /// then user id: the month's members and whoever has something counted on a day of it.
    fn people_of(
        &self,
        month: YearMonth,
        counters: &Counters,
        daily: &crate::daily::DailyCounters,
    ) -> Vec<(u32, u32)> {
        let range = MonthRange {
            first: month,
            last: month,
        };
        let membership =
            Membership::compute(self.state(), self.calendar(), range, EpochMillis::MAX);
        let branches = self.branch_keys();
        let mut order = vec![0; self.state().entities().branches.len()];
        for (place, b) in branches.iter().enumerate() {
            order[*b as usize] = place;
        }
        let mut people: Vec<(u32, u32)> = branches
            .iter()
            .flat_map(|&b| membership.users(month, b).iter().map(move |&u| (b, u)))
            .chain(counters.by_user.keys().map(|&(_, b, u)| (b, u)))
            .chain(daily.by_user.keys().map(|&(_, b, u)| (b, u)))
            .filter(|&(_, u)| u != NO_USER)
            .collect();
        let user_ids = &self.state().entities().user_ids;
        people.sort_unstable_by(|x, y| {
            (order[x.0 as usize], user_ids.name(x.1))
                .cmp(&(order[y.0 as usize], user_ids.name(y.1)))
        });
        people.dedup();
        people
    }

    /// One day's rows: the month `range` scored from `counters` and what happened before `before`; only
    /// the branch `only`'s when given. `people` are the month's ([`Figures::people_of`]).
    fn day(
        &self,
        range: MonthRange,
        counters: &Counters,
        before: EpochMillis,
        only: Option<u32>,
        people: &[(u32, u32)],
    ) -> HistoryDay {
        let (figures, scored, membership) = self.score_range(range, counters, before);
        let branches = self.branch_keys();
        let rows = self.branch_rows(&branches, &figures, &scored, &|b| scored.points[&b].clone());
        let month = range.last;
        let registered = |b: u32, u: u32| membership.users(month, b).binary_search(&u).is_ok();
        let keys: Vec<(u32, u32)> = people
            .iter()
            .filter(|&&(b, u)| {
                registered(b, u) || counters.by_user.contains_key(&(month.ordinal(), b, u))
            })
            .copied()
            .collect();
        let entities = self.state().entities();
        let zero = Default::default();
        let counts = |(b, u): (u32, u32)| {
            counters
                .by_user
                .get(&(month.ordinal(), b, u))
                .unwrap_or(&zero)
        };
        let quote_ranks = self.rank_people(&keys, &|k| counts(k).get(Measure::MobileQuotes), |n| {
            n as f64
        });
        let payment_ranks = self.rank_people(
            &keys,
            &|k| counts(k).get(Measure::MobilePaymentFen),
            crate::scorecard::fen_to_yuan,
        );
        let executed = self.tasks_executed(range, before);
        let users = keys
            .iter()
            .filter(|(b, _)| only.is_none_or(|o| o == *b))
            .map(|&(b, u)| {
                let c = counts((b, u));
                PersonToDate {
                    user_id: entities.user_ids.name(u).to_string(),
                    display_name: entities.users[u as usize].display_name.clone(),
                    branch_id: entities.branches.name(b).to_string(),
                    registered: registered(b, u),
                    quotes: c.get(Measure::Quotes),
                    mobile_quotes: c.get(Measure::MobileQuotes),
                    proposals: c.get(Measure::Proposals),
                    deal_premium: crate::scorecard::fen_to_yuan(c.get(Measure::DealPremiumFen)),
                    mobile_payment: crate::scorecard::fen_to_yuan(c.get(Measure::MobilePaymentFen)),
                    login_days: c.login_days.count_ones(),
                    tasks_executed: executed.get(&(b, u)).copied().unwrap_or(0),
                    mobile_quotes_rank: quote_ranks[&(b, u)],
                    mobile_payment_rank: payment_ranks[&(b, u)],
                }
            })
            .collect();
        HistoryDay {
            date: String::new(),
            complete: false,
            branches: rows
                .into_iter()
                .filter(|(b, _)| only.is_none_or(|o| o == *b))
                .map(|(_, row)| row)
                .collect(),
            users,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Engine;
    use schemas::{Config, Message, Organisation, decode_event};
    use std::sync::Arc;

    fn engine() -> Engine {
        let org = Organisation::from_csv(
            "branch_id,branch_name,in_scope\nb1,张店支公司,true\nb2,淄川支公司,true\n".as_bytes(),
        )
        .unwrap();
        // The watermark at the latest event, so the days shown reach it.
        let config = Config {
            watermark_delay_secs: 0,
            watermark_confirmations: 1,
            ..Config::default()
        };
        Engine::new(Arc::new(config), Arc::new(org))
    }

    /// One event as a wire line: `kind` at `at` (local time on a 2016 date, `06-02T09:00`) in `branch` by
    /// `user`, with `extra` fields.
    fn line(id: &str, kind: &str, at: &str, branch: &str, user: &str, extra: &str) -> String {
        format!(
            r#"{{"event_id":"{id}","event_type":"{kind}","occurred_at":"2016-{at}:00+08:00","branch_id":"{branch}","user_id":"{user}"{extra}}}"#
        )
    }

    fn quote(id: &str, at: &str, branch: &str, user: &str) -> String {
        line(
            id,
            "quote_created",
            at,
            branch,
            user,
            r#","terminal":"phone","quote_id":"Q""#,
        )
    }

    fn register(id: &str, at: &str, branch: &str, user: &str) -> String {
        line(
            id,
            "user_registered",
            at,
            branch,
            user,
            r#","channel":"direct""#,
        )
    }

    fn feed(engine: &mut Engine, partition: u32, lines: &[String]) {
        let from = engine
            .state()
            .positions()
            .get(&partition)
            .copied()
            .unwrap_or(0);
        let messages: Vec<Message> = lines
            .iter()
            .enumerate()
            .map(|(i, l)| Message {
                partition,
                offset: from + i as u64,
                decoded: decode_event(l.as_bytes(), i64::MAX / 2),
            })
            .collect();
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(engine.process(&messages))
            .unwrap();
    }

    /// Per day of June from the 1st: `user`'s quotes in `branch`, 0 without a row.
    fn quotes_by_day(engine: &Engine, month: &str, branch: &str, user: &str) -> Vec<i64> {
        engine
            .history(month.parse().unwrap(), None)
            .unwrap()
            .days
            .iter()
            .map(|day| {
                day.users
                    .iter()
                    .find(|p| p.branch_id == branch && p.user_id == user)
                    .map_or(0, |p| p.quotes)
            })
            .collect()
    }

    fn branch_users_by_day(engine: &Engine, branch: &str) -> Vec<usize> {
        engine
            .history("2016-06".parse().unwrap(), Some(branch))
            .unwrap()
            .days
            .iter()
            .map(|day| day.branches[0].users)
            .collect()
    }

    #[test]
    fn a_late_event_in_grace_changes_its_day_and_the_later_days_only() {
        let mut engine = engine();
        feed(
            &mut engine,
            0,
            &[
                register("r", "05-20T09:00", "b1", "u"),
                quote("q2", "06-02T09:00", "b1", "u"),
                quote("q5", "06-05T09:00", "b1", "u"),
                quote("q8", "06-08T09:00", "b1", "u"),
            ],
        );
        let before = quotes_by_day(&engine, "2016-06", "b1", "u");
        assert_eq!(before, [0, 1, 1, 1, 2, 2, 2, 3]);
        // A quote of June 3 arrives after June 8's: June is open, so it is accepted, on its own day.
        feed(&mut engine, 0, &[quote("q3", "06-03T17:00", "b1", "u")]);
        assert_eq!(engine.counts().late, 0);
        let after = quotes_by_day(&engine, "2016-06", "b1", "u");
        assert_eq!(after, [0, 1, 2, 2, 3, 3, 3, 4]);
        let history = engine.history("2016-06".parse().unwrap(), None).unwrap();
        assert_eq!(history.days.len(), 8, "up to the watermark's day");
        assert!(history.days[..7].iter().all(|d| d.complete));
        assert!(!history.days[7].complete, "June 8 is in progress");
        assert!(!history.is_final);
    }

    #[test]
    fn a_movers_counts_stay_day_by_day_with_the_branch_they_were_made_in() {
        let mut engine = engine();
        feed(
            &mut engine,
            0,
            &[
                register("r1", "05-20T09:00", "b1", "u"),
                quote("q1", "06-02T09:00", "b1", "u"),
                register("r2", "06-10T09:00", "b2", "u"),
                quote("q2", "06-12T09:00", "b2", "u"),
                quote("q3", "06-13T09:00", "b2", "u"),
            ],
        );
        assert_eq!(
            quotes_by_day(&engine, "2016-06", "b1", "u"),
            [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
        );
        assert_eq!(
            quotes_by_day(&engine, "2016-06", "b2", "u"),
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2]
        );
        // A user of b1 all month (registered before June ends, not gone before it starts); of b2 from the
        // day of the move.
        assert_eq!(branch_users_by_day(&engine, "b1"), [1; 13]);
        assert_eq!(
            branch_users_by_day(&engine, "b2"),
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1]
        );
    }

    #[test]
    fn a_month_rolls_over_and_a_later_cancellation_lands_on_its_last_day() {
        let mut engine = engine();
        let policy = r#","policy_id":"P","premium":3000,"deal_type":"task","quote_id":"q","proposal_id":"p""#;
        feed(
            &mut engine,
            0,
            &[
                register("r", "05-20T09:00", "b1", "u"),
                line("i", "policy_issued", "06-10T09:00", "b1", "u", policy),
                line(
                    "c1",
                    "policy_cancelled",
                    "06-20T09:00",
                    "b1",
                    "u",
                    r#","policy_id":"P""#,
                ),
                line(
                    "i2",
                    "policy_issued",
                    "06-25T09:00",
                    "b1",
                    "u",
                    &policy.replace("\"P\"", "\"P2\""),
                ),
                quote("q", "07-01T09:00", "b1", "u"),
                line(
                    "c2",
                    "policy_cancelled",
                    "07-02T09:00",
                    "b1",
                    "u",
                    r#","policy_id":"P2""#,
                ),
            ],
        );
        let june = engine.history("2016-06".parse().unwrap(), None).unwrap();
        assert_eq!(
            june.days.len(),
            30,
            "a month before the watermark's has every day"
        );
        let premium: Vec<f64> = june
            .days
            .iter()
            .map(|d| d.users.iter().map(|p| p.deal_premium).sum())
            .collect();
        assert_eq!(premium[8], 0.0);
        assert_eq!(premium[9..19], [3000.0; 10], "June 10 to 19");
        assert_eq!(premium[19..24], [0.0; 5], "cancelled on June 20");
        assert_eq!(
            premium[24..29],
            [3000.0; 5],
            "the second policy from June 25"
        );
        assert_eq!(
            premium[29], 0.0,
            "its July cancellation counts on June's last day"
        );
        let scorecard = engine.scorecard("2016-06".parse().unwrap(), true).unwrap();
        let last = june.days.last().unwrap();
        assert_eq!(
            serde_json::to_value(&last.branches[0].points).unwrap(),
            serde_json::to_value(&scorecard.branches[0].points).unwrap()
        );
        let july = engine.history("2016-07".parse().unwrap(), None).unwrap();
        assert_eq!(july.days.len(), 2);
        assert_eq!(quotes_by_day(&engine, "2016-07", "b1", "u"), [1, 1]);
        assert_eq!(july.days[0].users[0].deal_premium, 0.0);
    }

    #[test]
    fn a_branch_filter_keeps_the_city_ranks_and_an_unknown_branch_is_refused() {
        let mut engine = engine();
        feed(
            &mut engine,
            0,
            &[
                register("r1", "05-20T09:00", "b1", "u1"),
                register("r2", "05-20T09:00", "b2", "u2"),
                quote("q1", "06-02T09:00", "b1", "u1"),
                quote("q2", "06-02T10:00", "b2", "u2"),
                quote("q3", "06-02T11:00", "b2", "u2"),
            ],
        );
        let b1 = engine
            .history("2016-06".parse().unwrap(), Some("b1"))
            .unwrap();
        let day = &b1.days[1];
        assert_eq!(day.branches.len(), 1);
        assert_eq!(day.users.len(), 1);
        assert_eq!(day.users[0].mobile_quotes_rank.city, Some(2));
        assert_eq!(day.users[0].mobile_quotes_rank.branch, Some(1));
        assert_eq!(
            day.branches[0]
                .indicator_ranks
                .get(Indicator::MobileQuotesPerUser),
            Some(Some(2))
        );
        let refused = engine.history("2016-06".parse().unwrap(), Some("nowhere"));
        assert!(matches!(refused, Err(EngineError::BadRequest(m)) if m.contains("nowhere")));
    }
}
