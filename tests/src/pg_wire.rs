//! Postgres wire messages by hand, for the tests that play a client no driver would: one that pipelines a
//! query behind a wrong password, or answers a login with malformed bytes.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// A frontend message: its type byte (none for the startup message), its length, its body.
pub fn message(tag: Option<u8>, body: &[u8]) -> Vec<u8> {
    let mut bytes: Vec<u8> = tag.into_iter().collect();
    bytes.extend(((body.len() + 4) as u32).to_be_bytes());
    bytes.extend(body);
    bytes
}

/// Connects to the Postgres port on `port` and sends the startup message of `user` (protocol 3.0,
/// database `leaderboard`).
pub fn start_login(port: u16, user: &str) -> TcpStream {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the Postgres port");
    let parameters = format!("user\0{user}\0database\0leaderboard\0\0");
    let startup = [&196_608u32.to_be_bytes()[..], parameters.as_bytes()].concat();
    stream
        .write_all(&message(None, &startup))
        .expect("send the startup message");
    stream
}

/// The type bytes of the backend messages `stream` receives until the server closes it (at most 10 s).
pub fn types_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("a read timeout");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let mut types = Vec::new();
    let mut at = 0;
    while at + 5 <= answer.len() {
        types.push(answer[at]);
        let length = u32::from_be_bytes(answer[at + 1..at + 5].try_into().unwrap()) as usize;
        at += 1 + length;
    }
    types
}
