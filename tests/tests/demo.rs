//! `leaderboard demo`: the live pipeline and server on the embedded simulator, with no broker.

use serde_json::Value;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tests::broker::{free_port, wait_until_listening};
use tests::process::{get_json as get, leaderboard_binary};

#[test]
fn the_demo_serves_live_scorecards_without_a_broker_and_stops_cleanly() {
    let port = free_port();
    let mut demo = Command::new(leaderboard_binary())
        .args(["demo", "--listen", &format!("127.0.0.1:{port}")])
        .args([
            "--catch-up-secs",
            "20",
            "--branches",
            "4",
            "--users-per-branch",
            "6",
        ])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_until_listening(&mut demo, port, Duration::from_secs(30))
        .unwrap_or_else(|failure| panic!("leaderboard demo: {failure}"));
    let base = format!("http://127.0.0.1:{port}");

    // Events flow in by themselves: the current month's scorecard appears and keeps changing.
    let deadline = Instant::now() + Duration::from_secs(30);
    let first = loop {
        let (status, card) = get(&format!("{base}/api/v1/scorecard"));
        if status == 200 {
            break card;
        }
        assert!(
            Instant::now() < deadline,
            "no scorecard after 30 s ({status})"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(first["period"], "2016-06");
    assert_eq!(first["branches"].as_array().unwrap().len(), 4);
    let accepted = |status: &Value| status["counts"]["accepted"].as_u64().unwrap();
    let (_, before) = get(&format!("{base}/api/v1/status"));
    std::thread::sleep(Duration::from_secs(2));
    let (_, after) = get(&format!("{base}/api/v1/status"));
    assert!(
        accepted(&after) > accepted(&before),
        "{before} then {after}"
    );
    assert_eq!(get(&format!("{base}/ready")).0, 200);
    let (status, users) = get(&format!(
        "{base}/api/v1/scorecard?users=true&period=2016-06"
    ));
    assert_eq!(status, 200);
    assert!(!users["users"].as_array().unwrap().is_empty());
    let (status, error) = get(&format!("{base}/api/v1/scorecard?period=June"));
    assert_eq!(status, 400);
    assert!(error["error"].as_str().unwrap().contains("June"), "{error}");

    // SIGTERM stops it cleanly, and it printed where to look.
    Command::new("kill")
        .args(["-TERM", &demo.id().to_string()])
        .status()
        .unwrap();
    let exit = demo.wait().unwrap();
    assert!(exit.success(), "{exit}");
    let mut stderr = String::new();
    demo.stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        stderr.contains(&format!("{base}/api/v1/scorecard")),
        "{stderr}"
    );
}
