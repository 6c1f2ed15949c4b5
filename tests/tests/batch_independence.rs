//! docs/scoring.md#watermarks: figures depend only on each partition's event order, never on batch sizes or on how partitions
//! interleave. A simulated history is perturbed (events moved out of order, duplicates, a second partition)
//! and fed in batches of 1, 7, 1000 and all at once, and in different interleavings of its partitions; every
//! scorecard, the rewards and the day-by-day history must come out identical. And each day of the history
//! is the month's scorecard of only the events up to that day's end (docs/scoring.md#day-by-day-history).

use analytics::{Disposition, Engine, PeriodSpec};
use ingest::simulate::{SimulationSpec, organisation_csv, simulate};
use proptest::prelude::*;
use schemas::{Config, Message, Organisation, YearMonth, decode_event, encode_event};
use std::collections::BTreeMap;
use std::sync::Arc;
use tests::{CLOCK, block_on};

/// A small simulated history as wire lines: 3 branches × 6 users, June 1 to July 10.
fn history(seed: u64) -> Vec<String> {
    let spec = SimulationSpec {
        from: "2016-06-01".parse().unwrap(),
        days: 40,
        branches: 3,
        users_per_branch: 6,
        seed,
        zone: chrono_tz::Asia::Shanghai,
    };
    let mut lines = Vec::new();
    simulate(&spec, |e| {
        lines.push(encode_event(&e, spec.zone).to_string())
    });
    lines
}

/// Returns true if and only if `line` is a registration, deregistration or WeChat binding change.
fn is_state_change(line: &str) -> bool {
    [
        "user_registered",
        "user_deregistered",
        "wechat_bound",
        "wechat_unbound",
    ]
    .iter()
    .any(|t| line.contains(&format!("\"event_type\":\"{t}\"")))
}

/// A second issue of the policy of `line` (a `policy_issued`): another event id, three days earlier or later
/// (`earlier`; so some of them fall in another month than the first), and in another branch, so it goes to
/// the other partition.
fn second_issue(line: &str, earlier: bool) -> String {
    let mut event: serde_json::Value = serde_json::from_str(line).expect("a simulated line");
    let id = format!("{}-again", event["event_id"].as_str().unwrap());
    let at = chrono::DateTime::parse_from_rfc3339(event["occurred_at"].as_str().unwrap()).unwrap();
    let at = at + chrono::Duration::days(if earlier { -3 } else { 3 });
    let branch = if event["branch_id"] == "b02" {
        "b01"
    } else {
        "b02"
    };
    event["event_id"] = id.into();
    event["occurred_at"] = at.to_rfc3339().into();
    event["branch_id"] = branch.into();
    event["premium"] = 1234.5.into();
    event.to_string()
}

/// A copy of `line` with another event id, stamped `days` later: a device whose clock is wrong.
fn wrong_clock(line: &str, days: i64) -> String {
    let mut event: serde_json::Value = serde_json::from_str(line).expect("a simulated line");
    let id = format!("{}-clock", event["event_id"].as_str().unwrap());
    let at = chrono::DateTime::parse_from_rfc3339(event["occurred_at"].as_str().unwrap()).unwrap();
    event["event_id"] = id.into();
    event["occurred_at"] = (at + chrono::Duration::days(days)).to_rfc3339().into();
    event.to_string()
}

/// Moves some events later (out of order, some of them late), sends every third state change at the end
/// (after its month has closed), duplicates some, adds a second issue in the other partition for some
/// policies, inserts copies stamped by wrong clocks (`wrong_clocks`: where, and how many days ahead), and
/// splits the stream into two partitions by branch. Returns each partition's lines in order.
fn perturb(
    lines: Vec<String>,
    moves: &[(usize, usize)],
    duplicate_every: usize,
    wrong_clocks: &[(usize, i64)],
) -> [Vec<String>; 2] {
    let mut issues = 0;
    let mut lines: Vec<String> = lines
        .into_iter()
        .flat_map(|line| {
            let issue = line.contains("\"event_type\":\"policy_issued\"");
            issues += usize::from(issue);
            let again = (issue && issues % 7 == 0).then(|| second_issue(&line, issues % 14 == 0));
            std::iter::once(line).chain(again)
        })
        .collect();
    for &(at, days) in wrong_clocks {
        let at = at % lines.len();
        let copy = wrong_clock(&lines[at], days);
        lines.insert(at + 1, copy);
    }
    for &(from, distance) in moves {
        let from = from % lines.len();
        let to = (from + distance).min(lines.len() - 1);
        let line = lines.remove(from);
        lines.insert(to, line);
    }
    let mut state_changes = 0;
    let (last, mut lines): (Vec<String>, Vec<String>) = lines.into_iter().partition(|line| {
        let third = is_state_change(line) && state_changes % 3 == 2;
        state_changes += usize::from(is_state_change(line));
        third
    });
    lines.extend(last);
    let mut out = [Vec::new(), Vec::new()];
    for (i, line) in lines.into_iter().enumerate() {
        let partition = usize::from(line.contains("\"branch_id\":\"b02\""));
        if i % duplicate_every == 0 {
            out[partition].push(line.clone());
        }
        out[partition].push(line);
    }
    out
}

/// Interleaves the partitions: `pattern[i]` says how many messages to take from partition i % 2 next.
fn interleave(partitions: &[Vec<String>; 2], pattern: &[usize]) -> Vec<Message> {
    let mut cursors = [0usize; 2];
    let mut out = Vec::new();
    let mut step = 0;
    while cursors[0] < partitions[0].len() || cursors[1] < partitions[1].len() {
        let p = step % 2;
        let take = pattern
            .get(step % pattern.len().max(1))
            .copied()
            .unwrap_or(1)
            .max(1);
        for _ in 0..take {
            if let Some(line) = partitions[p].get(cursors[p]) {
                out.push(Message {
                    partition: p as u32,
                    offset: cursors[p] as u64,
                    decoded: decode_event(line.as_bytes(), CLOCK),
                });
                cursors[p] += 1;
            }
        }
        step += 1;
    }
    out
}

/// Where two outputs first differ, with some context, or `None` when they are equal.
fn difference(actual: &str, expected: &str) -> Option<String> {
    if actual == expected {
        return None;
    }
    let at = actual
        .bytes()
        .zip(expected.bytes())
        .position(|(a, b)| a != b)
        .unwrap_or(actual.len().min(expected.len()));
    let window = |s: &str| {
        let start = s.floor_char_boundary(at.saturating_sub(400));
        let end = s.ceil_char_boundary((at + 200).min(s.len()));
        s[start..end].to_string()
    };
    Some(format!(
        "outputs differ at byte {at}:\n  got      …{}…\n  expected …{}…",
        window(actual),
        window(expected)
    ))
}

/// Every output that depends on the figures, as one string.
fn outputs(messages: &[Message], batch: usize) -> String {
    let org = Organisation::from_csv(organisation_csv(3).as_bytes()).unwrap();
    let mut engine = Engine::new(Arc::new(Config::default()), Arc::new(org));
    for chunk in messages.chunks(batch.max(1)) {
        block_on(engine.process(chunk)).unwrap();
    }
    let mut out = String::new();
    for period in ["2016-06", "2016-07", "2016-Q3", "assessment"] {
        let card = engine
            .scorecard(period.parse::<PeriodSpec>().unwrap(), true)
            .unwrap();
        out += &serde_json::to_string(&card).unwrap();
    }
    out += &serde_json::to_string(&engine.rewards(PeriodSpec::Assessment).unwrap()).unwrap();
    for month in ["2016-06", "2016-07"] {
        let history = engine.history(month.parse().unwrap(), None).unwrap();
        out += &serde_json::to_string(&history).unwrap();
    }
    out + &format!("{:?}", engine.counts())
}

/// The outputs without the disposition counts: whether a cancellation of a policy issued on the other
/// partition is late depends on whether its issue arrived first (docs/scoring.md#late-events); the figures
/// never do.
fn figures(outputs: &str) -> &str {
    &outputs[..outputs
        .rfind("Counts {")
        .expect("the counts end the outputs")]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

    #[test]
    fn batch_sizes_and_interleavings_never_change_the_figures(
        seed in 0u64..1_000,
        moves in prop::collection::vec((0usize..100_000, 1usize..3_000), 0..60),
        duplicate_every in 15usize..120,
        pattern in prop::collection::vec(1usize..500, 1..6),
        wrong_clocks in prop::collection::vec((0usize..100_000, 1i64..200), 0..8),
    ) {
        let partitions = perturb(history(seed), &moves, duplicate_every, &wrong_clocks);
        let messages = interleave(&partitions, &[1]);
        let reference = outputs(&messages, messages.len());
        prop_assert!(reference.contains("accepted: "), "the outputs include the counts");
        for batch in [1, 7, 1000] {
            let diff = difference(&outputs(&messages, batch), &reference);
            prop_assert!(diff.is_none(), "batch size {}: {}", batch, diff.unwrap_or_default());
        }
        let other_order = interleave(&partitions, &pattern);
        let diff = difference(figures(&outputs(&other_order, 1000)), figures(&reference));
        prop_assert!(diff.is_none(), "interleaving {:?}: {}", pattern, diff.unwrap_or_default());
    }
}

#[test]
fn the_perturbation_really_produces_duplicates_and_late_events() {
    // Guards the property test against testing nothing: the perturbed stream must exercise the hard paths.
    let partitions = perturb(
        history(3),
        &[(100, 2_900), (2_000, 2_500), (50, 2_950)],
        20,
        &[(500, 120), (1_500, 2)],
    );
    let messages = interleave(&partitions, &[1]);
    let org = Organisation::from_csv(organisation_csv(3).as_bytes()).unwrap();
    let mut engine = Engine::new(Arc::new(Config::default()), Arc::new(org));
    block_on(engine.process(&messages)).unwrap();
    let counts = engine.counts();
    assert!(counts.duplicate > 50, "{counts:?}");
    let second_issues = partitions
        .iter()
        .flatten()
        .filter(|line| line.contains("-again\""))
        .count();
    assert!(second_issues > 20, "{second_issues} second issues");
    assert!(counts.accepted > 1_000, "{counts:?}");
    // State changes recorded after their own month had closed for their partition.
    let calendar = *engine.calendar();
    let users = &engine.state().entities().users;
    let after_close = |at: i64, open_from: Option<YearMonth>| {
        open_from.is_some_and(|open| YearMonth::of_date(calendar.local_date(at)) < open)
    };
    let memberships = users
        .iter()
        .flat_map(|u| &u.memberships)
        .filter(|c| after_close(c.first.at, c.counts_from.0))
        .count();
    let bindings = users
        .iter()
        .flat_map(|u| &u.bindings)
        .filter(|c| after_close(c.first.at, c.counts_from.0))
        .count();
    assert!(memberships > 5 && bindings > 0, "{memberships} {bindings}");
    assert!(
        engine.state().arrival().outliers() >= 1,
        "the wrong clock 120 days ahead is an outlier"
    );
}

#[test]
fn an_event_from_a_wrong_clock_changes_no_figure_of_the_months_it_arrives_in() {
    // One quote stamped 2016-11-15 arrives among July's events on partition 0. It must not close June or
    // July for that partition (the July events after it would be late and counted nowhere): June's and
    // July's figures equal those without it. It counts in November, and shows as an outlier.
    let (b02, others): (Vec<String>, Vec<String>) = history(11)
        .into_iter()
        .partition(|line| line.contains("\"branch_id\":\"b02\""));
    let partitions = [others, b02];
    let messages = interleave(&partitions, &[1]);
    let line = partitions[0]
        .iter()
        .position(|line| {
            line.contains("\"event_type\":\"quote_created\"") && line.contains("\"2016-07-05T")
        })
        .expect("a quote on July 5 on partition 0");
    let at = messages
        .iter()
        .position(|m| m.partition == 0 && m.offset == line as u64)
        .expect("its message");
    let mut event: serde_json::Value = serde_json::from_str(&partitions[0][line]).unwrap();
    event["event_id"] = "wrong-clock".into();
    event["occurred_at"] = "2016-11-15T10:00:00+08:00".into();
    let mut with_outlier = messages.clone();
    with_outlier.insert(
        at,
        Message {
            partition: 0,
            offset: messages[at].offset,
            decoded: decode_event(event.to_string().as_bytes(), CLOCK),
        },
    );

    let run = |messages: &[Message]| {
        let org = Organisation::from_csv(organisation_csv(3).as_bytes()).unwrap();
        let mut engine = Engine::new(Arc::new(Config::default()), Arc::new(org));
        block_on(engine.process(messages)).unwrap();
        engine
    };
    let (clean, skewed) = (run(&messages), run(&with_outlier));
    for period in ["2016-06", "2016-07"] {
        let card = |engine: &Engine| {
            serde_json::to_string(&engine.scorecard(period.parse().unwrap(), true).unwrap())
                .unwrap()
        };
        let diff = difference(&card(&skewed), &card(&clean));
        assert!(diff.is_none(), "{period}: {}", diff.unwrap_or_default());
    }
    assert_eq!(
        skewed.counts().late,
        clean.counts().late,
        "no July event became late"
    );
    assert_eq!(skewed.counts().accepted, clean.counts().accepted + 1);
    assert_eq!(clean.state().arrival().outliers(), 0);
    let arrival = skewed.state().arrival();
    assert_eq!(arrival.outliers(), 1);
    assert_eq!(
        arrival.partitions()[&0].last_outlier,
        Some(
            chrono::DateTime::parse_from_rfc3339("2016-11-15T10:00:00+08:00")
                .unwrap()
                .timestamp_millis()
        )
    );
    let november: YearMonth = "2016-11".parse().unwrap();
    assert!(
        skewed
            .state()
            .counters()
            .by_branch
            .keys()
            .any(|(month, _)| *month == november.ordinal()),
        "the quote counts in November"
    );
}

/// What a history day and a scorecard both say of a person, keyed by `(branch, user)`; people with nothing
/// counted who are not registered are left out.
fn people_of(rows: &serde_json::Value) -> BTreeMap<(String, String), serde_json::Value> {
    const FIELDS: [&str; 11] = [
        "registered",
        "quotes",
        "mobile_quotes",
        "proposals",
        "deal_premium",
        "mobile_payment",
        "login_days",
        "tasks_executed",
        "mobile_quotes_rank",
        "mobile_payment_rank",
        "display_name",
    ];
    rows.as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let fields: serde_json::Map<String, serde_json::Value> = FIELDS
                .iter()
                .map(|f| (f.to_string(), row[*f].clone()))
                .collect();
            let key = (
                row["branch_id"].as_str().unwrap().to_string(),
                row["user_id"].as_str().unwrap().to_string(),
            );
            (key, serde_json::Value::Object(fields))
        })
        .filter(|(_, v)| {
            v["registered"] == true
                || [
                    "quotes",
                    "proposals",
                    "deal_premium",
                    "mobile_payment",
                    "login_days",
                ]
                .iter()
                .any(|f| v[*f] != 0 && v[*f] != 0.0)
        })
        .collect()
}

/// The branch rows of a scorecard without what history rows do not carry (pace).
fn branches_of(rows: &serde_json::Value) -> Vec<serde_json::Value> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|row| {
            // The history's days carry no month-end outlook.
            let mut row = row.clone();
            let fields = row.as_object_mut().unwrap();
            fields.remove("pace");
            fields.remove("at_stake");
            row
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2, ..ProptestConfig::default() })]

    #[test]
    fn each_day_of_the_history_is_the_month_of_only_the_events_up_to_its_end(seed in 0u64..1_000) {
        let org = Arc::new(Organisation::from_csv(organisation_csv(3).as_bytes()).unwrap());
        let run = |messages: &[Message]| {
            let mut engine = Engine::new(Arc::new(Config::default()), org.clone());
            let dispositions = block_on(engine.process(messages)).unwrap();
            (engine, dispositions)
        };
        let all: Vec<Message> = history(seed)
            .iter()
            .enumerate()
            .map(|(i, line)| Message {
                partition: 0,
                offset: i as u64,
                decoded: decode_event(line.as_bytes(), CLOCK),
            })
            .collect();
        // The stream is in time order, but a few events change a month that has closed (a clearing score
        // or a renewal due for a past month): without them, nothing is late.
        let (_, dispositions) = run(&all);
        let messages: Vec<Message> = all
            .into_iter()
            .zip(dispositions)
            .filter(|(_, d)| *d != Disposition::Late)
            .map(|(m, _)| m)
            .collect();
        let (whole, _) = run(&messages);
        prop_assert_eq!(whole.counts().late, 0, "no late events left");
        let calendar = *whole.calendar();
        let mut compared = 0;
        for month in ["2016-06", "2016-07"] {
            let month: YearMonth = month.parse().unwrap();
            let history = serde_json::to_value(whole.history(month, None).unwrap()).unwrap();
            let days = history["days"].as_array().unwrap();
            prop_assert!(days.len() >= 10, "{} has {} days", month, days.len());
            let quotes = |day: &serde_json::Value| -> f64 {
                day["branches"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|b| b["fractions"]["quotes_per_user"]["numerator"].as_f64().unwrap())
                    .sum()
            };
            prop_assert!(
                quotes(&days[0]) < quotes(&days[9]),
                "the month to date grows: {} then {}",
                quotes(&days[0]),
                quotes(&days[9])
            );
            for (i, day) in days.iter().enumerate() {
                let date = month.first_day() + chrono::Days::new(i as u64);
                prop_assert_eq!(day["date"].as_str().unwrap(), date.to_string());
                // The month's last day takes what later events change in it: the whole month's scorecard.
                let ends = calendar.start_of(date.succ_opt().unwrap());
                let upto: Vec<Message> = messages
                    .iter()
                    .filter(|m| m.decoded.as_ref().is_ok_and(|e| e.occurred_at < ends))
                    .cloned()
                    .collect();
                let replayed = (date != month.last_day()).then(|| run(&upto).0);
                let card = replayed
                    .as_ref()
                    .unwrap_or(&whole)
                    .scorecard(PeriodSpec::Month(month), true)
                    .unwrap();
                let card = serde_json::to_value(card).unwrap();
                prop_assert_eq!(
                    branches_of(&day["branches"]),
                    branches_of(&card["branches"]),
                    "{}: branches",
                    date
                );
                let people = people_of(&day["users"]);
                prop_assert!(people.len() >= 10, "{}: {} people", date, people.len());
                prop_assert_eq!(people, people_of(&card["users"]), "{}: people", date);
                compared += 1;
            }
        }
        prop_assert!(compared >= 40);
    }
}
