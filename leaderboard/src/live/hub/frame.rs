//! The frames of the websocket protocol (docs/websocket.md), each serialised once and shared by every
//! client that receives it.

use crate::live::boards::{BoardKey, BoardRow};
use axum::extract::ws::Utf8Bytes;
use serde::Serialize;

/// What a frame is, for the connections deciding whether a client needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// The whole board at `(epoch, seq)`.
    Snapshot,
    /// The rows that changed from `base` to `seq`.
    Patch,
    /// The board's month ended; a snapshot of the new month follows.
    Rollover,
    /// Liveness and freshness: the watermark, the last update, staleness.
    Heartbeat,
    /// A large deal to celebrate.
    Celebrate,
    /// A managed screen's playlist.
    Playlist,
    /// A moment worth looking up for (an overtake, a tier, a threshold, a month closing).
    Moment,
    /// A message about the client's own request.
    Error,
}

/// One serialised frame.
#[derive(Debug, Clone)]
pub struct Frame {
    /// What it is.
    pub kind: FrameKind,
    /// The board's epoch (0 when the frame belongs to no board).
    pub epoch: u64,
    /// The board's sequence number after this frame.
    pub seq: u64,
    /// The sequence number a patch applies to.
    pub base: u64,
    /// The branch a celebration belongs to.
    pub branch: Option<String>,
    /// The JSON text, shared.
    pub text: Utf8Bytes,
}

/// Where a board stands, as the frames report it.
#[derive(Debug, Clone, Serialize)]
pub struct Freshness {
    /// The event-time watermark the figures reach (RFC 3339, local zone).
    pub as_of: Option<String>,
    /// Wall-clock time the board last changed (RFC 3339, UTC).
    pub updated_at: Option<String>,
}

fn text(value: &impl Serialize) -> Utf8Bytes {
    // Serialising plain structs of strings and numbers cannot fail.
    Utf8Bytes::from(serde_json::to_string(value).expect("frames serialise"))
}

impl Frame {
    /// The whole board.
    pub fn snapshot(
        key: &BoardKey,
        epoch: u64,
        seq: u64,
        period: &str,
        is_final: bool,
        freshness: &Freshness,
        rows: &[BoardRow],
    ) -> Self {
        #[derive(Serialize)]
        struct Snapshot<'a> {
            #[serde(rename = "type")]
            kind: &'static str,
            board: &'static str,
            branch: Option<&'a str>,
            period: &'a str,
            epoch: u64,
            seq: u64,
            #[serde(rename = "final")]
            is_final: bool,
            #[serde(flatten)]
            freshness: &'a Freshness,
            rows: &'a [BoardRow],
        }
        Self {
            kind: FrameKind::Snapshot,
            epoch,
            seq,
            base: seq,
            branch: None,
            text: text(&Snapshot {
                kind: "snapshot",
                board: key.board.as_str(),
                branch: key.branch.as_deref(),
                period,
                epoch,
                seq,
                is_final,
                freshness,
                rows,
            }),
        }
    }

    /// The changes from `seq - 1` to `seq`: rows new or changed, keys removed, and the new order.
    #[allow(clippy::too_many_arguments)]
    pub fn patch(
        key: &BoardKey,
        epoch: u64,
        seq: u64,
        is_final: bool,
        freshness: &Freshness,
        changed: &[&BoardRow],
        removed: &[&str],
        order: &[&str],
    ) -> Self {
        #[derive(Serialize)]
        struct Patch<'a> {
            #[serde(rename = "type")]
            kind: &'static str,
            board: &'static str,
            branch: Option<&'a str>,
            epoch: u64,
            seq: u64,
            base: u64,
            #[serde(rename = "final")]
            is_final: bool,
            #[serde(flatten)]
            freshness: &'a Freshness,
            rows: &'a [&'a BoardRow],
            removed: &'a [&'a str],
            order: &'a [&'a str],
        }
        Self {
            kind: FrameKind::Patch,
            epoch,
            seq,
            base: seq - 1,
            branch: None,
            text: text(&Patch {
                kind: "patch",
                board: key.board.as_str(),
                branch: key.branch.as_deref(),
                epoch,
                seq,
                base: seq - 1,
                is_final,
                freshness,
                rows: changed,
                removed,
                order,
            }),
        }
    }

    /// The end of `epoch`: the board moved on to `period`.
    pub fn rollover(key: &BoardKey, epoch: u64, seq: u64, period: &str) -> Self {
        #[derive(Serialize)]
        struct Rollover<'a> {
            #[serde(rename = "type")]
            kind: &'static str,
            board: &'static str,
            branch: Option<&'a str>,
            epoch: u64,
            period: &'a str,
        }
        Self {
            kind: FrameKind::Rollover,
            epoch,
            seq,
            base: seq,
            branch: None,
            text: text(&Rollover {
                kind: "rollover",
                board: key.board.as_str(),
                branch: key.branch.as_deref(),
                epoch,
                period,
            }),
        }
    }

    /// A heartbeat; `opening` is last month's period while screens show its final standings too.
    pub fn heartbeat(
        freshness: &Freshness,
        stale: bool,
        connected: bool,
        opening: Option<&str>,
    ) -> Self {
        #[derive(Serialize)]
        struct Heartbeat<'a> {
            #[serde(rename = "type")]
            kind: &'static str,
            #[serde(flatten)]
            freshness: &'a Freshness,
            stale: bool,
            connected: bool,
            opening: Option<&'a str>,
            server_time: String,
        }
        Self::unnumbered(
            FrameKind::Heartbeat,
            None,
            text(&Heartbeat {
                kind: "hb",
                freshness,
                stale,
                connected,
                opening,
                server_time: chrono::Utc::now().to_rfc3339(),
            }),
        )
    }

    /// The playlist of a managed screen (`[[screens]]`).
    pub fn playlist(screen: &schemas::ScreenConfig) -> Self {
        #[derive(Serialize)]
        struct Playlist<'a> {
            #[serde(rename = "type")]
            kind: &'static str,
            screen: &'a str,
            label: Option<&'a str>,
            lang: Option<&'a str>,
            branch: Option<&'a str>,
            ticker: Option<&'a str>,
            boards: &'a [schemas::PlaylistItem],
        }
        Self::unnumbered(
            FrameKind::Playlist,
            None,
            text(&Playlist {
                kind: "playlist",
                screen: &screen.name,
                label: screen.label.as_deref(),
                lang: screen.lang.as_deref(),
                branch: screen.branch.as_deref(),
                ticker: screen.ticker.as_deref(),
                boards: &screen.boards,
            }),
        )
    }

    /// A moment; people's moments belong to their branch.
    pub fn moment(moment: &analytics::Moment) -> Self {
        #[derive(Serialize)]
        struct MomentFrame<'a> {
            #[serde(rename = "type")]
            kind: &'static str,
            #[serde(flatten)]
            moment: &'a analytics::Moment,
        }
        Self::unnumbered(
            FrameKind::Moment,
            moment.people_of().map(str::to_string),
            text(&MomentFrame {
                kind: "moment",
                moment,
            }),
        )
    }

    /// A celebration of `deal`.
    pub fn celebrate(deal: &super::CelebratedDeal) -> Self {
        #[derive(Serialize)]
        struct Celebrate<'a> {
            #[serde(rename = "type")]
            kind: &'static str,
            #[serde(flatten)]
            deal: &'a super::CelebratedDeal,
        }
        Self::unnumbered(
            FrameKind::Celebrate,
            Some(deal.branch_id.to_string()),
            text(&Celebrate {
                kind: "celebrate",
                deal,
            }),
        )
    }

    /// An error about the client's request.
    pub fn error(message: &str) -> Self {
        Self::unnumbered(
            FrameKind::Error,
            None,
            text(&serde_json::json!({ "type": "error", "message": message })),
        )
    }

    fn unnumbered(kind: FrameKind, branch: Option<String>, text: Utf8Bytes) -> Self {
        Self {
            kind,
            epoch: 0,
            seq: 0,
            base: 0,
            branch,
            text,
        }
    }
}
