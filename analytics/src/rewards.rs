//! Rewards (docs/scoring.md#rewards): the annual branch prizes, the specialists' monthly bonus and the salespeople's
//! per-policy payout.

use crate::engine::Figures;
use crate::error::EngineError;
use crate::facts::Measure;
use crate::period::{Period, PeriodSpec};
use crate::scorecard::Scorecard;
use schemas::YearMonth;
use serde::Serialize;

/// Everything payable for a period.
#[derive(Debug, Clone, Serialize)]
pub struct RewardReport {
    /// The period asked for.
    pub period: String,
    /// The latest watermark.
    pub as_of: String,
    /// Returns true when every month of the period is final.
    #[serde(rename = "final")]
    pub is_final: bool,
    /// Branch prizes by the assessment to date (final only when the assessment is).
    pub branch_awards: BranchAwards,
    /// Specialist bonuses for the period's months.
    pub specialist_bonuses: Vec<SpecialistBonus>,
    /// Salesperson payouts for the period's months.
    pub salesperson_payouts: Vec<SalespersonPayout>,
}

/// The annual ranking of summed quarterly totals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BranchAwards {
    /// Returns true when the whole assessment is final.
    #[serde(rename = "final")]
    pub is_final: bool,
    /// Prize winners by rank.
    pub awards: Vec<BranchAward>,
}

/// One prize.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BranchAward {
    /// Branch.
    pub branch_id: String,
    /// Name.
    pub branch_name: String,
    /// Rank by summed quarterly totals.
    pub rank: u32,
    /// The summed quarterly totals.
    pub total: f64,
    /// 1 for the first prize, 2 for the second, 3 for the third.
    pub prize: u32,
    /// Yuan.
    pub yuan: f64,
}

/// A month in which a branch's total reached the specialist threshold.
#[derive(Debug, Clone, Serialize)]
pub struct SpecialistBonus {
    /// The month.
    pub month: String,
    /// Branch.
    pub branch_id: String,
    /// Name.
    pub branch_name: String,
    /// The month's total.
    pub total: f64,
    /// The branch's system specialists (系统专员) registered in the month, by user id.
    pub specialists: Vec<String>,
    /// Their display names, in the same order (the user id when none was registered).
    pub specialist_names: Vec<String>,
    /// Yuan.
    pub yuan: f64,
}

/// A salesperson's reward for a month's qualifying policies, paid the following month.
#[derive(Debug, Clone, Serialize)]
pub struct SalespersonPayout {
    /// The month the policies were issued.
    pub month: String,
    /// The month it is paid.
    pub payable_month: String,
    /// Branch.
    pub branch_id: String,
    /// The branch's name in the organisation file (its id when it is not there).
    pub branch_name: String,
    /// Salesperson.
    pub user_id: String,
    /// Their display name from their latest registration, when they have one.
    pub display_name: Option<String>,
    /// Qualifying policies: quote and proposal, task or system_quote, not cancelled.
    pub policies: i64,
    /// Yuan.
    pub yuan: f64,
}

impl Figures {
    /// The branch award places of the assessment through `last` (a quarter's last month: the places as that
    /// quarter closed, whatever came after); final only when `last` ends the assessment and is final.
    pub fn branch_awards_through(&self, last: YearMonth) -> Result<BranchAwards, EngineError> {
        let mut awards = self.branch_awards(&self.standings_through(PeriodSpec::Assessment, last)?);
        awards.is_final &= last >= crate::period::assessment_months(self.config()).last;
        Ok(awards)
    }

    /// The prize places of an assessment's standings.
    fn branch_awards(&self, assessment: &Scorecard) -> BranchAwards {
        let rewards = &self.config().rewards;
        let mut awards = Vec::new();
        for row in &assessment.branches {
            let Some(rank) = row.rank else { continue };
            let mut places = 0;
            let prize = rewards.branch_prizes.iter().enumerate().find(|(_, p)| {
                places += p.places;
                rank <= places
            });
            if let Some((i, prize)) = prize {
                awards.push(BranchAward {
                    branch_id: row.branch_id.clone(),
                    branch_name: row.branch_name.clone(),
                    rank,
                    total: row.total,
                    prize: i as u32 + 1,
                    yuan: prize.yuan,
                });
            }
        }
        BranchAwards {
            is_final: assessment.is_final,
            awards,
        }
    }

    /// The rewards of `spec`'s months, and the branch awards of the assessment to date.
    pub fn rewards(&self, spec: PeriodSpec) -> Result<RewardReport, EngineError> {
        let period: Period = self.resolve_period(spec)?;
        let rewards = &self.config().rewards;
        let branch_awards = self.branch_awards(&self.standings(PeriodSpec::Assessment, false)?);
        let mut specialist_bonuses = Vec::new();
        let mut salesperson_payouts = Vec::new();
        let state = self.state();
        for month in period.range.months() {
            let card = self.standings(PeriodSpec::Month(month), false)?;
            let membership = crate::indicators::Membership::compute(
                state,
                self.calendar(),
                crate::period::MonthRange {
                    first: month,
                    last: month,
                },
                schemas::EpochMillis::MAX,
            );
            for row in card
                .branches
                .iter()
                .filter(|r| r.in_scope && r.total >= rewards.specialist_min_total)
            {
                let b = state
                    .entities
                    .branches
                    .get(&row.branch_id)
                    .expect("scored branches are interned");
                let mut specialists: Vec<(String, String)> = membership
                    .users(month, b)
                    .iter()
                    .filter(|u| state.entities.users[**u as usize].is_specialist)
                    .map(|u| {
                        let id = state.entities.user_ids.name(*u).to_string();
                        let name = state.entities.users[*u as usize]
                            .display_name
                            .clone()
                            .unwrap_or_else(|| id.clone());
                        (id, name)
                    })
                    .collect();
                specialists.sort();
                let (specialists, specialist_names) = specialists.into_iter().unzip();
                specialist_bonuses.push(SpecialistBonus {
                    month: month.to_string(),
                    branch_id: row.branch_id.clone(),
                    branch_name: row.branch_name.clone(),
                    total: row.total,
                    specialists,
                    specialist_names,
                    yuan: rewards.specialist_yuan,
                });
            }
            let mut payouts: Vec<_> = state
                .counters
                .by_user
                .iter()
                .filter(|((m, b, u), c)| {
                    *m == month.ordinal()
                        && *u != crate::facts::NO_USER
                        && self.in_scope(*b)
                        && c.get(Measure::RewardPolicies) > 0
                })
                .map(|((_, b, u), c)| SalespersonPayout {
                    month: month.to_string(),
                    payable_month: month.plus(1).to_string(),
                    branch_id: state.entities.branches.name(*b).to_string(),
                    branch_name: self.branch_name(state.entities.branches.name(*b)),
                    user_id: state.entities.user_ids.name(*u).to_string(),
                    display_name: state.entities.users[*u as usize].display_name.clone(),
                    policies: c.get(Measure::RewardPolicies),
                    yuan: c.get(Measure::RewardPolicies) as f64 * rewards.policy_yuan,
                })
                .collect();
            payouts.sort_by(|a, b| (&a.branch_id, &a.user_id).cmp(&(&b.branch_id, &b.user_id)));
            salesperson_payouts.extend(payouts);
        }
        let card = self.standings(spec, false)?;
        Ok(RewardReport {
            period: spec.to_string(),
            as_of: card.as_of,
            is_final: card.is_final,
            branch_awards,
            specialist_bonuses,
            salesperson_payouts,
        })
    }
}
