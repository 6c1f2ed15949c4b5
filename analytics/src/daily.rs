//! Day-resolved counters (docs/scoring.md#day-by-day-history): beside each month's counters, what each
//! local day of the month added, per branch (every measure) and per person (the counts the history shows).
//! A month's figures as of a day's end are the sums of its days up to that day.
//!
//! Every change lands on a day that depends only on the events, never on the order they arrived in: an
//! event on its own day; a change an event makes to another month (a cancellation after the issue month,
//! a clearing score given later) on that month's last day; an earlier event arriving late on its own day,
//! so it changes that day and every later day of its month, never an earlier one.

use crate::engine::{Counters, of_month};
use crate::facts::{FactKey, Measure, Measures, NO_USER};
use hashbrown::HashMap;
use hashbrown::hash_map::Entry;
use serde::{Deserialize, Serialize};

/// What one person's events added on one day: the counts of the day-by-day history, in 32 bytes
/// (login days are in the month's counters as one bit per day; tasks executed in the task records).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonDay {
    /// Premium of counted policies, fen.
    pub deal_premium_fen: i64,
    /// Mobile payments, fen.
    pub mobile_payment_fen: i64,
    /// Quotes.
    pub quotes: i32,
    /// Quotes from mobile terminals.
    pub mobile_quotes: i32,
    /// Proposals.
    pub proposals: i32,
    /// The local day of the month, 1..=31.
    pub day: u8,
}

impl PersonDay {
    fn add(&mut self, delta: &Measures) {
        // A person's daily counts stay far inside i32; amounts are fen in i64 like every other sum.
        self.quotes += delta.get(Measure::Quotes) as i32;
        self.mobile_quotes += delta.get(Measure::MobileQuotes) as i32;
        self.proposals += delta.get(Measure::Proposals) as i32;
        self.deal_premium_fen += delta.get(Measure::DealPremiumFen);
        self.mobile_payment_fen += delta.get(Measure::MobilePaymentFen);
    }

    fn is_zero(&self) -> bool {
        *self
            == PersonDay {
                day: self.day,
                ..PersonDay::default()
            }
    }

    /// Adds this day's counts to `m`.
    fn add_to(&self, m: &mut Measures) {
        m.add(Measure::Quotes, self.quotes.into())
            .add(Measure::MobileQuotes, self.mobile_quotes.into())
            .add(Measure::Proposals, self.proposals.into())
            .add(Measure::DealPremiumFen, self.deal_premium_fen)
            .add(Measure::MobilePaymentFen, self.mobile_payment_fen);
    }
}

/// What the day-by-day counters hold and the memory they take (tables and lists at their capacity).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DailyFootprint {
    /// Person-days with something counted.
    pub person_days: usize,
    /// Bytes the person-days take.
    pub person_bytes: usize,
    /// Branch-days with something counted.
    pub branch_days: usize,
    /// Bytes the branch-days take.
    pub branch_bytes: usize,
}

/// The day-resolved counters of every month.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DailyCounters {
    /// Per `(month, branch, user)`: the days with something counted, in day order.
    pub by_user: HashMap<(i32, u32, u32), Vec<PersonDay>>,
    /// Per `(month, branch)`: each day's changes to every measure, in day order.
    pub by_branch: HashMap<(i32, u32), Vec<(u8, Measures)>>,
}

impl DailyCounters {
    /// Adds one aggregated delta. A day whose changes come to nothing is removed, and so is a key with no
    /// day left, so what is held never depends on the order the deltas came in.
    pub(crate) fn merge(&mut self, key: FactKey, delta: &Measures) {
        let day = key.day as u8;
        let branch_delta = Measures {
            login_days: 0,
            ..*delta
        };
        if !branch_delta.is_zero() {
            let days = self.by_branch.entry((key.month, key.branch)).or_default();
            let slot = day_slot(days, day, |d| d.0);
            match slot {
                Ok(i) => {
                    days[i].1.merge(&branch_delta);
                    if days[i].1.is_zero() {
                        days.remove(i);
                    }
                }
                Err(i) => insert_exact(days, i, (day, branch_delta)),
            }
            if days.is_empty() {
                self.by_branch.remove(&(key.month, key.branch));
            }
        }
        let mut person = PersonDay {
            day,
            ..PersonDay::default()
        };
        person.add(delta);
        if key.user == NO_USER || person.is_zero() {
            return;
        }
        let user_key = (key.month, key.branch, key.user);
        let Entry::Occupied(mut days) = self.by_user.entry(user_key) else {
            self.by_user.insert(user_key, vec![person]);
            return;
        };
        let list = days.get_mut();
        match day_slot(list, day, |d| d.day) {
            Ok(i) => {
                list[i].add(delta);
                if list[i].is_zero() {
                    list.remove(i);
                }
            }
            Err(i) => insert_exact(list, i, person),
        }
        if list.is_empty() {
            days.remove();
        }
    }

    /// What the counters hold and the memory they take.
    pub fn footprint(&self) -> DailyFootprint {
        DailyFootprint {
            person_days: self.by_user.values().map(Vec::len).sum(),
            person_bytes: self.by_user.allocation_size()
                + self
                    .by_user
                    .values()
                    .map(|days| days.capacity() * size_of::<PersonDay>())
                    .sum::<usize>(),
            branch_days: self.by_branch.values().map(Vec::len).sum(),
            branch_bytes: self.by_branch.allocation_size()
                + self
                    .by_branch
                    .values()
                    .map(|days| days.capacity() * size_of::<(u8, Measures)>())
                    .sum::<usize>(),
        }
    }

    /// A copy of one month's days (its ordinal).
    pub fn month(&self, month: i32) -> DailyCounters {
        DailyCounters {
            by_user: of_month(&self.by_user, month, |k| k.0),
            by_branch: of_month(&self.by_branch, month, |k| k.0),
        }
    }

    /// The counters of `month` as they stood at the end of its day `day`: each branch's sums of its days up
    /// to `day`, and each person's counts of the history and login days up to `day` (from `counters`, the
    /// month's). Keys with nothing by then are left out, as in the month's counters.
    pub fn as_of(&self, counters: &Counters, month: i32, day: u32) -> Counters {
        let mut out = Counters::default();
        for (&(m, b), days) in &self.by_branch {
            if m != month {
                continue;
            }
            let mut sum = Measures::default();
            for (_, delta) in days.iter().take_while(|(d, _)| u32::from(*d) <= day) {
                sum.merge(delta);
            }
            if !sum.is_zero() {
                out.by_branch.insert((m, b), sum);
            }
        }
        let login_mask = if day >= 32 { -1 } else { (1i64 << day) - 1 };
        for (&(m, b, u), counter) in &counters.by_user {
            let login_days = counter.login_days & login_mask;
            if m == month && login_days != 0 {
                out.by_user.insert(
                    (m, b, u),
                    Measures {
                        login_days,
                        ..Measures::default()
                    },
                );
            }
        }
        for (&(m, b, u), days) in &self.by_user {
            if m != month {
                continue;
            }
            let mut sum = Measures::default();
            for person_day in days.iter().take_while(|d| u32::from(d.day) <= day) {
                person_day.add_to(&mut sum);
            }
            if !sum.is_zero() {
                out.by_user.entry((m, b, u)).or_default().merge(&sum);
            }
        }
        out
    }
}

/// Where `day` is (`Ok`) or would go (`Err`) in `days`, kept in day order; most changes are on the latest
/// day, so the search starts from the end.
fn day_slot<T>(days: &[T], day: u8, day_of: impl Fn(&T) -> u8) -> Result<usize, usize> {
    match days.last().map(&day_of) {
        Some(last) if last == day => Ok(days.len() - 1),
        Some(last) if last < day => Err(days.len()),
        None => Err(0),
        _ => days.binary_search_by_key(&day, day_of),
    }
}

/// Inserts `value` at `i`, growing the list by exactly one: a person's days arrive one at a time, and a
/// list that doubled would hold up to half its memory empty.
fn insert_exact<T>(list: &mut Vec<T>, i: usize, value: T) {
    list.reserve_exact(1);
    list.insert(i, value);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(day: u32) -> FactKey {
        FactKey {
            month: 100,
            branch: 1,
            user: 7,
            day,
        }
    }

    fn quotes(n: i64) -> Measures {
        *Measures::default()
            .add(Measure::Quotes, n)
            .add(Measure::PaymentFen, 10 * n)
    }

    #[test]
    fn a_month_as_of_a_day_sums_its_days_up_to_that_day_whatever_order_they_came_in() {
        let deltas = [(3, 2), (1, 1), (3, 1), (10, 4), (2, -1), (2, 1)];
        let mut in_order = DailyCounters::default();
        let mut counters = Counters::default();
        for (day, n) in deltas {
            in_order.merge(key(day), &quotes(n));
        }
        let mut reversed = DailyCounters::default();
        for (day, n) in deltas.iter().rev() {
            reversed.merge(key(*day), &quotes(*n));
        }
        assert_eq!(in_order.by_user, reversed.by_user);
        assert_eq!(in_order.by_branch, reversed.by_branch);
        let days: Vec<u8> = in_order.by_user[&(100, 1, 7)]
            .iter()
            .map(|d| d.day)
            .collect();
        assert_eq!(days, [1, 3, 10], "day 2 came to nothing and is not held");
        assert_eq!(size_of::<PersonDay>(), 32);
        let footprint = in_order.footprint();
        assert_eq!((footprint.person_days, footprint.branch_days), (3, 3));
        assert!(footprint.person_bytes >= 3 * 32, "{footprint:?}");
        counters.by_user.insert(
            (100, 1, 7),
            Measures {
                login_days: 0b1000000101,
                ..Measures::default()
            },
        );
        for (day, expected_quotes, expected_logins) in [
            (1, 1, 1),
            (2, 1, 1),
            (3, 4, 2),
            (9, 4, 2),
            (10, 8, 3),
            (31, 8, 3),
        ] {
            let as_of = in_order.as_of(&counters, 100, day);
            let user = as_of.by_user[&(100, 1, 7)];
            assert_eq!(user.get(Measure::Quotes), expected_quotes, "day {day}");
            assert_eq!(user.login_days.count_ones(), expected_logins, "day {day}");
            let branch = as_of.by_branch[&(100, 1)];
            assert_eq!(branch.get(Measure::Quotes), expected_quotes);
            assert_eq!(branch.get(Measure::PaymentFen), 10 * expected_quotes);
        }
        assert!(in_order.as_of(&counters, 101, 31).by_user.is_empty());
    }

    #[test]
    fn a_change_taken_back_on_a_later_day_leaves_both_days_held() {
        let mut daily = DailyCounters::default();
        daily.merge(key(3), &quotes(1));
        daily.merge(key(10), &quotes(-1));
        let counters = Counters::default();
        assert_eq!(
            daily.as_of(&counters, 100, 5).by_branch[&(100, 1)].get(Measure::Quotes),
            1
        );
        assert!(daily.as_of(&counters, 100, 10).by_branch.is_empty());
        daily.merge(key(10), &quotes(1));
        daily.merge(key(3), &quotes(-1));
        assert!(daily.by_user.is_empty() && daily.by_branch.is_empty());
    }
}
