//! The websocket hub: one feed per board that screens follow, refreshed from the engine at most every
//! `live.push_interval_ms` after a batch changed the state, with heartbeats, celebrations and moments (at most one
//! every `live.moment_gap_secs`, the others waiting their turn).
//!
//! Each frame is serialised once and shared by every follower; a follower that falls behind misses nothing
//! silently: it is resynced with a snapshot (see `ws`).

mod celebrate;
mod feed;
mod frame;

pub use celebrate::{CelebratedDeal, CelebrationLimiter};
pub use feed::{BoardUpdate, CatchUp, Feed};
pub use frame::{Frame, FrameKind, Freshness};

use crate::live::Live;
use crate::live::boards::{self, BoardKey};
use crate::live::deals::Deal;
use analytics::{EngineError, Indicator, Moment, PeriodSpec, Scorecard};
use schemas::YearMonth;
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

/// Most moments waiting their turn.
const MOMENTS_WAITING: usize = 20;

/// Seconds between heartbeats.
const HEARTBEAT: Duration = Duration::from_secs(10);

/// Where the watermark stood and since when: the basis of the stale-data banner.
struct Watch {
    as_of: Option<String>,
    since: Instant,
    updated_at: Option<String>,
    stale: bool,
    last_heartbeat: Instant,
    /// Last month's period while screens alternate its final standings with the new month's.
    opening: Option<String>,
    /// A heartbeat is due at the next tick (`opening` changed).
    heartbeat_due: bool,
}

/// The hub.
pub struct Hub {
    live: Arc<Live>,
    settings: schemas::LiveConfig,
    feeds: Mutex<BTreeMap<BoardKey, Arc<Feed>>>,
    /// Celebrations and moments, for every connection.
    announcements: broadcast::Sender<Arc<Frame>>,
    /// Moments waiting their turn, and when the last went out.
    moments: Mutex<(VecDeque<Moment>, Option<Instant>)>,
    next_epoch: AtomicU64,
    watch: Mutex<Watch>,
    limiter: Mutex<CelebrationLimiter>,
}

impl Hub {
    /// A hub over `live`'s engine, configured by its `[live]` section.
    pub fn new(live: Arc<Live>) -> Self {
        let settings = live.config().live.clone();
        let now_ms = chrono::Utc::now().timestamp_millis().max(0) as u64;
        Self {
            limiter: Mutex::new(CelebrationLimiter::new(settings.celebrations_per_sec)),
            live,
            settings,
            feeds: Mutex::new(BTreeMap::new()),
            announcements: broadcast::channel(16).0,
            moments: Mutex::new((VecDeque::new(), None)),
            // Epochs never repeat across restarts (a restarted server's seq 3 is not the old one's).
            next_epoch: AtomicU64::new(now_ms * 1000),
            watch: Mutex::new(Watch {
                as_of: None,
                since: Instant::now(),
                updated_at: None,
                stale: false,
                last_heartbeat: Instant::now(),
                opening: None,
                heartbeat_due: false,
            }),
        }
    }

    /// The `[live]` settings.
    pub fn settings(&self) -> &schemas::LiveConfig {
        &self.settings
    }

    fn epoch(&self) -> u64 {
        self.next_epoch.fetch_add(1, Ordering::Relaxed)
    }

    fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
        m.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Celebrations and moments from now on.
    pub fn announcements(&self) -> broadcast::Receiver<Arc<Frame>> {
        self.announcements.subscribe()
    }

    /// The feed of `key`, created on first use.
    pub async fn feed(&self, key: &BoardKey) -> Arc<Feed> {
        if let Some(feed) = Self::lock(&self.feeds).get(key) {
            return feed.clone();
        }
        let card = self.current_scorecard(key.board.ranks_people()).await;
        let update = self.board_update(key, card.as_ref());
        let fresh = Arc::new(Feed::new(
            key.clone(),
            self.epoch(),
            update,
            self.settings.patch_ring,
        ));
        Self::lock(&self.feeds)
            .entry(key.clone())
            .or_insert(fresh)
            .clone()
    }

    /// The standings of the live month ([`analytics::Figures::live_month`]; no outlook: boards do not show it),
    /// if there is one; notes whether the month is opening.
    async fn current_scorecard(&self, with_users: bool) -> Option<Scorecard> {
        let figures = self.live.figures().await;
        match figures
            .live_month()
            .and_then(|month| figures.standings(PeriodSpec::Month(month), with_users))
        {
            Ok(card) => {
                self.observe_opening(opening(&card, self.live.config()));
                Some(card)
            }
            Err(EngineError::NoData | EngineError::NotStarted { .. }) => None,
            Err(e) => {
                tracing::error!(error = %e, "cannot compute the live scorecard");
                None
            }
        }
    }

    fn board_update(&self, key: &BoardKey, card: Option<&Scorecard>) -> BoardUpdate {
        let freshness = self.freshness();
        match card {
            Some(card) => BoardUpdate {
                period: card.period.clone(),
                is_final: card.is_final,
                freshness,
                rows: boards::rows(key, card, self.live.config()),
            },
            None => BoardUpdate {
                period: String::new(),
                is_final: false,
                freshness,
                rows: Vec::new(),
            },
        }
    }

    fn freshness(&self) -> Freshness {
        let watch = Self::lock(&self.watch);
        Freshness {
            as_of: watch.as_of.clone(),
            updated_at: watch.updated_at.clone(),
        }
    }

    /// Runs until `shutdown`: refreshes the feeds after each change (at most every push interval), sends
    /// heartbeats every 10 s and at once when the stale flag flips.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let mut changes = self.live.changes();
        let interval = Duration::from_millis(self.settings.push_interval_ms);
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut next_refresh = tokio::time::Instant::now();
        let mut pending = false;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                changed = changes.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    pending = true;
                }
                _ = tokio::time::sleep_until(next_refresh), if pending => {
                    pending = false;
                    self.refresh().await;
                    next_refresh = tokio::time::Instant::now() + interval;
                }
                _ = tick.tick() => {
                    self.heartbeat().await;
                    self.release_moment();
                }
            }
        }
    }

    /// Recomputes every followed board and sends what changed; forgets boards nobody follows.
    pub async fn refresh(&self) {
        let started = Instant::now();
        let feeds: Vec<Arc<Feed>> = {
            let mut feeds = Self::lock(&self.feeds);
            feeds.retain(|_, f| f.followers() > 0);
            feeds.values().cloned().collect()
        };
        self.queue_moments(self.live.take_moments());
        let deals = self.live.take_deals();
        let deals = Self::lock(&self.limiter).admit(deals, Instant::now());
        if feeds.is_empty() && deals.is_empty() {
            return;
        }
        let with_users = !deals.is_empty() || feeds.iter().any(|f| f.key.board.ranks_people());
        let Some(card) = self.current_scorecard(with_users).await else {
            return;
        };
        self.observe_watermark(&card.as_of, true);
        let mut frames = 0;
        for feed in &feeds {
            let update = self.board_update(&feed.key, Some(&card));
            frames += feed.update(update, || self.epoch());
        }
        let calendar = schemas::LocalCalendar::new(self.live.config().timezone);
        for deal in deals {
            let frame = Frame::celebrate(&name_deal(deal, &card, &calendar));
            let _ = self.announcements.send(Arc::new(frame));
        }
        crate::metrics::record_push(frames, started.elapsed());
    }

    /// Queues moments for their turn; beyond [`MOMENTS_WAITING`] the oldest give way
    /// ([`analytics::make_room`]: overtakes and tiers first, a month's close last).
    fn queue_moments(&self, moments: Vec<Moment>) {
        if moments.is_empty() {
            return;
        }
        let mut queue = Self::lock(&self.moments);
        queue.0.extend(moments);
        analytics::make_room(&mut queue.0, MOMENTS_WAITING);
    }

    /// Sends the next moment when its turn has come (`live.moment_gap_secs` after the last).
    fn release_moment(&self) {
        let gap = Duration::from_secs(self.settings.moment_gap_secs);
        let moment = {
            let mut queue = Self::lock(&self.moments);
            if queue.1.is_some_and(|last| last.elapsed() < gap) {
                return;
            }
            let Some(moment) = queue.0.pop_front() else {
                return;
            };
            queue.1 = Some(Instant::now());
            moment
        };
        let _ = self.announcements.send(Arc::new(Frame::moment(&moment)));
    }

    /// Records the watermark seen; `changed_board` marks that the figures moved now.
    fn observe_watermark(&self, as_of: &str, changed_board: bool) {
        let mut watch = Self::lock(&self.watch);
        if watch.as_of.as_deref() != Some(as_of) {
            watch.as_of = Some(as_of.to_string());
            watch.since = Instant::now();
        }
        if changed_board {
            watch.updated_at = Some(chrono::Utc::now().to_rfc3339());
        }
    }

    /// Records whether the month is opening; a change is sent with the next tick's heartbeat.
    fn observe_opening(&self, opening: Option<String>) {
        let mut watch = Self::lock(&self.watch);
        if watch.opening != opening {
            watch.opening = opening;
            watch.heartbeat_due = true;
        }
    }

    /// Sends a heartbeat to every feed every 10 s, and within a second when the data turns stale or fresh
    /// again or the month's opening starts or ends.
    async fn heartbeat(&self) {
        let as_of = {
            let engine = self.live.engine.read().await;
            engine
                .state()
                .arrival()
                .latest_watermark()
                .map(|w| engine.calendar().rfc3339(w))
        };
        if let Some(as_of) = &as_of {
            self.observe_watermark(as_of, false);
        }
        let connected = self.live.is_connected();
        let due = {
            let mut watch = Self::lock(&self.watch);
            let stale = !connected
                || watch.since.elapsed() >= Duration::from_secs(self.settings.stale_after_secs);
            let due = stale != watch.stale
                || watch.heartbeat_due
                || watch.last_heartbeat.elapsed() >= HEARTBEAT;
            watch.stale = stale;
            if due {
                watch.last_heartbeat = Instant::now();
                watch.heartbeat_due = false;
            }
            due
        };
        if !due {
            return;
        }
        let frame = Arc::new(self.heartbeat_now());
        let feeds: Vec<Arc<Feed>> = Self::lock(&self.feeds).values().cloned().collect();
        for feed in feeds {
            feed.broadcast(frame.clone());
        }
    }

    /// The latest heartbeat's content, for a client that has just connected.
    pub fn heartbeat_now(&self) -> Frame {
        let (stale, opening) = {
            let watch = Self::lock(&self.watch);
            (watch.stale, watch.opening.clone())
        };
        Frame::heartbeat(
            &self.freshness(),
            stale,
            self.live.is_connected(),
            opening.as_deref(),
        )
    }
}

/// Last month's period while the live month of `card` is opening: within `live.last_month_days` of its
/// start (by the watermark) and below `live.last_month_until_quotes` mobile quotes city-wide, when last
/// month is a month of the assessment.
fn opening(card: &Scorecard, config: &schemas::Config) -> Option<String> {
    let settings = &config.live;
    let month: YearMonth = card.period.parse().ok()?;
    let previous = month.plus(-1);
    let day: u32 = card
        .as_of
        .strip_prefix(card.period.as_str())?
        .get(1..3)?
        .parse()
        .ok()?;
    let quotes: f64 = card
        .branches
        .iter()
        .filter_map(|b| b.fractions.get(Indicator::MobileQuotesPerUser))
        .map(|f| f.numerator)
        .sum();
    let quiet =
        settings.last_month_until_quotes == 0 || quotes < settings.last_month_until_quotes as f64;
    (day <= settings.last_month_days
        && quiet
        && !card.is_final
        && analytics::assessment_months(config).contains(previous))
    .then(|| previous.to_string())
}

/// Names a deal's branch and salesperson from the scorecard; its time in the local calendar, like every
/// other time on the screens.
fn name_deal(deal: Deal, card: &Scorecard, calendar: &schemas::LocalCalendar) -> CelebratedDeal {
    let branch_name = card
        .branches
        .iter()
        .find(|b| b.branch_id == deal.branch_id)
        .map_or_else(|| deal.branch_id.to_string(), |b| b.branch_name.clone());
    let name = deal.user_id.as_ref().and_then(|id| {
        card.users
            .iter()
            .flatten()
            .find(|u| u.user_id == id)
            .and_then(|u| u.display_name.clone())
    });
    CelebratedDeal {
        branch_name,
        name,
        occurred_at: calendar.rfc3339(deal.occurred_at),
        branch_id: deal.branch_id,
        user_id: deal.user_id,
        policy_id: deal.policy_id,
        premium: deal.premium,
    }
}
