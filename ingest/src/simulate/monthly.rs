//! The monthly rhythm of the simulation: sales tasks, renewals and report plans at each month start, the
//! clearing score on the 2nd, and the occasional withdrawn task.

use super::{BATCH_END, Later, OPEN, Sim, Task};
use chrono::Datelike;
use rand::Rng;
use schemas::{Payload, ReportType, YearMonth};

/// Share of new tasks that reuse a subject already given a task (the engine ignores them).
const DUPLICATE_SUBJECT: f64 = 0.004;
/// Daily chance that an open task is withdrawn.
const TASK_CANCEL_PER_DAY: f64 = 0.0004;

impl Sim<'_> {
    /// Day 0 and the 1st of each month: new tasks, renewals due next month (and this month on a day 0 that
    /// is a 1st) with their assignments, and the month's reports.
    pub(super) fn start_month(&mut self, day: u32) {
        let month = YearMonth::of_date(self.date);
        let last_day = self
            .day_index(month.last_day())
            .min(i64::from(self.spec.days) - 1) as u32;
        for task in std::mem::take(&mut self.tasks) {
            self.users[task.owner].tasks.clear();
        }
        let mut due_months = vec![month.plus(1)];
        if day == 0 && self.date.day() == 1 {
            due_months.insert(0, month);
        }
        for b in 0..self.branches.len() {
            if self.branches[b].members.is_empty() {
                continue;
            }
            self.create_tasks(b, month);
            for &due in &due_months {
                self.renewals_due(b, due);
            }
            for _ in 0..self.rng.random_range(3..=7) {
                let on = self.rng.random_range(day..=last_day);
                self.schedule(on, Later::Report { branch: b });
            }
        }
    }

    /// About two tasks per member of branch `b`, valid from today to the end of `month`.
    fn create_tasks(&mut self, b: usize, month: YearMonth) {
        let members = self.branches[b].members.len();
        let count = (members as f64 * 2.0 * self.rng.random_range(0.85..1.15)).round() as usize;
        for _ in 0..count {
            let owner = self.branches[b].members[self.rng.random_range(0..members)];
            let task_id = self.next_id("t");
            let reused = !self.tasks.is_empty() && self.chance(DUPLICATE_SUBJECT);
            let subject_id = if reused {
                self.tasks[self.rng.random_range(0..self.tasks.len())]
                    .subject
                    .clone()
            } else {
                self.next_id("veh")
            };
            let tod = self.rng.random_range(OPEN + 1_000..BATCH_END);
            let payload = Payload::TaskCreated {
                task_id: task_id.clone(),
                subject_id: subject_id.clone(),
                valid_from: self.date,
                valid_until: month.last_day(),
            };
            self.push(tod, b, Some(owner), None, payload);
            if !reused {
                self.users[owner].tasks.push(self.tasks.len());
                self.tasks.push(Task {
                    id: task_id,
                    subject: subject_id,
                    owner,
                    acted: false,
                    cancelled: false,
                });
            }
        }
    }

    /// About one renewal due in `due` per member of branch `b`, each assigned to a member on some later day:
    /// by the end of `due`'s first day with the branch's on-time share, a few days into `due` otherwise, and
    /// now and then never.
    fn renewals_due(&mut self, b: usize, due: YearMonth) {
        let members = self.branches[b].members.len();
        let count = (members as f64 * self.rng.random_range(0.8..1.2)).round() as usize;
        let today = self.day_index(self.date);
        let first = self.day_index(due.first_day());
        for _ in 0..count {
            let policy_id = self.next_id("rn");
            let vehicle_use = if self.chance(0.85) {
                "family_private"
            } else {
                "business"
            }
            .into();
            let ecommerce_direct = self.chance(0.1);
            let tod = self.rng.random_range(OPEN + 1_000..BATCH_END);
            let payload = Payload::RenewalDue {
                policy_id: policy_id.clone(),
                due_month: due,
                vehicle_use,
                ecommerce_direct,
            };
            self.push(tod, b, None, None, payload);
            let fate = self.rng.random::<f64>();
            let on = if fate < 0.05 {
                continue;
            } else if fate < self.branches[b].on_time {
                self.rng.random_range(today..=first)
            } else {
                first + self.rng.random_range(1..=14)
            };
            let user = self.branches[b].members[self.rng.random_range(0..members)];
            self.schedule(
                on as u32,
                Later::Assign {
                    branch: b,
                    user,
                    policy_id,
                },
            );
        }
    }

    /// The 2nd of a month: each branch's clearing score for the previous month, if it overlaps the run.
    pub(super) fn score_clearing(&mut self) {
        let previous = YearMonth::of_date(self.date).plus(-1);
        if previous.last_day() < self.spec.from {
            return;
        }
        for b in 0..self.branches.len() {
            let quality = self.branches[b].quality;
            let level = (quality * 4.0 + self.rng.random_range(-1.0..1.0))
                .round()
                .clamp(0.0, 4.0) as usize;
            let score = [0.0, 3.0, 5.0, 8.0, 10.0][level];
            let tod = self.time_of_day();
            self.push(
                tod,
                b,
                None,
                None,
                Payload::ClearingScored {
                    month: previous,
                    score,
                },
            );
        }
    }

    /// A report of branch `b`, sent by its specialist or by no one in particular.
    pub(super) fn submit_report(&mut self, b: usize) {
        let report_id = self.next_id("rp");
        let report_type = ReportType::ALL[self.rng.random_range(0..ReportType::ALL.len())];
        let accepted = self.chance(0.7 + 0.25 * self.branches[b].quality);
        let user = self.chance(0.6).then_some(self.branches[b].specialist);
        let tod = self.time_of_day();
        self.push(
            tod,
            b,
            user,
            None,
            Payload::ReportSubmitted {
                report_id,
                report_type,
                accepted,
            },
        );
    }

    /// Withdraws a handful of open tasks.
    pub(super) fn cancel_some_tasks(&mut self) {
        for i in 0..self.tasks.len() {
            if self.tasks[i].cancelled || !self.chance(TASK_CANCEL_PER_DAY) {
                continue;
            }
            self.tasks[i].cancelled = true;
            let (owner, task_id) = (self.tasks[i].owner, self.tasks[i].id.clone());
            let tod = self.time_of_day();
            self.push_user(tod, owner, None, Payload::TaskCancelled { task_id });
        }
    }
}
