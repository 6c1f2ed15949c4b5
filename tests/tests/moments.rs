//! Moments (docs/websocket.md#moments) are judged at fixed steps of event time, so a replay of the same
//! log gives the same list whatever its batch size: a simulated June and early July fed in batches of 1,
//! 7, 1000 and all at once give identical moments, with every kind among them, and the overtakes agree
//! with the standings before and after.

use analytics::{Engine, Judging, Moment, Moments, RankedBoard};
use ingest::simulate::{SimulationSpec, organisation_csv, simulate};
use schemas::{Config, Message, Organisation, decode_event, encode_event};
use std::sync::Arc;
use tests::{CLOCK, block_on};

/// A simulated June and ten days of July as messages of one partition: 6 branches × 8 users.
fn history() -> Vec<Message> {
    let spec = SimulationSpec {
        from: "2016-06-01".parse().unwrap(),
        days: 40,
        branches: 6,
        users_per_branch: 8,
        seed: 7,
        zone: chrono_tz::Asia::Shanghai,
    };
    let mut lines = Vec::new();
    simulate(&spec, |e| {
        lines.push(encode_event(&e, spec.zone).to_string())
    });
    lines
        .iter()
        .enumerate()
        .map(|(offset, line)| Message {
            partition: 0,
            offset: offset as u64,
            decoded: decode_event(line.as_bytes(), CLOCK),
        })
        .collect()
}

fn config() -> Config {
    let mut config = Config::default();
    // A target the simulated people reach in the month.
    config.targets.quotes_per_user = 40.0;
    config
}

/// A new engine for the simulated organisation.
fn engine(config: &Config) -> Engine {
    let org = Organisation::from_csv(organisation_csv(6).as_bytes()).unwrap();
    Engine::new(Arc::new(config.clone()), Arc::new(org))
}

/// The moments of `messages` fed in batches of `batch`, judged at every step.
fn moments(messages: &[Message], batch: usize) -> Vec<Moment> {
    moments_judged(messages, batch, |_| Judging::EveryStep)
}

/// The moments of `messages` fed in batches of `batch`, each judged as `judging` says for its first offset.
fn moments_judged(
    messages: &[Message],
    batch: usize,
    judging: impl Fn(usize) -> Judging,
) -> Vec<Moment> {
    let config = config();
    let mut engine = engine(&config);
    let mut judge = Moments::new(&config);
    let mut all = Vec::new();
    for (i, chunk) in messages.chunks(batch).enumerate() {
        let judging = judging(i * batch);
        let (_, found) = block_on(judge.process(&mut engine, chunk, judging)).unwrap();
        all.extend(found);
    }
    all
}

#[test]
fn a_replay_gives_the_same_moments_whatever_its_batch_size() {
    let messages = history();
    let whole = moments(&messages, messages.len());
    for batch in [1, 7, 1000] {
        assert_eq!(moments(&messages, batch), whole, "batches of {batch}");
    }
    let kinds = |kind: &str| {
        whole
            .iter()
            .filter(|m| serde_json::to_value(m).unwrap()["kind"] == kind)
            .count()
    };
    for kind in [
        "overtake",
        "tier",
        "login_days",
        "quote_target",
        "month_close",
    ] {
        assert!(kinds(kind) > 0, "no {kind} among {} moments", whole.len());
    }
    // June closes once, with every branch, ranked ones first.
    let closes: Vec<&Moment> = whole
        .iter()
        .filter(|m| matches!(m, Moment::MonthClose { .. }))
        .collect();
    assert_eq!(closes.len(), 1);
    let Moment::MonthClose {
        month,
        standings,
        awards,
    } = closes[0]
    else {
        unreachable!()
    };
    assert_eq!(month, "2016-06");
    assert_eq!(standings.len(), 6);
    assert_eq!(standings[0].rank, Some(1));
    // June closes the second quarter; the assessment starts in June, so the award places as the quarter
    // closed are June's standings (July's first days, in the third quarter, do not count).
    let awards = &awards.as_ref().expect("June closes a quarter").awards;
    assert_eq!(awards.len(), 6);
    for award in awards {
        let place = standings
            .iter()
            .find(|p| p.unit.branch_id == award.branch_id)
            .unwrap();
        assert_eq!((Some(award.rank), award.total), (place.rank, place.total));
    }
    // A person reaches 20 login days once a month at most.
    let mut reached: Vec<(String, String)> = whole
        .iter()
        .filter_map(|m| match m {
            Moment::LoginDays { month, user_id, .. } => Some((month.clone(), user_id.clone())),
            _ => None,
        })
        .collect();
    let count = reached.len();
    reached.sort();
    reached.dedup();
    assert_eq!(reached.len(), count, "a threshold is reached once");
    // An overtake names who moved up and whom it passed, on a ranked board.
    let overtake = whole
        .iter()
        .find_map(|m| match m {
            Moment::Overtake {
                board,
                rank,
                passed,
                branch,
                ..
            } => Some((*board, *rank, passed.clone(), branch.clone())),
            _ => None,
        })
        .unwrap();
    assert!(!overtake.2.is_empty());
    assert!(
        overtake
            .2
            .iter()
            .all(|p| p.branch_id != overtake.3.branch_id)
    );
    assert!(matches!(
        overtake.0,
        RankedBoard::BranchMobileQuotes
            | RankedBoard::BranchMobilePayment
            | RankedBoard::BranchTotalScore
    ));
}

#[test]
fn a_pipeline_catching_up_announces_only_the_months_closing_then_judges_from_a_new_baseline() {
    let messages = history();
    let whole = moments(&messages, 1000);
    // Catching up until early July, at the end of the log after.
    let resume = messages.len() * 9 / 10 / 1000 * 1000;
    let caught_up = moments_judged(&messages, 1000, |start| {
        if start < resume {
            Judging::ClosesOnly
        } else {
            Judging::EveryStep
        }
    });
    let is_close = |m: &&Moment| matches!(m, Moment::MonthClose { .. });
    let closes = |all: &[Moment]| all.iter().filter(is_close).cloned().collect::<Vec<_>>();
    let others = |all: &[Moment]| {
        all.iter()
            .filter(|m| !is_close(m))
            .cloned()
            .collect::<Vec<_>>()
    };
    // June's close is announced all the same, with the same standings.
    assert_eq!(closes(&caught_up), closes(&whole));
    assert_eq!(closes(&caught_up).len(), 1);
    // Nothing of the backlog is judged; from the first step after it, the same moments as ever.
    let (after, all) = (others(&caught_up), others(&whole));
    assert!(!after.is_empty(), "moments after catching up");
    assert!(after.len() < all.len(), "the backlog's moments are skipped");
    assert!(
        all.ends_with(&after),
        "the same moments after the new baseline"
    );
    let first_live_month = |m: &Moment| serde_json::to_value(m).unwrap()["month"] == "2016-07";
    assert!(after.iter().all(first_live_month));
}

#[test]
fn replay_writes_the_moments_as_ndjson_the_same_at_any_batch_size() {
    let dir = tempfile::tempdir().unwrap();
    let (events, org) = tests::process::simulate(dir.path(), "2016-06-01", 35, 4, 6, 3);
    let replay = |batch: &str| {
        let out = dir.path().join(format!("moments-{batch}.ndjson"));
        tests::process::run(&[
            "replay",
            "--org",
            org.to_str().unwrap(),
            "--events",
            events.to_str().unwrap(),
            "--period",
            "assessment",
            "--batch-size",
            batch,
            "--moments",
            out.to_str().unwrap(),
        ]);
        std::fs::read_to_string(out).unwrap()
    };
    let default = replay("16384");
    assert_eq!(replay("13"), default);
    let kinds: Vec<String> = default
        .lines()
        .map(|line| {
            let moment: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(moment["month"].as_str().unwrap().len(), 7, "{line}");
            moment["kind"].as_str().unwrap().to_string()
        })
        .collect();
    assert!(kinds.iter().any(|k| k == "overtake"), "{kinds:?}");
    assert_eq!(kinds.iter().filter(|k| *k == "month_close").count(), 1);
}

#[test]
fn a_restart_during_a_months_grace_days_announces_its_close_from_one_catch_up_batch() {
    let messages = history();
    // 2016-07-01T00:00+08:00: the state before the restart holds June, not yet final.
    let july = messages
        .iter()
        .position(|m| {
            m.decoded
                .as_ref()
                .is_ok_and(|e| e.occurred_at >= 1_467_302_400_000)
        })
        .unwrap();
    let config = config();
    let mut engine = engine(&config);
    block_on(engine.process(&messages[..july])).unwrap();
    let mut judge = Moments::new(&config);
    let (_, found) =
        block_on(judge.process(&mut engine, &messages[july..], Judging::ClosesOnly)).unwrap();
    let months: Vec<String> = found
        .iter()
        .map(|m| match m {
            Moment::MonthClose { month, .. } => month.clone(),
            other => panic!("only closes while catching up: {other:?}"),
        })
        .collect();
    assert_eq!(months, ["2016-06"]);
}
