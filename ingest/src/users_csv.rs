//! The bulk user import (docs/operations.md#users-csv): a CSV of `user_id,branch_id,channel,display_name,registered_at` rows
//! turned into `user_registered` events. Each row is validated by the same decoder the pipeline uses, so a
//! bad row is reported with its line number before anything is produced.

use schemas::decode_event;
use serde::Deserialize;
use std::io::Read;
use thiserror::Error;

/// A row that cannot become an event.
#[derive(Debug, Error)]
pub enum UsersCsvError {
    /// The CSV itself is malformed (or a column is missing).
    #[error("users CSV line {line}: {message}")]
    Csv {
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// The row parses but does not make a valid event.
    #[error("users CSV line {line}: {reason}")]
    Invalid {
        /// 1-based line number.
        line: u64,
        /// The decoder's reason, naming the field.
        reason: String,
    },
}

#[derive(Debug, Deserialize)]
struct Row {
    user_id: String,
    branch_id: String,
    channel: String,
    #[serde(default)]
    display_name: Option<String>,
    registered_at: String,
}

/// The `user_registered` event (JSON bytes) of every row, in time order (rows at the same instant in file
/// order): produced in file order, a file sorted by anything else would make a registration older than
/// the one before it arrive after its month had closed. The event id is derived from the user and time, so
/// importing the same file twice registers nobody twice.
pub fn registrations(input: impl Read) -> Result<Vec<Vec<u8>>, UsersCsvError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(input);
    let mut events = Vec::new();
    for (index, row) in reader.deserialize::<Row>().enumerate() {
        let line = index as u64 + 2; // the header is line 1
        let row = row.map_err(|e| UsersCsvError::Csv {
            line,
            message: e.to_string(),
        })?;
        let mut event = serde_json::json!({
            "event_id": format!("user-import:{}:{}", row.user_id, row.registered_at),
            "event_type": "user_registered",
            "occurred_at": row.registered_at,
            "branch_id": row.branch_id,
            "user_id": row.user_id,
            "channel": row.channel,
        });
        if let Some(name) = row.display_name.filter(|n| !n.is_empty()) {
            event["display_name"] = name.into();
        }
        let bytes = serde_json::to_vec(&event).expect("a JSON value serialises");
        // Validate against the pipeline's rules (the future limit does not apply to an import).
        let decoded = decode_event(&bytes, i64::MAX / 2).map_err(|r| UsersCsvError::Invalid {
            line,
            reason: r.reason,
        })?;
        events.push((decoded.occurred_at, bytes));
    }
    events.sort_by_key(|(at, _)| *at);
    Ok(events.into_iter().map(|(_, bytes)| bytes).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_become_registrations_in_time_order_and_bad_rows_name_their_line_and_field() {
        let csv = "user_id,branch_id,channel,display_name,registered_at\n\
                   u1,zd,direct,张三,2016-05-20T09:00:00+08:00\n\
                   u2,zc,rural_network,,2016-05-21T09:00:00+08:00\n";
        let events = registrations(csv.as_bytes()).unwrap();
        assert_eq!(events.len(), 2);
        let first: serde_json::Value = serde_json::from_slice(&events[0]).unwrap();
        assert_eq!(first["event_type"], "user_registered");
        assert_eq!(first["display_name"], "张三");
        let second: serde_json::Value = serde_json::from_slice(&events[1]).unwrap();
        assert_eq!(second["channel"], "rural_network");
        assert!(second.get("display_name").is_none());

        let unsorted = "user_id,branch_id,channel,display_name,registered_at\n\
                        u1,zd,direct,,2016-05-20T09:00:00+08:00\n\
                        u2,zd,direct,,2015-01-05T09:00:00+08:00\n\
                        u3,zd,direct,,2016-05-20T01:00:00Z\n\
                        u4,zd,direct,,2016-03-01T09:00:00+08:00\n";
        let order: Vec<String> = registrations(unsorted.as_bytes())
            .unwrap()
            .iter()
            .map(|e| serde_json::from_slice::<serde_json::Value>(e).unwrap()["user_id"].to_string())
            .collect();
        // u1 and u3 are the same instant (09:00 +08:00 is 01:00 Z): file order between them.
        assert_eq!(order, [r#""u2""#, r#""u4""#, r#""u1""#, r#""u3""#]);

        let bad = "user_id,branch_id,channel,display_name,registered_at\n\
                   u1,zd,direct,x,2016-05-20T09:00:00+08:00\n\
                   u2,zd,pigeon,y,2016-05-20T09:00:00+08:00\n";
        let err = registrations(bad.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("line 3") && err.contains("channel"), "{err}");
    }
}
