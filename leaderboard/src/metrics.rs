//! Prometheus metrics: names, labels and the recorder the `/metrics` endpoint renders.

use analytics::{Disposition, PartitionClock};
use ingest::kafka::DeadLetter;
use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use schemas::PartitionId;
use std::collections::BTreeMap;
use std::time::Duration;

/// Messages by disposition (`accepted`, `duplicate`, `late`, `rejected`).
pub const EVENTS: &str = "leaderboard_events_total";
/// Rejected messages by reject kind, as written to the dead-letter output.
pub const DEAD_LETTERS: &str = "leaderboard_dead_letters_total";
/// Seconds to decode and apply one micro-batch.
pub const BATCH_SECONDS: &str = "leaderboard_batch_seconds";
/// Messages per micro-batch.
pub const BATCH_MESSAGES: &str = "leaderboard_batch_messages";
/// Seconds from the producer writing a message to the state holding it.
pub const PRODUCE_TO_STATE_SECONDS: &str = "leaderboard_produce_to_state_seconds";
/// Messages behind the end of each partition.
pub const CONSUMER_LAG: &str = "leaderboard_consumer_lag";
/// Each partition's event-time watermark (Unix seconds).
pub const WATERMARK_SECONDS: &str = "leaderboard_watermark_seconds";
/// Per partition: events whose clocks were too far ahead to move its watermark (`max_watermark_jump_secs`).
pub const WATERMARK_OUTLIERS: &str = "leaderboard_watermark_outliers";
/// Seconds since the last checkpoint was written.
pub const CHECKPOINT_AGE_SECONDS: &str = "leaderboard_checkpoint_age_seconds";
/// 1 when the source reaches its broker, else 0.
pub const SOURCE_CONNECTED: &str = "leaderboard_source_connected";
/// Open websocket connections.
pub const WS_CONNECTIONS: &str = "leaderboard_ws_connections";
/// Websocket connections ended, by reason (`client_left`, `send_timeout`, `send_failed`, `server_stopping`).
pub const WS_DISCONNECTS: &str = "leaderboard_ws_disconnects_total";
/// Snapshots sent to clients that fell behind or saw a gap.
pub const WS_RESYNCS: &str = "leaderboard_ws_resyncs_total";
/// Frames (patches, rollovers, snapshots) the hub sent to the boards' followers.
pub const BOARD_FRAMES: &str = "leaderboard_board_frames_total";
/// Seconds to recompute the followed boards after a change.
pub const PUSH_SECONDS: &str = "leaderboard_push_seconds";
/// Parquet files written to the event archive (merges included).
pub const ARCHIVE_FILES: &str = "leaderboard_archive_files_total";
/// Archive files set aside (past the checkpoint) until the source gives their rows back.
pub const ARCHIVE_ASIDE_FILES: &str = "leaderboard_archive_aside_files";
/// Archive files kept in `damaged/` because their bytes do not match their checksums.
pub const ARCHIVE_DAMAGED_FILES: &str = "leaderboard_archive_damaged_files";
/// Rows written to the event archive's files.
pub const ARCHIVE_ROWS: &str = "leaderboard_archive_rows_total";
/// SQL queries by front end (`postgres`, `http`) and outcome (`ok`, `forbidden`, `invalid`, `limit`,
/// `busy`, `cancelled` (a Postgres cancel request), `internal`).
pub const SQL_QUERIES: &str = "leaderboard_sql_queries_total";
/// SQL queries stopped by a limit, by limit (`time`, `memory`, `size` (the statement's expressions), `rows`
/// (an HTTP answer's)).
pub const SQL_STOPPED: &str = "leaderboard_sql_stopped_total";
/// Postgres connections turned away because `sql.max_connections` were open.
pub const SQL_CONNECTIONS_REFUSED: &str = "leaderboard_sql_connections_refused_total";
/// Postgres logins refused for a wrong password or an unknown user.
pub const SQL_LOGINS_FAILED: &str = "leaderboard_sql_logins_failed_total";
/// Postgres connections closed before logging in, by reason (`startup_timeout`, `evicted` to make room
/// under `sql.max_pending_connections`).
pub const SQL_UNAUTHENTICATED_CLOSED: &str = "leaderboard_sql_unauthenticated_closed_total";
/// HTTP connections over `server.max_connections`, by what they got (`quick`: answered and closed,
/// `closed`: closed at once).
pub const HTTP_CONNECTIONS_OVER_LIMIT: &str = "leaderboard_http_connections_over_limit_total";

/// Installs the global recorder; histograms are rendered as summaries with p50, p90, p99 and p999.
pub fn install() -> anyhow::Result<PrometheusHandle> {
    let handle = PrometheusBuilder::new()
        .set_quantiles(&[0.5, 0.9, 0.99, 0.999])?
        .install_recorder()?;
    Ok(handle)
}

fn disposition_label(d: Disposition) -> &'static str {
    match d {
        Disposition::Accepted => "accepted",
        Disposition::Duplicate => "duplicate",
        Disposition::Late => "late",
        Disposition::Rejected => "rejected",
    }
}

/// Records one applied micro-batch.
pub fn record_batch(
    dispositions: &[Disposition],
    took: Duration,
    produce_to_state_ms: impl Iterator<Item = i64>,
    clocks: &BTreeMap<PartitionId, PartitionClock>,
) {
    let mut counts = analytics::Counts::default();
    for d in dispositions {
        counts.record(*d);
    }
    for (d, n) in [
        (Disposition::Accepted, counts.accepted),
        (Disposition::Duplicate, counts.duplicate),
        (Disposition::Late, counts.late),
        (Disposition::Rejected, counts.rejected),
    ] {
        counter!(EVENTS, "disposition" => disposition_label(d)).increment(n);
    }
    histogram!(BATCH_SECONDS).record(took.as_secs_f64());
    histogram!(BATCH_MESSAGES).record(dispositions.len() as f64);
    let latency = histogram!(PRODUCE_TO_STATE_SECONDS);
    for ms in produce_to_state_ms {
        latency.record(ms as f64 / 1000.0);
    }
    for (partition, clock) in clocks {
        if let Some(watermark) = clock.watermark {
            gauge!(WATERMARK_SECONDS, "partition" => partition.to_string())
                .set(watermark as f64 / 1000.0);
        }
        gauge!(WATERMARK_OUTLIERS, "partition" => partition.to_string()).set(clock.outliers as f64);
    }
}

/// Records how far behind the end of each partition the state is.
pub fn record_lag(lag: &[(PartitionId, u64)]) {
    for (partition, behind) in lag {
        gauge!(CONSUMER_LAG, "partition" => partition.to_string()).set(*behind as f64);
    }
}

/// Counts rejected messages by kind.
pub fn record_dead_letters(letters: &[DeadLetter<'_>]) {
    for letter in letters {
        counter!(DEAD_LETTERS, "kind" => letter.rejection.kind.as_str()).increment(1);
    }
}

/// Records one flush of the event archive.
pub fn record_archive_flush(report: &analytics::FlushReport) {
    counter!(ARCHIVE_FILES).increment(report.files as u64);
    counter!(ARCHIVE_ROWS).increment(report.rows as u64);
    gauge!(ARCHIVE_ASIDE_FILES).set(report.aside as f64);
    gauge!(ARCHIVE_DAMAGED_FILES).set(report.damaged as f64);
}

/// Records one SQL query's outcome.
pub fn record_sql(front_end: &'static str, outcome: &'static str) {
    counter!(SQL_QUERIES, "front_end" => front_end, "outcome" => outcome).increment(1);
}

/// Records a SQL query stopped by the limit `limit`.
pub fn record_sql_stopped(limit: &'static str) {
    counter!(SQL_STOPPED, "limit" => limit).increment(1);
}

/// Records a Postgres connection turned away at the connection limit.
pub fn record_sql_connection_refused() {
    counter!(SQL_CONNECTIONS_REFUSED).increment(1);
}

/// Records a failed Postgres login.
pub fn record_sql_login_failed() {
    counter!(SQL_LOGINS_FAILED).increment(1);
}

/// Records a Postgres connection closed before it logged in.
pub fn record_sql_unauthenticated_closed(reason: &'static str) {
    counter!(SQL_UNAUTHENTICATED_CLOSED, "reason" => reason).increment(1);
}

/// Records an HTTP connection over `server.max_connections` and what it got.
pub fn record_http_over_limit(answer: &'static str) {
    counter!(HTTP_CONNECTIONS_OVER_LIMIT, "answer" => answer).increment(1);
}

/// Records one refresh of the boards.
pub fn record_push(frames: usize, took: Duration) {
    counter!(BOARD_FRAMES).increment(frames as u64);
    histogram!(PUSH_SECONDS).record(took.as_secs_f64());
}

/// Counts an open websocket connection while it lives.
pub struct WsConnection(());

impl WsConnection {
    /// Counts one more connection until the value is dropped.
    pub fn open() -> Self {
        gauge!(WS_CONNECTIONS).increment(1.0);
        Self(())
    }
}

impl Drop for WsConnection {
    fn drop(&mut self) {
        gauge!(WS_CONNECTIONS).decrement(1.0);
    }
}

/// Counts a websocket connection ended for `reason`.
pub fn record_ws_end(reason: &'static str) {
    counter!(WS_DISCONNECTS, "reason" => reason).increment(1);
}

/// Counts a resync.
pub fn record_ws_resync() {
    counter!(WS_RESYNCS).increment(1);
}

/// Sets the gauges that depend on the scrape time (when the last checkpoint was saved, Unix ms; whether
/// the source is connected), then renders the text exposition.
pub fn render(
    handle: &PrometheusHandle,
    checkpoint_saved_at: Option<i64>,
    connected: bool,
) -> String {
    if let Some(saved_at) = checkpoint_saved_at {
        let age = (chrono::Utc::now().timestamp_millis() - saved_at).max(0);
        gauge!(CHECKPOINT_AGE_SECONDS).set(age as f64 / 1000.0);
    }
    gauge!(SOURCE_CONNECTED).set(if connected { 1.0 } else { 0.0 });
    handle.run_upkeep();
    handle.render()
}
