//! The live server's REST API and access rules, and the websocket's celebrations, month rollover and
//! stale-data heartbeats, against a live server on a real broker.

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tests::Scenario;
use tests::live::LiveServer;
use tests::process::request;
use tests::ws_client::WsClient;

const ORG: &str =
    "branch_id,branch_name,in_scope\na,甲支公司,true\nb,乙支公司,true\nx,车商,false\n";
const ADMIN: &str = "admin-token-0123456789";
const KIOSK: &str = "kiosk-token-all-0123456789";
const KIOSK_A: &str = "kiosk-token-a-0123456789";
/// The scenarios below send a few events days apart on each partition: every event moves its partition's
/// watermark (the jump guard has its own tests).
const CONFIG: &str = r#"
watermark_confirmations = 1

[access]
admin_token = "admin-token-0123456789"
[[access.kiosk]]
token = "kiosk-token-all-0123456789"
label = "city office"
[[access.kiosk]]
token = "kiosk-token-a-0123456789"
branch = "a"

[live]
push_interval_ms = 50
stale_after_secs = 2
large_deal_yuan = 5000
"#;

fn opening() -> Scenario {
    let mut s = Scenario::new();
    for branch in ["a", "b", "x"] {
        for u in 1..=2 {
            let user = format!("{branch}{u}");
            s.event(
                "user_registered",
                "2016-05-20T09:00:00+08:00",
                branch,
                Some(&user),
                json!({"channel": "direct", "display_name": format!("{branch}号{u}")}),
            );
            s.quote(&user, branch, "2016-06-01T10:00:00+08:00", "phone");
        }
    }
    s
}

fn policy(s: &mut Scenario, branch: &str, user: &str, premium: f64, deal_type: &str, at: &str) {
    let n = s.take_new().len(); // keep ids unique per call (the returned lines are produced by the caller)
    assert_eq!(n, 0, "produce pending lines first");
    s.event(
        "policy_issued",
        at,
        branch,
        Some(user),
        json!({"policy_id": format!("P-{branch}-{user}-{premium}-{deal_type}-{at}"), "premium": premium, "deal_type": deal_type}),
    );
}

#[test]
fn tokens_boards_clearing_scores_and_the_openapi_document() {
    let mut server = LiveServer::start(ORG, CONFIG);
    let mut events = opening();
    server.produce(&events.take_new());
    let url = |p: &str| server.serve.url(p);

    // Without a token, or with a wrong one: 401 with a message. Health, pages and the document stay open.
    let (status, body) = request("GET", &url("/api/v1/scorecard"), None, None);
    assert_eq!(status, 401, "{body}");
    assert!(body["error"].as_str().unwrap().contains("token"), "{body}");
    assert_eq!(
        request(
            "GET",
            &url("/api/v1/scorecard"),
            Some("nope-nope-nope-nope"),
            None
        )
        .0,
        401
    );
    for open in [
        "/health",
        "/screen",
        "/manager",
        "/assets/screen.js",
        "/api/v1/openapi.json",
    ] {
        assert_eq!(request("GET", &url(open), None, None).0, 200, "{open}");
    }
    let (status, card) = request(
        "GET",
        &url("/api/v1/scorecard?users=true"),
        Some(KIOSK),
        None,
    );
    assert_eq!(status, 200, "{card}");
    assert_eq!(card["users"].as_array().unwrap().len(), 6);

    // A branch token sees its own people only, also through ?token= (what screens use).
    let (_, card) = request(
        "GET",
        &url(&format!("/api/v1/scorecard?users=true&token={KIOSK_A}")),
        None,
        None,
    );
    let people: Vec<&str> = card["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["branch_id"].as_str().unwrap())
        .collect();
    assert_eq!(people, ["a", "a"]);
    assert_eq!(
        card["branches"].as_array().unwrap().len(),
        3,
        "branch rankings stay visible"
    );
    let (status, board) = request(
        "GET",
        &url("/api/v1/boards/user_mobile_quotes"),
        Some(KIOSK_A),
        None,
    );
    assert_eq!(status, 200, "{board}");
    assert_eq!(board["branch"], "a");
    let (status, body) = request(
        "GET",
        &url("/api/v1/boards/user_mobile_quotes?branch=b"),
        Some(KIOSK_A),
        None,
    );
    assert_eq!(status, 403, "{body}");

    // Boards: the REST rows are the scorecard's, bad requests are 4xx with a message.
    let (_, board) = request(
        "GET",
        &url("/api/v1/boards/branch_total_score?period=2016-06"),
        Some(KIOSK),
        None,
    );
    let (_, card) = request(
        "GET",
        &url("/api/v1/scorecard?period=2016-06"),
        Some(KIOSK),
        None,
    );
    let board_rows: Vec<(Value, Value)> = board["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["key"].clone(), r["value"].clone()))
        .collect();
    let card_rows: Vec<(Value, Value)> = card["branches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["branch_id"].clone(), b["total"].clone()))
        .collect();
    assert_eq!(board_rows, card_rows);
    for (path, want) in [
        ("/api/v1/boards/nope", 404),
        ("/api/v1/boards/branch_total_score?period=2016-13", 400),
        ("/api/v1/boards/branch_total_score?branch=a", 400),
        ("/api/v1/boards/user_mobile_quotes?branch=zz", 400),
        ("/api/v1/boards/branch_total_score?colour=red", 400),
        ("/api/v1/nothing", 404),
    ] {
        let (status, body) = request("GET", &url(path), Some(ADMIN), None);
        assert_eq!(status, want, "{path}: {body}");
        assert!(
            body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{path}: {body}"
        );
    }

    // Clearing scores: admin only, validated like any event, then counted like any event.
    let post = |token: Option<&str>, body: Value| {
        request("POST", &url("/api/v1/clearing-scores"), token, Some(body))
    };
    let good = json!({"branch_id": "a", "month": "2016-06", "score": 8.5, "event_id": "cs-a-june"});
    assert_eq!(post(None, good.clone()).0, 401);
    assert_eq!(post(Some(KIOSK), good.clone()).0, 403);
    for (bad, words) in [
        (
            json!({"branch_id": "a", "month": "2016-06", "score": 11}),
            "between 0 and 10",
        ),
        (
            json!({"branch_id": "zz", "month": "2016-06", "score": 5}),
            "unknown branch",
        ),
        (
            json!({"branch_id": "a", "month": "June", "score": 5}),
            "June",
        ),
        (json!({"branch_id": "a", "score": 5}), "month"),
        (
            json!({"branch_id": "a", "month": "2017-01", "score": 5}),
            "outside the assessment",
        ),
    ] {
        let (status, body) = post(Some(ADMIN), bad.clone());
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(
            body["error"].as_str().unwrap().contains(words),
            "{bad}: {body}"
        );
    }
    let (status, event) = post(Some(ADMIN), good);
    assert_eq!(status, 202, "{event}");
    assert_eq!(event["event_type"], "clearing_scored");
    let produced_so_far = server.produced() + 1;
    server
        .serve
        .wait_for_total(produced_so_far, Duration::from_secs(20));
    let (_, card) = request(
        "GET",
        &url("/api/v1/scorecard?period=2016-06"),
        Some(KIOSK),
        None,
    );
    let a = card["branches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["branch_id"] == "a")
        .unwrap()
        .clone();
    assert_eq!(a["indicators"]["clearing_score"], 8.5, "{a}");
    assert_eq!(a["points"]["clearing_score"], 8.5, "{a}");
    // What the pipeline would drop without a word is refused instead of answered 202: a reused event_id
    // (a duplicate) and an event time in a final month (late).
    for (conflict, words) in [
        (
            json!({"branch_id": "a", "month": "2016-06", "score": 3, "event_id": "cs-a-june"}),
            "already used",
        ),
        (
            json!({"branch_id": "a", "month": "2016-06", "score": 3,
                   "occurred_at": "2015-12-01T10:00:00+08:00"}),
            "late",
        ),
    ] {
        let (status, body) = post(Some(ADMIN), conflict.clone());
        assert_eq!(status, 409, "{conflict}: {body}");
        assert!(body["error"].as_str().unwrap().contains(words), "{body}");
    }
    // A time over a year before the assessment is a wrong clock, refused as every event source's would be.
    let (status, body) = post(
        Some(ADMIN),
        json!({"branch_id": "a", "month": "2016-06", "score": 3,
               "occurred_at": "2010-06-01T10:00:00+08:00"}),
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("wrong clock"),
        "{body}"
    );
    // Every error has a JSON body, a wrong method and a plain GET of the websocket endpoint included.
    for (method, path, want) in [
        ("DELETE", "/api/v1/scorecard", 405),
        ("GET", "/api/v1/clearing-scores", 405),
        ("GET", "/ws?board=branch_total_score", 400),
    ] {
        let (status, body) = request(method, &url(path), Some(ADMIN), None);
        assert_eq!(status, want, "{method} {path}: {body}");
        assert!(body["error"].is_string(), "{method} {path}: {body}");
    }

    // The OpenAPI document lists every endpoint the server has, and each listed GET answers.
    let (_, doc) = request("GET", &url("/api/v1/openapi.json"), None, None);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for route in [
        "/api/v1/scorecard",
        "/api/v1/boards/{board}",
        "/api/v1/periods",
        "/api/v1/clearing-scores",
        "/api/v1/status",
        "/api/v1/sql",
        "/api/v1/catalog",
        "/api/v1/openapi.json",
        "/ws",
        "/screen",
        "/manager",
        "/health",
        "/ready",
        "/metrics",
    ] {
        assert!(paths.contains(&route), "{route} is not documented");
    }
    for path in paths {
        if doc["paths"][path].get("get").is_none() || path == "/ws" {
            continue;
        }
        let concrete = path.replace("{board}", "branch_mobile_quotes");
        let (status, body) = request("GET", &url(&concrete), Some(ADMIN), None);
        assert_eq!(status, 200, "{path}: {body}");
    }

    // The websocket wants a token too.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let err = rt
        .block_on(WsClient::connect(
            &server.ws_url("/ws?board=branch_total_score"),
        ))
        .err()
        .expect("refused without a token");
    assert!(err.contains("401"), "{err}");
    let mut ws = rt
        .block_on(WsClient::connect(
            &server.ws_url(&format!("/ws?token={KIOSK_A}")),
        ))
        .unwrap();
    rt.block_on(async {
        ws.subscribe("user_mobile_quotes", Some("b")).await.unwrap();
        let frames = ws
            .read_until(Duration::from_secs(5), |f| f["type"] == "error")
            .await
            .unwrap();
        let message = frames.last().unwrap().0["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(message.contains("branch a"), "{message}");
    });
}

#[test]
fn celebrations_rollover_and_stale_heartbeats_reach_the_screens() {
    let mut server = LiveServer::start(ORG, CONFIG);
    let mut events = opening();
    server.produce(&events.take_new());
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut ws = rt
        .block_on(WsClient::connect(
            &server.ws_url(&format!("/ws?board=branch_total_score&token={KIOSK}")),
        ))
        .unwrap();
    let frames = rt
        .block_on(ws.read_until(Duration::from_secs(10), |f| f["type"] == "snapshot"))
        .unwrap();
    let snapshot = frames.last().unwrap().0.clone();
    assert_eq!(snapshot["period"], "2016-06");

    // Small deals and deals outside the system are not celebrated; a large one is, with names.
    policy(
        &mut events,
        "b",
        "b1",
        1200.0,
        "system_quote",
        "2016-06-02T10:00:00+08:00",
    );
    server.produce(&events.take_new());
    policy(
        &mut events,
        "b",
        "b2",
        9000.0,
        "other",
        "2016-06-02T10:05:00+08:00",
    );
    server.produce(&events.take_new());
    policy(
        &mut events,
        "a",
        "a2",
        8800.0,
        "task",
        "2016-06-02T10:10:00+08:00",
    );
    server.produce(&events.take_new());
    let frames = rt
        .block_on(ws.read_until(Duration::from_secs(10), |f| f["type"] == "celebrate"))
        .unwrap();
    let deal = &frames.last().unwrap().0;
    assert_eq!(deal["premium"], 8800.0, "{deal}");
    assert_eq!(deal["branch_name"], "甲支公司");
    assert_eq!(deal["name"], "a号2");
    assert!(
        frames
            .iter()
            .filter(|(f, _)| f["type"] == "celebrate")
            .count()
            == 1
    );

    // A burst of large deals: never more than three celebrations in any second.
    for i in 0..12 {
        let user = if i % 2 == 0 { "a1" } else { "b1" };
        let branch = &user[..1];
        events.event(
            "policy_issued",
            "2016-06-02T11:00:00+08:00",
            branch,
            Some(user),
            json!({"policy_id": format!("BURST{i}"), "premium": 6000.0 + i as f64, "deal_type": "system_quote"}),
        );
    }
    server.produce(&events.take_new());
    let mut seen: Vec<Instant> = Vec::new();
    rt.block_on(async {
        let until = Instant::now() + Duration::from_secs(4);
        while Instant::now() < until {
            if let Some((f, _)) = ws.next(Duration::from_millis(200)).await.unwrap()
                && f["type"] == "celebrate"
            {
                seen.push(Instant::now());
            }
        }
    });
    assert!(!seen.is_empty(), "the burst was celebrated");
    for (i, t) in seen.iter().enumerate() {
        let within = seen[i..]
            .iter()
            .filter(|u| u.duration_since(*t) < Duration::from_secs(1))
            .count();
        assert!(within <= 3, "{within} celebrations within one second");
    }

    // No new events: after stale_after_secs the heartbeat says the data is stale...
    let frames = rt
        .block_on(ws.read_until(Duration::from_secs(15), |f| {
            f["type"] == "hb" && f["stale"] == true
        }))
        .unwrap();
    assert_eq!(frames.last().unwrap().0["connected"], true);
    // ...and July's first event rolls the board over into a new epoch, and the data is fresh again.
    events.login("a1", "a", "2016-07-01T10:00:00+08:00");
    server.produce(&events.take_new());
    let frames = rt
        .block_on(ws.read_until(Duration::from_secs(15), |f| f["type"] == "snapshot"))
        .unwrap();
    let kinds: Vec<&str> = frames
        .iter()
        .map(|(f, _)| f["type"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"rollover"), "{kinds:?}");
    let rollover = frames
        .iter()
        .find(|(f, _)| f["type"] == "rollover")
        .unwrap();
    assert_eq!(rollover.0["period"], "2016-07");
    assert_eq!(rollover.0["epoch"], snapshot["epoch"]);
    let july = &frames.last().unwrap().0;
    assert_eq!(july["period"], "2016-07");
    assert!(july["epoch"].as_u64() > snapshot["epoch"].as_u64());
    rt.block_on(ws.read_until(Duration::from_secs(15), |f| {
        f["type"] == "hb" && f["stale"] == false
    }))
    .unwrap();
}
