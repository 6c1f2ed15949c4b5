//! Judging the figures at a cut against the cut before: the branch boards from the month's standings
//! (without people), the people from the counters of those who had events since the last cut.

use super::{BOARDS, Moment, Place, Unit};
use crate::engine::Figures;
use crate::facts::Measure;
use crate::period::PeriodSpec;
use crate::scorecard::Scorecard;
use hashbrown::HashMap;
use schemas::{Message, Payload, YearMonth};
use std::collections::BTreeSet;

/// Login days and quotes of one person in one branch.
type Progress = (u32, i64);

/// A branch on a board: id, rank and the board's points.
type Ranked = (String, u32, f64);

/// Judges the figures at each cut against the previous cut.
#[derive(Debug, Clone, Default)]
pub struct MomentWatch {
    /// The live month at the last cut, when that cut is a baseline to compare with.
    month: Option<YearMonth>,
    /// Per board (as [`BOARDS`]) at the last cut: its ranked branches.
    ranks: Vec<Vec<Ranked>>,
    /// The people with events since the last cut, by user key: their progress at that cut in each branch
    /// they were a user of.
    before: HashMap<u32, Vec<(u32, Progress)>>,
    /// Months seen live and not final yet: each is announced once, when it becomes final.
    open: BTreeSet<YearMonth>,
    /// The latest live month seen.
    tracked: Option<YearMonth>,
    /// Months announced closed (a month's finality can turn back when a new partition appears; it is
    /// announced once all the same).
    announced: BTreeSet<YearMonth>,
}

impl MomentWatch {
    /// Notes the progress of the people whose logins and quotes `messages` hold, before they are processed:
    /// what the next judgement compares their progress with. Only their own logins and quotes change a
    /// person's login days and quotes, so the people noted since a cut are all whose progress can have
    /// changed.
    pub(crate) fn note(&mut self, figures: &Figures, messages: &[Message]) {
        let Some(month) = self.month else {
            return;
        };
        let users = &figures.state().entities().user_ids;
        for message in messages {
            let Ok(event) = &message.decoded else {
                continue;
            };
            if !matches!(event.payload, Payload::Login | Payload::QuoteCreated { .. }) {
                continue;
            }
            let Some(user) = event.user_id.as_deref().and_then(|id| users.get(id)) else {
                continue;
            };
            if !self.before.contains_key(&user) {
                self.before.insert(user, progress(figures, month, user));
            }
        }
    }

    /// The moments since the last judgement.
    pub fn judge(&mut self, figures: &Figures) -> Vec<Moment> {
        let Ok(month) = figures.live_month() else {
            return self.closed_months(figures);
        };
        self.track(figures);
        let mut moments = self.closed_months(figures);
        let Ok(card) = figures.standings(PeriodSpec::Month(month), false) else {
            return moments;
        };
        let ranks = ranks_in(&card);
        if self.month == Some(month) {
            moments.extend(self.compare_ranks(&ranks, &card));
            moments.extend(self.compare_people(figures, month, &card));
        }
        self.month = Some(month);
        self.ranks = ranks;
        self.before.clear();
        moments
    }

    /// Judges only the months that became final, and forgets the last cut: for a pipeline catching up,
    /// whose overtakes and thresholds would be long past by the time a screen shows them. The next
    /// judgement is a new baseline.
    pub fn skip(&mut self, figures: &Figures) -> Vec<Moment> {
        self.track(figures);
        self.month = None;
        self.ranks.clear();
        self.before.clear();
        self.closed_months(figures)
    }

    /// Remembers the months that are or were live since the last look as open until final: the live
    /// month, each month passed since the last look (it became final on the watch, even within one batch),
    /// and at the first look the month before too (a restart during its grace days) unless it is final.
    pub(crate) fn track(&mut self, figures: &Figures) {
        let Ok(month) = figures.live_month() else {
            return;
        };
        let arrival = figures.state().arrival();
        let assessment = crate::period::assessment_months(figures.config());
        let mut months = Vec::new();
        match self.tracked {
            Some(last) if last >= month => months.push(month),
            Some(last) => {
                let mut m = last.plus(1);
                while m <= month {
                    months.push(m);
                    m = m.plus(1);
                }
            }
            None => months.extend(
                [month.plus(-1), month]
                    .into_iter()
                    .filter(|m| !arrival.is_final(*m)),
            ),
        }
        for m in months {
            if assessment.contains(m) && !self.announced.contains(&m) {
                self.open.insert(m);
            }
        }
        self.tracked = self.tracked.max(Some(month));
    }

    fn closed_months(&mut self, figures: &Figures) -> Vec<Moment> {
        let arrival = figures.state().arrival();
        let closed: Vec<YearMonth> = self
            .open
            .iter()
            .copied()
            .filter(|m| arrival.is_final(*m))
            .collect();
        closed
            .into_iter()
            .filter_map(|month| {
                self.open.remove(&month);
                self.announced.insert(month);
                let card = figures.standings(PeriodSpec::Month(month), false).ok()?;
                let mut standings: Vec<Place> = card
                    .branches
                    .iter()
                    .map(|b| Place {
                        unit: unit(&b.branch_id, &b.branch_name),
                        rank: b.rank,
                        total: b.total,
                    })
                    .collect();
                standings.sort_by_key(|p| (p.rank.is_none(), p.rank));
                let awards = (month.month() % 3 == 0)
                    .then(|| figures.branch_awards_through(month).ok())
                    .flatten();
                Some(Moment::MonthClose {
                    month: month.to_string(),
                    standings,
                    awards,
                })
            })
            .collect()
    }

    /// Overtakes and tiers on the branch boards.
    fn compare_ranks(&self, now: &[Vec<Ranked>], card: &Scorecard) -> Vec<Moment> {
        let month = card.period.clone();
        let name_of = |id: &str| unit_in(card, id);
        let mut moments = Vec::new();
        for ((board, new), old) in BOARDS.iter().zip(now).zip(&self.ranks) {
            let old_rank = |id: &str| {
                old.iter()
                    .find(|(other, _, _)| other == id)
                    .map(|(_, rank, points)| (*rank, *points))
            };
            for (id, rank, points) in new {
                let Some((was, had)) = old_rank(id) else {
                    continue;
                };
                if *rank < was {
                    let passed: Vec<Unit> = new
                        .iter()
                        .filter(|(other, other_rank, _)| {
                            other != id
                                && *other_rank > *rank
                                && old_rank(other).is_some_and(|(r, _)| r < was)
                        })
                        .map(|(other, _, _)| name_of(other))
                        .collect();
                    if !passed.is_empty() {
                        moments.push(Moment::Overtake {
                            month: month.clone(),
                            board: *board,
                            branch: name_of(id),
                            rank: *rank,
                            passed,
                        });
                    }
                }
                if board.indicator().is_some() && *points != had {
                    moments.push(Moment::Tier {
                        month: month.clone(),
                        board: *board,
                        branch: name_of(id),
                        rank: *rank,
                        entered: *points > had,
                        from: had,
                        to: *points,
                    });
                }
            }
        }
        moments
    }

    /// People reaching the login days that make them active or the month's full quote target since the
    /// last cut: in the order of the scorecard's people (branch, then user id).
    fn compare_people(&self, figures: &Figures, month: YearMonth, card: &Scorecard) -> Vec<Moment> {
        let entities = figures.state().entities();
        let branch_order = figures.branch_order();
        let mut changed: Vec<(usize, &str, u32, u32, Progress, Progress)> = Vec::new();
        for (&user, was) in &self.before {
            for (branch, now) in progress(figures, month, user) {
                if let Some(&(_, before)) = was.iter().find(|(b, _)| *b == branch) {
                    let order = branch_order.get(&branch).copied().unwrap_or(usize::MAX);
                    let user_id = entities.user_ids.name(user);
                    changed.push((order, user_id, user, branch, before, now));
                }
            }
        }
        changed.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        let threshold = figures.config().active_login_days;
        let target = figures.config().targets.quotes_per_user.ceil() as i64;
        let mut moments = Vec::new();
        for (_, user_id, user, branch, (days_before, quotes_before), (days, quotes)) in changed {
            let person = || {
                let name = entities.users[user as usize].display_name.clone();
                let branch = unit_in(card, entities.branches.name(branch));
                (user_id.to_string(), name, branch)
            };
            if days_before < threshold && days >= threshold {
                let (user_id, name, branch) = person();
                moments.push(Moment::LoginDays {
                    month: card.period.clone(),
                    user_id,
                    name,
                    branch,
                    days: threshold,
                });
            }
            if target > 0 && quotes_before < target && quotes >= target {
                let (user_id, name, branch) = person();
                moments.push(Moment::QuoteTarget {
                    month: card.period.clone(),
                    user_id,
                    name,
                    branch,
                    quotes: target,
                });
            }
        }
        moments
    }
}

/// The login days and quotes of `user` in `month` in each branch they count as a user of then.
fn progress(figures: &Figures, month: YearMonth, user: u32) -> Vec<(u32, Progress)> {
    let state = figures.state();
    let Some(record) = state.entities().users.get(user as usize) else {
        return Vec::new();
    };
    let calendar = figures.calendar();
    let bounds = (calendar.month_start(month), calendar.month_end(month));
    let mut branches: Vec<u32> = record
        .branches_in(month, bounds, schemas::EpochMillis::MAX)
        .collect();
    branches.sort_unstable();
    branches.dedup();
    branches
        .into_iter()
        .map(|branch| {
            let counters = state
                .counters()
                .by_user
                .get(&(month.ordinal(), branch, user));
            let progress = counters.map_or((0, 0), |c| {
                (c.login_days.count_ones(), c.get(Measure::Quotes))
            });
            (branch, progress)
        })
        .collect()
}

fn unit(id: &str, name: &str) -> Unit {
    Unit {
        branch_id: id.to_string(),
        branch_name: name.to_string(),
    }
}

/// The branch `id` as `card` names it.
fn unit_in(card: &Scorecard, id: &str) -> Unit {
    card.branches
        .iter()
        .find(|b| b.branch_id == id)
        .map_or_else(|| unit(id, id), |b| unit(id, &b.branch_name))
}

/// Each board's ranked in-scope branches, by rank then id.
fn ranks_in(card: &Scorecard) -> Vec<Vec<Ranked>> {
    BOARDS
        .iter()
        .map(|board| {
            let mut rows: Vec<Ranked> = card
                .branches
                .iter()
                .filter(|b| b.in_scope)
                .filter_map(|b| {
                    let (rank, points) = match board.indicator() {
                        Some(indicator) => (
                            b.indicator_ranks.get(indicator).flatten(),
                            b.points.get(indicator).unwrap_or(0.0),
                        ),
                        None => (b.rank, b.total),
                    };
                    Some((b.branch_id.clone(), rank?, points))
                })
                .collect();
            rows.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
            rows
        })
        .collect()
}
