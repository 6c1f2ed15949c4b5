//! One board's feed: its current rows, its numbered patches and the ring of recent ones for clients that
//! reconnect.

use super::frame::{Frame, Freshness};
use crate::live::boards::{BoardKey, BoardRow};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;

/// Frames a slow client may fall behind by before it is resynced with a snapshot.
const CHANNEL_FRAMES: usize = 64;

/// A board's rows as of one update.
#[derive(Debug, Clone)]
pub struct BoardUpdate {
    /// The period the rows are of.
    pub period: String,
    /// Whether the period is final.
    pub is_final: bool,
    /// Watermark and update time.
    pub freshness: Freshness,
    /// The rows, best first.
    pub rows: Vec<BoardRow>,
}

struct FeedState {
    epoch: u64,
    seq: u64,
    update: BoardUpdate,
    ring: VecDeque<Arc<Frame>>,
    snapshot: Option<Arc<Frame>>,
}

/// A board's feed.
pub struct Feed {
    /// The board.
    pub key: BoardKey,
    sender: broadcast::Sender<Arc<Frame>>,
    ring_capacity: usize,
    state: Mutex<FeedState>,
}

/// What a (re)connecting client is sent first.
#[derive(Debug)]
pub struct CatchUp {
    /// The frames, in order: the missed patches, or one snapshot.
    pub frames: Vec<Arc<Frame>>,
    /// The epoch the client is at afterwards.
    pub epoch: u64,
    /// The sequence number the client is at afterwards.
    pub seq: u64,
}

impl Feed {
    /// A feed starting at `update` in `epoch`, keeping `ring_capacity` recent patches.
    pub fn new(key: BoardKey, epoch: u64, update: BoardUpdate, ring_capacity: usize) -> Self {
        Self {
            key,
            sender: broadcast::channel(CHANNEL_FRAMES).0,
            ring_capacity,
            state: Mutex::new(FeedState {
                epoch,
                seq: 0,
                update,
                ring: VecDeque::new(),
                snapshot: None,
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, FeedState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Frames from now on. Subscribe before [`Feed::catch_up`] so that nothing falls between the two.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Frame>> {
        self.sender.subscribe()
    }

    /// How many clients follow the feed.
    pub fn followers(&self) -> usize {
        self.sender.receiver_count()
    }

    /// Sends `frame` to every follower (nobody listening is fine).
    pub fn broadcast(&self, frame: Arc<Frame>) {
        let _ = self.sender.send(frame);
    }

    /// The current snapshot, serialised at most once per change.
    pub fn snapshot(&self) -> Arc<Frame> {
        let mut state = self.state();
        Self::snapshot_of(&self.key, &mut state)
    }

    fn snapshot_of(key: &BoardKey, state: &mut FeedState) -> Arc<Frame> {
        if let Some(frame) = &state.snapshot {
            return frame.clone();
        }
        let u = &state.update;
        let frame = Arc::new(Frame::snapshot(
            key,
            state.epoch,
            state.seq,
            &u.period,
            u.is_final,
            &u.freshness,
            &u.rows,
        ));
        state.snapshot = Some(frame.clone());
        frame
    }

    /// What a client at `(epoch, seq)` needs: exactly the patches it missed when they are all still in the
    /// ring, else a fresh snapshot (also when it has no position).
    pub fn catch_up(&self, position: Option<(u64, u64)>) -> CatchUp {
        let mut state = self.state();
        let (epoch, seq) = (state.epoch, state.seq);
        if let Some((client_epoch, client_seq)) = position
            && client_epoch == epoch
            && client_seq <= seq
        {
            let missed: Vec<Arc<Frame>> = state
                .ring
                .iter()
                .filter(|f| f.seq > client_seq)
                .cloned()
                .collect();
            if missed.len() as u64 == seq - client_seq {
                return CatchUp {
                    frames: missed,
                    epoch,
                    seq,
                };
            }
        }
        CatchUp {
            frames: vec![Self::snapshot_of(&self.key, &mut state)],
            epoch,
            seq,
        }
    }

    /// Moves the feed to `update`: a patch of what changed, or, when the period changed, a rollover and a
    /// snapshot in `next_epoch()`. Returns the number of frames sent.
    pub fn update(&self, update: BoardUpdate, next_epoch: impl FnOnce() -> u64) -> usize {
        let mut state = self.state();
        if state.update.period != update.period {
            let rollover = Frame::rollover(&self.key, state.epoch, state.seq, &update.period);
            self.broadcast(Arc::new(rollover));
            state.epoch = next_epoch();
            state.seq = 0;
            state.update = update;
            state.ring.clear();
            state.snapshot = None;
            let snapshot = Self::snapshot_of(&self.key, &mut state);
            self.broadcast(snapshot);
            return 2;
        }
        let old = &state.update;
        let before: HashMap<&str, &BoardRow> =
            old.rows.iter().map(|r| (r.key.as_str(), r)).collect();
        let changed: Vec<&BoardRow> = update
            .rows
            .iter()
            .filter(|r| before.get(r.key.as_str()) != Some(r))
            .collect();
        let now: std::collections::HashSet<&str> =
            update.rows.iter().map(|r| r.key.as_str()).collect();
        let removed: Vec<&str> = old
            .rows
            .iter()
            .map(|r| r.key.as_str())
            .filter(|k| !now.contains(k))
            .collect();
        let order: Vec<&str> = update.rows.iter().map(|r| r.key.as_str()).collect();
        let reordered = old
            .rows
            .iter()
            .map(|r| r.key.as_str())
            .ne(order.iter().copied());
        if changed.is_empty() && removed.is_empty() && !reordered && old.is_final == update.is_final
        {
            return 0;
        }
        let seq = state.seq + 1;
        let frame = Arc::new(Frame::patch(
            &self.key,
            state.epoch,
            seq,
            update.is_final,
            &update.freshness,
            &changed,
            &removed,
            &order,
        ));
        state.seq = seq;
        state.update = update;
        state.snapshot = None;
        state.ring.push_back(frame.clone());
        while state.ring.len() > self.ring_capacity {
            state.ring.pop_front();
        }
        drop(state);
        self.broadcast(frame);
        1
    }
}

#[cfg(test)]
mod tests {
    use super::super::frame::FrameKind;
    use super::*;
    use crate::live::boards::Board;

    fn row(key: &str, rank: u32, value: f64) -> BoardRow {
        BoardRow {
            key: key.into(),
            name: key.into(),
            branch_id: key.into(),
            branch_name: key.into(),
            rank: Some(rank),
            value: Some(value),
            numerator: None,
            denominator: None,
            points: None,
            tier: None,
            next_tier: None,
            in_scope: true,
        }
    }

    fn update(period: &str, rows: Vec<BoardRow>) -> BoardUpdate {
        BoardUpdate {
            period: period.into(),
            is_final: false,
            freshness: Freshness {
                as_of: None,
                updated_at: None,
            },
            rows,
        }
    }

    fn feed(ring: usize) -> Feed {
        let key = BoardKey {
            board: Board::BranchMobileQuotes,
            branch: None,
        };
        Feed::new(
            key,
            7,
            update("2016-06", vec![row("a", 1, 2.0), row("b", 2, 1.0)]),
            ring,
        )
    }

    fn json(frame: &Frame) -> serde_json::Value {
        serde_json::from_str(frame.text.as_str()).unwrap()
    }

    #[test]
    fn patches_carry_only_changed_rows_and_are_numbered_from_their_base() {
        let feed = feed(8);
        let mut rx = feed.subscribe();
        assert_eq!(
            feed.update(
                update("2016-06", vec![row("a", 1, 2.0), row("b", 2, 1.0)]),
                || 0
            ),
            0
        );
        assert_eq!(
            feed.update(
                update("2016-06", vec![row("b", 1, 3.0), row("a", 2, 2.0)]),
                || 0
            ),
            1
        );
        let patch = rx.try_recv().unwrap();
        assert_eq!(
            (patch.kind, patch.epoch, patch.base, patch.seq),
            (FrameKind::Patch, 7, 0, 1)
        );
        let body = json(&patch);
        assert_eq!(body["order"], serde_json::json!(["b", "a"]));
        assert_eq!(body["rows"].as_array().unwrap().len(), 2);
        feed.update(update("2016-06", vec![row("b", 1, 3.0)]), || 0);
        let body = json(&rx.try_recv().unwrap());
        assert_eq!(body["removed"], serde_json::json!(["a"]));
        assert_eq!(body["rows"].as_array().unwrap().len(), 0);
    }

    #[test]
    fn catch_up_replays_the_ring_or_falls_back_to_a_snapshot() {
        let feed = feed(2);
        for v in 3..6 {
            feed.update(
                update("2016-06", vec![row("a", 1, v as f64), row("b", 2, 1.0)]),
                || 0,
            );
        }
        // At seq 3; the ring holds patches 2 and 3.
        let c = feed.catch_up(Some((7, 1)));
        assert_eq!(c.frames.iter().map(|f| f.seq).collect::<Vec<_>>(), [2, 3]);
        assert!(c.frames.iter().all(|f| f.kind == FrameKind::Patch));
        assert!(feed.catch_up(Some((7, 3))).frames.is_empty());
        for stale in [Some((7, 0)), Some((6, 3)), Some((7, 9)), None] {
            let c = feed.catch_up(stale);
            assert_eq!(c.frames.len(), 1, "{stale:?}");
            assert_eq!(c.frames[0].kind, FrameKind::Snapshot);
            assert_eq!((c.epoch, c.seq), (7, 3));
            assert_eq!(json(&c.frames[0])["rows"][0]["value"], 5.0);
        }
    }

    #[test]
    fn a_new_month_rolls_over_into_a_new_epoch() {
        let feed = feed(8);
        let mut rx = feed.subscribe();
        assert_eq!(
            feed.update(update("2016-07", vec![row("a", 1, 0.5)]), || 8),
            2
        );
        let rollover = rx.try_recv().unwrap();
        assert_eq!((rollover.kind, rollover.epoch), (FrameKind::Rollover, 7));
        assert_eq!(json(&rollover)["period"], "2016-07");
        let snapshot = rx.try_recv().unwrap();
        assert_eq!(
            (snapshot.kind, snapshot.epoch, snapshot.seq),
            (FrameKind::Snapshot, 8, 0)
        );
        assert_eq!(
            feed.catch_up(Some((7, 0))).frames[0].kind,
            FrameKind::Snapshot
        );
    }
}
