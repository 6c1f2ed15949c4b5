//! Who may log in to the Postgres port, and when: the connections still logging in are capped apart from
//! the sessions, each has `sql.startup_timeout_secs` to log in, and failed logins are slowed per source
//! address.
//!
//! A connection counts against `sql.max_pending_connections` from its accept until it has logged in (or
//! given up), and against `sql.max_connections` only from then on, so clients that connect and stay
//! silent cannot keep the data team out: they are closed at the startup timeout, and when the pending cap
//! is reached a new connection closes the one that has been logging in longest. A login is checked
//! against `sql.max_connections` at each password message (SCRAM sends two). The first password message
//! from a source with failed logins (the MD5 answer, or SCRAM's first message) is read only after a wait of
//! [`delay_after`] its failures (forgotten [`FORGET_AFTER`] after the last
//! one), right or wrong, so a client cannot learn a guess was wrong sooner by hanging up; the wait ends in
//! time for the client to hear the answer before the startup timeout. A wrong password is answered and its
//! connection closed.

use datafusion_postgres::pgwire;
use futures_util::{Sink, SinkExt};
use pgwire::api::auth::StartupHandler;
use pgwire::api::{ClientInfo, PgWireConnectionState};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use schemas::SqlConfig;
use std::collections::{HashMap, VecDeque};
use std::fmt::Debug;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};
use tokio_util::sync::CancellationToken;

/// The wait before checking a password from a source with one failed login; it doubles with each further
/// failure.
const FIRST_DELAY: Duration = Duration::from_millis(100);

/// The longest wait before checking a password.
const MAX_DELAY: Duration = Duration::from_secs(5);

/// Time kept, from the wait before a password is checked, for answering before the startup timeout.
const ANSWER_TIME: Duration = Duration::from_millis(200);

/// How long a source's failed logins are remembered after its last one.
pub const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);

/// Most sources whose failed logins are remembered; beyond it the one that failed longest ago is
/// forgotten.
const MAX_SOURCES: usize = 4096;

/// The wait before checking a password from a source with `failures` failed logins (at least 1).
pub fn delay_after(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    FIRST_DELAY.saturating_mul(1 << doublings).min(MAX_DELAY)
}

/// The limits of logging in, shared by every connection of the Postgres port.
pub struct Admission {
    sessions: Arc<Semaphore>,
    max_connections: usize,
    max_pending: usize,
    /// How long a connection has to log in.
    pub startup_timeout: Duration,
    pending: Mutex<Pending>,
    failures: Mutex<Failures>,
    evictions: crate::throttle::Throttled,
}

/// The connections logging in, the longest-waiting first.
#[derive(Default)]
struct Pending {
    next_id: u64,
    queue: VecDeque<(u64, SocketAddr, CancellationToken)>,
}

impl Pending {
    /// Takes out the connection logging in longest of the source with the most connections logging in.
    fn evict_from_busiest_source(&mut self) -> Option<(u64, SocketAddr, CancellationToken)> {
        let mut held: HashMap<IpAddr, usize> = HashMap::new();
        for (_, peer, _) in &self.queue {
            *held.entry(crate::accept::client_of(peer.ip())).or_default() += 1;
        }
        let busiest = held.into_iter().max_by_key(|(_, n)| *n)?.0;
        let index = self
            .queue
            .iter()
            .position(|(_, peer, _)| crate::accept::client_of(peer.ip()) == busiest)?;
        self.queue.remove(index)
    }
}

/// A connection's place among those logging in.
pub struct Ticket {
    id: u64,
    /// Cancelled when a newer connection needs the place: the connection is then closed.
    pub evicted: CancellationToken,
}

/// How a login ended.
pub enum Decision {
    /// Logged in: the session's place under `sql.max_connections`, held while it lasts.
    Admitted(OwnedSemaphorePermit),
    /// Refused, and told why: close the connection.
    Refused,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Admission {
    /// The limits of `config`.
    pub fn new(config: &SqlConfig) -> Self {
        Self {
            sessions: Arc::new(Semaphore::new(config.max_connections)),
            max_connections: config.max_connections,
            max_pending: config.max_pending_connections,
            startup_timeout: Duration::from_secs(config.startup_timeout_secs),
            pending: Mutex::default(),
            failures: Mutex::default(),
            evictions: crate::throttle::Throttled::default(),
        }
    }

    /// Counts `peer` among the connections logging in; at the cap, the source holding the most places
    /// gives one up: its connection logging in longest is evicted to make room (so one flooding source
    /// evicts its own connections first).
    pub fn enter(&self, peer: SocketAddr) -> Ticket {
        let evicted = CancellationToken::new();
        let mut pending = lock(&self.pending);
        if pending.queue.len() >= self.max_pending
            && let Some((_, oldest, token)) = pending.evict_from_busiest_source()
        {
            token.cancel();
            crate::metrics::record_sql_unauthenticated_closed("evicted");
            self.evictions.log(|not_logged| {
                tracing::warn!(
                    %oldest,
                    %peer,
                    max_pending_connections = self.max_pending,
                    not_logged,
                    "closed the postgres connection logging in longest to make room for a new one: \
                     sql.max_pending_connections are logging in"
                );
            });
        }
        let id = pending.next_id;
        pending.next_id += 1;
        pending.queue.push_back((id, peer, evicted.clone()));
        Ticket { id, evicted }
    }

    /// No longer counts the connection of `ticket` among those logging in.
    pub fn leave(&self, ticket: &Ticket) {
        lock(&self.pending)
            .queue
            .retain(|(id, _, _)| *id != ticket.id);
    }

    /// Records a failed login from `ip`; returns the source's failures.
    fn failed(&self, ip: IpAddr) -> u32 {
        lock(&self.failures).record(ip, Instant::now())
    }

    /// How long a password from `ip` waits before it is checked: nothing without failed logins.
    fn wait_before_check(&self, ip: IpAddr) -> Duration {
        match lock(&self.failures).count(ip, Instant::now()) {
            0 => Duration::ZERO,
            failures => delay_after(failures),
        }
    }
}

/// Failed logins by source: an IPv4 address or an IPv6 /64 network.
#[derive(Default)]
struct Failures {
    by_source: HashMap<IpAddr, (u32, Instant)>,
}

impl Failures {
    /// The failures of `ip`'s source standing at `now` (0 once [`FORGET_AFTER`] has passed since its last).
    fn count(&self, ip: IpAddr, now: Instant) -> u32 {
        self.by_source
            .get(&crate::accept::client_of(ip))
            .filter(|(_, last)| now.duration_since(*last) < FORGET_AFTER)
            .map_or(0, |(count, _)| *count)
    }

    /// Counts a failed login from `ip` at `now`; returns its failures in the last [`FORGET_AFTER`].
    fn record(&mut self, ip: IpAddr, now: Instant) -> u32 {
        let source = crate::accept::client_of(ip);
        if !self.by_source.contains_key(&source) && self.by_source.len() >= MAX_SOURCES {
            self.by_source
                .retain(|_, (_, last)| now.duration_since(*last) < FORGET_AFTER);
            if self.by_source.len() >= MAX_SOURCES {
                let oldest = self
                    .by_source
                    .iter()
                    .min_by_key(|(_, (_, last))| *last)
                    .map(|(source, _)| *source);
                if let Some(oldest) = oldest {
                    self.by_source.remove(&oldest);
                }
            }
        }
        let (count, last) = self.by_source.entry(source).or_insert((0, now));
        if now.duration_since(*last) >= FORGET_AFTER {
            *count = 0;
        }
        *count = count.saturating_add(1);
        *last = now;
        *count
    }
}

/// One connection's login: how the gate tells the connection's task it ended.
pub struct Login {
    admission: Arc<Admission>,
    /// When the startup timeout closes the connection.
    deadline: Instant,
    /// Whether the wait before the password check has been served.
    waited: AtomicBool,
    decided: Mutex<Option<oneshot::Sender<Decision>>>,
}

impl Login {
    /// A login starting now under `admission`, and where its decision arrives.
    pub fn new(admission: Arc<Admission>) -> (Arc<Self>, oneshot::Receiver<Decision>) {
        let (decide, decided) = oneshot::channel();
        let login = Self {
            deadline: Instant::now() + admission.startup_timeout,
            admission,
            waited: AtomicBool::new(false),
            decided: Mutex::new(Some(decide)),
        };
        (Arc::new(login), decided)
    }

    fn is_decided(&self) -> bool {
        lock(&self.decided).is_none()
    }

    fn decide(&self, decision: Decision) {
        if let Some(decide) = lock(&self.decided).take() {
            // The connection's task has gone when the connection has: nobody to tell.
            let _ = decide.send(decision);
        }
    }

    /// Tells the client `error` and has the connection closed.
    async fn refuse<C>(&self, client: &mut C, error: ErrorInfo)
    where
        C: Sink<PgWireBackendMessage> + Unpin + Send,
        C::Error: Debug,
    {
        if let Err(e) = client
            .send(PgWireBackendMessage::ErrorResponse(error.into()))
            .await
        {
            tracing::debug!(error = ?e, "cannot tell a refused postgres client why");
        }
        self.decide(Decision::Refused);
    }
}

/// The startup handler `inner` behind the session cap and the failed-login delay. A refused login is
/// answered here and its connection closed, so nothing the client sends after it is read.
pub struct Gate<H> {
    /// The password check.
    pub inner: H,
    /// This connection's login.
    pub login: Arc<Login>,
}

#[async_trait::async_trait]
impl<H: StartupHandler> StartupHandler for Gate<H> {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if self.login.is_decided() {
            return Ok(());
        }
        if !matches!(message, PgWireFrontendMessage::PasswordMessageFamily(_)) {
            if let Err(error) = self.inner.on_startup(client, message).await {
                self.login.refuse(client, error.into()).await;
            }
            return Ok(());
        }
        let admission = &self.login.admission;
        let peer = client.socket_addr();
        // Once per login (SCRAM sends two messages), within the startup timeout so that the client hears
        // the answer.
        let left = self
            .login
            .deadline
            .saturating_duration_since(Instant::now());
        let wait = if self.login.waited.swap(true, Ordering::Relaxed) {
            Duration::ZERO
        } else {
            admission
                .wait_before_check(peer.ip())
                .min(left.saturating_sub(ANSWER_TIME))
        };
        tokio::time::sleep(wait).await;
        let Ok(session) = admission.sessions.clone().try_acquire_owned() else {
            crate::metrics::record_sql_connection_refused();
            tracing::warn!(
                %peer,
                max_connections = admission.max_connections,
                "refused a postgres login: sql.max_connections are open"
            );
            let refusal = ErrorInfo::new(
                "FATAL".into(),
                "53300".into(), // too_many_connections
                format!(
                    "too many Postgres connections: {} are open (sql.max_connections); close one and \
                     try again",
                    admission.max_connections
                ),
            );
            self.login.refuse(client, refusal).await;
            return Ok(());
        };
        let checked = self.inner.on_startup(client, message).await;
        if matches!(client.state(), PgWireConnectionState::ReadyForQuery) {
            self.login.decide(Decision::Admitted(session));
            return checked;
        }
        drop(session);
        let Err(error) = checked else {
            return Ok(());
        };
        let failures = admission.failed(peer.ip());
        crate::metrics::record_sql_login_failed();
        tracing::warn!(
            %peer,
            user = %schemas::excerpt(client.metadata().get("user").map_or("", String::as_str)),
            failures,
            waited_ms = wait.as_millis() as u64,
            "postgres login failed"
        );
        self.login.refuse(client, error.into()).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_doubles_from_the_first_failure_up_to_its_cap() {
        let delays: Vec<u64> = (1..=8).map(|n| delay_after(n).as_millis() as u64).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1600, 3200, 5000, 5000]);
        assert_eq!(delay_after(u32::MAX), MAX_DELAY);
    }

    #[test]
    fn failures_are_counted_per_source_forgotten_later_and_bounded() {
        let mut failures = Failures::default();
        let start = Instant::now();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert_eq!(failures.record(a, start), 1);
        assert_eq!(failures.record(a, start), 2);
        assert_eq!(failures.record(b, start), 1);
        // Two hosts of one IPv6 /64 are one source; an IPv4-mapped address is its IPv4 address.
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        let v6_neighbour: IpAddr = "2001:db8::ffff:2".parse().unwrap();
        assert_eq!(failures.record(v6, start), 1);
        assert_eq!(failures.record(v6_neighbour, start), 2);
        assert_eq!(
            failures.record("::ffff:192.0.2.1".parse().unwrap(), start),
            3
        );
        assert_eq!(failures.record(a, start + FORGET_AFTER), 1);
        for i in 0..(MAX_SOURCES as u32 * 2) {
            failures.record(IpAddr::V4(i.into()), start + FORGET_AFTER);
        }
        assert!(failures.by_source.len() <= MAX_SOURCES);
    }

    #[test]
    fn the_connection_logging_in_longest_makes_room_at_the_cap() {
        let config = SqlConfig {
            max_pending_connections: 2,
            ..SqlConfig::default()
        };
        let admission = Admission::new(&config);
        let peer: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let first = admission.enter(peer);
        let second = admission.enter(peer);
        admission.leave(&second);
        let third = admission.enter(peer);
        assert!(!first.evicted.is_cancelled(), "a place was free");
        let fourth = admission.enter(peer);
        assert!(first.evicted.is_cancelled());
        assert!(!third.evicted.is_cancelled() && !fourth.evicted.is_cancelled());
        assert_eq!(lock(&admission.pending).queue.len(), 2);
    }

    #[test]
    fn a_flooding_source_evicts_its_own_connections_first() {
        let config = SqlConfig {
            max_pending_connections: 3,
            ..SqlConfig::default()
        };
        let admission = Admission::new(&config);
        let analyst = admission.enter("10.0.0.7:5000".parse().unwrap());
        let flood: Vec<Ticket> = (0..10)
            .map(|port| admission.enter(SocketAddr::from(([10, 0, 0, 66], 6000 + port))))
            .collect();
        assert!(
            !analyst.evicted.is_cancelled(),
            "the analyst keeps their place"
        );
        assert_eq!(flood.iter().filter(|t| t.evicted.is_cancelled()).count(), 8);
    }
}
