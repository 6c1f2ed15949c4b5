//! Moments worth looking up for on a wall screen: a branch overtaking others on a ranked board, entering
//! or leaving a points tier, a person reaching the login-day threshold or the full quote target, a month
//! closing with its final standings (and the award places when it closes a quarter).
//!
//! They are judged at fixed steps of event time: a batch is cut before the first message of a step later
//! than any seen, and the figures there are compared with those of the step before. The cuts depend only
//! on the order of the messages, never on how they were batched, so a replay of the same log gives the
//! same moments whatever its batch size; a rank that flips back and forth within one step is no moment.

use crate::engine::{Disposition, Engine, Figures};
use crate::error::EngineError;
use crate::indicators::Indicator;
use crate::period::PeriodSpec;
use crate::rewards::BranchAwards;
use crate::scorecard::Scorecard;
use schemas::{Message, YearMonth};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// A board ranked by the figures: its name on the screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RankedBoard {
    /// Branches by mobile quotes per user.
    BranchMobileQuotes,
    /// Branches by mobile payment per user.
    BranchMobilePayment,
    /// Branches by total score.
    BranchTotalScore,
}

const BOARDS: [RankedBoard; 3] = [
    RankedBoard::BranchMobileQuotes,
    RankedBoard::BranchMobilePayment,
    RankedBoard::BranchTotalScore,
];

impl RankedBoard {
    /// The ranked indicator, for the boards of one indicator.
    fn indicator(self) -> Option<Indicator> {
        match self {
            RankedBoard::BranchMobileQuotes => Some(Indicator::MobileQuotesPerUser),
            RankedBoard::BranchMobilePayment => Some(Indicator::MobilePaymentPerUser),
            RankedBoard::BranchTotalScore => None,
        }
    }
}

/// A branch as a moment names it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unit {
    /// Id.
    pub branch_id: String,
    /// Name.
    pub branch_name: String,
}

/// A branch's place in a month's final standings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Place {
    /// The branch.
    #[serde(flatten)]
    pub unit: Unit,
    /// Its rank by total (none out of scope).
    pub rank: Option<u32>,
    /// Its total score.
    pub total: f64,
}

/// A moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Moment {
    /// `branch` moved ahead of `passed` on `board`.
    Overtake {
        /// The month.
        month: String,
        /// The board.
        board: RankedBoard,
        /// Who moved up.
        #[serde(flatten)]
        branch: Unit,
        /// Its rank now.
        rank: u32,
        /// The branches it passed, best first.
        passed: Vec<Unit>,
    },
    /// `branch` entered (`entered`) or left a points tier of `board`: its points went from `from` to `to`.
    Tier {
        /// The month.
        month: String,
        /// The board.
        board: RankedBoard,
        /// The branch.
        #[serde(flatten)]
        branch: Unit,
        /// Its rank now.
        rank: u32,
        /// Whether it moved into a better tier (else out of one).
        entered: bool,
        /// Points before.
        from: f64,
        /// Points now.
        to: f64,
    },
    /// A person reached the login days that make them active.
    LoginDays {
        /// The month.
        month: String,
        /// The person.
        user_id: String,
        /// Their name.
        name: Option<String>,
        /// Their branch.
        #[serde(flatten)]
        branch: Unit,
        /// The threshold reached.
        days: u32,
    },
    /// A person reached the month's full quote target.
    QuoteTarget {
        /// The month.
        month: String,
        /// The person.
        user_id: String,
        /// Their name.
        name: Option<String>,
        /// Their branch.
        #[serde(flatten)]
        branch: Unit,
        /// The target reached.
        quotes: i64,
    },
    /// A month became final: its standings, and the award places when it closes a quarter.
    MonthClose {
        /// The month.
        month: String,
        /// The branches by total, best first.
        standings: Vec<Place>,
        /// The award places by the assessment to date, when the month ends a quarter.
        awards: Option<BranchAwards>,
    },
}

impl Moment {
    /// The branch whose people a moment is about (a screen limited to a branch sees only its own).
    pub fn people_of(&self) -> Option<&str> {
        match self {
            Moment::LoginDays { branch, .. } | Moment::QuoteTarget { branch, .. } => {
                Some(&branch.branch_id)
            }
            _ => None,
        }
    }
}

/// Trims a queue of moments waiting for the screens to `cap`: the oldest overtakes and tiers give way
/// first, then the oldest of the others; a month's close goes only when nothing else is left.
pub fn make_room(queue: &mut VecDeque<Moment>, cap: usize) {
    while queue.len() > cap {
        let i = queue
            .iter()
            .position(|m| matches!(m, Moment::Overtake { .. } | Moment::Tier { .. }))
            .or_else(|| {
                queue
                    .iter()
                    .position(|m| !matches!(m, Moment::MonthClose { .. }))
            })
            .unwrap_or(0);
        queue.remove(i);
    }
}

/// Where the cuts fall: the step of event time the messages have reached. Like the watermark, one event
/// far ahead (a device with a wrong clock) moves it only when the next events confirm the time.
#[derive(Debug, Clone)]
pub struct MomentSteps {
    step_ms: i64,
    /// The furthest a step moves on one event's word.
    max_jump_ms: i64,
    /// Events in a row that far ahead which confirm a new time.
    confirmations: u32,
    reached: Option<i64>,
    /// Events in a row seen further ahead than `max_jump_ms`.
    ahead: u32,
}

impl MomentSteps {
    /// Steps of `live.moment_step_secs` of event time, with the watermark's rule for jumps.
    pub fn new(config: &schemas::Config) -> Self {
        Self {
            step_ms: (config.live.moment_step_secs.max(1) * 1000) as i64,
            max_jump_ms: (config.max_watermark_jump_secs * 1000) as i64,
            confirmations: config.watermark_confirmations.max(1),
            reached: None,
            ahead: 0,
        }
    }

    /// The indices of `messages` before which the figures are judged: each first message of a step later
    /// than any before it (across batches).
    pub fn cuts(&mut self, messages: &[Message]) -> Vec<usize> {
        let mut cuts = Vec::new();
        for (i, message) in messages.iter().enumerate() {
            let Ok(event) = &message.decoded else {
                continue;
            };
            let step = event.occurred_at.div_euclid(self.step_ms);
            let Some(reached) = self.reached else {
                self.reached = Some(step);
                continue;
            };
            if step <= reached {
                self.ahead = 0;
                continue;
            }
            if (step - reached) * self.step_ms > self.max_jump_ms {
                self.ahead += 1;
                if self.ahead < self.confirmations {
                    continue;
                }
            }
            self.ahead = 0;
            cuts.push(i);
            self.reached = Some(step);
        }
        cuts
    }
}

/// What the last judgement saw.
#[derive(Debug, Clone, Default)]
struct Seen {
    month: Option<YearMonth>,
    /// Per board and branch id: rank and the board's points.
    ranks: BTreeMap<(usize, String), (u32, f64)>,
    /// Per person and branch: login days and quotes.
    people: BTreeMap<(String, String), (u32, i64)>,
}

/// Judges the figures at each cut against the previous cut.
#[derive(Debug, Clone, Default)]
pub struct MomentWatch {
    seen: Seen,
    /// Months seen live and not final yet: each is announced once, when it becomes final.
    open: BTreeSet<YearMonth>,
}

impl MomentWatch {
    /// The moments since the last judgement.
    pub fn judge(&mut self, figures: &Figures) -> Vec<Moment> {
        let Ok(month) = figures.live_month() else {
            return self.closed_months(figures);
        };
        let arrival = figures.state().arrival();
        let assessment = crate::period::assessment_months(figures.config());
        // The month before too, on the first judgement (a restart during its grace days).
        let first = self.seen.month.is_none();
        for m in [month, month.plus(-1)] {
            if (m == month || first) && assessment.contains(m) && !arrival.is_final(m) {
                self.open.insert(m);
            }
        }
        let mut moments = self.closed_months(figures);
        let Ok(card) = figures.standings(PeriodSpec::Month(month), true) else {
            return moments;
        };
        let now = seen_in(&card, month);
        if self.seen.month == Some(month) {
            moments.extend(compare(&self.seen, &now, &card, figures));
        }
        self.seen = now;
        moments
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
                    .then(|| figures.rewards(PeriodSpec::Assessment).ok())
                    .flatten()
                    .map(|r| r.branch_awards);
                Some(Moment::MonthClose {
                    month: month.to_string(),
                    standings,
                    awards,
                })
            })
            .collect()
    }
}

fn unit(id: &str, name: &str) -> Unit {
    Unit {
        branch_id: id.to_string(),
        branch_name: name.to_string(),
    }
}

fn seen_in(card: &Scorecard, month: YearMonth) -> Seen {
    let mut ranks = BTreeMap::new();
    for (i, board) in BOARDS.iter().enumerate() {
        for b in card.branches.iter().filter(|b| b.in_scope) {
            let (rank, points) = match board.indicator() {
                Some(indicator) => (
                    b.indicator_ranks.get(indicator).flatten(),
                    b.points.get(indicator).unwrap_or(0.0),
                ),
                None => (b.rank, b.total),
            };
            if let Some(rank) = rank {
                ranks.insert((i, b.branch_id.clone()), (rank, points));
            }
        }
    }
    let people = card
        .users
        .iter()
        .flatten()
        .filter(|u| u.registered)
        .map(|u| {
            (
                (u.user_id.clone(), u.branch_id.clone()),
                (u.login_days, u.quotes),
            )
        })
        .collect();
    Seen {
        month: Some(month),
        ranks,
        people,
    }
}

fn compare(before: &Seen, now: &Seen, card: &Scorecard, figures: &Figures) -> Vec<Moment> {
    let month = card.period.clone();
    let name_of = |id: &str| {
        card.branches
            .iter()
            .find(|b| b.branch_id == id)
            .map_or_else(|| unit(id, id), |b| unit(id, &b.branch_name))
    };
    let mut moments = Vec::new();
    for (i, board) in BOARDS.iter().enumerate() {
        let on_board = |seen: &'_ Seen| -> Vec<(String, u32, f64)> {
            let mut rows: Vec<(String, u32, f64)> = seen
                .ranks
                .iter()
                .filter(|((b, _), _)| *b == i)
                .map(|((_, id), (rank, points))| (id.clone(), *rank, *points))
                .collect();
            rows.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
            rows
        };
        let new = on_board(now);
        let old: std::collections::HashMap<String, (u32, f64)> = on_board(before)
            .into_iter()
            .map(|(id, rank, points)| (id, (rank, points)))
            .collect();
        let old_rank = |id: &str| old.get(id).copied();
        for (id, rank, points) in &new {
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
    let threshold = figures.config().active_login_days;
    let target = figures.config().targets.quotes_per_user.ceil() as i64;
    for u in card.users.iter().flatten().filter(|u| u.registered) {
        let Some(&(days, quotes)) = before.people.get(&(u.user_id.clone(), u.branch_id.clone()))
        else {
            continue;
        };
        let person = || {
            (
                u.user_id.clone(),
                u.display_name.clone(),
                name_of(&u.branch_id),
            )
        };
        if days < threshold && u.login_days >= threshold {
            let (user_id, name, branch) = person();
            moments.push(Moment::LoginDays {
                month: month.clone(),
                user_id,
                name,
                branch,
                days: threshold,
            });
        }
        if target > 0 && quotes < target && u.quotes >= target {
            let (user_id, name, branch) = person();
            moments.push(Moment::QuoteTarget {
                month: month.clone(),
                user_id,
                name,
                branch,
                quotes: target,
            });
        }
    }
    moments
}

/// Processes `messages` into `engine`, judging the moments at each cut: the dispositions, in order, and the
/// moments, in order.
pub async fn process_with_moments(
    engine: &mut Engine,
    steps: &mut MomentSteps,
    watch: &mut MomentWatch,
    messages: &[Message],
) -> Result<(Vec<Disposition>, Vec<Moment>), EngineError> {
    let mut dispositions = Vec::with_capacity(messages.len());
    let mut moments = Vec::new();
    let mut start = 0;
    for cut in steps.cuts(messages).into_iter().chain([messages.len()]) {
        if cut > start {
            dispositions.extend(engine.process(&messages[start..cut]).await?);
        }
        if cut < messages.len() {
            moments.extend(watch.judge(engine));
        }
        start = cut;
    }
    Ok((dispositions, moments))
}
