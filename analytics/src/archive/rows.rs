//! Turns a processed micro-batch into archive rows: accepted events, late events and rejected messages,
//! grouped by table, local month and source partition.

use super::files::{ArchiveTable, GroupKey};
use crate::engine::Disposition;
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use schemas::{
    EpochMillis, LocalDates, Message, RejectedRow, YearMonth, events_to_batch, rejections_to_batch,
};
use std::collections::BTreeMap;

/// The archive rows of one micro-batch, by group.
#[derive(Debug, Default)]
pub struct ArchiveRows {
    /// One record batch per group.
    pub groups: Vec<(GroupKey, RecordBatch)>,
}

impl ArchiveRows {
    /// The rows of `messages` given what the engine made of them (`dispositions`, in the same order) and
    /// the original bytes of the rejected ones (`(index, bytes)`), received at `received_at`.
    pub fn build(
        messages: &[Message],
        dispositions: &[crate::engine::Disposition],
        rejected_payloads: &[(usize, impl AsRef<[u8]>)],
        received_at: EpochMillis,
        dates: &mut LocalDates,
    ) -> Result<Self, ArrowError> {
        let mut by_group: BTreeMap<GroupKey, Vec<usize>> = BTreeMap::new();
        for (i, (message, disposition)) in messages.iter().zip(dispositions).enumerate() {
            let (table, at) = match (disposition, &message.decoded) {
                (Disposition::Accepted, Ok(event)) => (ArchiveTable::Events, event.occurred_at),
                (Disposition::Late, Ok(event)) => (ArchiveTable::LateEvents, event.occurred_at),
                _ => continue,
            };
            let month = YearMonth::of_date(dates.local_date(at)).to_string();
            by_group
                .entry((table, month, message.partition))
                .or_default()
                .push(i);
        }
        let mut groups = Vec::with_capacity(by_group.len() + 1);
        for (key, indices) in by_group {
            let batch = events_to_batch(
                indices.iter().filter_map(|i| {
                    let m = &messages[*i];
                    m.decoded.as_ref().ok().map(|e| (e, m.partition, m.offset))
                }),
                dates,
            )?;
            groups.push((key, batch));
        }
        let received_month = YearMonth::of_date(dates.local_date(received_at)).to_string();
        let mut rejected: BTreeMap<u32, Vec<RejectedRow<'_>>> = BTreeMap::new();
        for (i, payload) in rejected_payloads {
            let message = &messages[*i];
            if let Err(rejection) = &message.decoded {
                rejected
                    .entry(message.partition)
                    .or_default()
                    .push(RejectedRow {
                        rejection,
                        payload: payload.as_ref(),
                        received_at,
                        partition: message.partition,
                        offset: message.offset,
                    });
            }
        }
        for (partition, rows) in rejected {
            let key = (
                ArchiveTable::RejectedEvents,
                received_month.clone(),
                partition,
            );
            groups.push((key, rejections_to_batch(rows)?));
        }
        Ok(Self { groups })
    }

    /// Rows in all groups.
    pub fn len(&self) -> usize {
        self.groups.iter().map(|(_, b)| b.num_rows()).sum()
    }

    /// Returns true if and only if there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
