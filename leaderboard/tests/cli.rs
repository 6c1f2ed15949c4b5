//! The `leaderboard` binary end to end: simulate, replay (JSON, table, rejects, users), rewards, and errors
//! a person can act on.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn leaderboard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_leaderboard"))
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stdout_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

/// Simulates 35 days for 4 branches into `dir`; returns (events, org).
fn simulate(dir: &Path, seed: &str) -> (PathBuf, PathBuf) {
    let events = dir.join(format!("events-{seed}.ndjson"));
    let org = dir.join("org.csv");
    let out = leaderboard(&[
        "simulate",
        "--out",
        events.to_str().unwrap(),
        "--org-out",
        org.to_str().unwrap(),
        "--from",
        "2016-06-01",
        "--days",
        "35",
        "--branches",
        "4",
        "--users-per-branch",
        "8",
        "--seed",
        seed,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (events, org)
}

/// Runs `command` (`replay` or `rewards`) on `events` and `org` for `period`, with `extra` flags.
fn score(command: &str, events: &Path, org: &Path, period: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        command,
        "--org",
        org.to_str().unwrap(),
        "--events",
        events.to_str().unwrap(),
        "--period",
        period,
    ];
    args.extend_from_slice(extra);
    leaderboard(&args)
}

#[test]
fn simulate_is_reproducible_by_seed() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = simulate(dir.path(), "5");
    let first = std::fs::read(&a).unwrap();
    let (b, _) = simulate(dir.path(), "5");
    assert_eq!(first, std::fs::read(&b).unwrap());
    let (c, _) = simulate(dir.path(), "6");
    assert_ne!(first, std::fs::read(&c).unwrap());
    assert!(first.iter().filter(|b| **b == b'\n').count() > 5_000);
}

#[test]
fn replay_prints_the_scorecard_and_a_summary_independent_of_batch_size() {
    let dir = tempfile::tempdir().unwrap();
    let (events, org) = simulate(dir.path(), "9");
    let out = score("replay", &events, &org, "2016-06", &["--users"]);
    let card = stdout_json(&out);
    assert_eq!(card["period"], "2016-06");
    assert_eq!(
        card["final"], true,
        "the file runs to the evening of July 5: June closed after July 4 00:05"
    );
    let branches = card["branches"].as_array().unwrap();
    assert_eq!(branches.len(), 4);
    assert_eq!(branches[0]["rank"], 1);
    for key in [
        "quotes_per_user",
        "mobile_quotes_per_user",
        "wechat_binding_rate",
        "reports_accepted",
    ] {
        assert!(branches[0]["indicators"].get(key).is_some(), "{key}");
        assert!(branches[0]["points"][key].is_number(), "{key}");
    }
    assert!(card["users"].as_array().unwrap().len() >= 32);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let summary = stderr.lines().last().unwrap();
    let counts: Vec<u64> = summary
        .split(' ')
        .map(|kv| kv.split('=').nth(1).unwrap().parse().unwrap())
        .collect();
    let lines = std::fs::read_to_string(&events).unwrap().lines().count() as u64;
    assert_eq!(counts.iter().sum::<u64>(), lines, "{summary}");
    assert!(summary.starts_with("accepted="), "{summary}");

    let small_batches = score(
        "replay",
        &events,
        &org,
        "2016-06",
        &["--users", "--batch-size", "7"],
    );
    assert_eq!(stdout_json(&small_batches), card);
}

#[test]
fn rejected_lines_are_written_with_their_reasons_and_the_rest_is_scored() {
    let dir = tempfile::tempdir().unwrap();
    let (events, org) = simulate(dir.path(), "3");
    let mut text = std::fs::read_to_string(&events).unwrap();
    text.push_str("not json at all\n");
    text.push_str(r#"{"event_id":"bad1","event_type":"payment_completed","occurred_at":"2016-06-30T10:00:00+08:00","branch_id":"b01","user_id":"b01-u001","terminal":"phone","payment_id":"p","amount":-50}"#);
    text.push('\n');
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(b"{\"event_id\":\"\xff\"}\n");
    std::fs::write(&events, bytes).unwrap();
    let rejects = dir.path().join("rejects.ndjson");
    let out = score(
        "replay",
        &events,
        &org,
        "2016-06",
        &["--rejects", rejects.to_str().unwrap()],
    );
    stdout_json(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("rejected=3"));
    let rows: Vec<Value> = std::fs::read_to_string(&rejects)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[2]["kind"], "not_utf8");
    assert_eq!(
        rows[2]["raw_hex"], "7b226576656e745f6964223a22ff227d",
        "the exact bytes"
    );
    assert!(rows[0].get("raw_hex").is_none());
    assert_eq!(rows[0]["kind"], "not_json");
    assert_eq!(rows[0]["raw"], "not json at all");
    assert_eq!(
        rows[1]["reason"],
        "payment_completed.amount must be > 0 and <= 1e10, got -50"
    );
    assert_eq!(rows[1]["field"], "amount");
    assert!(rows[1]["line"].as_u64().unwrap() > 1000);
}

#[test]
fn table_format_shows_branch_names_and_chinese_labels() {
    let dir = tempfile::tempdir().unwrap();
    let (events, org) = simulate(dir.path(), "4");
    let out = score("replay", &events, &org, "2016-Q3", &["--format", "table"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for expected in ["张店支公司", "人均报价次数", "微信绑定率", "2016-Q3"] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
}

#[test]
fn rewards_prints_awards_bonuses_and_payouts() {
    let dir = tempfile::tempdir().unwrap();
    let (events, org) = simulate(dir.path(), "8");
    let out = score("rewards", &events, &org, "2016-06", &[]);
    let rewards = stdout_json(&out);
    let awards = rewards["branch_awards"]["awards"].as_array().unwrap();
    assert_eq!(
        awards.len(),
        4,
        "4 in-scope branches, all within the six prizes"
    );
    assert_eq!(awards[0]["yuan"], 2000.0);
    let payouts = rewards["salesperson_payouts"].as_array().unwrap();
    assert!(!payouts.is_empty());
    assert!(payouts.iter().all(|p| p["payable_month"] == "2016-07"
        && p["yuan"].as_f64().unwrap() == 5.0 * p["policies"].as_f64().unwrap()));
    assert!(
        payouts
            .iter()
            .all(|p| p["display_name"].is_string() && p["branch_name"] != p["branch_id"]),
        "payouts name the person and the branch: {payouts:?}"
    );

    // The same as tables for people, with names; `rewards` has no replay-only flags.
    let out = score("rewards", &events, &org, "2016-06", &["--format", "table"]);
    let text = String::from_utf8(out.stdout).unwrap();
    let first = payouts[0]["display_name"].as_str().unwrap();
    for expected in ["推广先进单位", "一等奖", "出单奖励", "张店支公司", first] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
    assert!(
        serde_json::from_str::<Value>(&text).is_err(),
        "a table, not JSON"
    );
    let help = String::from_utf8(leaderboard(&["rewards", "--help"]).stdout).unwrap();
    assert!(
        help.contains("--format") && !help.contains("--users"),
        "{help}"
    );
}

#[test]
fn a_branch_missing_from_the_organisation_file_is_named_in_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let (events, org) = simulate(dir.path(), "5");
    let text = std::fs::read_to_string(&org).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let dropped = lines.pop().unwrap().split(',').next().unwrap().to_string();
    let partial = dir.path().join("partial.csv");
    std::fs::write(&partial, lines.join("\n") + "\n").unwrap();
    let out = score("replay", &events, &partial, "2016-06", &[]);
    let card = stdout_json(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "warning: branch {dropped} is not in {}",
            partial.display()
        )),
        "{stderr}"
    );
    let row = card["branches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["branch_id"] == dropped.as_str())
        .expect("still listed");
    assert_eq!(row["in_scope"], false);
}

#[test]
fn bad_arguments_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (events, org) = simulate(dir.path(), "2");
    let run = |period: &str| score("replay", &events, &org, period, &[]);
    let out = run("2016-13");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("period must be YYYY-MM, YYYY-Qn or assessment")
    );
    let out = run("2016-11");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no data yet"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A file with no event to score says so, naming the file, after its (zero) summary line.
    let empty = dir.path().join("empty.ndjson");
    std::fs::write(&empty, "").unwrap();
    for command in ["replay", "rewards"] {
        let out = score(command, &empty, &org, "assessment", &[]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{command}: {stderr}");
        assert!(
            stderr.contains(&format!("cannot score the events of {}", empty.display()))
                && stderr.contains("no events have been processed yet"),
            "{command}: {stderr}"
        );
        assert!(
            stderr.contains("accepted=0 duplicate=0 late=0 rejected=0"),
            "{command}: {stderr}"
        );
    }
    let out = score(
        "replay",
        &events,
        Path::new("/nonexistent/org.csv"),
        "2016-06",
        &[],
    );
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("cannot open organisation file /nonexistent/org.csv")
    );
    // A user's mistake is one line, never a backtrace, even with RUST_BACKTRACE set.
    let out = Command::new(env!("CARGO_BIN_EXE_leaderboard"))
        .args(["replay", "--org", "/nonexistent/org.csv", "--events"])
        .arg(&events)
        .args(["--period", "2016-06"])
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("leaderboard: cannot open organisation file"),
        "{stderr}"
    );
    let config = dir.path().join("bad.toml");
    std::fs::write(&config, "[targets]\nquote_per_user = 3\n").unwrap();
    let out = score(
        "replay",
        &events,
        &org,
        "2016-06",
        &["--config", config.to_str().unwrap()],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("quote_per_user"));
}
