//! Clients that try to wear the service down, against a live server on a real broker: silent and
//! half-sent connections are closed at their timeouts and cannot keep the data team out of Postgres or
//! anyone out of `/health`; wrong passwords are answered more slowly each time; an over-size body gets a
//! JSON 413; and an error about a huge input quotes only a short prefix of it.

use serde_json::Value;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};
use tests::Scenario;
use tests::broker::free_port;
use tests::live::{LiveServer, eventually};
use tests::pg_wire;
use tests::ws_client::WsClient;

const ORG: &str = "branch_id,branch_name,in_scope\na,甲支公司,true\nb,乙支公司,true\n";

const PASSWORD: &str = "analyst-secret-1";

/// Longest error message the server sends (`schemas::MAX_MESSAGE_CHARS`), with room for the JSON around it.
const SHORT: usize = 1_200;

/// `psql -c sql` as the analyst with `password`: stdout, or stderr when it fails.
fn psql(port: u16, password: &str, sql: &str) -> Result<String, String> {
    let output = Command::new("psql")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(["-U", "analyst", "-d", "leaderboard", "-X", "-A", "-t"])
        .args(["-v", "ON_ERROR_STOP=1", "-c", sql])
        .env("PGPASSWORD", password)
        .env("PGCONNECT_TIMEOUT", "10")
        .output()
        .expect(
            "psql is installed (Debian package postgresql-client; scripts/test.sh installs it)",
        );
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

/// How long until the server closes `stream` (reading and discarding what it sends), or `None` when it
/// is still open after `within`.
fn closed_after(stream: &mut TcpStream, within: Duration) -> Option<Duration> {
    let start = Instant::now();
    stream
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let mut buffer = [0u8; 4096];
    while start.elapsed() < within {
        match stream.read(&mut buffer) {
            Ok(0) => return Some(start.elapsed()),
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return Some(start.elapsed()),
        }
    }
    None
}

/// Sends `request` on a fresh connection to `port` and reads the response until the server closes it:
/// the status, the headers (lower-case names) and the body. The request is written while the response
/// is read, and the server may close before it has read all of it.
fn exchange(port: u16, request: &[u8]) -> (u16, String, Vec<u8>) {
    exchange_from([127, 0, 0, 1], port, request)
}

/// A connection to the server on loopback `port` from the loopback address `from`.
fn connect_from(from: [u8; 4], port: u16) -> TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket
        .bind(&std::net::SocketAddr::from((from, 0)).into())
        .unwrap();
    socket
        .connect(&std::net::SocketAddr::from(([127, 0, 0, 1], port)).into())
        .unwrap();
    socket.into()
}

/// [`exchange`] from the loopback address `from`.
fn exchange_from(from: [u8; 4], port: u16, request: &[u8]) -> (u16, String, Vec<u8>) {
    let mut stream = connect_from(from, port);
    let mut writer = stream.try_clone().unwrap();
    let request = request.to_vec();
    std::thread::spawn(move || writer.write_all(&request));
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut response = Vec::new();
    // The server may close while a body it will not read is still coming: what arrived counts.
    let _ = stream.read_to_end(&mut response);
    let end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| {
            panic!(
                "no response head in {:?}",
                String::from_utf8_lossy(&response)
            )
        });
    let head = String::from_utf8_lossy(&response[..end]).to_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap();
    (status, head, response[end + 4..].to_vec())
}

/// A response body as JSON (chunked bodies are the first chunk).
fn json_body(head: &str, body: &[u8]) -> Value {
    let body = if head.contains("transfer-encoding: chunked") {
        let text = String::from_utf8_lossy(body);
        let (size, rest) = text.split_once("\r\n").expect("a chunk");
        let size = usize::from_str_radix(size.trim(), 16).expect("a chunk size");
        rest.as_bytes()[..size].to_vec()
    } else {
        body.to_vec()
    };
    serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("{e}: {:?}", String::from_utf8_lossy(&body)))
}

#[test]
fn silent_connections_and_wrong_passwords_cannot_keep_the_data_team_out_of_postgres() {
    let pg_port = free_port();
    let server = LiveServer::start(
        ORG,
        &format!(
            "[sql]\nlisten = \"127.0.0.1:{pg_port}\"\nmax_connections = 4\n\
             max_pending_connections = 8\nstartup_timeout_secs = 3\n\
             [[sql.users]]\nname = \"analyst\"\npassword = \"{PASSWORD}\"\n\
             [[sql.users]]\nname = \"legacy\"\npassword = \"{PASSWORD}\"\nauth = \"md5\"\n"
        ),
    );

    // 40 connections that never send a startup message: more than max_connections and the pending cap.
    let mut silent: Vec<TcpStream> = (0..40)
        .map(|_| TcpStream::connect(("127.0.0.1", pg_port)).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    assert_eq!(psql(pg_port, PASSWORD, "SELECT 41").as_deref(), Ok("41"));
    let took = started.elapsed();
    assert!(took < Duration::from_secs(2), "the login took {took:?}");
    // All but the newest few were closed to make room.
    let closed = silent
        .iter_mut()
        .filter_map(|s| closed_after(s, Duration::from_millis(100)))
        .count();
    assert!(closed >= 32, "{closed} of 40 silent connections closed");

    // A silent connection is closed at the startup timeout.
    let mut late = TcpStream::connect(("127.0.0.1", pg_port)).unwrap();
    let after = closed_after(&mut late, Duration::from_secs(10)).expect("closed");
    assert!(
        after >= Duration::from_millis(2_500) && after < Duration::from_secs(6),
        "closed after {after:?} with startup_timeout_secs = 3"
    );

    // Passwords from an address with failed logins are checked only after a wait that doubles with each
    // failure (0, 0.1, 0.2, 0.4, 0.8, 1.6 s before the six below), right or wrong.
    let mut took = Vec::new();
    for _ in 0..6 {
        let started = Instant::now();
        let error = psql(pg_port, "not-the-password", "SELECT 1").unwrap_err();
        took.push(started.elapsed());
        assert!(
            error
                .to_lowercase()
                .contains("password authentication failed"),
            "{error}"
        );
    }
    assert!(
        took[5] >= took[0] + Duration::from_millis(1_200),
        "the sixth failure waits far longer than the first: {took:?}"
    );
    // The right password still works, after the same wait (an attacker learns nothing sooner).
    let started = Instant::now();
    assert_eq!(psql(pg_port, PASSWORD, "SELECT 2").as_deref(), Ok("2"));
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    // A query sent right behind a wrong password is never run.
    let queries_before = postgres_queries(&server.serve.metrics());
    let answer = pipelined_query_after_a_wrong_password(pg_port);
    assert!(answer.contains(&b'E'), "an error: {answer:?}");
    assert!(
        !answer.contains(&b'T') && !answer.contains(&b'D'),
        "no rows: {answer:?}"
    );
    assert_eq!(postgres_queries(&server.serve.metrics()), queries_before);

    let metrics = server.serve.metrics();
    for counted in [
        "leaderboard_sql_logins_failed_total 7",
        "leaderboard_sql_unauthenticated_closed_total{reason=\"startup_timeout\"}",
        "leaderboard_sql_unauthenticated_closed_total{reason=\"evicted\"}",
    ] {
        assert!(
            metrics.contains(counted),
            "{counted} missing from {metrics}"
        );
    }
}

/// The Postgres queries counted in `metrics`, whatever their outcome.
fn postgres_queries(metrics: &str) -> u64 {
    metrics
        .lines()
        .filter(|l| l.starts_with("leaderboard_sql_queries_total{front_end=\"postgres\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// Logs in to the MD5 account with a wrong password and sends a query in the same write, as a client that
/// does not wait for the answer would; returns the types of the messages the server sent until it closed
/// the connection.
fn pipelined_query_after_a_wrong_password(port: u16) -> Vec<u8> {
    let mut stream = pg_wire::start_login(port, "legacy");
    let mut challenge = [0u8; 13];
    stream.read_exact(&mut challenge).unwrap();
    assert_eq!(
        &challenge[..9],
        b"R\0\0\0\x0c\0\0\0\x05",
        "an MD5 challenge"
    );
    let mut attempt = pg_wire::message(Some(b'p'), format!("md5{}\0", "0".repeat(32)).as_bytes());
    attempt.extend(pg_wire::message(Some(b'Q'), b"SELECT 1\0"));
    stream.write_all(&attempt).unwrap();
    pg_wire::types_until_closed(&mut stream)
}

#[test]
fn http_connections_time_out_and_health_answers_over_the_connection_caps() {
    let mut server = LiveServer::start(
        ORG,
        "[server]\nheader_timeout_secs = 2\nmax_connections = 6\nmax_connections_per_address = 5\n",
    );
    let mut events = Scenario::new();
    events.register("a1", "a", "2016-06-01T09:00:00+08:00");
    events.quote("a1", "a", "2016-06-01T10:00:00+08:00", "phone");
    server.produce(&events.take_new());
    let port = server.serve.port();

    // Half a header, then nothing: closed at the header timeout.
    let mut half = TcpStream::connect(("127.0.0.1", port)).unwrap();
    half.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n")
        .unwrap();
    let after = closed_after(&mut half, Duration::from_secs(10)).expect("closed");
    assert!(
        after >= Duration::from_millis(1_500) && after < Duration::from_secs(5),
        "closed after {after:?} with header_timeout_secs = 2"
    );
    // A kept-alive connection that goes idle after a request: closed the same way.
    let mut idle = TcpStream::connect(("127.0.0.1", port)).unwrap();
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let after = closed_after(&mut idle, Duration::from_secs(10)).expect("closed");
    assert!(after < Duration::from_secs(5), "idle for {after:?}");

    // Five websockets from 127.0.0.1 take every place of that address, and outlive the header timeout.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let url = server.ws_url("/ws");
    let mut sockets: Vec<WsClient> = (0..5)
        .map(|_| rt.block_on(WsClient::connect(&url)).unwrap())
        .collect();
    std::thread::sleep(Duration::from_secs(3));
    for socket in &mut sockets {
        rt.block_on(socket.subscribe("branch_mobile_quotes", None))
            .unwrap();
        let frames = rt
            .block_on(socket.read_until(Duration::from_secs(10), |f| f["type"] == "snapshot"))
            .unwrap();
        assert!(!frames.is_empty());
    }

    // Over each cap: /health still answers, anything else is a JSON 503 naming the limit.
    let over_limit = |from: [u8; 4], setting: &str| {
        let (status, head, body) = exchange_from(
            from,
            port,
            b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n",
        );
        assert_eq!(status, 200, "{head}");
        assert_eq!(json_body(&head, &body)["status"], "ok");
        let (status, head, body) = exchange_from(
            from,
            port,
            b"GET /api/v1/status HTTP/1.1\r\nHost: localhost\r\n\r\n",
        );
        assert_eq!(status, 503, "{head}");
        assert!(head.contains("content-type: application/json"), "{head}");
        let error = json_body(&head, &body)["error"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(error.contains(&format!("({setting})")), "{error}");
    };
    over_limit([127, 0, 0, 1], "server.max_connections_per_address");
    // Another address still gets the last place; while it holds it, everyone is over the total cap.
    let (status, head, _) = exchange_from(
        [127, 0, 0, 2],
        port,
        b"GET /api/v1/status HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 200, "{head}");
    std::thread::sleep(Duration::from_millis(200)); // the closed connection gives its place back
    let mut last_place = connect_from([127, 0, 0, 2], port);
    last_place.write_all(b"GET /health HTTP/1.1\r\n").unwrap();
    over_limit([127, 0, 0, 3], "server.max_connections");
    drop(last_place);

    // Closing the websockets gives the places back.
    for socket in sockets {
        rt.block_on(socket.close());
    }
    eventually(Duration::from_secs(5), "the API answers again", || {
        (server.serve.get("/api/v1/status").0 == 200).then_some(())
    });
    let metrics = server.serve.metrics();
    assert!(
        metrics.contains("leaderboard_http_connections_over_limit_total{answer=\"quick\"}"),
        "{metrics}"
    );
}

#[test]
fn over_size_bodies_get_a_json_413_and_errors_quote_a_short_prefix_of_huge_input() {
    let pg_port = free_port();
    let server = LiveServer::start(
        ORG,
        &format!(
            "[sql]\nlisten = \"127.0.0.1:{pg_port}\"\n\
             [[sql.users]]\nname = \"analyst\"\npassword = \"{PASSWORD}\"\n"
        ),
    );
    let port = server.serve.port();

    // A declared 50 MB body is refused before it is read, on every POST endpoint …
    for path in ["/api/v1/sql", "/api/v1/clearing-scores"] {
        let mut request = format!(
            "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n",
            50 * 1024 * 1024
        )
        .into_bytes();
        request.extend(std::iter::repeat_n(b' ', 64 * 1024));
        let (status, head, body) = exchange(port, &request);
        assert_eq!(status, 413, "{path}: {head}");
        assert!(head.contains("content-type: application/json"), "{head}");
        let error = json_body(&head, &body)["error"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(error.contains("1048576 bytes"), "{error}");
    }
    // … and a body without a length is stopped at the limit with the same answer.
    for path in ["/api/v1/sql", "/api/v1/clearing-scores"] {
        let mut request = format!(
            "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
             Transfer-Encoding: chunked\r\n\r\n"
        )
        .into_bytes();
        let chunk = vec![b' '; 256 * 1024];
        for _ in 0..6 {
            request.extend(format!("{:x}\r\n", chunk.len()).as_bytes());
            request.extend(&chunk);
            request.extend(b"\r\n");
        }
        request.extend(b"0\r\n\r\n");
        let (status, head, body) = exchange(port, &request);
        assert_eq!(status, 413, "{path}: {head}");
        assert!(head.contains("content-type: application/json"), "{head}");
        assert!(
            json_body(&head, &body)["error"]
                .as_str()
                .unwrap()
                .contains("1048576 bytes")
        );
    }

    // Errors about a 65 KB input quote a short prefix of it, over HTTP …
    let huge = "x".repeat(65_000);
    let short_400 = |path: &str, content_type: &str, body: &str, quoted: &str| {
        let (status, answer) = post(&server, path, content_type, body);
        assert_eq!(status, 400, "{path}: {answer:.300}");
        assert!(
            answer.len() < SHORT && answer.contains(quoted),
            "{path}: {} bytes: {answer:.300}",
            answer.len()
        );
    };
    short_400(
        "/api/v1/sql",
        "text/plain",
        &format!("SELECT {huge}"),
        "xxxx",
    );
    short_400(
        "/api/v1/clearing-scores",
        "application/json",
        &format!(r#"{{"branch_id": "{huge}", "month": "2016-06", "score": 5}}"#),
        "unknown branch",
    );
    short_400(
        "/api/v1/clearing-scores",
        "application/json",
        &format!(r#"{{"branch_id": "a", "month": "2016-06", "score": "{huge}"}}"#),
        "",
    );
    // (A URI is at most 64 KiB.)
    let (status, body) = server
        .serve
        .get(&format!("/api/v1/scorecard?period={}", &huge[..60_000]));
    assert_eq!(status, 400, "{body:.300}");
    let error = body["error"].as_str().unwrap();
    assert!(
        error.len() < SHORT && error.contains("period"),
        "{error:.300}"
    );
    // … and over Postgres.
    let error = psql(pg_port, PASSWORD, &format!("SELECT {huge}")).unwrap_err();
    assert!(
        error.len() < SHORT && error.contains("xxxx"),
        "{} bytes: {error:.300}",
        error.len()
    );
}

/// POSTs `body` as `content_type` to `path`: the status and the body text.
fn post(server: &LiveServer, path: &str, content_type: &str, body: &str) -> (u16, String) {
    let mut response = ureq::post(&server.serve.url(path))
        .header("Content-Type", content_type)
        .config()
        .http_status_as_error(false)
        .build()
        .send(body)
        .expect("an answer");
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().unwrap())
}
