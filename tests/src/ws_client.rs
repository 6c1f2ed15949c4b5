//! A websocket client of the board protocol (docs/websocket.md), as strict as a screen must be: a patch
//! applies only on top of the sequence number it names.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// One board as a client holds it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BoardState {
    /// The epoch.
    pub epoch: u64,
    /// The last sequence number applied.
    pub seq: u64,
    /// The period.
    pub period: String,
    /// Rows by key.
    pub rows: BTreeMap<String, Value>,
    /// Keys in display order.
    pub order: Vec<String>,
    /// Whether a snapshot has arrived.
    pub ready: bool,
}

/// What a frame did to a board.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Replaced it.
    Snapshot,
    /// Moved it one sequence number on.
    Patch,
    /// Did not concern it (heartbeat, celebration, rollover, another board).
    Other,
}

impl BoardState {
    /// Applies `frame`; a patch that does not follow the held sequence number is an error.
    pub fn apply(&mut self, frame: &Value) -> Result<Applied, String> {
        match frame["type"].as_str() {
            Some("snapshot") => {
                self.epoch = frame["epoch"].as_u64().ok_or("snapshot without epoch")?;
                self.seq = frame["seq"].as_u64().ok_or("snapshot without seq")?;
                self.period = frame["period"].as_str().unwrap_or_default().to_string();
                let rows = frame["rows"].as_array().ok_or("snapshot without rows")?;
                self.order = rows.iter().map(key).collect();
                self.rows = rows.iter().map(|r| (key(r), r.clone())).collect();
                self.ready = true;
                Ok(Applied::Snapshot)
            }
            Some("patch") => {
                let (epoch, base, seq) = (
                    frame["epoch"].as_u64(),
                    frame["base"].as_u64(),
                    frame["seq"].as_u64(),
                );
                if !self.ready || epoch != Some(self.epoch) || base != Some(self.seq) {
                    return Err(format!(
                        "patch {epoch:?}/{base:?}→{seq:?} does not follow {}/{}",
                        self.epoch, self.seq
                    ));
                }
                for row in frame["rows"].as_array().ok_or("patch without rows")? {
                    self.rows.insert(key(row), row.clone());
                }
                for removed in frame["removed"].as_array().ok_or("patch without removed")? {
                    self.rows.remove(removed.as_str().unwrap_or_default());
                }
                self.order = frame["order"]
                    .as_array()
                    .ok_or("patch without order")?
                    .iter()
                    .map(|k| k.as_str().unwrap_or_default().to_string())
                    .collect();
                self.seq = seq.ok_or("patch without seq")?;
                Ok(Applied::Patch)
            }
            _ => Ok(Applied::Other),
        }
    }

    /// `(key, rank, value)` in display order: what a screen shows.
    pub fn ranking(&self) -> Vec<(String, Value, Value)> {
        self.order
            .iter()
            .map(|k| {
                let row = &self.rows[k];
                (k.clone(), row["rank"].clone(), row["value"].clone())
            })
            .collect()
    }
}

fn key(row: &Value) -> String {
    row["key"].as_str().unwrap_or_default().to_string()
}

/// `(key, rank, value)` of a REST board (`GET /api/v1/boards/{board}`), in order.
pub fn ranking_of(board: &Value) -> Vec<(String, Value, Value)> {
    board["rows"]
        .as_array()
        .expect("a board has rows")
        .iter()
        .map(|r| (key(r), r["rank"].clone(), r["value"].clone()))
        .collect()
}

/// A websocket connection that reads JSON frames.
pub struct WsClient {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl WsClient {
    /// Connects to `url`; the server's HTTP status on refusal is in the error.
    pub async fn connect(url: &str) -> Result<Self, String> {
        let (stream, _) = tokio_tungstenite::connect_async_with_config(url, None, true)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Self { stream })
    }

    /// Connects over an existing TCP stream (for example one with a tiny receive buffer).
    pub async fn connect_on(url: &str, tcp: TcpStream) -> Result<Self, String> {
        let (stream, _) = tokio_tungstenite::client_async(url, MaybeTlsStream::Plain(tcp))
            .await
            .map_err(|e| e.to_string())?;
        Ok(Self { stream })
    }

    /// The next text frame as JSON with its raw text; `None` on timeout; `Err` when the connection ended.
    pub async fn next(&mut self, timeout: Duration) -> Result<Option<(Value, String)>, String> {
        match self.next_text(timeout).await? {
            None => Ok(None),
            Some(text) => {
                let value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
                Ok(Some((value, text)))
            }
        }
    }

    /// The next text frame, unparsed; `None` on timeout; `Err` when the connection ended.
    pub async fn next_text(&mut self, timeout: Duration) -> Result<Option<String>, String> {
        loop {
            let message = match tokio::time::timeout(timeout, self.stream.next()).await {
                Err(_) => return Ok(None),
                Ok(None) => return Err("connection closed".into()),
                Ok(Some(Err(e))) => return Err(e.to_string()),
                Ok(Some(Ok(m))) => m,
            };
            match message {
                Message::Text(text) => return Ok(Some(text.to_string())),
                Message::Close(frame) => return Err(format!("closed: {frame:?}")),
                _ => {}
            }
        }
    }

    /// Reads frames until one satisfies `until` or `timeout` passes between frames; returns them all.
    pub async fn read_until(
        &mut self,
        timeout: Duration,
        mut until: impl FnMut(&Value) -> bool,
    ) -> Result<Vec<(Value, String)>, String> {
        let mut frames = Vec::new();
        while let Some((value, text)) = self.next(timeout).await? {
            let done = until(&value);
            frames.push((value, text));
            if done {
                return Ok(frames);
            }
        }
        Err(format!(
            "no matching frame within {timeout:?} after {} frames",
            frames.len()
        ))
    }

    /// Sends a JSON message.
    pub async fn send(&mut self, message: Value) -> Result<(), String> {
        self.stream
            .send(Message::text(message.to_string()))
            .await
            .map_err(|e| e.to_string())
    }

    /// Sends a binary message (which the server does not understand).
    pub async fn send_binary(&mut self, bytes: &'static [u8]) -> Result<(), String> {
        self.stream
            .send(Message::binary(bytes))
            .await
            .map_err(|e| e.to_string())
    }

    /// Asks to follow `board` (with `branch` for the people boards).
    pub async fn subscribe(&mut self, board: &str, branch: Option<&str>) -> Result<(), String> {
        self.send(json!({ "type": "subscribe", "board": board, "branch": branch }))
            .await
    }

    /// Closes the connection.
    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
    }
}
