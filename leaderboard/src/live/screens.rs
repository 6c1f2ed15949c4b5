//! The wall screens: the playlists of `[[screens]]`, which the admin API may change without a visit to
//! the TV, and every websocket connection with what it shows, for `GET /api/v1/screens`.

use crate::live::boards::Board;
use chrono::{DateTime, Utc};
use schemas::{AccessConfig, Organisation, ScreenConfig};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// A connected screen is dark when it has had no frame for this long (heartbeats come every 10 s).
const DARK_AFTER_MS: i64 = 30_000;

/// The screens' playlists and connections.
pub struct Screens {
    playlists: Mutex<BTreeMap<String, Arc<ScreenConfig>>>,
    /// Bumped on every playlist change: connections compare their screen's playlist then.
    changes: watch::Sender<u64>,
    connections: Mutex<BTreeMap<u64, Arc<Connected>>>,
    next_id: AtomicU64,
    /// Per screen, its last connection that has gone: a dark screen still says when it was last seen.
    gone: Mutex<BTreeMap<String, Arc<Connected>>>,
}

/// A websocket connection as the list of screens shows it.
#[derive(Debug)]
pub struct Connected {
    /// The configured screen it is, if any.
    pub screen: Option<String>,
    /// The label of the kiosk token it connected with.
    pub token_label: Option<String>,
    /// The branch its token is limited to.
    pub token_branch: Option<String>,
    /// The page version it reported (`?version=`).
    pub version: Option<String>,
    /// When it connected.
    pub connected_at: DateTime<Utc>,
    last_frame_ms: AtomicI64,
    seen: Mutex<Seen>,
}

/// What a connection follows and shows.
#[derive(Debug, Default)]
struct Seen {
    boards: Vec<String>,
    showing: Option<String>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Connected {
    /// Records that a frame was sent now.
    pub fn sent_frame(&self) {
        self.last_frame_ms
            .store(Utc::now().timestamp_millis(), Ordering::Relaxed);
    }

    /// Records the boards followed.
    pub fn follows(&self, boards: Vec<String>) {
        lock(&self.seen).boards = boards;
    }

    /// Records the board on screen.
    pub fn shows(&self, board: Board) {
        lock(&self.seen).showing = Some(board.as_str().to_string());
    }

    fn last_frame_ms(&self) -> Option<i64> {
        Some(self.last_frame_ms.load(Ordering::Relaxed)).filter(|&ms| ms > 0)
    }
}

/// A connection's entry in the list, removed when dropped.
pub struct Registration {
    screens: Arc<Screens>,
    id: u64,
    /// The connection.
    pub connected: Arc<Connected>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        lock(&self.screens.connections).remove(&self.id);
        if let Some(screen) = &self.connected.screen {
            lock(&self.screens.gone).insert(screen.clone(), self.connected.clone());
        }
    }
}

/// Who connects: from the websocket's query and token.
pub struct Arrival {
    /// The configured screen it is.
    pub screen: Option<String>,
    /// Its token's label.
    pub token_label: Option<String>,
    /// Its token's branch.
    pub token_branch: Option<String>,
    /// The page version it reported.
    pub version: Option<String>,
}

/// `GET /api/v1/screens`.
#[derive(Debug, Serialize)]
pub struct ScreensView {
    /// The server's version: a screen reporting another runs an old page.
    pub server_version: &'static str,
    /// The configured screens.
    pub screens: Vec<ScreenStatus>,
    /// Every connection.
    pub connections: Vec<ConnectionStatus>,
}

/// A configured screen and whether it is lit.
#[derive(Debug, Serialize)]
pub struct ScreenStatus {
    /// Its playlist.
    #[serde(flatten)]
    pub config: ScreenConfig,
    /// None of its connections has had a frame in the last 30 s (or it has none).
    pub dark: bool,
    /// Its connections.
    pub connections: usize,
    /// The board its most recently served connection shows (or showed, when gone).
    pub showing: Option<String>,
    /// The time of the last frame sent to it (UTC), also after its connections have gone.
    pub last_frame_at: Option<String>,
    /// The page version that connection reported.
    pub version: Option<String>,
}

/// A websocket connection.
#[derive(Debug, Serialize)]
pub struct ConnectionStatus {
    /// The configured screen it is, if any.
    pub screen: Option<String>,
    /// Its token's label.
    pub token_label: Option<String>,
    /// The boards it follows.
    pub boards: Vec<String>,
    /// The board it shows.
    pub showing: Option<String>,
    /// When it connected (UTC).
    pub connected_at: String,
    /// The time of the last frame sent to it (UTC).
    pub last_frame_at: Option<String>,
    /// The page version it reported.
    pub version: Option<String>,
}

fn utc(ms: i64) -> Option<String> {
    DateTime::<Utc>::from_timestamp_millis(ms).map(|t| t.to_rfc3339())
}

impl Screens {
    /// The screens of `configs`, checked against the boards and `org` (the config file checked the rest).
    pub fn new(configs: &[ScreenConfig], org: &Organisation) -> Result<Self, String> {
        let mut playlists = BTreeMap::new();
        for config in configs {
            check(config, org)?;
            playlists.insert(config.name.clone(), Arc::new(config.clone()));
        }
        Ok(Self {
            playlists: Mutex::new(playlists),
            changes: watch::channel(0).0,
            connections: Mutex::new(BTreeMap::new()),
            next_id: AtomicU64::new(1),
            gone: Mutex::new(BTreeMap::new()),
        })
    }

    /// The screen a connection is: the one `name`d, else the one whose token it presents; an empty name is
    /// none (a page showing the boards of its own URL). An unknown name is an error.
    ///
    /// A screen given a token is only that token's (or an administrator's) when tokens are in use
    /// (`checked`): another page cannot pass for it in the list of screens.
    pub fn identify(
        &self,
        name: Option<&str>,
        token: Option<&str>,
        checked: bool,
    ) -> Result<Option<String>, String> {
        let playlists = lock(&self.playlists);
        if name == Some("") {
            return Ok(None);
        }
        if let Some(name) = name {
            return match playlists.get(name) {
                Some(p) if checked && p.token.is_some() && p.token.as_deref() != token => Err(
                    format!("screen {name} is shown with its own token; this token is another's"),
                ),
                Some(_) => Ok(Some(name.to_string())),
                None => Err(format!(
                    "no screen named {:?}: [[screens]] configures {}",
                    schemas::excerpt(name),
                    playlists.keys().cloned().collect::<Vec<_>>().join(", ")
                )),
            };
        }
        Ok(token.and_then(|token| {
            playlists
                .values()
                .find(|p| p.token.as_deref() == Some(token))
                .map(|p| p.name.clone())
        }))
    }

    /// The playlist of screen `name`.
    pub fn playlist(&self, name: &str) -> Option<Arc<ScreenConfig>> {
        lock(&self.playlists).get(name).cloned()
    }

    /// Notified on every playlist change.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Replaces the playlist of the configured screen `config.name`; its connections get it at once. The
    /// token stays the configured one. `Ok(false)` when no screen has that name.
    pub fn set(
        &self,
        mut config: ScreenConfig,
        org: &Organisation,
        access: &AccessConfig,
    ) -> Result<bool, String> {
        check(&config, org)?;
        {
            let mut playlists = lock(&self.playlists);
            let Some(old) = playlists.get(&config.name) else {
                return Ok(false);
            };
            config.token = old.token.clone();
            // The whole file's rules: a token limited to a branch shows only that branch's people.
            schemas::validate_screens(std::slice::from_ref(&config), access)?;
            playlists.insert(config.name.clone(), Arc::new(config));
        }
        self.changes.send_modify(|version| *version += 1);
        Ok(true)
    }

    /// Lists a connection until the registration is dropped.
    pub fn register(self: &Arc<Self>, arrival: Arrival) -> Registration {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let connected = Arc::new(Connected {
            screen: arrival.screen,
            token_label: arrival.token_label,
            token_branch: arrival.token_branch,
            version: arrival.version,
            connected_at: Utc::now(),
            last_frame_ms: AtomicI64::new(0),
            seen: Mutex::new(Seen::default()),
        });
        lock(&self.connections).insert(id, connected.clone());
        Registration {
            screens: self.clone(),
            id,
            connected,
        }
    }

    /// The screens and connections a caller limited to `branch` (if any) may see: that branch's screens
    /// (whatever token they use) and the connections of tokens limited to it.
    pub fn view(&self, branch: Option<&str>) -> ScreensView {
        let connections: Vec<Arc<Connected>> = lock(&self.connections).values().cloned().collect();
        let now = Utc::now().timestamp_millis();
        let gone = lock(&self.gone).clone();
        let screens = lock(&self.playlists)
            .values()
            .filter(|p| branch.is_none() || p.branch.as_deref() == branch)
            .map(|p| {
                let own: Vec<&Arc<Connected>> = connections
                    .iter()
                    .filter(|c| c.screen.as_deref() == Some(p.name.as_str()))
                    .collect();
                let latest = own
                    .iter()
                    .copied()
                    .chain(gone.get(&p.name))
                    .max_by_key(|c| c.last_frame_ms());
                let last_ms = latest.and_then(|c| c.last_frame_ms());
                ScreenStatus {
                    config: (**p).clone(),
                    dark: !own.iter().any(|c| {
                        c.last_frame_ms()
                            .is_some_and(|ms| now - ms <= DARK_AFTER_MS)
                    }),
                    connections: own.len(),
                    showing: latest.and_then(|c| lock(&c.seen).showing.clone()),
                    last_frame_at: last_ms.and_then(utc),
                    version: latest.and_then(|c| c.version.clone()),
                }
            })
            .collect();
        let connections = connections
            .iter()
            .filter(|c| branch.is_none() || c.token_branch.as_deref() == branch)
            .map(|c| {
                let seen = lock(&c.seen);
                ConnectionStatus {
                    screen: c.screen.clone(),
                    token_label: c.token_label.clone(),
                    boards: seen.boards.clone(),
                    showing: seen.showing.clone(),
                    connected_at: c.connected_at.to_rfc3339(),
                    last_frame_at: c.last_frame_ms().and_then(utc),
                    version: c.version.clone(),
                }
            })
            .collect();
        ScreensView {
            server_version: env!("CARGO_PKG_VERSION"),
            screens,
            connections,
        }
    }
}

/// Checks a playlist's boards and branch.
fn check(config: &ScreenConfig, org: &Organisation) -> Result<(), String> {
    for item in &config.boards {
        item.board
            .parse::<Board>()
            .map_err(|e| format!("screen {}: {e}", config.name))?;
    }
    if let Some(branch) = &config.branch
        && org.branch(branch).is_none()
    {
        return Err(format!(
            "screen {}: unknown branch {:?}",
            config.name,
            schemas::excerpt(branch)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn screens() -> Arc<Screens> {
        let org = Organisation::from_csv(
            "branch_id,branch_name,in_scope\nzd,张店,true\nzc,淄川,true\n".as_bytes(),
        )
        .unwrap();
        let config: schemas::Config = schemas::Config::from_toml(
            "[[screens]]\nname = \"zd-hall\"\ntoken = \"kiosk-token-zd-0123456789\"\nbranch = \"zd\"\nboards = [{ board = \"branch_mobile_quotes\", seconds = 15 }, { board = \"user_mobile_quotes\" }]\n\n[[screens]]\nname = \"city\"\nboards = [{ board = \"branch_total_score\" }]\n",
            "t",
        )
        .unwrap();
        Arc::new(Screens::new(&config.screens, &org).unwrap())
    }

    fn arrival(screen: Option<&str>) -> Arrival {
        Arrival {
            screen: screen.map(str::to_string),
            token_label: Some("大厅".into()),
            token_branch: None,
            version: Some("0.1.0".into()),
        }
    }

    #[test]
    fn a_screen_is_found_by_name_or_token_and_an_unknown_name_is_refused() {
        let s = screens();
        assert_eq!(
            s.identify(Some(""), Some("kiosk-token-zd-0123456789"), false)
                .unwrap(),
            None,
            "a page of its own boards"
        );
        assert_eq!(
            s.identify(Some("city"), None, false).unwrap().as_deref(),
            Some("city")
        );
        let by_token = s.identify(None, Some("kiosk-token-zd-0123456789"), false);
        assert_eq!(by_token.unwrap().as_deref(), Some("zd-hall"));
        assert_eq!(s.identify(None, Some("another"), false).unwrap(), None);
        let theirs = s.identify(Some("zd-hall"), Some("another-token-0123456789"), true);
        assert!(theirs.unwrap_err().contains("its own token"));
        let own = s.identify(Some("zd-hall"), Some("kiosk-token-zd-0123456789"), true);
        assert_eq!(own.unwrap().as_deref(), Some("zd-hall"));
        let err = s.identify(Some("lobby"), None, false).unwrap_err();
        assert!(err.contains("city, zd-hall"), "{err}");
        assert_eq!(s.playlist("zd-hall").unwrap().boards[1].seconds, 20);
    }

    #[test]
    fn a_playlist_change_is_checked_keeps_the_token_and_notifies() {
        let s = screens();
        let org =
            Organisation::from_csv("branch_id,branch_name,in_scope\nzd,张店,true\n".as_bytes())
                .unwrap();
        let changes = s.changes();
        let mut next = (*s.playlist("zd-hall").unwrap()).clone();
        next.token = None;
        next.boards = vec![schemas::PlaylistItem {
            board: "user_mobile_payment".into(),
            seconds: 30,
        }];
        next.ticker = Some("本月冲刺".into());
        assert!(
            s.set(next.clone(), &org, &schemas::AccessConfig::default())
                .unwrap()
        );
        assert!(changes.has_changed().unwrap());
        let now = s.playlist("zd-hall").unwrap();
        assert_eq!(now.boards[0].board, "user_mobile_payment");
        assert_eq!(now.token.as_deref(), Some("kiosk-token-zd-0123456789"));
        let mut unknown = next.clone();
        unknown.name = "hal".into();
        assert!(
            !s.set(unknown, &org, &schemas::AccessConfig::default())
                .unwrap(),
            "no screen is added by a typo"
        );
        let mut bad = next.clone();
        bad.boards[0].board = "branch_quotes".into();
        assert!(
            s.set(bad, &org, &schemas::AccessConfig::default())
                .unwrap_err()
                .contains("unknown board")
        );
        let mut bad = next;
        bad.branch = Some("xx".into());
        assert!(
            s.set(bad, &org, &schemas::AccessConfig::default())
                .unwrap_err()
                .contains("unknown branch")
        );
    }

    #[test]
    fn a_screen_is_dark_until_a_frame_reaches_it_and_leaves_the_list_when_gone() {
        let s = screens();
        let view = s.view(None);
        assert!(view.screens.iter().all(|screen| screen.dark));
        let registration = s.register(arrival(Some("city")));
        registration.connected.sent_frame();
        registration.connected.shows(Board::BranchTotalScore);
        registration
            .connected
            .follows(vec!["branch_total_score".into()]);
        let view = s.view(None);
        let city = view
            .screens
            .iter()
            .find(|x| x.config.name == "city")
            .unwrap();
        assert!(!city.dark);
        assert_eq!(city.showing.as_deref(), Some("branch_total_score"));
        assert_eq!(view.connections.len(), 1);
        assert_eq!(view.connections[0].token_label.as_deref(), Some("大厅"));
        assert_eq!(s.view(Some("zd")).connections.len(), 0, "another token's");
        assert_eq!(s.view(Some("zd")).screens.len(), 1, "zd's screens only");
        drop(registration);
        let view = s.view(None);
        assert!(view.connections.is_empty());
        let city = view
            .screens
            .iter()
            .find(|x| x.config.name == "city")
            .unwrap();
        assert!(
            city.last_frame_at.is_some(),
            "a screen gone still says when it was seen"
        );
        assert!(city.dark, "no connection: dark at once");
        assert_eq!(city.connections, 0);
    }
}
