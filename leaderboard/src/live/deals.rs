//! Large deals: the accepted policies of each applied batch whose premium reaches the celebration
//! threshold, picked out by the pipeline and kept in the live state until the hub celebrates them.

use analytics::Disposition;
use schemas::{Id, Message, Payload};

/// An accepted policy whose premium reaches the celebration threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Deal {
    /// The branch.
    pub branch_id: Id,
    /// The salesperson, if given.
    pub user_id: Option<Id>,
    /// The policy.
    pub policy_id: Id,
    /// Premium in yuan.
    pub premium: f64,
    /// Event time (Unix milliseconds).
    pub occurred_at: i64,
}

/// The accepted `policy_issued` events of a batch with a counting deal type and a premium of at least
/// `min_yuan`.
pub fn large_deals(messages: &[Message], dispositions: &[Disposition], min_yuan: f64) -> Vec<Deal> {
    messages
        .iter()
        .zip(dispositions)
        .filter(|(_, d)| **d == Disposition::Accepted)
        .filter_map(|(m, _)| {
            let event = m.decoded.as_ref().ok()?;
            match &event.payload {
                Payload::PolicyIssued {
                    policy_id,
                    premium,
                    deal_type,
                    ..
                } if deal_type.counts() && *premium >= min_yuan => Some(Deal {
                    branch_id: event.branch_id.clone(),
                    user_id: event.user_id.clone(),
                    policy_id: policy_id.clone(),
                    premium: *premium,
                    occurred_at: event.occurred_at,
                }),
                _ => None,
            }
        })
        .collect()
}
