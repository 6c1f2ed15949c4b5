//! One simulated day of each salesperson: arriving, leaving, binding WeChat, logging in, quoting, and the
//! proposals, policies, payments and cancellations that follow; plus what earlier days scheduled for today.

use super::{BATCH_END, LOOK_IN, Later, MINUTE, OPEN, QUOTES_AT_FULL_DILIGENCE, Sim, names};
use rand::Rng;
use schemas::{DealType, Id, Payload, ProposalKind};

impl Sim<'_> {
    /// `user_registered` for user `u` in their current branch at opening time.
    pub(super) fn register(&mut self, u: usize) {
        let user = &self.users[u];
        let payload = Payload::UserRegistered {
            channel: user.channel,
            display_name: Some(user.name.clone()),
            is_specialist: user.specialist,
        };
        self.push_user(OPEN, u, None, payload);
    }

    /// Users who move branch or leave the company on `day`, at opening time.
    pub(super) fn arrivals_and_departures(&mut self, day: u32) {
        for u in 0..self.users.len() {
            if let Some((_, to)) = self.users[u]
                .move_to
                .filter(|&(d, _)| d == day && self.users[u].active)
            {
                let from = self.users[u].branch;
                self.branches[from].members.retain(|&m| m != u);
                self.branches[to].members.push(u);
                self.users[u].branch = to;
                self.register(u);
            }
            if self.users[u].leave_day == Some(day) && self.users[u].active {
                self.push_user(OPEN, u, None, Payload::UserDeregistered);
                let branch = self.users[u].branch;
                self.branches[branch].members.retain(|&m| m != u);
                self.users[u].active = false;
            }
        }
    }

    /// Carries out something scheduled for today.
    pub(super) fn happen(&mut self, later: Later) {
        match later {
            Later::Policy {
                user,
                quote_id,
                proposal_id,
                premium,
                deal_type,
            } => {
                if self.users[user].active {
                    let tod = self.time_of_day();
                    self.issue_policy(
                        tod,
                        user,
                        Some(quote_id),
                        Some(proposal_id),
                        premium,
                        deal_type,
                    );
                }
            }
            Later::Cancel { user, policy_id } => {
                let tod = self.time_of_day();
                self.push_user(tod, user, None, Payload::PolicyCancelled { policy_id });
            }
            Later::Assign {
                branch,
                user,
                policy_id,
            } => {
                let tod = self.time_after(BATCH_END);
                self.push(
                    tod,
                    branch,
                    Some(user),
                    None,
                    Payload::RenewalAssigned { policy_id },
                );
            }
            Later::Report { branch } => self.submit_report(branch),
        }
    }

    /// WeChat binding and unbinding of user `u` on `day`.
    pub(super) fn wechat(&mut self, u: usize, day: u32) {
        let user = &self.users[u];
        let payload = if user.bind_day == Some(day) {
            Payload::WechatBound
        } else if user.unbind_day == Some(day) {
            Payload::WechatUnbound
        } else {
            return;
        };
        let tod = self.time_of_day();
        self.push_user(tod, u, None, payload);
    }

    /// One working day of user `u`: logins, then quotes that may become proposals and policies, and task work.
    /// On a day without work, a user may still look in (a login only: a customer view, a renewal list).
    pub(super) fn work(&mut self, u: usize, weekend: bool) {
        let diligence = self.users[u].diligence;
        let weekday_share = if weekend { 0.5 } else { 1.0 };
        if !self.chance(diligence * weekday_share) {
            if self.chance(LOOK_IN * weekday_share) {
                let (tod, terminal) = (self.time_of_day(), self.terminal(self.users[u].branch));
                self.push_user(tod, u, Some(terminal), Payload::Login);
            }
            return;
        }
        let b = self.users[u].branch;
        let quotes = (QUOTES_AT_FULL_DILIGENCE * diligence * 2.0 * self.rng.random::<f64>()).round()
            as usize;
        let quote_times: Vec<u32> = (0..quotes).map(|_| self.time_of_day()).collect();
        // The day's first login comes a little before the first piece of work.
        let first = quote_times
            .iter()
            .copied()
            .min()
            .unwrap_or_else(|| self.time_of_day());
        let login = first
            .saturating_sub(self.rng.random_range(MINUTE..20 * MINUTE))
            .max(OPEN + 1);
        let terminal = self.terminal(b);
        self.push_user(login, u, Some(terminal), Payload::Login);
        if self.chance(0.3) {
            let (tod, terminal) = (self.time_after(login), self.terminal(b));
            self.push_user(tod, u, Some(terminal), Payload::Login);
        }
        for tod in quote_times {
            self.quote(tod, u);
        }
        for i in 0..self.users[u].tasks.len() {
            let task = self.users[u].tasks[i];
            if self.tasks[task].cancelled {
                continue;
            }
            let p = if self.tasks[task].acted {
                0.03
            } else {
                0.12 * diligence
            };
            if self.chance(p) {
                self.tasks[task].acted = true;
                let tod = self.time_after(login.max(BATCH_END));
                let (task_id, action) = (
                    self.tasks[task].id.clone(),
                    names::task_action(&mut self.rng),
                );
                self.push_user(tod, u, None, Payload::TaskAction { task_id, action });
            }
        }
    }

    /// A quote by user `u` at `tod`, and the proposal and policy it may lead to.
    pub(super) fn quote(&mut self, tod: u32, u: usize) {
        let b = self.users[u].branch;
        let quote_id = self.next_id("q");
        let premium = self.yuan(1000.0..8000.0);
        let terminal = self.terminal(b);
        let payload = Payload::QuoteCreated {
            quote_id: quote_id.clone(),
            quoted_premium: Some(premium),
        };
        self.push_user(tod, u, Some(terminal), payload);
        if !self.chance(1.0 / 3.0) {
            return;
        }
        let proposal_id = self.next_id("pp");
        let kind = if self.chance(0.85) {
            ProposalKind::Application
        } else {
            ProposalKind::Draft
        };
        let proposed = self.minutes_after(tod, 2, 60);
        let terminal = self.terminal(b);
        let payload = Payload::ProposalCreated {
            proposal_id: proposal_id.clone(),
            quote_id: Some(quote_id.clone()),
            kind,
        };
        self.push_user(proposed, u, Some(terminal), payload);
        if !self.chance(if kind == ProposalKind::Application {
            0.55
        } else {
            0.25
        }) {
            return;
        }
        let premium = (premium * self.rng.random_range(0.95..1.05) * 100.0).round() / 100.0;
        let deal_type = match self.rng.random::<f64>() {
            p if p < 0.05 => DealType::Other,
            p if p < 0.25 => DealType::Task,
            _ => DealType::SystemQuote,
        };
        if self.chance(0.75) {
            let issued = self.minutes_after(proposed, 5, 120);
            self.issue_policy(
                issued,
                u,
                Some(quote_id),
                Some(proposal_id),
                premium,
                deal_type,
            );
        } else {
            let day = self.day_index(self.date) as u32 + self.rng.random_range(1..=3);
            self.schedule(
                day,
                Later::Policy {
                    user: u,
                    quote_id,
                    proposal_id,
                    premium,
                    deal_type,
                },
            );
        }
    }

    /// `policy_issued` by user `u` at `tod`, usually paid for right after and now and then cancelled later.
    pub(super) fn issue_policy(
        &mut self,
        tod: u32,
        u: usize,
        quote_id: Option<Id>,
        proposal_id: Option<Id>,
        premium: f64,
        deal_type: DealType,
    ) {
        let policy_id = self.next_id("po");
        // Policies issued outside the system carry no quote or proposal of it.
        let (quote_id, proposal_id) = if deal_type.counts() {
            (quote_id, proposal_id)
        } else {
            (None, None)
        };
        let payload = Payload::PolicyIssued {
            policy_id: policy_id.clone(),
            premium,
            deal_type,
            quote_id,
            proposal_id,
        };
        self.push_user(tod, u, None, payload);
        if self.chance(0.88) {
            let paid = self.minutes_after(tod, 1, 30);
            let (payment_id, terminal) = (self.next_id("pay"), self.terminal(self.users[u].branch));
            let payload = Payload::PaymentCompleted {
                payment_id,
                amount: premium,
                policy_id: Some(policy_id.clone()),
            };
            self.push_user(paid, u, Some(terminal), payload);
        }
        if self.chance(0.01) {
            let day = self.day_index(self.date) as u32 + self.rng.random_range(2..=6);
            self.schedule(day, Later::Cancel { user: u, policy_id });
        }
    }
}
