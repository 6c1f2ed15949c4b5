//! Hand-computed expected values for every indicator and rule of docs/scoring.md. Each test builds a small event
//! history, runs it through the real decoder and engine, and checks figures worked out by hand in comments.

use analytics::{Disposition, Indicator::*, LoginStatus};
use schemas::Config;
use serde_json::json;
use tests::{Scenario, block_on, card, hand_config, points, row, value};

const ORG_A: &str = "a:甲支公司:true,b:乙支公司:true";

fn approx(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() < 1e-9,
        "expected {expected}, got {actual}"
    );
}

#[test]
fn month_boundary_written_in_plus_eight_and_in_z() {
    let mut s = Scenario::new();
    s.register("u1", "a", "2016-05-20T09:00:00+08:00")
        .quote("u1", "a", "2016-06-30T23:59:59+08:00", "phone") // local June 30: June
        .quote("u1", "a", "2016-06-30T16:30:00Z", "pc") // local July 1 00:30: July
        .register("u2", "a", "2016-07-01T09:00:00+08:00");
    for kind in ["application", "draft", "application"] {
        s.event(
            "proposal_created",
            "2016-07-01T10:00:00+08:00",
            "a",
            Some("u2"),
            json!({"proposal_id": format!("P{kind}"), "kind": kind, "terminal": "pad"}),
        );
    }
    s.tick("a", "2016-07-02T10:00:00+08:00");
    let e = s.run(ORG_A, hand_config());
    let june = card(&e, "2016-06");
    assert_eq!(value(&june, "a", QuotesPerUser), Some(1.0));
    assert_eq!(value(&june, "a", MobileQuotesPerUser), Some(1.0));
    approx(points(&june, "a", QuotesPerUser), 15.0 / 30.0); // 15 × min(1 / 30, 1)
    let july = card(&e, "2016-07");
    assert_eq!(value(&july, "a", QuotesPerUser), Some(0.5)); // 1 quote, 2 users in July
    assert_eq!(value(&july, "a", MobileQuotesPerUser), Some(0.0));
    // Proposals (application or draft alike): 3 over 2 users; 15 × min(1.5 / 10, 1) = 2.25 points.
    assert_eq!(value(&july, "a", ProposalsPerUser), Some(1.5));
    approx(points(&july, "a", ProposalsPerUser), 2.25);
    assert_eq!(value(&june, "a", ProposalsPerUser), Some(0.0));
}

#[test]
fn renewal_index_counts_assignments_by_the_end_of_the_first_local_day() {
    let mut s = Scenario::new();
    s.register("u1", "a", "2016-05-01T09:00:00+08:00");
    for (id, vehicle_use, ecommerce) in [
        ("R1", "family_private", false),
        ("R2", "family_private", false),
        ("R3", "family_private", false),
        ("R4", "family_private", false),
        ("R5", "business", false),      // not a family car: excluded
        ("R6", "family_private", true), // e-commerce direct: excluded
    ] {
        s.event(
            "renewal_due",
            "2016-06-20T10:00:00+08:00",
            "a",
            None,
            json!({"policy_id": id, "due_month": "2016-07", "vehicle_use": vehicle_use, "ecommerce_direct": ecommerce}),
        );
    }
    for (id, at) in [
        ("R1", "2016-06-25T10:00:00+08:00"), // before the month: counts
        ("R2", "2016-07-01T23:59:59+08:00"), // last second of day 1: counts
        ("R3", "2016-07-02T00:00:00+08:00"), // day 2: too late
        ("R5", "2016-06-25T10:00:00+08:00"),
        ("R6", "2016-06-25T10:00:00+08:00"),
    ] {
        s.event(
            "renewal_assigned",
            at,
            "a",
            Some("m1"),
            json!({"policy_id": id}),
        );
    }
    s.tick("a", "2016-07-05T10:00:00+08:00");
    let e = s.run(ORG_A, hand_config());
    let july = card(&e, "2016-07");
    assert_eq!(value(&july, "a", RenewalIndex), Some(0.5)); // R1, R2 of R1..R4
    approx(points(&july, "a", RenewalIndex), 5.0);
    let june = card(&e, "2016-06");
    assert_eq!(
        value(&june, "a", RenewalIndex),
        None,
        "nothing due in June: null"
    );
    assert_eq!(points(&june, "a", RenewalIndex), 0.0);
}

#[test]
fn active_users_need_twenty_distinct_login_days_in_their_branch() {
    let mut s = Scenario::new();
    s.register("u1", "a", "2016-05-01T09:00:00+08:00").register(
        "u2",
        "a",
        "2016-05-01T09:00:00+08:00",
    );
    for day in 1..=20 {
        s.login("u1", "a", &format!("2016-06-{day:02}T09:00:00+08:00"));
    }
    s.login("u1", "a", "2016-06-20T15:00:00+08:00"); // a second login the same day adds nothing
    for day in 1..=19 {
        s.login("u2", "a", &format!("2016-06-{day:02}T09:00:00+08:00"));
    }
    s.login("u2", "b", "2016-06-25T09:00:00+08:00"); // a login in another branch does not count for a
    s.tick("a", "2016-07-10T10:00:00+08:00");
    let e = s.run(ORG_A, hand_config());
    let june = card(&e, "2016-06");
    assert_eq!(value(&june, "a", ActiveUserRate), Some(0.5));
    approx(points(&june, "a", ActiveUserRate), 5.0);
    let users = june.users.as_ref().unwrap();
    let u2a = users
        .iter()
        .find(|u| u.user_id == "u2" && u.branch_id == "a")
        .unwrap();
    assert_eq!(u2a.login_days, 19);
    assert_eq!(
        u2a.pace.as_ref().unwrap().login_status,
        LoginStatus::CannotReach
    );
    let u2b = users
        .iter()
        .find(|u| u.user_id == "u2" && u.branch_id == "b")
        .unwrap();
    assert!(!u2b.registered, "u2 is not a user of b");
    assert_eq!(
        row(&june, "a").pace.as_ref().unwrap().active_users.reached,
        1
    );
}

#[test]
fn mid_month_pace_projects_volumes_and_sorts_users_by_login_outlook() {
    let mut s = Scenario::new();
    for u in ["u1", "u2", "u3", "u4"] {
        s.register(u, "a", "2016-05-01T09:00:00+08:00");
    }
    for day in 11..=20 {
        s.login("u1", "a", &format!("2016-06-{day:02}T08:00:00+08:00")); // 10 days incl. today
    }
    for day in 1..=9 {
        s.login("u2", "a", &format!("2016-06-{day:02}T08:00:00+08:00")); // 9 days, not today
    }
    for day in 1..=5 {
        s.login("u3", "a", &format!("2016-06-{day:02}T08:00:00+08:00"));
    }
    for day in 1..=15 {
        s.login("u4", "a", &format!("2016-06-{day:02}T08:00:00+08:00"));
    }
    for _ in 0..10 {
        s.quote("u4", "a", "2016-06-10T10:00:00+08:00", "pc");
    }
    s.tick("a", "2016-06-20T12:05:00+08:00"); // watermark 2016-06-20 12:00: day 20 of 30
    let e = s.run(ORG_A, hand_config());
    let june = card(&e, "2016-06");
    let pace = row(&june, "a").pace.as_ref().unwrap();
    assert_eq!(
        (pace.progress.days_elapsed, pace.progress.days_in_month),
        (20, 30)
    );
    // 10 quotes / 4 users = 2.5 so far; × 30 / 20 = 3.75 at month end.
    assert_eq!(pace.projected.get(QuotesPerUser), Some(Some(3.75)));
    let outlook = pace.active_users;
    // u1: 10 + 10 remaining = 20 exactly; u2: 9 + today + 10 = 20 exactly; u3: 5 + 11 < 20; u4: 15 + 11 > 20.
    assert_eq!(
        (
            outlook.reached,
            outlook.can_reach,
            outlook.must_login_every_day,
            outlook.cannot_reach
        ),
        (0, 3, 2, 1)
    );
    let status = |u: &str| {
        june.users
            .as_ref()
            .unwrap()
            .iter()
            .find(|r| r.user_id == u)
            .unwrap()
            .pace
            .as_ref()
            .unwrap()
            .login_status
    };
    assert_eq!(status("u1"), LoginStatus::MustLoginEveryDay);
    assert_eq!(status("u3"), LoginStatus::CannotReach);
    assert_eq!(status("u4"), LoginStatus::CanReach);
    assert!(!june.is_final);
}

#[test]
fn tasks_valid_in_a_period_and_a_second_task_for_the_same_subject() {
    let mut s = Scenario::new();
    s.register("u1", "a", "2016-05-01T09:00:00+08:00");
    let task = |s: &mut Scenario, id: &str, subject: &str, at: &str, from: &str, until: &str| {
        s.event(
            "task_created",
            at,
            "a",
            Some("u1"),
            json!({"task_id": id, "subject_id": subject, "valid_from": from, "valid_until": until}),
        );
    };
    let act = |s: &mut Scenario, id: &str, at: &str| {
        s.event(
            "task_action",
            at,
            "a",
            Some("u1"),
            json!({"task_id": id, "action": "call"}),
        );
    };
    task(
        &mut s,
        "T1",
        "S1",
        "2016-05-31T10:00:00+08:00",
        "2016-06-01",
        "2016-06-30",
    );
    task(
        &mut s,
        "T2",
        "S2",
        "2016-05-31T10:00:00+08:00",
        "2016-06-10",
        "2016-07-10",
    );
    task(
        &mut s,
        "T4",
        "S4",
        "2016-05-31T10:00:00+08:00",
        "2016-06-01",
        "2016-06-30",
    );
    task(
        &mut s,
        "T5",
        "S5",
        "2016-05-31T10:00:00+08:00",
        "2016-06-01",
        "2016-07-31",
    );
    s.event(
        "task_cancelled",
        "2016-05-31T20:00:00+08:00",
        "a",
        Some("u1"),
        json!({"task_id": "T4"}),
    ); // before June
    act(&mut s, "T1", "2016-06-05T10:00:00+08:00");
    task(
        &mut s,
        "T3",
        "S1",
        "2016-06-02T10:00:00+08:00",
        "2016-06-01",
        "2016-06-30",
    ); // S1 has a task: ignored
    act(&mut s, "T3", "2016-06-06T10:00:00+08:00");
    s.event(
        "task_cancelled",
        "2016-06-15T10:00:00+08:00",
        "a",
        Some("u1"),
        json!({"task_id": "T5"}),
    ); // during June
    task(
        &mut s,
        "T6",
        "S6",
        "2016-06-30T10:00:00+08:00",
        "2016-07-01",
        "2016-07-31",
    );
    act(&mut s, "T2", "2016-07-03T10:00:00+08:00");
    s.tick("a", "2016-07-20T10:00:00+08:00");
    let e = s.run(ORG_A, hand_config());
    // June: valid T1, T2, T5 (T3 ignored, T4 cancelled before June, T6 starts in July); executed T1.
    let june = card(&e, "2016-06");
    let f = row(&june, "a").fractions.get(TaskExecutionRate).unwrap();
    assert_eq!((f.numerator, f.denominator), (1.0, 3.0));
    approx(points(&june, "a", TaskExecutionRate), 3.3333); // 10 × 1/3, rounded to 4 places
    assert_eq!(
        june.users
            .as_ref()
            .unwrap()
            .iter()
            .find(|u| u.user_id == "u1")
            .unwrap()
            .tasks_executed,
        1
    );
    // July: valid T2, T6 (T5 was cancelled before July); executed T2.
    assert_eq!(
        value(&card(&e, "2016-07"), "a", TaskExecutionRate),
        Some(0.5)
    );
    // Assessment June–July, set-based: valid T1, T2, T5, T6; executed T1, T2 → 2/4 (not (1+1)/(3+2)).
    assert_eq!(
        value(&card(&e, "assessment"), "a", TaskExecutionRate),
        Some(0.5)
    );
}

#[test]
fn cancellations_before_and_after_the_issue_month_closes() {
    let mut s = Scenario::new();
    s.register("u1", "a", "2016-05-01T09:00:00+08:00");
    let issue = |s: &mut Scenario, id: &str, at: &str, premium: f64, deal: &str, proposal: bool| {
        let mut f = json!({"policy_id": id, "premium": premium, "deal_type": deal, "quote_id": format!("Q{id}")});
        if proposal {
            f["proposal_id"] = json!(format!("PR{id}"));
        }
        s.event("policy_issued", at, "a", Some("u1"), f);
    };
    let cancel = |s: &mut Scenario, id: &str, at: &str| {
        s.event(
            "policy_cancelled",
            at,
            "a",
            Some("u1"),
            json!({"policy_id": id}),
        );
    };
    issue(
        &mut s,
        "P1",
        "2016-06-10T10:00:00+08:00",
        1000.0,
        "system_quote",
        true,
    );
    issue(
        &mut s,
        "P2",
        "2016-06-12T10:00:00+08:00",
        2000.0,
        "task",
        true,
    );
    issue(
        &mut s,
        "P3",
        "2016-06-14T10:00:00+08:00",
        5000.0,
        "other",
        true,
    ); // outside the system: never counts
    issue(
        &mut s,
        "P4",
        "2016-06-15T10:00:00+08:00",
        300.0,
        "system_quote",
        false,
    ); // counts, no reward
    cancel(&mut s, "P5", "2016-06-20T10:00:00+08:00"); // the cancellation arrives before the issue
    issue(
        &mut s,
        "P5",
        "2016-06-19T10:00:00+08:00",
        700.0,
        "system_quote",
        true,
    );
    cancel(&mut s, "P1", "2016-07-02T09:00:00+08:00"); // June still open: P1 leaves June
    s.tick("a", "2016-07-10T10:00:00+08:00"); // June closes (July 4 00:00 + 5 min passed)
    cancel(&mut s, "P2", "2016-07-11T09:00:00+08:00"); // June closed: late, P2 stays
    let e = s.run(ORG_A, hand_config());
    let june = card(&e, "2016-06");
    assert_eq!(value(&june, "a", DealPremiumPerUser), Some(2300.0)); // P2 + P4
    approx(points(&june, "a", DealPremiumPerUser), 2.3); // 10 × 2300 / 10000
    assert_eq!(e.counts().late, 1);
    let u1 = june
        .users
        .as_ref()
        .unwrap()
        .iter()
        .find(|u| u.user_id == "u1")
        .unwrap();
    assert_eq!((u1.deals, u1.reward_policies), (2, 1));
    let rewards = e.rewards("2016-06".parse().unwrap()).unwrap();
    let payout = &rewards.salesperson_payouts[0];
    assert_eq!(
        (
            payout.user_id.as_str(),
            payout.policies,
            payout.yuan,
            payout.payable_month.as_str()
        ),
        ("u1", 1, 5.0, "2016-07")
    );
}

#[test]
fn late_events_are_per_partition_and_final_needs_every_partition() {
    let mut s = Scenario::new();
    s.register("u1", "a", "2016-05-01T09:00:00+08:00")
        .quote("u1", "a", "2016-06-05T10:00:00+08:00", "pc")
        .tick("a", "2016-07-10T10:00:00+08:00") // closes June for partition 0
        .quote("u1", "a", "2016-06-20T10:00:00+08:00", "pc"); // late on partition 0
    s.on(1).quote("u1", "a", "2016-06-21T10:00:00+08:00", "pc"); // partition 1 has not closed June
    let split = s.messages().len();
    s.tick("a", "2016-07-10T10:00:00+08:00"); // partition 1 closes June too
    let messages = s.messages();
    let mut e = analytics::Engine::new(
        std::sync::Arc::new(hand_config()),
        std::sync::Arc::new(tests::org_file(ORG_A)),
    );
    let first = block_on(e.process(&messages[..split])).unwrap();
    assert_eq!(first[split - 2], Disposition::Late);
    assert_eq!(first[split - 1], Disposition::Accepted);
    let june = card(&e, "2016-06");
    assert_eq!(value(&june, "a", QuotesPerUser), Some(2.0));
    assert!(!june.is_final, "partition 1 has not closed June");
    block_on(e.process(&messages[split..])).unwrap();
    assert!(card(&e, "2016-06").is_final);
    assert_eq!(e.counts().late, 1);
}

#[test]
fn a_duplicate_event_id_with_different_content_is_dropped() {
    let mut s = Scenario::new();
    s.register("u1", "a", "2016-05-01T09:00:00+08:00")
        .event_with_id(
            "dup",
            "quote_created",
            "2016-06-05T10:00:00+08:00",
            "a",
            Some("u1"),
            json!({"terminal": "phone", "quote_id": "Q1"}),
        )
        .event_with_id(
            "dup",
            "quote_created",
            "2016-06-06T10:00:00+08:00",
            "b",
            Some("u1"),
            json!({"terminal": "pc", "quote_id": "Q2"}),
        )
        .tick("a", "2016-06-10T10:00:00+08:00");
    let e = s.run(ORG_A, hand_config());
    let june = card(&e, "2016-06");
    assert_eq!(value(&june, "a", MobileQuotesPerUser), Some(1.0));
    assert_eq!(
        row(&june, "b")
            .fractions
            .get(QuotesPerUser)
            .unwrap()
            .numerator,
        0.0
    );
    assert_eq!(e.counts().duplicate, 1);
}

#[test]
fn users_who_move_branch_count_in_both_that_month_and_leavers_drop_out() {
    let mut s = Scenario::new();
    s.register("u1", "a", "2016-05-01T09:00:00+08:00")
        .register("u2", "a", "2016-05-01T09:00:00+08:00")
        .register("u3", "a", "2016-05-01T09:00:00+08:00")
        .event(
            "user_deregistered",
            "2016-05-31T12:00:00+08:00",
            "a",
            Some("u2"),
            json!({}),
        ) // left in May
        .event(
            "user_deregistered",
            "2016-06-01T10:00:00+08:00",
            "a",
            Some("u3"),
            json!({}),
        ) // left in June
        .register("u1", "b", "2016-06-15T09:00:00+08:00") // moves to b mid-June
        .register("u4", "a", "2016-06-30T23:00:00+08:00") // joined in the last hour of June
        .tick("a", "2016-07-10T10:00:00+08:00");
    let e = s.run(ORG_A, hand_config());
    let june = card(&e, "2016-06");
    assert_eq!((row(&june, "a").users, row(&june, "b").users), (3, 1)); // a: u1, u3, u4; b: u1
    let july = card(&e, "2016-07");
    assert_eq!((row(&july, "a").users, row(&july, "b").users), (1, 1)); // a: u4; b: u1
}

#[test]
fn registrations_and_bindings_after_their_month_closed_change_only_the_open_months() {
    let mut s = Scenario::new();
    s.register("u1", "a", "2016-05-01T09:00:00+08:00")
        .quote("u1", "a", "2016-06-05T10:00:00+08:00", "pc")
        .tick("a", "2016-07-10T10:00:00+08:00"); // June closes for partition 0; July is open
    let on_time = s.messages().len();
    // Each of these arrives after its own month closed.
    s.register("u2", "a", "2016-05-10T09:00:00+08:00") // joined in May
        .register("u1", "b", "2016-06-15T09:00:00+08:00") // moved to b in June
        .register("u3", "a", "2016-04-01T09:00:00+08:00") // joined in April …
        .event(
            "user_deregistered",
            "2016-06-20T09:00:00+08:00",
            "a",
            Some("u3"),
            json!({}),
        ) // … and left in June
        .event(
            "wechat_bound",
            "2016-06-25T09:00:00+08:00",
            "b",
            Some("u1"),
            json!({}),
        )
        .quote("u2", "a", "2016-06-28T10:00:00+08:00", "pc"); // a June count: late, as before
    s.tick("a", "2016-07-12T10:00:00+08:00");
    let u2_id = format!("e{}", on_time + 1); // the first event after the on-time ones (ids count from e1)
    let u2_id = u2_id.as_str();
    let u2_registration = s.lines().nth(on_time).unwrap().to_string();
    assert!(u2_registration.contains(&format!("\"event_id\":\"{u2_id}\"")));
    // The same registration again: a duplicate, though its own month (May) is long final …
    s.event_with_id(
        u2_id,
        "user_registered",
        "2016-05-10T09:00:00+08:00",
        "a",
        Some("u2"),
        json!({"channel": "direct"}),
    )
    // … and the same state at the same instant under another id (a users CSV imported twice): nothing new.
    .register("u2", "a", "2016-05-10T09:00:00+08:00");
    let messages = s.messages();
    let mut e = analytics::Engine::new(
        std::sync::Arc::new(hand_config()),
        std::sync::Arc::new(tests::org_file(ORG_A)),
    );
    block_on(e.process(&messages[..on_time])).unwrap();
    let june_before = serde_json::to_value(card(&e, "2016-06")).unwrap();
    let late = block_on(e.process(&messages[on_time..])).unwrap();
    use Disposition::*;
    assert_eq!(
        late,
        [
            Accepted, Accepted, Accepted, Accepted, Accepted,
            Late, // the late registrations and the quote
            Accepted, Accepted, Accepted, // the second tick
            Duplicate, Accepted
        ]
    );
    let u2 = e.state().entities().user_ids.get("u2").unwrap();
    assert_eq!(e.state().entities().users[u2 as usize].memberships.len(), 1);
    let june = card(&e, "2016-06");
    // June is closed: exactly as it was, u1 alone in a, unbound, one quote.
    let mut june_after = serde_json::to_value(&june).unwrap();
    june_after["as_of"] = june_before["as_of"].clone();
    assert_eq!(june_after, june_before);
    assert_eq!((row(&june, "a").users, row(&june, "b").users), (1, 0));
    assert_eq!(value(&june, "a", WechatBindingRate), Some(0.0));
    // July is open: u2 (registered in May) counts in a; u1 counts in b, where the move put them, and is
    // bound; u3 left before July began.
    let july = card(&e, "2016-07");
    assert_eq!((row(&july, "a").users, row(&july, "b").users), (1, 1));
    assert_eq!(value(&july, "a", WechatBindingRate), Some(0.0));
    assert_eq!(value(&july, "b", WechatBindingRate), Some(1.0));
    let people: Vec<(&str, &str, bool)> = july
        .users
        .as_ref()
        .unwrap()
        .iter()
        .map(|u| (u.branch_id.as_str(), u.user_id.as_str(), u.registered))
        .collect();
    assert!(people.contains(&("a", "u2", true)), "{people:?}");
    assert!(people.contains(&("b", "u1", true)), "{people:?}");
    assert!(!people.iter().any(|p| p.1 == "u3" && p.2), "{people:?}");
    assert_eq!(e.counts().late, 1);
}

#[test]
fn competition_ranks_with_ties_out_of_scope_units_and_zero_denominators() {
    let org = "A:甲:true,B:乙:true,C:丙:true,D:丁:true,X:续保拓展部:false,Z:戊:true";
    let mut s = Scenario::new();
    for (branch, users) in [("A", 1), ("B", 1), ("C", 1), ("D", 2), ("X", 1)] {
        for u in 0..users {
            s.register(&format!("{branch}{u}"), branch, "2016-05-01T09:00:00+08:00");
        }
    }
    for (branch, quotes, paid) in [
        ("A", 3, 500.0),
        ("B", 3, 400.0),
        ("C", 1, 300.0),
        ("D", 1, 200.0),
        ("X", 10, 1000.0),
    ] {
        for _ in 0..quotes {
            s.quote(
                &format!("{branch}0"),
                branch,
                "2016-06-05T10:00:00+08:00",
                "phone",
            );
        }
        s.mobile_payment(
            &format!("{branch}0"),
            branch,
            "2016-06-05T11:00:00+08:00",
            paid,
        );
    }
    s.tick("A", "2016-06-10T10:00:00+08:00");
    let e = s.run(org, hand_config());
    let june = card(&e, "2016-06");
    // Mobile quotes per user: A 3, B 3, C 1, D 0.5, X 10 (out of scope), Z null (no users).
    let rank = |b| {
        row(&june, b)
            .indicator_ranks
            .get(MobileQuotesPerUser)
            .unwrap()
    };
    assert_eq!(
        [
            rank("A"),
            rank("B"),
            rank("C"),
            rank("D"),
            rank("X"),
            rank("Z")
        ],
        [Some(1), Some(1), Some(3), Some(4), None, None]
    );
    let tier = |b| points(&june, b, MobileQuotesPerUser);
    assert_eq!(
        [
            tier("A"),
            tier("B"),
            tier("C"),
            tier("D"),
            tier("X"),
            tier("Z")
        ],
        [6.0, 6.0, 6.0, 3.0, 0.0, 0.0]
    );
    // Mobile payment per user: A 500, B 400, C 300, D 100: ranks 1–4, all in the 1–5 tier.
    assert_eq!(points(&june, "D", MobilePaymentPerUser), 5.0);
    // Totals: quotes 15 × v / 30 + tiers. A 1.5 + 6 + 5, B the same, C 0.5 + 11, D 0.25 + 3 + 5, X 5 + 0.
    let total = |b| row(&june, b).total;
    assert_eq!(
        [
            total("A"),
            total("B"),
            total("C"),
            total("D"),
            total("X"),
            total("Z")
        ],
        [12.5, 12.5, 11.5, 8.25, 5.0, 0.0]
    );
    let total_rank = |b| row(&june, b).rank;
    assert_eq!(
        [
            total_rank("A"),
            total_rank("B"),
            total_rank("C"),
            total_rank("D"),
            total_rank("Z")
        ],
        [Some(1), Some(1), Some(3), Some(4), Some(5)]
    );
    assert_eq!(
        total_rank("X"),
        None,
        "out-of-scope units are shown but not ranked"
    );
    assert!(!row(&june, "X").in_scope);
    // Zero denominators: every ratio of Z is null and earns nothing.
    for indicator in [
        QuotesPerUser,
        ActiveUserRate,
        WechatBindingRate,
        RenewalIndex,
        TaskExecutionRate,
    ] {
        assert_eq!(value(&june, "Z", indicator), None);
    }
    assert_eq!(
        june.branches.last().unwrap().branch_id,
        "X",
        "unranked rows come last"
    );
}

#[test]
fn quarters_use_cumulative_values_and_the_assessment_sums_quarter_totals() {
    let mut s = Scenario::new();
    s.register("u1", "a", "2016-05-01T09:00:00+08:00");
    for (month, quotes) in [("06", 30), ("07", 20), ("08", 60)] {
        if month == "08" {
            s.register("u2", "a", "2016-08-01T09:00:00+08:00");
        }
        for _ in 0..quotes {
            s.quote("u1", "a", &format!("2016-{month}-10T10:00:00+08:00"), "pc");
        }
    }
    s.tick("a", "2016-08-20T10:00:00+08:00");
    let e = s.run("a:甲:true", hand_config());
    // Users: June 1, July 1, August 2. Q3 (July–August) = (20 + 60) / (1 + 2), not the mean of 20 and 30.
    let q3 = card(&e, "2016-Q3");
    approx(value(&q3, "a", QuotesPerUser).unwrap(), 80.0 / 3.0);
    approx(points(&q3, "a", QuotesPerUser), 13.3333); // 15 × (80/3) / 30
    assert_eq!(
        q3.months,
        ["2016-07".to_string(), "2016-08".to_string()],
        "clipped to the latest watermark"
    );
    // Lone in-scope branch: rank 1 on both ranked indicators (6 + 5) even at 0, per the rank tiers.
    approx(row(&q3, "a").total, 13.3333 + 11.0);
    let q2 = card(&e, "2016-Q2");
    assert_eq!(
        q2.months,
        ["2016-06".to_string(), "2016-06".to_string()],
        "clipped to the assessment"
    );
    approx(row(&q2, "a").total, 15.0 + 11.0);
    let whole = card(&e, "assessment");
    approx(value(&whole, "a", QuotesPerUser).unwrap(), 110.0 / 4.0);
    approx(points(&whole, "a", QuotesPerUser), 15.0 + 13.3333);
    approx(row(&whole, "a").total, 26.0 + 24.3333);
    assert_eq!(row(&whole, "a").quarter_totals.len(), 2);
}

#[test]
fn wechat_binding_rate_tiers_use_the_binding_state_at_period_end() {
    let mut s = Scenario::new();
    for i in 1..=10 {
        s.register(&format!("u{i}"), "a", "2016-05-01T09:00:00+08:00");
    }
    for i in 1..=9 {
        s.event(
            "wechat_bound",
            "2016-06-03T09:00:00+08:00",
            "a",
            Some(&format!("u{i}")),
            json!({}),
        );
    }
    s.event(
        "wechat_unbound",
        "2016-06-20T09:00:00+08:00",
        "a",
        Some("u2"),
        json!({}),
    )
    .event(
        "wechat_bound",
        "2016-06-21T09:00:00+08:00",
        "a",
        Some("u2"),
        json!({}),
    )
    .event(
        "wechat_bound",
        "2016-07-02T09:00:00+08:00",
        "a",
        Some("u10"),
        json!({}),
    ) // after June ends
    .tick("a", "2016-07-05T09:00:00+08:00");
    let e = s.run("a:甲:true", hand_config());
    let june = card(&e, "2016-06");
    assert_eq!(value(&june, "a", WechatBindingRate), Some(0.9));
    assert_eq!(points(&june, "a", WechatBindingRate), 2.0);
    let july = card(&e, "2016-07");
    assert_eq!(value(&july, "a", WechatBindingRate), Some(1.0));
    assert_eq!(points(&july, "a", WechatBindingRate), 4.0);
}

#[test]
fn clearing_score_latest_stands_and_reports_are_distinct_and_capped() {
    let mut s = Scenario::new();
    s.register("u1", "a", "2016-05-01T09:00:00+08:00");
    let clearing = |s: &mut Scenario, at: &str, month: &str, score: f64| {
        s.event(
            "clearing_scored",
            at,
            "a",
            None,
            json!({"month": month, "score": score}),
        );
    };
    clearing(&mut s, "2016-07-01T10:00:00+08:00", "2016-06", 5.0);
    clearing(&mut s, "2016-07-01T09:00:00+08:00", "2016-06", 8.0); // earlier, arrives later: 5 stands
    let report = |s: &mut Scenario, at: &str, id: &str, accepted: bool| {
        s.event(
            "report_submitted",
            at,
            "a",
            None,
            json!({"report_id": id, "report_type": "briefing", "accepted": accepted}),
        );
    };
    for i in 1..=6 {
        report(&mut s, "2016-06-10T10:00:00+08:00", &format!("J{i}"), true);
    }
    report(&mut s, "2016-06-11T10:00:00+08:00", "J1", true); // same report again
    report(&mut s, "2016-06-11T10:00:00+08:00", "J7", false); // not accepted
    report(&mut s, "2016-07-01T10:00:00+08:00", "K1", true);
    report(&mut s, "2016-07-01T10:00:00+08:00", "K2", true);
    s.tick("a", "2016-07-05T10:00:00+08:00");
    clearing(&mut s, "2016-07-05T10:00:00+08:00", "2016-06", 3.0); // June has closed: late
    let e = s.run("a:甲:true", hand_config());
    let june = card(&e, "2016-06");
    assert_eq!(value(&june, "a", ClearingScore), Some(5.0));
    assert_eq!(points(&june, "a", ClearingScore), 5.0);
    assert_eq!(value(&june, "a", ReportsAccepted), Some(6.0));
    assert_eq!(points(&june, "a", ReportsAccepted), 5.0, "capped at 5");
    assert_eq!(e.counts().late, 1);
    let whole = card(&e, "assessment");
    assert_eq!(
        value(&whole, "a", ReportsAccepted),
        Some(4.0),
        "mean of 6 and 2"
    );
    assert_eq!(
        value(&whole, "a", ClearingScore),
        Some(2.5),
        "mean of 5 and 0"
    );
    assert_eq!(points(&whole, "a", ReportsAccepted), 7.0, "Q2 5 + Q3 2");
}

#[test]
fn rewards_branch_prizes_specialist_bonus_and_salesperson_payouts() {
    let org = "b1:一:true,b2:二:true,b3:三:true,b4:四:true,b5:五:true,b6:六:true,b7:七:true,b8:八:true,x:车商:false";
    let mut s = Scenario::new();
    for b in ["b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8", "x"] {
        s.register(&format!("{b}u"), b, "2016-05-01T09:00:00+08:00");
    }
    s.event(
        "user_registered",
        "2016-05-01T09:00:00+08:00",
        "b1",
        Some("s1"),
        json!({"channel": "direct", "is_specialist": true}),
    );
    for (b, quotes) in [
        ("b1", 60),
        ("b2", 25),
        ("b3", 20),
        ("b4", 15),
        ("b5", 10),
        ("b6", 5),
        ("b7", 3),
        ("b8", 1),
        ("x", 90),
    ] {
        for _ in 0..quotes {
            s.quote(&format!("{b}u"), b, "2016-06-05T10:00:00+08:00", "pc");
        }
    }
    for (id, proposal) in [("P1", true), ("P2", true), ("P3", false)] {
        let mut f =
            json!({"policy_id": id, "premium": 10, "deal_type": "system_quote", "quote_id": "Q"});
        if proposal {
            f["proposal_id"] = json!("PR");
        }
        s.event(
            "policy_issued",
            "2016-06-06T10:00:00+08:00",
            "b2",
            Some("b2u"),
            f,
        );
    }
    s.event("policy_issued", "2016-06-06T10:00:00+08:00", "x", Some("xu"), json!({"policy_id": "PX", "premium": 1000, "deal_type": "task", "quote_id": "Q", "proposal_id": "PR"}));
    s.tick("b1", "2016-06-28T10:00:00+08:00");
    let mut config = hand_config();
    config.rewards.specialist_min_total = 26.0;
    let e = s.run(org, config);
    let r = e.rewards("2016-06".parse().unwrap()).unwrap();
    let prizes: Vec<_> = r
        .branch_awards
        .awards
        .iter()
        .map(|a| (a.branch_id.as_str(), a.rank, a.prize, a.yuan))
        .collect();
    assert_eq!(
        prizes,
        [
            ("b1", 1, 1, 2000.0),
            ("b2", 2, 2, 1600.0),
            ("b3", 3, 2, 1600.0),
            ("b4", 4, 3, 1200.0),
            ("b5", 5, 3, 1200.0),
            ("b6", 6, 3, 1200.0)
        ]
    );
    assert!(!r.branch_awards.is_final);
    // b1: 60 quotes / 2 users = 30 → 15 points, + 6 + 5 tiers (all tie at 0) = 26 ≥ 26;
    // b2: 12.5 + 0.03 (30 yuan of deals) + 11 = 23.53 < 26.
    assert_eq!(r.specialist_bonuses.len(), 1);
    assert_eq!(
        (
            r.specialist_bonuses[0].branch_id.as_str(),
            r.specialist_bonuses[0].specialists.clone(),
            r.specialist_bonuses[0].yuan
        ),
        ("b1", vec!["s1".to_string()], 300.0)
    );
    // b2u: P1 and P2 qualify (quote, proposal, system_quote); P3 lacks a proposal; x is out of scope.
    let payouts: Vec<_> = r
        .salesperson_payouts
        .iter()
        .map(|p| (p.user_id.as_str(), p.policies, p.yuan))
        .collect();
    assert_eq!(payouts, [("b2u", 2, 10.0)]);
}

#[test]
fn the_earliest_task_for_a_subject_wins_whatever_order_the_partitions_deliver() {
    // Regression: the property test found arrival order deciding which of two tasks kept a shared subject.
    let run = |later_created_arrives_first: bool| {
        let mut s = Scenario::new();
        s.register("ua", "a", "2016-05-01T09:00:00+08:00").register(
            "ub",
            "b",
            "2016-05-01T09:00:00+08:00",
        );
        let create = |s: &mut Scenario, partition, branch: &str, user: &str, id: &str, at: &str| {
            s.on(partition).event(
                "task_created",
                at,
                branch,
                Some(user),
                json!({"task_id": id, "subject_id": "veh-1", "valid_from": "2016-06-01", "valid_until": "2016-06-30"}),
            );
        };
        let order: [(u32, &str, &str, &str, &str); 2] = [
            (0, "a", "ua", "TA", "2016-06-02T10:00:00+08:00"), // created later
            (1, "b", "ub", "TB", "2016-06-01T10:00:00+08:00"), // created earlier: holds the subject
        ];
        let sequence = if later_created_arrives_first {
            [0, 1]
        } else {
            [1, 0]
        };
        for i in sequence {
            let (partition, branch, user, id, at) = order[i];
            create(&mut s, partition, branch, user, id, at);
        }
        s.on(0).event(
            "task_action",
            "2016-06-05T10:00:00+08:00",
            "a",
            Some("ua"),
            json!({"task_id": "TA", "action": "call"}),
        );
        s.on(1).event(
            "task_action",
            "2016-06-05T10:00:00+08:00",
            "b",
            Some("ub"),
            json!({"task_id": "TB", "action": "sms"}),
        );
        let e = s.run(ORG_A, every_event_moves_the_watermark());
        let june = card(&e, "2016-06");
        (
            value(&june, "a", TaskExecutionRate),
            value(&june, "b", TaskExecutionRate),
        )
    };
    assert_eq!(run(true), (None, Some(1.0)));
    assert_eq!(run(false), (None, Some(1.0)));
}

#[test]
fn the_live_month_is_the_current_one_kept_to_the_assessment() {
    let org = "a:甲:true";
    let mut s = Scenario::new();
    s.register("u1", "a", "2016-05-01T09:00:00+08:00")
        .tick("a", "2016-05-01T09:00:00+08:00");
    let before = s.run(org, hand_config()).live_month().unwrap_err();
    assert_eq!(
        before.to_string(),
        "the assessment starts in 2016-06; the latest event is from 2016-05"
    );
    s.quote("u1", "a", "2016-12-30T10:00:00+08:00", "phone")
        .tick("a", "2016-12-30T10:00:00+08:00");
    let running = s.run(org, hand_config());
    assert_eq!(running.live_month().unwrap().to_string(), "2016-12");
    // After the assessment the screens keep December, whose scorecard is still there to show.
    s.tick("a", "2017-01-20T10:00:00+08:00");
    let over = s.run(org, hand_config());
    assert_eq!(
        over.current_month().map(|m| m.to_string()).as_deref(),
        Some("2017-01")
    );
    let shown = over
        .live_month()
        .expect("a live month after the assessment");
    assert_eq!(shown.to_string(), "2016-12");
    let december = over
        .scorecard(analytics::PeriodSpec::Month(shown), false)
        .expect("December's scorecard");
    assert!(december.is_final, "December closed on 2017-01-03");
    assert_eq!(value(&december, "a", MobileQuotesPerUser), Some(1.0));
}

#[test]
fn a_person_who_moved_has_one_city_rank_and_one_row_on_the_city_board() {
    use leaderboard::live::boards::{Board, BoardKey, rows};
    let org = "a:甲:true,b:乙:true,x:续保拓展部:false";
    let mut s = Scenario::new();
    for (user, branch) in [("mover", "a"), ("p", "a"), ("q", "b"), ("r", "x")] {
        s.register(user, branch, "2016-05-01T09:00:00+08:00");
    }
    s.register("mover", "b", "2016-06-15T09:00:00+08:00"); // moves from a to b mid-June
    let mut quotes = |user: &str, branch: &str, first_day: u32, n: u32| {
        for day in first_day..first_day + n {
            let at = format!("2016-06-{day:02}T10:00:00+08:00");
            s.quote(user, branch, &at, "phone");
        }
    };
    quotes("mover", "a", 1, 3); // in a before the move …
    quotes("mover", "b", 16, 2); // … and in b after: 5 in all
    quotes("p", "a", 1, 4);
    quotes("q", "b", 1, 4);
    quotes("r", "x", 1, 9); // an out-of-scope unit: shown, not ranked
    s.register("p", "b", "2016-07-02T09:00:00+08:00"); // moves after June: still a's in June
    let e = s.run(org, hand_config());
    let june = card(&e, "2016-06");
    let users = june.users.as_ref().unwrap();
    let mover: Vec<_> = users.iter().filter(|u| u.user_id == "mover").collect();
    assert_eq!(mover.len(), 2, "a row per branch");
    // Branch ranks by the counts in each branch: 3 < p's 4 in a, 2 < q's 4 in b.
    let by_branch: Vec<_> = mover
        .iter()
        .map(|u| {
            (
                u.branch_id.as_str(),
                u.mobile_quotes,
                u.mobile_quotes_rank.branch,
                u.current,
            )
        })
        .collect();
    assert_eq!(
        by_branch,
        [("a", 3, Some(2), false), ("b", 2, Some(2), true)]
    );
    // One city rank for 5 quotes: first, ahead of p and q with 4 each (who share rank 2).
    assert!(mover.iter().all(|u| u.mobile_quotes_rank.city == Some(1)));
    assert!(
        mover
            .iter()
            .all(|u| u.mobile_quotes_rank.city_total == Some(5.0))
    );
    let person = |user: &str| users.iter().find(|u| u.user_id == user).unwrap();
    let others: Vec<_> = ["p", "q", "r"]
        .iter()
        .map(|u| {
            let row = person(u);
            (
                row.branch_id.as_str(),
                row.current,
                row.mobile_quotes_rank.city,
            )
        })
        .collect();
    assert_eq!(
        others,
        [
            ("a", true, Some(2)),
            ("b", true, Some(2)),
            ("x", true, None)
        ]
    );

    let config = hand_config();
    let city = rows(
        &BoardKey::new(Board::UserMobileQuotes, None, e.org()).unwrap(),
        &june,
        &config,
    );
    let shown: Vec<_> = city
        .iter()
        .map(|r| (r.key.as_str(), r.branch_id.as_str(), r.rank, r.value))
        .collect();
    assert_eq!(
        shown,
        [
            ("mover", "b", Some(1), Some(5.0)),
            ("p", "a", Some(2), Some(4.0)),
            ("q", "b", Some(2), Some(4.0)),
            ("r", "x", None, Some(9.0)),
        ]
    );
    let in_a = rows(
        &BoardKey::new(Board::UserMobileQuotes, Some("a".into()), e.org()).unwrap(),
        &june,
        &config,
    );
    let shown: Vec<_> = in_a
        .iter()
        .map(|r| (r.key.as_str(), r.rank, r.value))
        .collect();
    assert_eq!(
        shown,
        [("p", Some(1), Some(4.0)), ("mover", Some(2), Some(3.0))]
    );
}

/// One event of a partition's stream: `(event_id, event_type, occurred_at, branch, user, fields)`.
type StreamEvent = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    serde_json::Value,
);

/// The default configuration without the watermark's jump guard: every event moves its partition's
/// watermark. The order tests below send a handful of events days apart on each partition, where the guard
/// would hold the watermarks back; what they test is the order of partitions, not clocks.
fn every_event_moves_the_watermark() -> Config {
    Config {
        watermark_confirmations: 1,
        ..hand_config()
    }
}

/// Every way of interleaving streams of these lengths, each keeping its own order: the partition of each
/// next message.
fn interleavings(lengths: &[usize]) -> Vec<Vec<u32>> {
    if lengths.iter().all(|&n| n == 0) {
        return vec![Vec::new()];
    }
    let mut all = Vec::new();
    for (p, &n) in lengths.iter().enumerate() {
        if n == 0 {
            continue;
        }
        let mut rest = lengths.to_vec();
        rest[p] -= 1;
        for mut tail in interleavings(&rest) {
            tail.insert(0, p as u32);
            all.push(tail);
        }
    }
    all
}

/// Runs `streams` (one per partition) through a fresh engine in every interleaving; returns what `observe`
/// makes of each engine, with the interleaving that gave it.
fn in_every_interleaving<T>(
    streams: &[Vec<StreamEvent>],
    observe: impl Fn(&analytics::Engine) -> T,
) -> Vec<(Vec<u32>, T)> {
    let lengths: Vec<usize> = streams.iter().map(Vec::len).collect();
    interleavings(&lengths)
        .into_iter()
        .map(|order| {
            let mut s = Scenario::new();
            let mut next = vec![0; streams.len()];
            for &p in &order {
                let (id, event_type, at, branch, user, fields) =
                    &streams[p as usize][next[p as usize]];
                next[p as usize] += 1;
                s.on(p)
                    .event_with_id(id, event_type, at, branch, *user, fields.clone());
            }
            let engine = s.run(ORG_A, every_event_moves_the_watermark());
            (order, observe(&engine))
        })
        .collect()
}

#[test]
fn the_earliest_issue_of_a_policy_stands_and_cancellations_hold_whatever_order_partitions_deliver()
{
    // Regression: the first issue of a policy to arrive stood, so two partitions delivering differing issues
    // of one policy gave figures that depended on their interleaving.
    let register = |id, user, branch| -> StreamEvent {
        (
            id,
            "user_registered",
            "2016-05-01T09:00:00+08:00",
            branch,
            Some(user),
            json!({"channel": "direct"}),
        )
    };
    let issue = |id, at, branch, user, premium: f64| -> StreamEvent {
        (
            id,
            "policy_issued",
            at,
            branch,
            Some(user),
            json!({"policy_id": "P9", "premium": premium, "deal_type": "system_quote"}),
        )
    };
    let streams = vec![
        // Partition 0: ua issues P9 on July 2 (the later issue).
        vec![
            register("r-a", "ua", "a"),
            issue("i-a", "2016-07-02T10:00:00+08:00", "a", "ua", 1000.0),
        ],
        // Partition 1: ub issues P9 on June 28 (the earlier issue: it stands).
        vec![
            register("r-b", "ub", "b"),
            issue("i-b", "2016-06-28T10:00:00+08:00", "b", "ub", 3000.0),
        ],
        // Partition 2: closes June (July 4 00:05 passed), then cancels P9 on July 15: a cancellation that may
        // change July and later, not June.
        vec![
            (
                "t-c",
                "login",
                "2016-07-10T10:00:00+08:00",
                "a",
                Some("clock"),
                json!({"terminal": "pc"}),
            ),
            (
                "c-c",
                "policy_cancelled",
                "2016-07-15T10:00:00+08:00",
                "a",
                Some("ua"),
                json!({"policy_id": "P9"}),
            ),
        ],
    ];
    let deal_premium = |e: &analytics::Engine| {
        let (june, july) = (card(e, "2016-06"), card(e, "2016-07"));
        [
            value(&june, "a", DealPremiumPerUser),
            value(&june, "b", DealPremiumPerUser),
            value(&july, "a", DealPremiumPerUser),
            value(&july, "b", DealPremiumPerUser),
        ]
    };
    // Without the cancellation: June 28's issue stands, in branch b (one user).
    let expected = [Some(0.0), Some(3000.0), Some(0.0), Some(0.0)];
    let runs = in_every_interleaving(&streams[..2], deal_premium);
    assert_eq!(runs.len(), 6);
    for (order, got) in runs {
        assert_eq!(got, expected, "interleaving {order:?}");
    }
    // With it: the cancellation would take out an issue in July, but the standing issue is June's, which
    // was closed for the cancellation's partition. Where it arrives before June's issue it is applied, and
    // later found not to reach June's; where it arrives after, it is late. Either way June's issue counts.
    let runs = in_every_interleaving(&streams, deal_premium);
    assert_eq!(runs.len(), 90);
    for (order, got) in runs {
        assert_eq!(got, expected, "interleaving {order:?}");
    }
    // A cancellation whose partition still has June open takes June's issue out, in every interleaving.
    let mut open_june = streams.clone();
    open_june[2].remove(0);
    for (order, got) in in_every_interleaving(&open_june, deal_premium) {
        assert_eq!(
            got,
            [Some(0.0), Some(0.0), Some(0.0), Some(0.0)],
            "interleaving {order:?}"
        );
    }
}

#[test]
fn the_earliest_renewal_due_of_a_policy_stands_whatever_order_partitions_deliver() {
    let due = |id, at, due_month| -> StreamEvent {
        (
            id,
            "renewal_due",
            at,
            "a",
            None,
            json!({"policy_id": "R1", "due_month": due_month, "vehicle_use": "family_private", "ecommerce_direct": false}),
        )
    };
    let streams = vec![
        vec![
            due("d-0", "2016-06-20T10:00:00+08:00", "2016-07"),
            (
                "a-0",
                "renewal_assigned",
                "2016-06-25T10:00:00+08:00",
                "a",
                Some("m1"),
                json!({"policy_id": "R1"}),
            ),
        ],
        // The earlier due event: R1 is due in August. Then a heartbeat in August, for its scorecard.
        vec![
            due("d-1", "2016-06-10T10:00:00+08:00", "2016-08"),
            (
                "t-1",
                "login",
                "2016-08-05T10:00:00+08:00",
                "a",
                Some("clock"),
                json!({"terminal": "pc"}),
            ),
        ],
    ];
    let renewal_index = |e: &analytics::Engine| {
        (
            value(&card(e, "2016-07"), "a", RenewalIndex),
            value(&card(e, "2016-08"), "a", RenewalIndex),
        )
    };
    let runs = in_every_interleaving(&streams, renewal_index);
    assert_eq!(runs.len(), 6);
    for (order, got) in runs {
        assert_eq!(got, (None, Some(1.0)), "interleaving {order:?}");
    }
}

#[test]
fn an_earlier_renewal_due_that_would_move_a_renewal_out_of_a_closed_month_is_late() {
    let due = |due_month: &str| json!({"policy_id": "R3", "due_month": due_month, "vehicle_use": "family_private", "ecommerce_direct": false});
    let mut s = Scenario::new();
    s.on(0).event(
        "renewal_due",
        "2016-07-12T10:00:00+08:00",
        "a",
        None,
        due("2016-06"),
    );
    // Partition 1 closes June (July 4 00:05 passed); its renewal_due for R3 is earlier than partition 0's, so
    // it would move R3 from June to August, changing June's figures: it is late, and R3 stays due in June.
    // (Had partition 1's arrived first, it would have stood: this is the one case where arrival order still
    // decides which figures change.)
    s.on(1)
        .tick("a", "2016-07-10T10:00:00+08:00")
        .event(
            "renewal_due",
            "2016-07-11T10:00:00+08:00",
            "a",
            None,
            due("2016-08"),
        )
        .tick("a", "2016-08-05T10:00:00+08:00");
    let e = s.run(ORG_A, hand_config());
    assert_eq!(e.counts().late, 1);
    assert_eq!(value(&card(&e, "2016-06"), "a", RenewalIndex), Some(0.0));
    assert_eq!(value(&card(&e, "2016-08"), "a", RenewalIndex), None);
}

#[test]
fn an_assignment_counts_for_the_due_month_that_stands_whatever_order_partitions_deliver() {
    // An assignment is not late because the due month standing at its arrival has closed for its
    // partition: an earlier renewal_due arriving later moves the renewal to a month still open.
    let due = |id, at, due_month| -> StreamEvent {
        (
            id,
            "renewal_due",
            at,
            "a",
            None,
            json!({"policy_id": "R9", "due_month": due_month, "vehicle_use": "family_private", "ecommerce_direct": false}),
        )
    };
    let streams = vec![
        // Partition 0: R9 due in June, then June closes (July 4 00:05 passed), then an assignment on July 1,
        // by the end of July's first day.
        vec![
            due("d-0", "2016-06-06T10:00:00+08:00", "2016-06"),
            (
                "t-0",
                "login",
                "2016-07-10T10:00:00+08:00",
                "a",
                Some("clock"),
                json!({"terminal": "pc"}),
            ),
            (
                "a-0",
                "renewal_assigned",
                "2016-07-01T10:00:00+08:00",
                "a",
                Some("m1"),
                json!({"policy_id": "R9"}),
            ),
        ],
        // Partition 1: the earlier renewal_due: R9 is due in July.
        vec![due("d-1", "2016-06-05T10:00:00+08:00", "2016-07")],
    ];
    let renewal_index = |e: &analytics::Engine| {
        (
            value(&card(e, "2016-06"), "a", RenewalIndex),
            value(&card(e, "2016-07"), "a", RenewalIndex),
        )
    };
    let runs = in_every_interleaving(&streams, renewal_index);
    assert_eq!(runs.len(), 4);
    for (order, got) in runs {
        assert_eq!(got, (None, Some(1.0)), "interleaving {order:?}");
    }
}
