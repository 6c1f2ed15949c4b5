//! A TCP proxy in front of the broker that the tests can take down: every connection is cut and new ones
//! are closed at once, which is what clients see while a broker is stopped, then it forwards again, as
//! when the broker comes back with its data.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

struct State {
    down: AtomicBool,
    connections: Mutex<Vec<TcpStream>>,
}

/// A proxy from a loopback port to the broker's.
pub struct Proxy {
    port: u16,
    state: Arc<State>,
}

impl Proxy {
    /// Starts forwarding a new loopback port to `target_port`.
    pub fn start(target_port: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let port = listener.local_addr().expect("proxy address").port();
        Self::serve(listener, port, target_port)
    }

    fn serve(listener: TcpListener, port: u16, target_port: u16) -> Self {
        let state = Arc::new(State {
            down: AtomicBool::new(false),
            connections: Mutex::new(Vec::new()),
        });
        let accept_state = state.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if accept_state.down.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", target_port)) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                {
                    let mut connections = accept_state.connections.lock().expect("proxy lock");
                    connections.extend(client.try_clone().ok());
                    connections.extend(server.try_clone().ok());
                }
                pump(
                    client.try_clone().expect("clone"),
                    server.try_clone().expect("clone"),
                );
                pump(server, client);
            }
        });
        Self { port, state }
    }

    /// The port clients connect to.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Cuts every connection and refuses new ones until [`Proxy::up`].
    pub fn down(&self) {
        self.state.down.store(true, Ordering::SeqCst);
        for connection in self.state.connections.lock().expect("proxy lock").drain(..) {
            let _ = connection.shutdown(Shutdown::Both);
        }
    }

    /// Forwards again.
    pub fn up(&self) {
        self.state.down.store(false, Ordering::SeqCst);
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            match from.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if to.write_all(&buffer[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to.shutdown(Shutdown::Both);
        let _ = from.shutdown(Shutdown::Both);
    });
}
