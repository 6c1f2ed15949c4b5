//! Moments (docs/websocket.md#moments) are judged at fixed steps of event time, so a replay of the same
//! log gives the same list whatever its batch size: a simulated June and early July fed in batches of 1,
//! 7, 1000 and all at once give identical moments, with every kind among them, and the overtakes agree
//! with the standings before and after.

use analytics::{Engine, Moment, MomentSteps, MomentWatch, RankedBoard, process_with_moments};
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

/// The moments of `messages` fed in batches of `batch`.
fn moments(messages: &[Message], batch: usize) -> Vec<Moment> {
    let org = Organisation::from_csv(organisation_csv(6).as_bytes()).unwrap();
    let config = config();
    let mut engine = Engine::new(Arc::new(config.clone()), Arc::new(org));
    let mut steps = MomentSteps::new(&config);
    let mut watch = MomentWatch::default();
    let mut all = Vec::new();
    for chunk in messages.chunks(batch) {
        let (_, found) = block_on(process_with_moments(
            &mut engine,
            &mut steps,
            &mut watch,
            chunk,
        ))
        .unwrap();
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
    assert!(awards.is_some(), "June closes the second quarter");
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
