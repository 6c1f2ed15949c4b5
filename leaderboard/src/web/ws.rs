//! The websocket endpoint `/ws` (protocol in docs/websocket.md): each connection follows up to
//! [`MAX_SUBSCRIPTIONS`] boards, receives a snapshot or the patches it missed, then the shared frames of
//! the hub.
//!
//! A slow client never holds anyone up: frames reach it through a bounded broadcast queue; when it falls
//! more than the queue behind it is resynced with a snapshot, and when one frame takes longer than
//! `live.send_timeout_ms` to send it is disconnected.

use crate::live::boards::{Board, BoardKey};
use crate::live::hub::{Feed, Frame, FrameKind, Hub};
use crate::live::screens::{Arrival, Registration};
use crate::metrics;
use crate::web::access::Grant;
use crate::web::error::ApiError;
use crate::web::state::AppState;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::response::Response;
use schemas::ScreenConfig;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio_stream::StreamExt;
use tokio_stream::StreamMap;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

/// Most boards one connection follows.
pub const MAX_SUBSCRIPTIONS: usize = 8;

/// Largest message a client may send (they send only small subscribe requests).
const MAX_CLIENT_MESSAGE: usize = 16 * 1024;

/// Query of `/ws`: an optional first subscription (what a wall screen needs), with a resume position.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WsQuery {
    board: Option<String>,
    branch: Option<String>,
    epoch: Option<u64>,
    seq: Option<u64>,
    /// The managed screen (`[[screens]]`) the page is; else the one its token names, if any.
    screen: Option<String>,
    /// The page's version, listed by `GET /api/v1/screens`.
    version: Option<String>,
    /// Checked by [`Grant`]'s extractor; also finds a screen by its token.
    token: Option<String>,
}

/// A message from a client.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum ClientMessage {
    /// Follow a board, resuming from `(epoch, seq)` when given.
    Subscribe {
        board: String,
        branch: Option<String>,
        epoch: Option<u64>,
        seq: Option<u64>,
    },
    /// Stop following a board.
    Unsubscribe {
        board: String,
        branch: Option<String>,
    },
    /// Send a fresh snapshot (the client saw a gap).
    Resync {
        board: String,
        branch: Option<String>,
    },
    /// The board the screen shows now (for `GET /api/v1/screens`).
    Showing { board: String },
}

/// `GET /ws`: checks the token and the first subscription, then upgrades.
pub async fn upgrade(
    State(state): State<AppState>,
    grant: Grant,
    query: Result<Query<WsQuery>, axum::extract::rejection::QueryRejection>,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query?;
    let ws = ws.map_err(|e| {
        ApiError::new(
            e.status(),
            format!("{}: /ws is a websocket endpoint", e.body_text()),
        )
    })?;
    let first = match &query.board {
        Some(board) => Some((
            board_key(&state, &grant, board, query.branch.clone())?,
            query.epoch.zip(query.seq),
        )),
        None => None,
    };
    // An unknown screen name is said in an error frame: a TV cannot read the status of a refused upgrade,
    // and it still shows the boards of its URL.
    let (screen, unknown_screen) = match state.screens.identify(
        query.screen.as_deref(),
        query.token.as_deref(),
        state.live.config().access.has_tokens() && grant != Grant::Admin,
    ) {
        Ok(screen) => (screen, None),
        Err(message) => (None, Some(message)),
    };
    let registration = state.screens.register(Arrival {
        screen: screen.clone(),
        token_label: grant.label().map(str::to_string),
        token_branch: grant.branch().map(str::to_string),
        version: query
            .version
            .as_deref()
            .map(|v| schemas::excerpt(v).to_string()),
    });
    let hub = state.hub.clone();
    let shutdown = state.shutdown.clone();
    let send_timeout = Duration::from_millis(hub.settings().send_timeout_ms);
    Ok(ws
        // A screen sends almost nothing and receives small frames: keep the buffers small.
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_write_buffer_size(1024 * 1024)
        .max_message_size(MAX_CLIENT_MESSAGE)
        .max_frame_size(MAX_CLIENT_MESSAGE)
        .on_upgrade(move |socket| async move {
            let connection = Connection {
                socket,
                hub,
                state,
                grant,
                feeds: StreamMap::new(),
                positions: HashMap::new(),
                send_timeout,
                screen,
                unknown_screen,
                registration,
                playlist: None,
            };
            connection.run(first, shutdown).await;
        }))
}

/// Parses and authorises a subscription.
fn board_key(
    state: &AppState,
    grant: &Grant,
    board: &str,
    branch: Option<String>,
) -> Result<BoardKey, ApiError> {
    let board: Board = board.parse().map_err(ApiError::bad_request)?;
    grant.board_key(board, branch, state.live.org())
}

/// Where a client stands on a board.
#[derive(Debug, Clone, Copy)]
struct Position {
    epoch: u64,
    seq: u64,
}

/// What to do with a frame of a followed board.
#[derive(Debug, PartialEq, Eq)]
enum Admit {
    Send,
    Skip,
    Resync,
}

impl Position {
    /// Decides on `frame` and moves the position past it when it is sent.
    fn admit(&mut self, frame: &Frame) -> Admit {
        match frame.kind {
            FrameKind::Patch if frame.epoch == self.epoch && frame.seq <= self.seq => Admit::Skip,
            FrameKind::Patch if frame.epoch == self.epoch && frame.base == self.seq => {
                self.seq = frame.seq;
                Admit::Send
            }
            FrameKind::Patch => Admit::Resync,
            FrameKind::Snapshot if frame.epoch > self.epoch => {
                *self = Position {
                    epoch: frame.epoch,
                    seq: frame.seq,
                };
                Admit::Send
            }
            FrameKind::Snapshot => Admit::Skip,
            FrameKind::Rollover if frame.epoch == self.epoch => Admit::Send,
            FrameKind::Rollover => Admit::Skip,
            FrameKind::Heartbeat
            | FrameKind::Celebrate
            | FrameKind::Moment
            | FrameKind::Playlist
            | FrameKind::Error => Admit::Send,
        }
    }
}

struct Connection {
    socket: WebSocket,
    hub: Arc<Hub>,
    state: AppState,
    grant: Grant,
    feeds: StreamMap<BoardKey, BroadcastStream<Arc<Frame>>>,
    positions: HashMap<BoardKey, Position>,
    send_timeout: Duration,
    /// The managed screen the connection is.
    screen: Option<String>,
    /// The error about the screen name the page gave, when no screen has it.
    unknown_screen: Option<String>,
    /// Its entry in the list of screens.
    registration: Registration,
    /// The playlist last sent.
    playlist: Option<Arc<ScreenConfig>>,
}

/// Why a connection ended.
#[derive(Debug)]
enum End {
    ClientLeft,
    /// The client sent a message over [`MAX_CLIENT_MESSAGE`].
    MessageTooBig,
    SendTimeout,
    SendFailed,
    ServerStopping,
}

impl End {
    fn reason(&self) -> &'static str {
        match self {
            End::ClientLeft => "client_left",
            End::MessageTooBig => "message_too_big",
            End::SendTimeout => "send_timeout",
            End::SendFailed => "send_failed",
            End::ServerStopping => "server_stopping",
        }
    }

    /// The close frame the server sends the client, when it still can and the client should know why.
    fn close_frame(&self) -> Option<CloseFrame> {
        use axum::extract::ws::close_code;
        let (code, reason) = match self {
            End::MessageTooBig => (
                close_code::SIZE,
                format!("a message may be at most {} KiB", MAX_CLIENT_MESSAGE / 1024),
            ),
            End::ServerStopping => (close_code::AWAY, "server stopping".to_string()),
            End::ClientLeft | End::SendTimeout | End::SendFailed => return None,
        };
        Some(CloseFrame {
            code,
            reason: reason.into(),
        })
    }
}

/// Returns true if and only if reading failed because the client's message was over the size limit.
fn is_too_big(error: &axum::Error) -> bool {
    use tokio_tungstenite::tungstenite;
    std::error::Error::source(error)
        .and_then(|source| source.downcast_ref::<tungstenite::Error>())
        .is_some_and(|e| matches!(e, tungstenite::Error::Capacity(_)))
}

impl Connection {
    async fn run(
        mut self,
        first: Option<(BoardKey, Option<(u64, u64)>)>,
        shutdown: tokio_util::sync::CancellationToken,
    ) {
        let _gauge = metrics::WsConnection::open();
        let end = self.serve(first, &shutdown).await;
        if let Some(close) = end.close_frame() {
            let _ = tokio::time::timeout(
                self.send_timeout,
                self.socket.send(Message::Close(Some(close))),
            )
            .await;
        }
        metrics::record_ws_end(end.reason());
    }

    async fn serve(
        &mut self,
        first: Option<(BoardKey, Option<(u64, u64)>)>,
        shutdown: &tokio_util::sync::CancellationToken,
    ) -> End {
        let mut announcements = BroadcastStream::new(self.hub.announcements());
        let mut playlists = self.state.screens.changes();
        if let Err(end) = self.send(&self.hub.heartbeat_now()).await {
            return end;
        }
        if let Err(end) = self.send_playlist().await {
            return end;
        }
        if let Some(message) = self.unknown_screen.take()
            && let Err(end) = self.send(&Frame::error(&message)).await
        {
            return end;
        }
        if let Some((key, position)) = first
            && let Err(end) = self.subscribe(key, position).await
        {
            return end;
        }
        loop {
            let result = tokio::select! {
                _ = shutdown.cancelled() => return End::ServerStopping,
                message = self.socket.recv() => match message {
                    Some(Ok(Message::Text(text))) => self.on_message(text.as_str()).await,
                    Some(Err(e)) if is_too_big(&e) => return End::MessageTooBig,
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return End::ClientLeft,
                    Some(Ok(Message::Binary(_))) => {
                        self.send(&Frame::error("binary messages are not understood: send JSON as text")).await
                    }
                    Some(Ok(_)) => Ok(()), // pings are answered by the library
                },
                Some((key, item)) = self.feeds.next() => self.on_feed(key, item).await,
                Ok(()) = playlists.changed() => self.send_playlist().await,
                Some(item) = announcements.next() => match item {
                    Ok(frame) if self.sees_branch(frame.branch.as_deref()) => self.send(&frame).await,
                    _ => Ok(()), // another branch's, or missed while busy: announcements are not replayed
                },
            };
            if let Err(end) = result {
                return end;
            }
        }
    }

    /// Sends the screen's playlist when it is not the one last sent.
    async fn send_playlist(&mut self) -> Result<(), End> {
        let Some(screen) = &self.screen else {
            return Ok(());
        };
        let current = self.state.screens.playlist(screen);
        let unchanged = match (&current, &self.playlist) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (a, b) => a.is_none() && b.is_none(),
        };
        if unchanged {
            return Ok(());
        }
        self.playlist = current.clone();
        match current {
            Some(playlist) => self.send(&Frame::playlist(&playlist)).await,
            None => Ok(()),
        }
    }

    /// Whether the connection may see a celebration of `branch`'s people.
    fn sees_branch(&self, branch: Option<&str>) -> bool {
        match self.grant.branch() {
            None => true,
            Some(own) => branch == Some(own),
        }
    }

    async fn on_message(&mut self, text: &str) -> Result<(), End> {
        let message: ClientMessage = match serde_json::from_str(text) {
            Ok(m) => m,
            Err(e) => {
                return self
                    .send(&Frame::error(&format!("cannot read the message: {e}")))
                    .await;
            }
        };
        let (board, branch) = match &message {
            ClientMessage::Subscribe { board, branch, .. }
            | ClientMessage::Unsubscribe { board, branch }
            | ClientMessage::Resync { board, branch } => (board.clone(), branch.clone()),
            ClientMessage::Showing { board } => {
                return match board.parse::<Board>() {
                    Ok(board) => {
                        self.registration.connected.shows(board);
                        Ok(())
                    }
                    Err(e) => self.send(&Frame::error(&e)).await,
                };
            }
        };
        let key = match board_key(&self.state, &self.grant, &board, branch) {
            Ok(key) => key,
            Err(e) => return self.send(&Frame::error(e.message())).await,
        };
        match message {
            ClientMessage::Subscribe { epoch, seq, .. } => {
                if !self.feeds.contains_key(&key) && self.feeds.len() >= MAX_SUBSCRIPTIONS {
                    let text = format!("at most {MAX_SUBSCRIPTIONS} boards per connection");
                    return self.send(&Frame::error(&text)).await;
                }
                self.subscribe(key, epoch.zip(seq)).await
            }
            ClientMessage::Unsubscribe { .. } => {
                self.feeds.remove(&key);
                self.positions.remove(&key);
                self.record_follows();
                Ok(())
            }
            ClientMessage::Resync { .. } => self.resync(&key).await,
            ClientMessage::Showing { .. } => Ok(()),
        }
    }

    /// Follows `key`: subscribes first, then sends what the client lacks, so that no frame falls between.
    async fn subscribe(&mut self, key: BoardKey, position: Option<(u64, u64)>) -> Result<(), End> {
        let feed = self.hub.feed(&key).await;
        self.feeds
            .insert(key.clone(), BroadcastStream::new(feed.subscribe()));
        self.record_follows();
        self.catch_up(key, &feed, position).await
    }

    /// Lists the boards followed in the list of screens.
    fn record_follows(&self) {
        let boards = self.feeds.keys().map(|k| k.board.as_str().to_string());
        self.registration.connected.follows(boards.collect());
    }

    async fn resync(&mut self, key: &BoardKey) -> Result<(), End> {
        if !self.feeds.contains_key(key) {
            return self
                .send(&Frame::error("resync of a board not subscribed to"))
                .await;
        }
        metrics::record_ws_resync();
        let feed = self.hub.feed(key).await;
        self.catch_up(key.clone(), &feed, None).await
    }

    /// Sends the frames that bring a client at `position` on `key` up to date, and records where it is.
    async fn catch_up(
        &mut self,
        key: BoardKey,
        feed: &Feed,
        position: Option<(u64, u64)>,
    ) -> Result<(), End> {
        let catch_up = feed.catch_up(position);
        self.positions.insert(
            key,
            Position {
                epoch: catch_up.epoch,
                seq: catch_up.seq,
            },
        );
        for frame in &catch_up.frames {
            self.send(frame).await?;
        }
        Ok(())
    }

    async fn on_feed(
        &mut self,
        key: BoardKey,
        item: Result<Arc<Frame>, BroadcastStreamRecvError>,
    ) -> Result<(), End> {
        let frame = match item {
            Ok(frame) => frame,
            // Fell behind the queue: a snapshot replaces what was dropped.
            Err(BroadcastStreamRecvError::Lagged(_)) => return self.resync(&key).await,
        };
        let Some(position) = self.positions.get_mut(&key) else {
            return Ok(());
        };
        match position.admit(&frame) {
            Admit::Send => self.send(&frame).await,
            Admit::Skip => Ok(()),
            Admit::Resync => self.resync(&key).await,
        }
    }

    /// Sends one frame, or gives up on the client after the send timeout.
    async fn send(&mut self, frame: &Frame) -> Result<(), End> {
        let message = Message::Text(frame.text.clone());
        match tokio::time::timeout(self.send_timeout, self.socket.send(message)).await {
            Ok(Ok(())) => {
                self.registration.connected.sent_frame();
                Ok(())
            }
            Ok(Err(_)) => Err(End::SendFailed),
            Err(_) => Err(End::SendTimeout),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::extract::ws::Utf8Bytes;

    fn frame(kind: FrameKind, epoch: u64, base: u64, seq: u64) -> Frame {
        Frame {
            kind,
            epoch,
            seq,
            base,
            branch: None,
            text: Utf8Bytes::from_static("{}"),
        }
    }

    #[test]
    fn a_position_takes_the_next_patch_skips_old_ones_and_resyncs_on_a_gap() {
        let mut p = Position { epoch: 5, seq: 3 };
        assert_eq!(p.admit(&frame(FrameKind::Patch, 5, 2, 3)), Admit::Skip);
        assert_eq!(p.admit(&frame(FrameKind::Patch, 5, 3, 4)), Admit::Send);
        assert_eq!(p.seq, 4);
        assert_eq!(p.admit(&frame(FrameKind::Patch, 5, 5, 6)), Admit::Resync);
        assert_eq!(p.admit(&frame(FrameKind::Patch, 6, 0, 1)), Admit::Resync);
        assert_eq!(p.admit(&frame(FrameKind::Rollover, 5, 4, 4)), Admit::Send);
        assert_eq!(p.admit(&frame(FrameKind::Snapshot, 6, 0, 0)), Admit::Send);
        assert_eq!((p.epoch, p.seq), (6, 0));
        assert_eq!(p.admit(&frame(FrameKind::Snapshot, 6, 0, 0)), Admit::Skip);
        assert_eq!(p.admit(&frame(FrameKind::Heartbeat, 0, 0, 0)), Admit::Send);
    }
}
