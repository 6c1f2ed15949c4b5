//! The websocket protocol against a live server on a real broker: a snapshot then numbered patches in
//! order; a reconnect with `(epoch, seq)` gets exactly the patches it missed or a fresh snapshot; a client
//! that stops reading is dropped without delaying the others; a thousand clients converge to the ranking
//! the REST API gives.

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tests::Scenario;
use tests::live::{LiveServer, eventually};
use tests::process::request;
use tests::ws_client::{Applied, BoardState, WsClient, ranking_of};

const ORG: &str = "branch_id,branch_name,in_scope\n\
a,甲支公司,true\nb,乙支公司,true\nc,丙支公司,true\nx,车商,false\n";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap()
}

/// Two users per branch, registered in May; `quotes[i]` mobile quotes for branch i on June 1st.
fn opening(s: &mut Scenario, quotes: [usize; 4]) {
    for (i, branch) in ["a", "b", "c", "x"].iter().enumerate() {
        for u in 1..=2 {
            s.register(&format!("{branch}{u}"), branch, "2016-05-20T09:00:00+08:00");
        }
        for q in 0..quotes[i] {
            let user = format!("{branch}{}", q % 2 + 1);
            s.quote(&user, branch, "2016-06-01T10:00:00+08:00", "phone");
        }
    }
}

fn more_quotes(s: &mut Scenario, branch: &str, n: usize, day: u32) {
    for q in 0..n {
        let user = format!("{branch}{}", q % 2 + 1);
        s.quote(
            &user,
            branch,
            &format!("2016-06-{day:02}T11:00:00+08:00"),
            "pad",
        );
    }
}

/// The message of the next error frame `client` receives.
async fn next_error(client: &mut WsClient) -> String {
    let frames = client
        .read_until(Duration::from_secs(5), |f| f["type"] == "error")
        .await
        .unwrap();
    frames.last().unwrap().0["message"]
        .as_str()
        .expect("an error frame has a message")
        .to_string()
}

fn rest_board(server: &LiveServer, path: &str) -> Vec<(String, Value, Value)> {
    ranking_of(&server.get(&format!("/api/v1/boards/{path}")))
}

/// Reads frames into `state` until its ranking equals `want` (patches must apply in order).
async fn converge(
    client: &mut WsClient,
    state: &mut BoardState,
    want: &[(String, Value, Value)],
    patches: &mut Vec<String>,
) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !(state.ready && state.ranking() == want) {
        assert!(
            Instant::now() < deadline,
            "the client holds {:?}, the REST board says {want:?}",
            state.ranking()
        );
        let Some((frame, text)) = client.next(Duration::from_secs(1)).await.unwrap() else {
            continue;
        };
        if state.apply(&frame).unwrap() == Applied::Patch {
            patches.push(text);
        }
    }
}

#[test]
fn snapshot_then_numbered_patches_and_resume_from_epoch_and_seq() {
    let mut server = LiveServer::start(ORG, "[live]\npush_interval_ms = 50\n");
    let mut events = Scenario::new();
    opening(&mut events, [3, 2, 1, 9]);
    server.produce(&events.take_new());
    let rt = runtime();
    let url = server.ws_url("/ws?board=branch_mobile_quotes");

    // A: the first frames are a heartbeat and the snapshot, equal to the REST board.
    let mut a = rt.block_on(WsClient::connect(&url)).unwrap();
    let mut a_state = BoardState::default();
    let frames = rt
        .block_on(a.read_until(Duration::from_secs(10), |f| f["type"] == "snapshot"))
        .unwrap();
    assert_eq!(frames[0].0["type"], "hb", "{frames:?}");
    a_state.apply(&frames.last().unwrap().0).unwrap();
    let rest = rest_board(&server, "branch_mobile_quotes");
    assert_eq!(a_state.ranking(), rest);
    assert_eq!(
        rest.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
        ["a", "b", "c", "x"]
    );
    assert_eq!(rest[3].1, Value::Null, "out of scope: shown, not ranked");
    let (epoch, first_seq) = (a_state.epoch, a_state.seq);

    // B takes the same snapshot and leaves.
    let mut b = rt.block_on(WsClient::connect(&url)).unwrap();
    let b_frames = rt
        .block_on(b.read_until(Duration::from_secs(10), |f| f["type"] == "snapshot"))
        .unwrap();
    let mut b_state = BoardState::default();
    b_state.apply(&b_frames.last().unwrap().0).unwrap();
    assert_eq!((b_state.epoch, b_state.seq), (epoch, first_seq));
    rt.block_on(b.close());

    // Three rounds of activity: c overtakes b, then a; A sees every patch in order.
    let mut a_patches = Vec::new();
    for (branch, n, day) in [("c", 2, 2), ("c", 4, 3), ("b", 1, 4)] {
        more_quotes(&mut events, branch, n, day);
        server.produce(&events.take_new());
        let want = rest_board(&server, "branch_mobile_quotes");
        rt.block_on(converge(&mut a, &mut a_state, &want, &mut a_patches));
    }
    let final_ranking = rest_board(&server, "branch_mobile_quotes");
    assert_eq!(
        final_ranking
            .iter()
            .map(|r| r.0.as_str())
            .take(3)
            .collect::<Vec<_>>(),
        ["c", "a", "b"],
        "{final_ranking:?}"
    );
    assert!(a_patches.len() >= 3, "one patch per round at least");
    assert_eq!(a_state.seq, first_seq + a_patches.len() as u64);

    // B comes back with (epoch, seq): exactly the missed patches, byte for byte what A got.
    let resume = server.ws_url(&format!(
        "/ws?board=branch_mobile_quotes&epoch={epoch}&seq={first_seq}"
    ));
    let mut b = rt.block_on(WsClient::connect(&resume)).unwrap();
    let mut replayed = Vec::new();
    while replayed.len() < a_patches.len() {
        let (frame, text) = rt
            .block_on(b.next(Duration::from_secs(5)))
            .unwrap()
            .expect("the missed patches arrive");
        assert_ne!(frame["type"], "snapshot", "resumed without a snapshot");
        if b_state.apply(&frame).unwrap() == Applied::Patch {
            replayed.push(text);
        }
    }
    assert_eq!(replayed, a_patches);
    assert_eq!(b_state, a_state);

    // An unknown epoch, or a position ahead of the server, gets a fresh snapshot at the current position.
    for (e, s) in [(epoch + 1_000_000, first_seq), (epoch, a_state.seq + 5)] {
        let url = server.ws_url(&format!("/ws?board=branch_mobile_quotes&epoch={e}&seq={s}"));
        let mut c = rt.block_on(WsClient::connect(&url)).unwrap();
        let frames = rt
            .block_on(c.read_until(Duration::from_secs(5), |f| f["type"] == "snapshot"))
            .unwrap();
        let snapshot = &frames.last().unwrap().0;
        assert_eq!(snapshot["epoch"], json!(epoch));
        assert_eq!(snapshot["seq"], json!(a_state.seq));
    }

    // Mistakes get a clear answer: a bad first subscription is refused before the upgrade, a bad message
    // gets an error frame and the connection stays.
    let err = rt
        .block_on(WsClient::connect(&server.ws_url("/ws?board=nope")))
        .err()
        .expect("refused");
    assert!(err.contains("400"), "{err}");
    let err = rt
        .block_on(WsClient::connect(
            &server.ws_url("/ws?board=branch_total_score&branch=a"),
        ))
        .err()
        .expect("refused");
    assert!(err.contains("400"), "{err}");
    rt.block_on(async {
        a.send(json!({"type": "subscribe", "board": "user_mobile_quotes", "branch": "zz"}))
            .await
            .unwrap();
        let message = next_error(&mut a).await;
        assert!(message.contains("unknown branch"), "{message}");
        a.send_binary(b"\x01\x02").await.unwrap();
        let message = next_error(&mut a).await;
        assert!(message.contains("binary"), "{message}");
        a.send(json!({"type": "subscribe", "board": "user_mobile_quotes", "branch": "a"}))
            .await
            .unwrap();
        let frames = a
            .read_until(Duration::from_secs(5), |f| {
                f["type"] == "snapshot" && f["board"] == "user_mobile_quotes"
            })
            .await
            .unwrap();
        let rows = frames.last().unwrap().0["rows"].as_array().unwrap().clone();
        assert!(rows.iter().all(|r| r["branch_id"] == "a"), "{rows:?}");
        assert_eq!(rows.len(), 2);

        // A message over the limit closes the connection with 1009 and the reason, not a dropped socket.
        let mut big = WsClient::connect(&url).await.unwrap();
        big.send(json!({"type": "subscribe", "board": "x".repeat(20 * 1024)}))
            .await
            .unwrap();
        let end = loop {
            match big.next_text(Duration::from_secs(5)).await {
                Ok(Some(_)) => continue, // the heartbeat and the first board's frames
                Ok(None) => panic!("the connection stayed open"),
                Err(end) => break end,
            }
        };
        assert!(end.contains("Size") && end.contains("16 KiB"), "{end}");
    });
}

#[test]
fn a_client_that_stops_reading_is_dropped_without_delaying_the_others() {
    let mut server = LiveServer::start(
        ORG,
        "[live]\npush_interval_ms = 50\nsend_timeout_ms = 2000\n",
    );
    let mut events = Scenario::new();
    opening(&mut events, [3, 2, 1, 0]);
    server.produce(&events.take_new());
    let rt = runtime();
    let url = server.ws_url("/ws?board=user_mobile_quotes");

    // The slow client: a tiny receive buffer, subscribed, and then it never reads again.
    let slow = rt.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(2048).unwrap();
        let addr = url
            .trim_start_matches("ws://")
            .split('/')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let tcp = socket.connect(addr).await.unwrap();
        WsClient::connect_on(&url, tcp).await.unwrap()
    });
    let mut fast = rt.block_on(WsClient::connect(&url)).unwrap();
    let mut fast_state = BoardState::default();

    // Many users, many small changes: a patch every push interval for several seconds.
    let branches = ["a", "b", "c"];
    for round in 0..120 {
        for (i, branch) in branches.iter().enumerate() {
            let user = format!("{branch}-p{}", (round * 7 + i) % 40);
            events.register(&user, branch, "2016-05-20T09:00:00+08:00");
            for _ in 0..(round % 5 + 1) {
                events.quote(&user, branch, "2016-06-02T10:00:00+08:00", "wechat");
            }
        }
    }
    let lines = events.take_new();
    let started = Instant::now();
    let mut worst_delay = Duration::ZERO;
    let mut patches = 0;
    for chunk in lines.chunks(lines.len() / 20 + 1) {
        server.produce_async(chunk);
        // The fast client keeps up while the slow one is stuck: every patch reaches it promptly.
        rt.block_on(async {
            while let Some((frame, _)) = fast.next(Duration::from_millis(150)).await.unwrap() {
                if fast_state.apply(&frame).unwrap() == Applied::Patch {
                    patches += 1;
                    let made =
                        chrono::DateTime::parse_from_rfc3339(frame["updated_at"].as_str().unwrap())
                            .unwrap();
                    let delay = (chrono::Utc::now() - made.with_timezone(&chrono::Utc))
                        .to_std()
                        .unwrap_or_default();
                    worst_delay = worst_delay.max(delay);
                }
            }
        });
    }
    let total = server.produced();
    server.serve.wait_for_total(total, Duration::from_secs(60));
    let want = rest_board(&server, "user_mobile_quotes");
    rt.block_on(converge(&mut fast, &mut fast_state, &want, &mut Vec::new()));
    assert!(
        patches >= 10,
        "only {patches} patches in {:?}",
        started.elapsed()
    );
    assert!(
        worst_delay < Duration::from_millis(1500),
        "a patch reached the reading client {worst_delay:?} after it was made: the stuck client held it up"
    );

    // The stuck client was given up on after the send timeout (the server's counter says so), and
    // what it reads now ends in a closed connection rather than going on forever.
    let metrics = eventually(
        Duration::from_secs(20),
        "the slow client is dropped",
        || {
            let text = server.serve.metrics();
            text.lines()
                .any(|l| {
                    l.starts_with("leaderboard_ws_disconnects_total{reason=\"send_timeout\"}")
                        && !l.ends_with(" 0")
                })
                .then_some(text)
        },
    );
    assert!(metrics.contains("leaderboard_ws_connections"), "{metrics}");
    rt.block_on(async {
        let mut slow = slow;
        loop {
            match slow.next(Duration::from_secs(10)).await {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("the dropped client's connection is still open"),
                Err(_) => break,
            }
        }
    });
}

#[test]
fn a_thousand_clients_converge_to_the_ranking_the_scorecard_gives() {
    // A thousand screens from one address, as behind a proxy.
    let mut server = LiveServer::start(
        ORG,
        "[live]\npush_interval_ms = 100\n[server]\nmax_connections_per_address = 2000\n",
    );
    let mut events = Scenario::new();
    opening(&mut events, [1, 1, 1, 1]);
    server.produce(&events.take_new());
    let rt = runtime();
    let subscriptions: [(&str, Option<&str>); 5] = [
        ("branch_mobile_quotes", None),
        ("branch_total_score", None),
        ("user_mobile_quotes", None),
        ("user_mobile_quotes", Some("b")),
        ("branch_mobile_payment", None),
    ];
    const CLIENTS: usize = 1000;
    let (stop, _) = tokio::sync::watch::channel(false);
    let handles: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let (board, branch) = subscriptions[i % subscriptions.len()];
            let url = match branch {
                Some(b) => server.ws_url(&format!("/ws?board={board}&branch={b}")),
                None => server.ws_url(&format!("/ws?board={board}")),
            };
            let mut stop = stop.subscribe();
            rt.spawn(async move {
                let mut client = WsClient::connect(&url).await.expect("connect");
                let mut state = BoardState::default();
                loop {
                    tokio::select! {
                        _ = stop.changed() => return (i, state),
                        frame = client.next(Duration::from_secs(60)) => {
                            if let Some((frame, _)) = frame.expect("the connection stays up") {
                                state.apply(&frame).expect("patches arrive in order");
                            }
                        }
                    }
                }
            })
        })
        .collect();
    // Every client is connected and holds a snapshot before the activity starts.
    eventually(Duration::from_secs(60), "1000 connections", || {
        let metrics = server.serve.metrics();
        metrics
            .lines()
            .any(|l| {
                l.starts_with("leaderboard_ws_connections ") && l.ends_with(&format!(" {CLIENTS}"))
            })
            .then_some(())
    });
    for day in 2..=6 {
        for branch in ["a", "b", "c", "x"] {
            let n = (day as usize * 3 + branch.len() * 5 + branch.as_bytes()[0] as usize) % 7;
            more_quotes(&mut events, branch, n, day);
            events.mobile_payment(
                &format!("{branch}1"),
                branch,
                &format!("2016-06-{day:02}T15:00:00+08:00"),
                100.0 * (n as f64 + 1.0),
            );
        }
        server.produce(&events.take_new());
    }
    // Quiet: give the last patch time to reach everyone, then compare each client with the REST board.
    std::thread::sleep(Duration::from_secs(3));
    let _ = stop.send(true);
    let states: Vec<(usize, BoardState)> = rt.block_on(async {
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await.expect("client task"));
        }
        out
    });
    let card = server.get("/api/v1/scorecard?period=2016-06");
    for (board, branch) in subscriptions {
        let path = match branch {
            Some(b) => format!("{board}?branch={b}"),
            None => board.to_string(),
        };
        let want = rest_board(&server, &path);
        assert!(!want.is_empty());
        let clients: Vec<&BoardState> = states
            .iter()
            .filter(|(i, _)| subscriptions[i % subscriptions.len()] == (board, branch))
            .map(|(_, s)| s)
            .collect();
        assert_eq!(clients.len(), CLIENTS / subscriptions.len());
        for state in clients {
            assert_eq!(state.ranking(), want, "{board} {branch:?}");
        }
    }
    // The total-score board is the scorecard's ranking.
    let by_score: Vec<(String, Value)> = card["branches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["branch_id"].as_str().unwrap().to_string(),
                b["rank"].clone(),
            )
        })
        .collect();
    let board_ranks: Vec<(String, Value)> = rest_board(&server, "branch_total_score")
        .into_iter()
        .map(|(k, r, _)| (k, r))
        .collect();
    assert_eq!(board_ranks, by_score);
}

const ADMIN: &str = "admin-token-0123456789";
const HALL: &str = "kiosk-token-hall-0123456789";
const LIMITED: &str = "kiosk-token-only-b-0123456789";

/// The managed screens' configuration: a hall screen found by its token, a lobby nobody watches.
const SCREENS: &str = "[live]\npush_interval_ms = 1000\nlast_month_days = 3\nlast_month_until_quotes = 6\n\
[access]\nadmin_token = \"admin-token-0123456789\"\n\
[[access.kiosk]]\ntoken = \"kiosk-token-hall-0123456789\"\nlabel = \"甲 大厅\"\n\
[[access.kiosk]]\ntoken = \"kiosk-token-only-b-0123456789\"\nbranch = \"b\"\n\
[[screens]]\nname = \"hall\"\nlabel = \"甲支公司 大厅\"\ntoken = \"kiosk-token-hall-0123456789\"\n\
boards = [{ board = \"branch_mobile_quotes\", seconds = 15 }]\n\
[[screens]]\nname = \"lobby\"\nbranch = \"b\"\nboards = [{ board = \"branch_total_score\" }]\n";

#[test]
fn managed_screens_get_their_playlist_follow_changes_and_are_listed() {
    let server = LiveServer::start(ORG, SCREENS);
    let rt = runtime();
    let url = |path: &str| server.serve.url(path);

    // Found by its token: the heartbeat, then the playlist.
    let ws = server.ws_url(&format!("/ws?token={HALL}&version=9.9.9"));
    let mut hall = rt.block_on(WsClient::connect(&ws)).unwrap();
    let frames = rt
        .block_on(hall.read_until(Duration::from_secs(10), |f| f["type"] == "playlist"))
        .unwrap();
    assert_eq!(frames[0].0["type"], "hb", "{frames:?}");
    let playlist = &frames.last().unwrap().0;
    assert_eq!(playlist["screen"], "hall");
    assert_eq!(playlist["label"], "甲支公司 大厅");
    assert_eq!(
        playlist["boards"],
        json!([{"board": "branch_mobile_quotes", "seconds": 15}])
    );
    assert!(playlist.get("token").is_none(), "the token is never sent");
    rt.block_on(hall.subscribe("branch_mobile_quotes", None))
        .unwrap();
    rt.block_on(hall.send(json!({"type": "showing", "board": "branch_mobile_quotes"})))
        .unwrap();

    // Listed: the hall lit with what it shows, the lobby dark; the token never appears.
    let list = eventually(Duration::from_secs(5), "the hall listed", || {
        let (status, list) = request("GET", &url("/api/v1/screens"), Some(ADMIN), None);
        assert_eq!(status, 200, "{list}");
        (list["screens"][0]["showing"] == "branch_mobile_quotes").then_some(list)
    });
    assert_eq!(list["screens"][0]["name"], "hall");
    assert_eq!(list["screens"][0]["dark"], false);
    assert_eq!(list["screens"][0]["version"], "9.9.9");
    assert_eq!(list["screens"][1]["name"], "lobby");
    assert_eq!(list["screens"][1]["dark"], true);
    assert_eq!(list["connections"][0]["token_label"], "甲 大厅");
    assert_eq!(
        list["connections"][0]["boards"],
        json!(["branch_mobile_quotes"])
    );
    assert!(
        !list.to_string().contains(HALL),
        "tokens stay secret: {list}"
    );
    // A token limited to branch b sees b's screens only, and not the hall's connection.
    let (_, own) = request("GET", &url("/api/v1/screens"), Some(LIMITED), None);
    let names: Vec<&Value> = own["screens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["name"])
        .collect();
    assert_eq!(names, [&json!("lobby")]);
    assert_eq!(own["connections"], json!([]));

    // Changing the playlist: kiosk tokens may not, a bad board is refused, the admin's change arrives at
    // once.
    let change = json!({"lang": "en", "ticker": "Sprint: 10 mobile quotes each",
        "boards": [{"board": "user_mobile_quotes", "seconds": 30}, {"board": "branch_total_score"}]});
    let put = url("/api/v1/screens/hall");
    assert_eq!(
        request("PUT", &put, Some(HALL), Some(change.clone())).0,
        403
    );
    let typo = url("/api/v1/screens/hal");
    let (status, _) = request("PUT", &typo, Some(ADMIN), Some(change.clone()));
    assert_eq!(status, 404, "no screen is added by a typo");
    let bad = json!({"boards": [{"board": "branch_quotes"}]});
    let (status, body) = request("PUT", &put, Some(ADMIN), Some(bad));
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("unknown board"),
        "{body}"
    );
    let too_short = json!({"boards": [{"board": "branch_total_score", "seconds": 1}]});
    assert_eq!(request("PUT", &put, Some(ADMIN), Some(too_short)).0, 400);
    let sent = Instant::now();
    let (status, body) = request("PUT", &put, Some(ADMIN), Some(change));
    assert_eq!(status, 200, "{body}");
    let frames = rt
        .block_on(hall.read_until(Duration::from_secs(5), |f| f["type"] == "playlist"))
        .unwrap();
    let arrived = sent.elapsed();
    let playlist = &frames.last().unwrap().0;
    assert_eq!(playlist["lang"], "en");
    assert_eq!(playlist["ticker"], "Sprint: 10 mobile quotes each");
    assert_eq!(
        playlist["boards"],
        json!([{"board": "user_mobile_quotes", "seconds": 30}, {"board": "branch_total_score", "seconds": 20}])
    );
    assert!(
        arrived < Duration::from_millis(1000),
        "the change took {arrived:?}, more than one push interval"
    );

    // A page naming an unknown screen is told so (a TV cannot read a refused upgrade's status) and gets
    // no playlist.
    let ws = server.ws_url(&format!(
        "/ws?screen=nope&board=branch_total_score&token={LIMITED}"
    ));
    let mut lost = rt.block_on(WsClient::connect(&ws)).unwrap();
    let message = rt.block_on(next_error(&mut lost));
    assert!(message.contains("no screen named \"nope\""), "{message}");
    assert!(message.contains("hall, lobby"), "{message}");
    rt.block_on(lost.close());
    rt.block_on(hall.close());
}

/// A server configured by `config` holding [`opening`] (a 3, b 2, c 1, x 9 mobile quotes on June 1st),
/// and a client following `branch_mobile_quotes`.
fn following_the_opening(
    config: &str,
) -> (LiveServer, tokio::runtime::Runtime, Scenario, WsClient) {
    let mut server = LiveServer::start(ORG, config);
    let rt = runtime();
    let mut events = Scenario::new();
    opening(&mut events, [3, 2, 1, 9]);
    server.produce(&events.take_new());
    let client = rt
        .block_on(WsClient::connect(
            &server.ws_url("/ws?board=branch_mobile_quotes"),
        ))
        .unwrap();
    (server, rt, events, client)
}

/// The new lines of `events`, their June 1st 11:00 moved to July 1st.
fn moved_to_july(events: &mut Scenario) -> Vec<String> {
    events
        .take_new()
        .into_iter()
        .map(|line| line.replace("2016-06-01T11", "2016-07-01T11"))
        .collect()
}

#[test]
fn heartbeats_name_last_month_while_a_new_month_opens() {
    let (mut server, rt, mut events, mut client) = following_the_opening(
        "[live]\npush_interval_ms = 100\nlast_month_days = 2\nlast_month_until_quotes = 6\n",
    );
    // Heartbeats come every 10 s whatever happens: a deadline over the whole wait.
    let hb = |client: &mut WsClient, want: Value| {
        let wait = client.read_until(Duration::from_secs(15), |f| {
            f["type"] == "hb" && f["opening"] == want
        });
        rt.block_on(async { tokio::time::timeout(Duration::from_secs(30), wait).await })
            .unwrap_or_else(|_| panic!("no heartbeat with opening {want} within 30 s"))
            .unwrap_or_else(|e| panic!("no heartbeat with opening {want}: {e}"));
    };
    // June is the assessment's first month: no last month to show.
    hb(&mut client, Value::Null);
    // July 1st, two mobile quotes city-wide: June's final standings alternate with July's.
    events.tick("a", "2016-07-01T11:00:00+08:00");
    more_quotes(&mut events, "a", 2, 1);
    server.produce(&moved_to_july(&mut events));
    hb(&mut client, json!("2016-06"));
    let june = server.get("/api/v1/boards/branch_mobile_quotes?period=2016-06");
    assert_eq!(june["period"], "2016-06", "what the screens fetch: {june}");
    assert_eq!(june["rows"][0]["key"], "a", "{june}");
    // Six mobile quotes in July: the new month stands on its own.
    more_quotes(&mut events, "b", 4, 1);
    server.produce(&moved_to_july(&mut events));
    hb(&mut client, Value::Null);
    rt.block_on(client.close());
}

#[test]
fn an_overtake_is_one_moment_however_many_patches_it_took() {
    // a 3, b 2, c 1 mobile quotes at 10:00; then c gains 2 in separate batches at 10:10.
    let (mut server, rt, mut events, mut client) = following_the_opening(
        "[live]\npush_interval_ms = 50\nmoment_step_secs = 60\nmoment_gap_secs = 1\n",
    );
    rt.block_on(client.read_until(Duration::from_secs(10), |f| f["type"] == "snapshot"))
        .unwrap();
    for user in ["c1", "c2"] {
        events.quote(user, "c", "2016-06-01T10:10:00+08:00", "phone");
        server.produce(&events.take_new());
        std::thread::sleep(Duration::from_millis(300));
    }
    // The next step of event time: the figures of 10:10 are judged.
    events.quote("a1", "a", "2016-06-01T10:12:00+08:00", "pc");
    server.produce(&events.take_new());
    let mut patches = 0;
    let mut moments = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(6);
    while Instant::now() < deadline {
        if let Some((frame, _)) = rt
            .block_on(client.next(Duration::from_millis(500)))
            .unwrap()
        {
            match frame["type"].as_str() {
                Some("patch") => patches += 1,
                Some("moment") => moments.push(frame),
                _ => {}
            }
        }
    }
    assert!(patches >= 2, "the overtake took {patches} patches");
    let overtakes: Vec<&Value> = moments
        .iter()
        .filter(|m| m["kind"] == "overtake" && m["board"] == "branch_mobile_quotes")
        .collect();
    assert_eq!(overtakes.len(), 1, "one overtake frame: {moments:?}");
    assert_eq!(overtakes[0]["branch_id"], "c");
    assert_eq!(overtakes[0]["rank"], 1, "c ties a for first");
    assert_eq!(
        overtakes[0]["passed"],
        json!([{"branch_id": "b", "branch_name": "乙支公司"}])
    );
    // Three ranked branches all sit in the top tier: no tier moment.
    assert!(moments.iter().all(|m| m["kind"] != "tier"), "{moments:?}");
    rt.block_on(client.close());
}
