//! Moments worth looking up for on a wall screen: a branch overtaking others on a ranked board, entering
//! or leaving a points tier, a person reaching the login-day threshold or the full quote target, a month
//! closing with its final standings (and the award places when it closes a quarter).
//!
//! They are judged at fixed steps of event time ([`MomentSteps`]): a batch is cut before the first message
//! of a step later than any seen, and the figures there are compared with those of the step before
//! ([`MomentWatch`]). The cuts depend only on the order of the messages, never on how they were batched, so
//! a replay of the same log gives the same moments whatever its batch size; a rank that flips back and
//! forth within one step is no moment. A pipeline catching up judges only the months closing
//! ([`Judging::ClosesOnly`]): hours-old overtakes are no news, and judging every step of a backlog would
//! slow the catch-up many times over (docs/BENCHMARKS.md).

mod steps;
mod watch;

use steps::MomentSteps;
use watch::MomentWatch;

use crate::engine::{Disposition, Engine};
use crate::error::EngineError;
use crate::indicators::Indicator;
use crate::rewards::BranchAwards;
use schemas::Message;
use serde::Serialize;
use std::collections::VecDeque;

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

/// How a batch's moments are judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Judging {
    /// At every step: a replay, or a pipeline at the end of its log.
    EveryStep,
    /// Only the months that became final, once per batch: a pipeline catching up.
    ClosesOnly,
}

/// The moments of a stream of batches: where the cuts fall and what the last one saw.
#[derive(Debug, Clone)]
pub struct Moments {
    steps: MomentSteps,
    watch: MomentWatch,
}

impl Moments {
    /// Steps of `live.moment_step_secs`, nothing judged yet.
    pub fn new(config: &schemas::Config) -> Self {
        Self {
            steps: MomentSteps::new(config),
            watch: MomentWatch::default(),
        }
    }

    /// Processes `messages` into `engine`, judging the moments at each cut (or only the months closing):
    /// the dispositions, in order, and the moments, in order.
    pub async fn process(
        &mut self,
        engine: &mut Engine,
        messages: &[Message],
        judging: Judging,
    ) -> Result<(Vec<Disposition>, Vec<Moment>), EngineError> {
        let cuts = self.steps.cuts(messages);
        if judging == Judging::ClosesOnly {
            self.watch.track(engine);
            let dispositions = engine.process(messages).await?;
            return Ok((dispositions, self.watch.skip(engine)));
        }
        let mut dispositions = Vec::with_capacity(messages.len());
        let mut moments = Vec::new();
        let mut start = 0;
        for cut in cuts.into_iter().chain([messages.len()]) {
            if cut > start {
                let segment = &messages[start..cut];
                self.watch.note(engine, segment);
                dispositions.extend(engine.process(segment).await?);
            }
            if cut < messages.len() {
                moments.extend(self.watch.judge(engine));
            }
            start = cut;
        }
        Ok((dispositions, moments))
    }
}
